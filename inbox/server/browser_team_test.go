package server

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
)

// The team view (issue 16, item 9): a lead sees each manager's load, answer
// times and wins, in Russian, and opens the overdue conversation behind
// Oleg's figure; in English the week reads the same; a manager has no
// team view.
func TestBrowserTeamView(t *testing.T) {
	ta := newTestApp(t)
	d := newTeamDesk(t, ta)
	ta.startApp()
	b := newBrowser(t, ta)

	l := b.tab("lena", "ru-RU")
	l.login("lena@x.ru")
	l.click("#nav-team")
	maria := fmt.Sprintf(`#team-table tr[data-user="%d"]`, d.mariaID)
	oleg := fmt.Sprintf(`#team-table tr[data-user="%d"]`, d.olegID)
	l.click("#team-week")
	l.waitText(maria+" .first-response", "10 мин")
	l.waitText(maria+" .reply", "10 мин / 25 мин")
	l.waitText(maria+" .won", "1 · 120")
	l.waitText(`#team-table tr[data-user="0"]`, "Без ответственного")
	l.click(oleg + ` button[data-metric="overdue"]`)
	l.waitText("#team-behind", "Клиент 7002")
	l.screenshot("team-view-ru")
	l.click(fmt.Sprintf(`#team-behind li[data-conversation="%d"] a`, d.convB))
	l.waitText("#timeline", "Вопрос b1")
	l.noScriptErrors()

	e := b.tab("lena-en", "en-US")
	e.login("lena@x.ru")
	e.open("/team")
	e.click("#team-week")
	e.waitText(maria+" .reply", "10 min / 25 min")
	e.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	e.screenshot("team-view-390-en")
	e.noScriptErrors()

	m := b.tab("maria", "en-US")
	m.login("maria@x.ru")
	if n := m.eval(`document.querySelectorAll("#nav-team").length`); n != float64(0) {
		t.Error("a manager has the team link")
	}
	m.open("/team")
	m.wait("the inbox instead", "location.pathname.startsWith('/inbox')")
	m.noScriptErrors()
}
