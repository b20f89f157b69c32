package server

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
)

// physicalKey presses the key at code while the layout types key (the
// Russian layout: KeyJ types "о").
func physicalKey(code, key string) chromedp.Action[chromedp.Void] {
	return keyWith(0, code, key)
}

// shifted presses the key at code with Shift held, the layout typing key
// (the Russian layout: Shift+7 types "?", Shift+Slash types ",").
func shifted(code, key string) chromedp.Action[chromedp.Void] {
	return keyWith(8, code, key) // CDP modifiers: Shift is 8
}

func keyWith(mod int64, code, key string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeKeyDown, input.DispatchKeyEventTypeKeyUp} {
			p := input.DispatchKeyEventParams{Type: typ, Code: code, Key: key, Modifiers: mod}
			if typ == input.DispatchKeyEventTypeKeyDown && utf8.RuneCountInString(key) == 1 {
				p.Text = key
			}
			if _, err := chromedp.Call(ctx, input.DispatchKeyEvent, p); err != nil {
				return err
			}
		}
		return nil
	})
}

// Search keeps what the manager types even when the answers to earlier
// queries come back slowly in the middle of typing; the shortcuts work on
// the Russian layout, and "?" lists them (issue 16, items 1 and 3).
func TestBrowserSearchKeepsWhatIsTypedAndKeysWorkOnAnyLayout(t *testing.T) {
	ta := newTestApp(t)
	ta.user("maria@example.ru", crm.Manager)
	web := ta.account("web", "Website")
	for i, name := range []string{"Slowpoke Ivanov", "Anna Petrova", "Boris Orlov"} {
		ta.ingest(channels.Inbound{AccountID: web.ID, ExternalID: fmt.Sprint("k-", i), From: []channels.Handle{{Kind: "phone", Value: fmt.Sprintf("+7913555010%d", i)}},
			Name: name, Text: "Hello from " + name, At: time.Now().Add(-time.Duration(i) * time.Minute)})
	}
	b := newBrowser(t, ta)
	p := b.tab("maria", "ru-RU")
	p.login("maria@example.ru")
	p.click("#queue-unassigned")
	p.waitText("#conversations", "Boris Orlov")

	// Slow answers: a search comes back after the next key was typed.
	b.net.mu.Lock()
	b.net.slow = func(r *http.Request) time.Duration {
		if r.URL.Path == "/api/v1/conversations" && r.URL.Query().Get("q") != "" {
			return 150 * time.Millisecond // back after the next key, before its search goes out
		}
		return 0
	}
	b.net.mu.Unlock()
	p.click("#search")
	for _, ch := range "Slowpoke" {
		p.do(chromedp.SendKeys(chromedp.CSS("#search"), string(ch)))
		time.Sleep(320 * time.Millisecond) // past the 250 ms debounce: a search goes out
	}
	p.wait("the last answer", `!document.querySelector(".list .empty") && document.querySelectorAll("#conversations li").length === 1`)
	if got := p.eval(`document.querySelector("#search").value`); got != "Slowpoke" {
		t.Fatalf("the search box holds %q, want what was typed", got)
	}
	p.waitText("#conversations", "Slowpoke Ivanov")

	// A phone number typed at an ordinary, uneven pace: some keys after
	// the debounce (a search goes out and comes back mid-typing), some
	// quicker.
	p.do(chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector("#search"); s.value = ""; s.dispatchEvent(new Event("input", {bubbles: true})); })()`))
	const number = "8-913-555-01-02"
	for i, ch := range number {
		p.do(chromedp.SendKeys(chromedp.CSS("#search"), string(ch)))
		time.Sleep([]time.Duration{320, 120, 380, 90}[i%4] * time.Millisecond)
	}
	p.wait("the number's answer", `document.querySelectorAll("#conversations li").length === 1 && document.querySelector("#conversations").textContent.includes("Boris Orlov")`)
	if got := p.eval(`document.querySelector("#search").value`); got != number {
		t.Fatalf("the search box holds %q, want the number typed, %q", got, number)
	}
	b.net.mu.Lock()
	b.net.slow = nil
	b.net.mu.Unlock()

	// Clear the search, leave the box, and move with j/k on the Russian layout.
	p.do(chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector("#search"); s.value = ""; s.dispatchEvent(new Event("input", {bubbles: true})); s.blur(); })()`))
	p.wait("the whole queue again", `document.querySelectorAll("#conversations li").length === 3`)
	p.do(physicalKey("KeyJ", "о")) // j
	p.wait("a conversation opened by j", `document.querySelector("#conv-contact")`)
	first := p.text("#conv-contact")
	p.do(physicalKey("KeyJ", "о"))
	p.wait("the next one", fmt.Sprintf(`document.querySelector("#conv-contact") && document.querySelector("#conv-contact").textContent !== %q`, first))
	p.do(physicalKey("Slash", "?"))
	p.waitText("#keys-help", "Клавиши")
	p.screenshot("keys-help-ru")
	p.do(physicalKey("Slash", "?"))
	p.wait("the help closed", `!document.querySelector("#keys-help")`)
	// The Russian layout: "?" is Shift+7; the key where "?" is on the
	// English one types "," with Shift. Both open it, and Esc closes it.
	p.do(shifted("Digit7", "?"))
	p.waitText("#keys-help", "Клавиши")
	p.do(physicalKey("Escape", "Escape"))
	p.wait("the help closed by Esc", `!document.querySelector("#keys-help")`)
	p.do(shifted("Slash", ","))
	p.waitText("#keys-help", "Клавиши")
	p.do(physicalKey("Escape", "Escape"))
	p.wait("the help closed by Esc again", `!document.querySelector("#keys-help")`)
	p.noScriptErrors()
}
