package server

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/switchboard/switchboard/crm"
)

// remoteImages is another host serving pictures, counting the requests:
// the sender of a mail with remote images (a tracking pixel tells it the
// mail was opened).
type remoteImages struct {
	srv  *httptest.Server
	hits atomic.Int64
}

func newRemoteImages(t *testing.T) *remoteImages {
	ri := &remoteImages{}
	ri.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ri.hits.Add(1)
		w.Header().Set("Content-Type", "image/png")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(photo(48, 48))
	}))
	t.Cleanup(ri.srv.Close)
	return ri
}

// frameProp is a JavaScript property of the first element matching sel
// inside the email frame of a touch. The frame is sandboxed, so the page
// cannot look in, and Chromium runs it in a process of its own: it is
// reached as its own target, found by its URL.
func (tb *tab) frameProp(touchID int64, sel, prop string) any {
	tb.t.Helper()
	src, _ := tb.eval(fmt.Sprintf("document.querySelector('#touch-%d iframe.email-frame[data-loaded]')?.src", touchID)).(string)
	if src == "" {
		tb.fail("no email frame of touch %d", touchID)
	}
	infos, err := chromedp.Targets(tb.ctx)
	if err != nil {
		tb.fail("targets: %v", err)
	}
	for _, info := range infos {
		if info.Type != "iframe" || info.URL != src {
			continue
		}
		ctx, cancel := chromedp.NewContext(tb.ctx, chromedp.WithTargetID(info.TargetID), chromedp.WithDetachOnCancel())
		defer cancel()
		ctx, cancelWait := context.WithTimeout(ctx, browserWait)
		defer cancelWait()
		v, err := chromedp.Run(ctx, chromedp.JavascriptAttribute[any](chromedp.CSS(sel), prop))
		if err != nil {
			tb.fail("%s.%s in the email frame: %v", sel, prop, err)
		}
		return v
	}
	tb.fail("the email frame %s is not among the targets %v", src, infos)
	return nil
}

// A mail with an inline logo (cid:) and a remote picture: the logo shows
// from the stored attachment, the remote host gets no request until the
// manager clicks "Show" on the bar above the mail, and then the picture
// loads; the inline parts are not listed again as files. In English and
// Russian.
func TestBrowserEmailInlineAndRemoteImages(t *testing.T) {
	ta := newTestApp(t)
	ta.user("lena@example.ru", crm.Lead)
	mail := ta.account("email", "sales@chairs.example.ru")
	remote := newRemoteImages(t)
	_, tch := ta.ingestMail(mail.ID, imageMail(t, "logo-and-remote.eml", strings.TrimPrefix(remote.srv.URL, "http://")))
	b := newBrowser(t, ta)
	for _, lang := range []struct{ code, hidden, show string }{
		{"en-US", "Remote images are hidden.", "Show"},
		{"ru-RU", "Внешние изображения скрыты.", "Показать"},
	} {
		before := remote.hits.Load()
		p := b.tab("lena-"+lang.code, lang.code)
		p.login("lena@example.ru")
		p.open(fmt.Sprintf("/inbox/all/%d", tch.ConversationID))
		card := fmt.Sprintf("#touch-%d", tch.ID)
		p.wait("the email frame", fmt.Sprintf("document.querySelector('%s iframe.email-frame[data-loaded]')", card))
		if w := p.frameProp(tch.ID, "#stamp", "naturalWidth"); w != float64(64) {
			t.Errorf("%s: the inline logo's naturalWidth = %v, want 64", lang.code, w)
		}
		if w := p.frameProp(tch.ID, "#map", "naturalWidth"); w != float64(120) {
			t.Errorf("%s: the inline map's naturalWidth = %v, want 120", lang.code, w)
		}
		if w := p.frameProp(tch.ID, "#parcel", "naturalWidth"); w != float64(0) {
			t.Errorf("%s: the remote picture shows before it was asked for (naturalWidth %v)", lang.code, w)
		}
		p.waitText(card+" [data-remote-images]", lang.hidden)
		p.waitText(card+" .show-remote", lang.show)
		files := p.text(card + " .files")
		if !strings.Contains(files, "invoice-5521.pdf") || strings.Contains(files, "stamp.png") || strings.Contains(files, "map.png") {
			t.Errorf("%s: files listed: %q; want the invoice only", lang.code, files)
		}
		time.Sleep(300 * time.Millisecond) // time for a request, if anything made one
		if n := remote.hits.Load() - before; n != 0 {
			t.Fatalf("%s: the remote host got %d requests before the click", lang.code, n)
		}
		p.screenshot("email-images-hidden-" + lang.code)

		p.click(card + " .show-remote")
		p.wait("the frame with remote images", fmt.Sprintf("document.querySelector('%s iframe.email-frame[data-loaded][src$=\"remote=1\"]')", card))
		if w := p.frameProp(tch.ID, "#parcel", "naturalWidth"); w != float64(48) {
			t.Errorf("%s: the remote picture's naturalWidth after the click = %v, want 48", lang.code, w)
		}
		if w := p.frameProp(tch.ID, "#stamp", "naturalWidth"); w != float64(64) {
			t.Errorf("%s: the inline logo after the click: naturalWidth %v", lang.code, w)
		}
		if n := remote.hits.Load() - before; n < 1 {
			t.Errorf("%s: the remote host got no request after the click", lang.code)
		}
		if p.eval(fmt.Sprintf("!!document.querySelector('%s [data-remote-images]')", card)) != false {
			t.Errorf("%s: the bar stays after the click", lang.code)
		}
		p.screenshot("email-images-shown-" + lang.code)
		p.noScriptErrors()
	}
}
