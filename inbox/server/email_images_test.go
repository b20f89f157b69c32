package server

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/channels/email"
	"github.com/switchboard/switchboard/crm"
)

// imageMail reads a mail of testdata/mail (realistic mails with inline
// and remote images), with "images.example.net" (the remote host)
// replaced by remoteHost when it is not "".
func imageMail(t testing.TB, name, remoteHost string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "mail", name))
	if err != nil {
		t.Fatal(err)
	}
	if remoteHost != "" {
		b = []byte(strings.ReplaceAll(string(b), "images.example.net", remoteHost))
	}
	return b
}

// ingestMail parses raw as the email adapter does and ingests it into acc;
// it returns the parsed message and its touch.
func (ta *testApp) ingestMail(acc int64, raw []byte) (channels.Inbound, crm.Touch) {
	ta.t.Helper()
	in, err := email.Parse(raw, []string{"sales@chairs.example.ru"})
	if err != nil {
		ta.t.Fatalf("parse: %v", err)
	}
	in.AccountID = acc
	r := ta.ingest(in)
	if r[0].Err != nil {
		ta.t.Fatalf("ingest: %v", r[0].Err)
	}
	tch, err := crm.GetTouch(ta.db, r[0].TouchID)
	if err != nil {
		ta.t.Fatal(err)
	}
	return in, tch
}

