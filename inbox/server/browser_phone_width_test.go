package server

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/switchboard/switchboard/crm"
)

// Every page at phone width (390 px, issue 16, item 15): nothing makes the
// page wider than the screen (wide tables scroll inside their frame),
// every page of the top bar can be reached, and the bell's list opens
// inside the screen.
func TestBrowserEveryPageAtPhoneWidth(t *testing.T) {
	ta := newTestApp(t)
	owner := ta.user("owner@x.ru", crm.Owner)
	if err := ta.db.Model(&owner).Update("name", "Сергей Кузнецов").Error; err != nil { // a real name's width
		t.Fatal(err)
	}
	tg := ta.account("telegram", "Бот салона «Кухни Сибири»")
	ta.touchConv(in(tg.ID, "w1", "telegram", "7001", "Анна Петрова-Водкина", "Здравствуйте! Интересует угловая кухня, длина 3,2 м"))
	b := newBrowser(t, ta)
	p := b.tab("owner", "ru-RU")
	// A laptop first: the owner's ten pages, in Russian, all in the bar.
	p.login("owner@x.ru")
	p.wait("every page in the top bar", `(() => { const n = document.querySelector('.pages'); return n.querySelectorAll('a').length === 10 && n.scrollWidth <= n.clientWidth + 1; })()`)
	p.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	for _, path := range []string{"/inbox/all", "/deals", "/team", "/owner/contacts", "/owner/audit", "/owner/users", "/owner/accounts", "/owner/sources", "/owner/report", "/owner/unreadable"} {
		p.open(path)
		p.wait("the page "+path, "document.querySelector('main, .inbox')")
		p.wait(path+" within the screen", "document.documentElement.scrollWidth <= window.innerWidth + 1")
		// The page's own link in the top bar is on screen (the bar scrolls
		// to it, or it fits).
		p.wait(path+"'s tab on screen", fmt.Sprintf(`(() => { const a = [...document.querySelectorAll('.pages a')].find(a => a.classList.contains('on'));
			if (!a) return true; const r = a.getBoundingClientRect(); return r.left >= 0 && r.right <= window.innerWidth + 1; })()`))
	}
	p.screenshot("owner-sources-390-ru")
	p.click("#bell")
	p.wait("the bell's list on screen", `(() => { const r = document.querySelector('#reminders').getBoundingClientRect(); return r.left >= 0 && r.right <= window.innerWidth + 1; })()`)
	p.screenshot("bell-390-ru")
	p.noScriptErrors()
}
