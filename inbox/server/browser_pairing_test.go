package server

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image/png"
	"log/slog"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
)

// shownQR is the pairing image the page shows for an account, once loaded
// from src other than notSrc, drawn onto a canvas and read back: what the
// owner's eyes get. It returns the image's src.
func (tb *tab) shownQR(accID int64, notSrc, text string) string {
	tb.t.Helper()
	sel := js(fmt.Sprintf(`[data-pairing="%d"] img.pairing-qr`, accID))
	tb.wait("the QR code to load", "(i => i && i.complete && i.naturalWidth > 0 && i.getAttribute('src') !== "+js(notSrc)+")(document.querySelector("+sel+"))")
	src, _ := tb.eval("document.querySelector(" + sel + ").getAttribute('src')").(string)
	url, _ := tb.eval("(i => { const c = document.createElement('canvas'); c.width = i.naturalWidth; c.height = i.naturalHeight; c.getContext('2d').drawImage(i, 0, 0); return c.toDataURL('image/png'); })(document.querySelector(" + sel + "))").(string)
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(url, "data:image/png;base64,"))
	if err != nil {
		tb.fail("the QR code shown is not readable: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		tb.fail("the QR code shown is not an image: %v", err)
	}
	checkQRImage(tb.t, img, text)
	return src
}

func TestBrowserTheOwnerLinksWhatsAppByTheQRCodeOnTheAccountsPage(t *testing.T) {
	ta := newTestApp(t)
	phone := newLinking()
	ta.useAdapters(map[channels.Kind]channels.Factory{
		channels.WhatsApp: func(channels.Account, *slog.Logger) (channels.Adapter, error) { return phone, nil },
	})
	ta.user("owner@example.ru", crm.Owner)
	ta.user("maria@example.ru", crm.Manager)
	wa := ta.account("whatsapp", "WhatsApp +7 913 000-00-01")
	site := ta.account("web", "chairs.example.ru")
	ta.startApp()
	b := newBrowser(t, ta)
	p := b.tab("owner", "en-US")
	p.login("owner@example.ru")
	p.click(`.pages a[href="/owner/accounts"]`)
	row := fmt.Sprintf(`[data-account="%d"]`, wa.ID)
	p.waitText(fmt.Sprintf(`[data-account="%d"]`, site.ID), "receives via webhook")
	p.waitText(fmt.Sprintf(`[data-account="%d"]`, site.ID), "nothing received yet")

	// WhatsApp's servers hand out a code: the page draws it, with how to scan it.
	phone.codes <- codeA
	p.waitText(row, "waiting to be linked")
	srcA := p.shownQR(wa.ID, "", codeA)
	p.waitText(fmt.Sprintf(`[data-pairing="%d"]`, wa.ID), "Linked devices → Link a device")
	p.screenshot("owner-accounts-pairing")

	// A manager's browser, logged in, cannot fetch it.
	m := b.tab("maria", "en-US")
	m.login("maria@example.ru")
	status, err := chromedp.Run(m.ctx, chromedp.Evaluate[int](fmt.Sprintf("fetch('/api/v1/accounts/%d/pairing.png').then(r => r.status)", wa.ID), chromedp.EvalAwaitPromise))
	if err != nil || status != 403 {
		t.Errorf("a manager's browser fetching the QR code: %d, %v; want 403", status, err)
	}

	// The code rotates: the new one shows at once, no reload.
	phone.codes <- codeB
	p.shownQR(wa.ID, srcA, codeB)
	p.screenshot("owner-accounts-pairing-rotated")

	// In Russian.
	p.click(`.topbar .lang button:nth-child(1)`)
	p.waitText(fmt.Sprintf(`[data-pairing="%d"]`, wa.ID), "Связанные устройства → Привязка устройства")
	p.waitText(row, "ждёт привязки")
	p.screenshot("owner-accounts-pairing-ru")
	p.click(`.topbar .lang button:nth-child(2)`)

	// The phone scans it: live, and the code is gone from the page.
	phone.codes <- ""
	p.waitText(row, "live")
	p.wait("the QR code to go", "!document.querySelector('[data-pairing], img.pairing-qr')")
	p.screenshot("owner-accounts-linked")
	p.noScriptErrors()
}