// emailPage fetches a touch's email page as c sees it: status, CSP, body.
func (c *client) emailPage(touchID int64, remote bool) (int, string, string) {
	c.ta.t.Helper()
	path := fmt.Sprintf("%s/api/v1/touches/%d/email", c.ta.srv.URL, touchID)
	if remote {
		path += "?remote=1"
	}
	resp, err := c.http.Get(path)
	if err != nil {
		c.ta.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Security-Policy"), string(b)
}

// dataURL is the data: URL the email page shows a picture as.
func dataURL(b []byte) string {
	return `src="data:image/png;base64,` + base64.StdEncoding.EncodeToString(b) + `"`
}

func partByCID(t *testing.T, in channels.Inbound, cid string) channels.Attachment {
	t.Helper()
	for _, a := range in.Attachments {
		if strings.Trim(a.ContentID, "<>") == cid {
			return a
		}
	}
	t.Fatalf("no part with Content-ID %s in %+v", cid, in.Attachments)
	return channels.Attachment{}
}

// An email's inline pictures (cid:) show from the attachments stored with
// it: an Outlook signature logo, a Content-ID named with other case and
// percent-encoding, one in angle brackets. Remote images (a newsletter's
// banner and tracking pixel) are not in the page until asked for, and the
// page's policy loads nothing from outside before; a manager who may not
// see the conversation gets neither the page nor the picture.
func TestEmailPageInlineAndRemoteImages(t *testing.T) {
	ta := newTestApp(t)
	lead := ta.user("lena@example.ru", crm.Lead)
	oleg := ta.user("oleg@example.ru", crm.Manager)
	ta.user("maria@example.ru", crm.Manager)
	mail := ta.account("email", "sales@chairs.example.ru")
	lena := ta.login("lena@example.ru")

	outlook, logo := ta.ingestMail(mail.ID, imageMail(t, "outlook-signature-logo.eml", ""))
	st, csp, page := lena.emailPage(logo.ID, false)
	if st != 200 {
		t.Fatalf("email page: %d %s", st, page)
	}
	part := partByCID(t, outlook, "image001.png@01DB43BA.81566B50")
	if !strings.Contains(page, dataURL(part.Data)) || strings.Contains(page, "cid:") {
		t.Errorf("the Outlook logo is not in the page from its attachment:\n%s", page)
	}
	if !strings.Contains(page, "Анна Петрова") || !strings.Contains(page, `alt="Петрова Мебель"`) {
		t.Errorf("the mail's text is missing:\n%s", page)
	}
	for _, want := range []string{"sandbox", "default-src 'none'", "img-src data:;", "form-action 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}

	both, order := ta.ingestMail(mail.ID, imageMail(t, "logo-and-remote.eml", ""))
	_, _, page = lena.emailPage(order.ID, false)
	stamp, mapPart := partByCID(t, both, "stamp@chairs-supply.example.com"), partByCID(t, both, "map@chairs-supply.example.com")
	if !strings.Contains(page, `<img `+dataURL(stamp.Data)) || !strings.Contains(page, dataURL(mapPart.Data)) {
		t.Errorf("cid:Stamp%%40Chairs-Supply… and cid:<map@…> are not shown from their parts:\n%s", page)
	}
	if strings.Contains(page, "images.example.net") || !strings.Contains(page, `alt="parcel"`) {
		t.Errorf("a remote image is in the page before it was asked for:\n%s", page)
	}
	st, csp, page = lena.emailPage(order.ID, true)
	if st != 200 || !strings.Contains(page, `src="http://images.example.net/parcel.png"`) || !strings.Contains(page, dataURL(stamp.Data)) {
		t.Errorf("with remote=1 (%d) the remote image or the inline one is missing:\n%s", st, page)
	}
	if !strings.Contains(csp, "img-src data: http: https:;") || !strings.Contains(csp, "sandbox") || strings.Contains(csp, "script-src") {
		t.Errorf("remote CSP %q", csp)
	}

	_, news := ta.ingestMail(mail.ID, imageMail(t, "newsletter-remote-images.eml", ""))
	_, _, page = lena.emailPage(news.ID, false)
	if strings.Contains(page, "images.example.net") || strings.Contains(page, "srcset") {
		t.Errorf("the newsletter's banner, stand or tracking pixel is in the page:\n%s", page)
	}
	if !strings.Contains(page, `href="https://mebel-expo.example.net/dec?utm_source=email"`) || !strings.Contains(page, `id="pixel"`) {
		t.Errorf("the newsletter lost its link or its image boxes:\n%s", page)
	}
	_, _, page = lena.emailPage(news.ID, true)
	for _, want := range []string{`src="https://images.example.net/banner.png"`, `src="//images.example.net/stand.png"`, `src="https://images.example.net/open.gif?u=8f3a91"`} {
		if !strings.Contains(page, want) {
			t.Errorf("remote=1: %s missing:\n%s", want, page)
		}
	}
	if strings.Contains(page, "srcset") {
		t.Errorf("srcset kept:\n%s", page)
	}

	// A message without HTML has no email page.
	_, plain := ta.touchConv(in(mail.ID, "<plain@x>", "email", "ivan@example.ru", "Иван", "Просто текст"))
	var pt crm.Touch
	ta.db.Where("conversation_id = ?", plain).Take(&pt)
	if st, _, _ := lena.emailPage(pt.ID, false); st != http.StatusNotFound {
		t.Errorf("a text-only mail's page: %d, want 404", st)
	}

	// The conversation is Oleg's: Maria, a manager, sees neither the page
	// nor the logo; Oleg sees both.
	ta.assignTo(order.ConversationID, lead, &oleg)
	var files []crm.Attachment
	ta.db.Where("touch_id = ?", order.ID).Order("id").Find(&files)
	if len(files) != 3 || !files[0].Inline || !files[1].Inline || files[2].Inline {
		t.Fatalf("stored files: %+v", files)
	}
	maria := ta.login("maria@example.ru")
	if st, _, page := maria.emailPage(order.ID, false); st != http.StatusNotFound || strings.Contains(page, "base64") {
		t.Errorf("another manager's conversation: email page %d %q", st, page)
	}
	if st, b := maria.raw("GET", fmt.Sprintf("/api/v1/attachments/%d?inline=1", files[0].ID), nil); st != http.StatusNotFound || strings.Contains(string(b), "PNG") {
		t.Errorf("another manager's conversation: its logo %d", st)
	}
	if st, _, page := ta.login("oleg@example.ru").emailPage(order.ID, false); st != 200 || !strings.Contains(page, dataURL(stamp.Data)) {
		t.Errorf("the assignee's email page: %d", st)
	}
}
