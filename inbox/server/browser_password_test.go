package server

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox"
	"github.com/switchboard/switchboard/inbox/api"
)

// The owner resets a manager's password from the Users page and reads the
// one-time password once; the manager's sessions end; logging in with it,
// the manager must choose their own before going on (issue 16, item 14).
func TestBrowserTheOwnerResetsAPasswordAndTheUserChoosesTheirOwn(t *testing.T) {
	ta := newTestApp(t)
	ta.user("owner@example.ru", crm.Owner)
	anna := ta.user("anna@example.ru", crm.Manager)
	old := ta.login("anna@example.ru")
	b := newBrowser(t, ta)

	o := b.tab("owner", "en-US")
	o.login("owner@example.ru")
	o.open("/owner/users")
	o.waitText("#users-table", "anna")
	o.do(chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`))
	o.click(".reset-password")
	o.waitText("#password-issued", "One-time password for anna")
	pw := fmt.Sprint(o.eval(`document.querySelector("#password-issued .one-time").textContent`))
	if len(pw) < 12 {
		t.Fatalf("one-time password %q", pw)
	}
	o.screenshot("password-issued")
	if st := old.do("GET", "/api/v1/me", nil, nil); st != 401 {
		t.Errorf("the manager's old session after the reset: %d, want 401", st)
	}
	var audit inbox.AuditPage
	must(t, ta.login("owner@example.ru"), 200, "GET", fmt.Sprintf("/api/v1/audit?action=user.password&object_id=%d", anna.ID), nil, &audit)
	if len(audit.Entries) != 1 {
		t.Errorf("audit of the reset: %+v", audit.Entries)
	}

	a := b.tab("anna", "ru-RU")
	a.open("/")
	a.do(
		chromedp.WaitVisible(chromedp.CSS(`#login input[name=email]`)),
		chromedp.SendKeys(chromedp.CSS(`#login input[name=email]`), "anna@example.ru"),
		chromedp.SendKeys(chromedp.CSS(`#login input[name=password]`), pw),
		chromedp.Click(chromedp.CSS(`#login button[type=submit]`)),
	)
	a.waitText("#password-must", "задайте свой")
	a.screenshot("password-must-ru")
	a.do(
		chromedp.SendKeys(chromedp.CSS(`#password-form input[name=current_password]`), pw),
		chromedp.SendKeys(chromedp.CSS(`#password-form input[name=new_password]`), "anna-own-password"),
		chromedp.SendKeys(chromedp.CSS(`#password-form input[name=again]`), "anna-own-password"),
		chromedp.Click(chromedp.CSS(`#password-form button[type=submit]`)),
	)
	a.wait("the form gone", `!document.querySelector("#password-form")`)
	var me api.MeResponse
	c := ta.anon()
	if st := c.do("POST", "/api/v1/login", api.LoginRequest{Email: "anna@example.ru", Password: "anna-own-password"}, &me); st != 200 || me.MustChangePassword {
		t.Errorf("login with her own password: %d, must change %v", st, me.MustChangePassword)
	}
	a.noScriptErrors()
}
