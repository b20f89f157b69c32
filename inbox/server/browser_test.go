package server

// Browser tests: the embedded UI (package ui) in headless Chromium driven
// by chromedp, against the real app on a fresh database. The tests share
// one browser process (started by the first, stopped by TestMain); each
// tab is its own browser context (its own cookies and storage), as a
// separate person at a separate computer; users log in through the page.
// Screenshots of the main screens go to $SWITCHBOARD_SCREENSHOTS (default:
// the test's temp dir).

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox"
	"github.com/switchboard/switchboard/ui"
)

// browserWait bounds each wait for something to show up on a page.
const browserWait = 20 * time.Second // generous: CI machines are small and shared

// chromium finds the browser, or skips (fails on CI) without one.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed: apt-get install -y chromium")
	}
	t.Skip("chromium is not installed (apt-get install -y chromium); skipping the browser tests")
	return ""
}

// browser is the shared headless Chromium as one test sees it: the app and
// its UI on the test's own httptest server, and the test's deadline.
type browser struct {
	t     *testing.T
	ta    *testApp
	url   string
	root  context.Context // the shared browser, with the test's deadline
	shots string
	net   *cutter
}

// cutter stands between the browser and the app like a flaky network: it
// can drop every WebSocket and refuse new ones for a while.
type cutter struct {
	next http.Handler
	mu   sync.Mutex
	down bool
	ws   []net.Conn
	// slow, when set, says how long to hold a request (a slow network).
	slow func(*http.Request) time.Duration
}

func (c *cutter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	slow := c.slow
	c.mu.Unlock()
	if slow != nil {
		time.Sleep(slow(r))
	}
	if r.URL.Path == "/api/v1/ws" {
		c.mu.Lock()
		down := c.down
		c.mu.Unlock()
		if down {
			http.Error(w, "network down", http.StatusServiceUnavailable)
			return
		}
		w = &hijackSpy{ResponseWriter: w, c: c}
	}
	c.next.ServeHTTP(w, r)
}

// cut drops the WebSockets and refuses new ones until mend.
func (c *cutter) cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.down = true
	for _, conn := range c.ws {
		conn.Close()
	}
	c.ws = nil
}

func (c *cutter) mend() {
	c.mu.Lock()
	c.down = false
	c.mu.Unlock()
}

type hijackSpy struct {
	http.ResponseWriter
	c *cutter
}

func (h *hijackSpy) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err == nil {
		h.c.mu.Lock()
		h.c.ws = append(h.c.ws, conn)
		h.c.mu.Unlock()
	}
	return conn, rw, err
}

func newBrowser(t *testing.T, ta *testApp) *browser {
	t.Helper()
	exe := chromium(t)
	cut := &cutter{next: ta.Handler(ui.FS())}
	srv := httptest.NewServer(cut)
	t.Cleanup(srv.Close)
	shared.once.Do(func() { shared.root, shared.stop, shared.err = startChromium(exe) })
	if shared.err != nil {
		t.Fatalf("start chromium: %v", shared.err)
	}
	// The test's own deadline: its tabs derive from this context.
	root, cancel := context.WithTimeout(shared.root, 120*time.Second)
	t.Cleanup(cancel)
	shots := os.Getenv("SWITCHBOARD_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, ta: ta, url: srv.URL, root: root, shots: shots, net: cut}
}

// shared is the one browser process of this test binary: starting
// Chromium costs one to two seconds, as much as many a test's own work.
var shared struct {
	once sync.Once
	root context.Context
	stop func()
	err  error
}

func startChromium(exe string) (context.Context, func(), error) {
	dir, err := os.MkdirTemp("", "switchboard-chromium-")
	if err != nil {
		return nil, nil, err
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.UserDataDir(dir),
		chromedp.WindowSize(1366, 768),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	root, cancelRoot := chromedp.NewContext(alloc)
	stop := func() {
		cancelRoot()
		cancelAlloc()
		os.RemoveAll(dir)
	}
	// The process lives as long as the context its first run is given.
	if err := chromedp.Do(root); err != nil {
		stop()
		return nil, nil, err
	}
	return root, stop, nil
}

// TestMain stops the shared browser once every test ran.
func TestMain(m *testing.M) {
	code := m.Run()
	if shared.stop != nil {
		shared.stop()
	}
	os.Exit(code)
}

// tab is a page in its own browser context (its own cookies), as a
// separate person at a separate computer would have.
type tab struct {
	b    *browser
	t    *testing.T
	ctx  context.Context
	name string

	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

// tab opens a page at 1366×768 whose browser prefers lang ("en-US", "ru-RU").
func (b *browser) tab(name, lang string) *tab {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.root, chromedp.WithNewBrowserContext())
	b.t.Cleanup(cancel)
	tb := &tab{b: b, t: b.t, ctx: ctx, name: name}
	if err := chromedp.Do(ctx); err != nil {
		b.t.Fatalf("open tab %s: %v", name, err)
	}
	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			tb.mu.Lock()
			tb.console = append(tb.console, m)
			tb.mu.Unlock()
		}
	}()
	ua, err := chromedp.Run(ctx, chromedp.Evaluate[string]("navigator.userAgent"))
	if err != nil {
		b.t.Fatal(err)
	}
	err = chromedp.Do(ctx,
		chromedp.EmulateViewport(1366, 768),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			primary := strings.SplitN(lang, "-", 2)[0]
			if _, err := chromedp.Call(ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: ua, AcceptLanguage: lang + "," + primary}); err != nil {
				return err
			}
			_, err := chromedp.Call(ctx, emulation.SetLocaleOverride, emulation.SetLocaleOverrideParams{Locale: strings.ReplaceAll(lang, "-", "_")})
			return err
		}),
	)
	if err != nil {
		b.t.Fatalf("emulate %s: %v", lang, err)
	}
	return tb
}

// fail saves a screenshot of the page for the post-mortem, then fails.
func (tb *tab) fail(format string, args ...any) {
	tb.t.Helper()
	path := tb.screenshot("FAILED-" + strings.TrimPrefix(tb.t.Name(), "TestBrowser") + "-" + tb.name)
	shown, _ := chromedp.Run(tb.ctx, chromedp.Evaluate[string]("[...document.querySelectorAll('.toast, .error')].map(e => e.textContent).join(' | ')"))
	tb.t.Fatalf("%s: %s (page: %s; errors shown: %q; js console: %s)", tb.name, fmt.Sprintf(format, args...), path, shown, tb.consoleText())
}

func (tb *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, steps...); err != nil {
		tb.fail("%v", err)
	}
}

// js quotes v as a JavaScript literal.
func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func (tb *tab) eval(expr string) any {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[any](expr))
	if err != nil && !errors.Is(err, chromedp.ErrJSUndefined) && !errors.Is(err, chromedp.ErrJSNull) {
		tb.fail("eval %s: %v", expr, err)
	}
	return v
}

// wait polls a JavaScript condition until it holds.
func (tb *tab) wait(what, cond string) {
	tb.t.Helper()
	if _, err := chromedp.Run(tb.ctx, chromedp.Poll[bool]("!!("+cond+")", chromedp.WithPollingTimeout(browserWait))); err != nil {
		tb.fail("waiting for %s: %v", what, err)
	}
}

// textOf is the JavaScript for the text of the first element matching sel.
func textOf(sel string) string {
	return "((document.querySelector(" + js(sel) + ") || {}).textContent || '')"
}

func (tb *tab) waitText(sel, want string) {
	tb.t.Helper()
	tb.wait(fmt.Sprintf("%q in %s", want, sel), textOf(sel)+".includes("+js(want)+")")
}

func (tb *tab) waitNoText(sel, gone string) {
	tb.t.Helper()
	tb.wait(fmt.Sprintf("%q to leave %s", gone, sel), "!"+textOf(sel)+".includes("+js(gone)+")")
}

func (tb *tab) text(sel string) string {
	tb.t.Helper()
	s, _ := tb.eval(textOf(sel)).(string)
	return s
}

func (tb *tab) click(sel string) {
	tb.t.Helper()
	tb.do(chromedp.Click(chromedp.CSS(sel)))
}

// choose picks an option of a <select> as a person would (a change event).
func (tb *tab) choose(sel, value string) {
	tb.t.Helper()
	tb.wait(sel, "document.querySelector("+js(sel)+")")
	tb.eval("(() => { const s = document.querySelector(" + js(sel) + "); s.value = " + js(value) + "; s.dispatchEvent(new Event('change', {bubbles: true})); })()")
}

func (tb *tab) open(path string) {
	tb.t.Helper()
	tb.do(chromedp.Navigate(tb.b.url + path))
}

// login signs in through the login form with the harness's password.
func (tb *tab) login(email string) {
	tb.t.Helper()
	tb.open("/")
	tb.do(
		chromedp.WaitVisible(chromedp.CSS(`#login input[name=email]`)),
		chromedp.SendKeys(chromedp.CSS(`#login input[name=email]`), email),
		chromedp.SendKeys(chromedp.CSS(`#login input[name=password]`), "password-"+email),
		chromedp.Click(chromedp.CSS(`#login button[type=submit]`)),
	)
	tb.wait("the inbox after login", "document.querySelector('.shell .queues') && document.querySelector('#live.live')")
}

// screenshot saves the whole page as a PNG and returns its path.
func (tb *tab) screenshot(name string) string {
	tb.t.Helper()
	png, err := chromedp.Run(tb.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	path := filepath.Join(tb.b.shots, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tb.t.Logf("screenshot %s: %v", name, err)
	}
	return path
}

func (tb *tab) consoleText() string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	var out []string
	for _, m := range tb.console {
		out = append(out, fmt.Sprintf("[%s %s] %s", m.Type, m.Source, m.Text))
	}
	return strings.Join(out, " | ")
}

// noScriptErrors fails on uncaught exceptions and console errors other
// than the expected ones (the browser logs a refused request, such as the
// 401 of /me before login, as a network error).
func (tb *tab) noScriptErrors(allow ...string) {
	tb.t.Helper()
	tb.mu.Lock()
	defer tb.mu.Unlock()
next:
	for _, m := range tb.console {
		if m.Type != chromedp.ConsoleException && m.Type != chromedp.ConsoleError || m.Source == "network" {
			continue
		}
		for _, a := range allow {
			if strings.Contains(m.Text, a) {
				continue next
			}
		}
		tb.t.Errorf("%s: script error on the page: [%s %s] %s", tb.name, m.Type, m.Source, m.Text)
	}
}

// convWith is the JavaScript for the list item of the conversation with id.
func convItem(id int64) string {
	return fmt.Sprintf(`[data-conv="%d"]`, id)
}

// --- data ---

// in is an inbound message from a contact.
func in(acc int64, ext, kind, value, name, text string) channels.Inbound {
	return channels.Inbound{AccountID: acc, ExternalID: ext, From: []channels.Handle{{Kind: kind, Value: value}}, Name: name, Text: text}
}

// touchConv ingests in and returns its touch and conversation ids.
func (ta *testApp) touchConv(in channels.Inbound) (touchID, convID int64) {
	ta.t.Helper()
	r := ta.ingest(in)
	tch, err := crm.GetTouch(ta.db, r[0].TouchID)
	if err != nil {
		ta.t.Fatal(err)
	}
	return tch.ID, tch.ConversationID
}

func (ta *testApp) assignTo(convID int64, by crm.User, to *crm.User) {
	ta.t.Helper()
	var id *int64
	if to != nil {
		id = &to.ID
	}
	if _, err := ta.AssignConversation(context.Background(), by, convID, id); err != nil {
		ta.t.Fatal(err)
	}
}

// gated is a remote channel (a WhatsApp server) whose sends wait until the
// test says how each one ends.
type gated struct{ next chan error }

// useGated runs the WhatsApp accounts on one gated adapter.
func (ta *testApp) useGated() *gated {
	wa := &gated{next: make(chan error)}
	ta.useAdapters(map[channels.Kind]channels.Factory{
		channels.WhatsApp: func(channels.Account, *slog.Logger) (channels.Adapter, error) { return wa, nil },
	})
	return wa
}

func (g *gated) Run(ctx context.Context, sink channels.Sink, report func(channels.State)) error {
	report(channels.State{Phase: channels.Live})
	<-ctx.Done()
	return nil
}

func (g *gated) Send(ctx context.Context, out channels.Outbound) (string, error) {
	select {
	case err := <-g.next:
		if err != nil {
			return "", err
		}
		return "wamid." + out.MessageID, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// stateful is a channel whose adapter reports the states the test sends.
type stateful struct{ states chan channels.State }

func (s *stateful) Run(ctx context.Context, sink channels.Sink, report func(channels.State)) error {
	for {
		select {
		case st := <-s.states:
			report(st)
		case <-ctx.Done():
			return nil
		}
	}
}

func (s *stateful) Send(ctx context.Context, out channels.Outbound) (string, error) {
	return "", channels.Permanent(errors.New("this test sends nothing here"))
}

// --- scenarios ---

func TestBrowserLoginThenATouchArrivesWithoutReload(t *testing.T) {
	ta := newTestApp(t)
	ta.user("maria@example.ru", crm.Manager)
	web := ta.account("web", "Website")
	b := newBrowser(t, ta)

	// A Russian browser gets Russian; the switch keeps English.
	p := b.tab("maria", "ru-RU")
	p.open("/")
	p.waitText("#login h1", "Вход")
	p.screenshot("login-ru")
	p.click(`.lang button:nth-child(2)`)
	p.waitText("#login h1", "Sign in")
	p.do(
		chromedp.SendKeys(chromedp.CSS(`#login input[name=email]`), "maria@example.ru"),
		chromedp.SendKeys(chromedp.CSS(`#login input[name=password]`), "not-the-password"),
		chromedp.Click(chromedp.CSS(`#login button[type=submit]`)),
	)
	p.waitText("#login-error", "Wrong email or password")

	p.login("maria@example.ru")
	p.click("#queue-unassigned")
	p.wait("the empty queue", "document.querySelector('#list-empty')")

	// A web form arrives: it shows up in the open list and its counter, live.
	_, conv := ta.touchConv(channels.Inbound{AccountID: web.ID, ExternalID: "f-1", From: []channels.Handle{{Kind: "phone", Value: "+7 913 555-01-02"}}, Name: "Анна Петрова", Text: "Перезвоните по поводу 40 дубовых стульев", EntryPoint: "yandex", SourceHint: "yandex"})
	p.wait("the new conversation in the list", "document.querySelector("+js(convItem(conv))+")")
	p.waitText(convItem(conv), "Анна Петрова")
	p.waitText(convItem(conv), "40 дубовых стульев")
	p.waitText("#queue-unassigned .count", "1")

	// j opens it; a second message lands in the open timeline.
	p.click(".list-head h2")
	p.do(chromedp.KeyEvent("j"))
	p.waitText("#conv-contact", "Анна Петрова")
	p.waitText("#timeline", "via yandex")
	ta.ingest(channels.Inbound{AccountID: web.ID, ExternalID: "f-2", From: []channels.Handle{{Kind: "phone", Value: "+79135550102"}}, Text: "И ещё два стола"})
	p.waitText("#timeline", "И ещё два стола")
	p.waitText(convItem(conv), "И ещё два стола")
	// A message with no text but a shared number and a location still says what it is.
	ta.ingest(channels.Inbound{AccountID: web.ID, ExternalID: "f-3", From: []channels.Handle{{Kind: "phone", Value: "+79135550102"}},
		Meta: map[string]string{"shared_phone": "+79135550102", "location": "55.0302,82.9204"}})
	p.waitText(`#timeline [data-extra="shared-phone"]`, "Shared their phone number: +79135550102")
	p.waitText(`#timeline [data-extra="location"] a`, "55.0302, 82.9204")
	p.screenshot("inbox-live")
	p.noScriptErrors()
}

func TestBrowserADroppedConnectionResumesAndLosesNoTouch(t *testing.T) {
	ta := newTestApp(t)
	m := ta.user("maria@example.ru", crm.Manager)
	tg := ta.account("telegram", "Sales bot")
	_, first := ta.touchConv(in(tg.ID, "tg-0", "telegram", "4000", "Первый Клиент", "Добрый день"))
	ta.assignTo(first, m, &m) // an event before the page connects: it resumes from its id
	b := newBrowser(t, ta)
	p := b.tab("maria", "en-US")
	p.login("maria@example.ru")
	p.click("#queue-unassigned")
	p.wait("the empty queue", "document.querySelector('#list-empty')")

	b.net.cut()
	p.wait("the page to notice the drop", "document.querySelector('#live.offline, #live.connecting')")
	// Whether the page's own HTTP refresh shows it before the socket is
	// back is timing; what matters is that it is there once it is.
	_, conv := ta.touchConv(in(tg.ID, "tg-1", "telegram", "4001", "Павел Никитин", "Пока вы были офлайн"))
	b.net.mend()
	p.wait("the socket back", "document.querySelector('#live.live')")
	p.waitText(convItem(conv), "Пока вы были офлайн")
	p.noScriptErrors()
}

func TestBrowserReplyStatusMovesFromQueuedToSentOrFailed(t *testing.T) {
	ta := newTestApp(t)
	wa := ta.useGated()
	m := ta.user("maria@example.ru", crm.Manager)
	acc := ta.account("whatsapp", "WhatsApp sales")
	_, conv := ta.touchConv(in(acc.ID, "wa-1", "whatsapp", "79131234567@s.whatsapp.net", "Иван Смирнов", "Сколько стоит доставка в Томск?"))
	ta.assignTo(conv, m, &m)
	ta.startApp()
	b := newBrowser(t, ta)

	p := b.tab("maria", "en-US")
	p.login("maria@example.ru")
	p.open(fmt.Sprintf("/inbox/mine/%d", conv))
	p.waitText("#timeline", "Сколько стоит доставка")

	// The composer comes once the accounts are loaded (on a loaded machine,
	// after the timeline): r before it has nothing to focus.
	p.wait("the composer", "document.querySelector('#reply-text')")
	p.click("#timeline") // the page has the keyboard, as after a person's click
	p.do(chromedp.KeyEvent("r"))
	p.wait("the composer focused by r", "document.activeElement && document.activeElement.id === 'reply-text'")
	p.do(chromedp.SendKeys(chromedp.CSS("#reply-text"), "Доставка в Томск — 1 500 ₽"))
	p.click("#reply-send")
	out := `.touch.out:last-of-type .delivery`
	p.waitText(`.touch.out`, "Доставка в Томск — 1 500 ₽")
	p.wait("the reply queued", "document.querySelector("+js(out)+")?.dataset.status === 'queued'")
	p.screenshot("reply-queued")
	if v := p.eval("document.querySelector('#reply-text').value"); v != "" {
		t.Errorf("the composer kept %q after sending", v)
	}

	wa.next <- nil // the WhatsApp server accepts it
	p.wait("the reply sent", "document.querySelector("+js(out)+")?.dataset.status === 'sent'")
	p.waitText(out, "sent")

	// The next reply is refused for good: it fails, live.
	p.do(chromedp.SendKeys(chromedp.CSS("#reply-text"), "Вы здесь?"))
	p.click("#reply-send")
	p.wait("the second reply queued", "document.querySelectorAll('.touch.out').length === 2 && document.querySelector("+js(out)+")?.dataset.status === 'queued'")
	wa.next <- channels.Permanent(errors.New("recipient is not on WhatsApp"))
	p.wait("the second reply failed", "document.querySelector("+js(out)+")?.dataset.status === 'failed'")
	p.waitText(".touch.out.is-failed .failed-raw", "recipient is not on WhatsApp")
	p.screenshot("reply-failed")

	// Once the account is disabled the reply box says so, instead of
	// offering an account that would send nothing.
	owner := ta.user("owner@example.ru", crm.Owner)
	off := false
	if _, err := ta.SaveAccount(context.Background(), owner, acc.ID, crm.AccountInput{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	p.open(fmt.Sprintf("/inbox/mine/%d", conv))
	p.waitText("#composer", "is disabled")
	p.wait("no reply box", "document.querySelector('#reply-text') === null")
	p.screenshot("reply-account-disabled")
	p.noScriptErrors()
}

func TestBrowserALeadAssignsAndTheConversationLeavesAnotherManagersQueue(t *testing.T) {
	ta := newTestApp(t)
	ta.user("lena@example.ru", crm.Lead)
	mariaU := ta.user("maria@example.ru", crm.Manager)
	oleg := ta.user("oleg@example.ru", crm.Manager)
	tg := ta.account("telegram", "Sales bot")
	_, conv := ta.touchConv(in(tg.ID, "tg-1", "telegram", "555001", "Пётр Козлов", "Есть ли скидка для оптовиков?"))
	b := newBrowser(t, ta)

	maria := b.tab("maria", "en-US")
	maria.login("maria@example.ru")
	maria.click("#queue-unassigned")
	maria.waitText(convItem(conv), "Пётр Козлов")
	maria.waitText("#queue-unassigned .count", "1")

	lena := b.tab("lena", "en-US")
	lena.login("lena@example.ru")
	lena.click("#queue-unassigned")
	lena.click(convItem(conv))
	lena.waitText("#conv-contact", "Пётр Козлов")
	lena.screenshot("lead-unassigned")
	lena.choose("#assign", fmt.Sprint(oleg.ID))
	lena.wait("the assignment saved", "document.querySelector('#assign').value === "+js(fmt.Sprint(oleg.ID)))
	lena.waitText(".toast", "Assigned to oleg") // says to whom
	// … and covers neither the conversation it reports on nor its controls.
	if covers := lena.eval(`(() => { const t = document.querySelector('.toast').getBoundingClientRect();
		return [...document.querySelectorAll('#assign, .conv-head, #timeline, #composer')].some(e => { const r = e.getBoundingClientRect();
			return r.width && t.left < r.right && t.right > r.left && t.top < r.bottom && t.bottom > r.top; }); })()`); covers != false {
		t.Errorf("the toast covers the conversation it reports on (%v)", covers)
	}
	lena.wait("the conversation gone from the lead's queue", "!document.querySelector("+js(convItem(conv))+")")
	lena.click("#queue-all")
	lena.waitText(convItem(conv)+" .assignee", "oleg")

	// Maria's page drops it from the queue and from its counter, live; she
	// cannot open it.
	maria.wait("the conversation gone from Maria's queue", "!document.querySelector("+js(convItem(conv))+")")
	maria.waitText("#queue-unassigned .count", "0")
	maria.open(fmt.Sprintf("/inbox/unassigned/%d", conv))
	maria.waitText("#conversation", "no longer yours")
	if strings.Contains(maria.text("#conversation"), "скидка") {
		t.Error("Maria's page shows the text of Oleg's conversation")
	}

	// Bulk: the lead picks two new conversations and gives both to Maria.
	_, c2 := ta.touchConv(in(tg.ID, "tg-2", "telegram", "555002", "Инна Белова", "Нужны 12 табуретов"))
	_, c3 := ta.touchConv(in(tg.ID, "tg-3", "telegram", "555003", "Олег Жуков", "Сколько стоит доставка?"))
	lena.click("#queue-unassigned")
	for _, c := range []int64{c2, c3} {
		lena.wait("the new conversation in the lead's queue", "document.querySelector("+js(convItem(c))+")")
		lena.click(fmt.Sprintf(`li:has(> [data-conv="%d"]) input.pick`, c))
	}
	lena.waitText("#bulk", "2 picked")
	lena.screenshot("lead-bulk")
	lena.choose("#bulk-assign", fmt.Sprint(mariaU.ID))
	lena.wait("the queue emptied", "document.querySelector('#list-empty')")
	maria.waitText("#queue-mine .count", "2")
	maria.click("#queue-mine")
	maria.waitText(convItem(c2), "Инна Белова")
	maria.waitText(convItem(c3), "Олег Жуков")

	maria.noScriptErrors()
	lena.noScriptErrors()
}

func TestBrowserAManagersPageNeverShowsAnotherManagersConversation(t *testing.T) {
	ta := newTestApp(t)
	lead := ta.user("lena@example.ru", crm.Lead)
	maria := ta.user("maria@example.ru", crm.Manager)
	oleg := ta.user("oleg@example.ru", crm.Manager)
	tg := ta.account("telegram", "Sales bot")
	_, mine := ta.touchConv(in(tg.ID, "tg-1", "telegram", "1001", "Мария Клиентова", "Заказ для Марии"))
	_, his := ta.touchConv(in(tg.ID, "tg-2", "telegram", "1002", "Секретный Клиент", "Секрет Олега"))
	ta.assignTo(mine, lead, &maria)
	ta.assignTo(his, lead, &oleg)
	b := newBrowser(t, ta)

	p := b.tab("maria", "en-US")
	p.login("maria@example.ru")
	if p.eval("!!document.querySelector('#queue-all')") == true {
		t.Error("a manager has the All queue")
	}
	p.waitText(convItem(mine), "Мария Клиентова")
	// Oleg's client writes again while Maria watches: nothing of it reaches her page.
	ta.ingest(in(tg.ID, "tg-3", "telegram", "1002", "", "Ещё один секрет Олега"))
	ta.ingest(in(tg.ID, "tg-4", "telegram", "1001", "", "Мария, ответьте"))
	p.waitText(convItem(mine), "Мария, ответьте")
	for _, q := range []string{"mine", "unassigned", "unlinked", "waiting", "closed"} {
		p.click("#queue-" + q)
		p.wait("queue "+q+" loaded", "document.querySelector('.list-head h2') && !document.querySelector('.list .empty') || document.querySelector('#list-empty') || document.querySelector('.conv-item')")
		time.Sleep(150 * time.Millisecond)
		if s := p.text("body"); strings.Contains(s, "Секрет") || strings.Contains(s, "Олега") {
			t.Errorf("queue %s shows Oleg's conversation: %q", q, s)
		}
	}
	p.open(fmt.Sprintf("/inbox/mine/%d", his))
	p.waitText("#conversation", "no longer yours")
	if s := p.text("body"); strings.Contains(s, "Секрет") {
		t.Errorf("Maria opened Oleg's conversation: %q", s)
	}
	p.noScriptErrors()
}

func TestBrowserLinkingATouchToADealClearsTheFlag(t *testing.T) {
	ta := newTestApp(t)
	m := ta.user("maria@example.ru", crm.Manager)
	tg := ta.account("telegram", "Sales bot")
	_, conv := ta.touchConv(in(tg.ID, "tg-1", "telegram", "2001", "Ольга Васильева", "Хочу кухню"))
	ta.assignTo(conv, m, &m)
	mc := ta.login("maria@example.ru")
	var contact struct {
		Conversation crm.Conversation `json:"conversation"`
	}
	mc.do("GET", fmt.Sprintf("/api/v1/conversations/%d", conv), nil, &contact)
	var second crm.Deal
	if st := mc.do("POST", "/api/v1/deals", map[string]any{"contact_id": contact.Conversation.ContactID, "title": "Шкаф-купе"}, &second); st != 200 {
		t.Fatalf("open a second deal: %d", st)
	}
	// Two open deals: the next touch cannot be linked by itself.
	unlinked, _ := ta.touchConv(in(tg.ID, "tg-2", "telegram", "2001", "", "И ещё шкаф в прихожую"))
	other, _ := ta.touchConv(in(tg.ID, "tg-3", "telegram", "2001", "", "А стол тоже можно?"))
	b := newBrowser(t, ta)

	p := b.tab("maria", "en-US")
	p.login("maria@example.ru")
	p.waitText(convItem(conv)+" .flag.unlinked", "no deal · 2")
	p.waitText("#queue-unlinked .count", "1")
	p.click(convItem(conv))
	p.wait("the unlinked touch's choices", fmt.Sprintf(`document.querySelector('[data-resolve="%d"] select.link-deal')`, unlinked))
	p.screenshot("conversation-unlinked")

	p.choose(fmt.Sprintf(`[data-resolve="%d"] select.link-deal`, unlinked), fmt.Sprint(second.ID))
	p.wait("the flag gone from the touch", fmt.Sprintf(`!document.querySelector('[data-resolve="%d"]')`, unlinked))
	p.waitText(fmt.Sprintf(`[data-touch="%d"]`, unlinked), "Deal: Шкаф-купе")
	p.waitText(convItem(conv)+" .flag.unlinked", "no deal")
	p.waitNoText(convItem(conv), "· 2")

	// A new deal from the last one, with the amount the client named.
	p.click(fmt.Sprintf(`[data-resolve="%d"] .new-deal`, other))
	p.do(chromedp.SendKeys(chromedp.CSS(fmt.Sprintf(`[data-resolve="%d"] .new-deal-amount`, other)), "15 000"))
	p.click(fmt.Sprintf(`[data-resolve="%d"] .new-deal-form button[type=submit]`, other))
	p.wait("the last flag gone", "!document.querySelector('.resolve')")
	p.waitText(".panel .deal .amount", "15")
	p.wait("no flag in the list", "!document.querySelector("+js(convItem(conv)+" .flag.unlinked")+")")
	p.waitText("#queue-unlinked .count", "0")

	// The deal panel: a stage, then won with an amount in roubles.
	deal := fmt.Sprintf(`[data-deal="%d"]`, second.ID)
	p.choose(deal+" select.stage", "2")
	p.waitText(deal+" .badge", "Qualified")
	p.click(deal + " .won-btn")
	p.do(chromedp.SendKeys(chromedp.CSS(deal+" input.won-amount"), "90 000"))
	p.click(deal + " .deal-close button[type=submit]")
	p.waitText(deal+" .badge", "Won")
	p.waitText(deal, "90,000") // en-GB grouping; the amount went as 9 000 000 kopecks
	d, err := crm.GetDeal(ta.db, second.ID)
	if err != nil || d.Amount != 9000000 || d.Status != "won" {
		t.Errorf("deal after won = %+v, %v; want 9000000 kopecks, won", d, err)
	}
	p.screenshot("conversation-deals")

	// e closes the conversation and opens it again.
	p.click("#timeline")
	p.do(chromedp.KeyEvent("e"))
	p.wait("the conversation closed", "document.querySelector('#reopen-conv')")
	if c, _ := crm.GetConversation(ta.db, conv); c.Status != crm.ConvClosed {
		t.Errorf("after e the conversation is %s", c.Status)
	}
	p.do(chromedp.KeyEvent("e"))
	p.wait("the conversation open again", "document.querySelector('#close-conv')")
	p.noScriptErrors()
}

func TestBrowserEmailHTMLRunsNoScript(t *testing.T) {
	ta := newTestApp(t)
	lena := ta.user("lena@example.ru", crm.Lead)
	mail := ta.account("email", "sales@chairs.example.ru")
	payload := `<h1 id="hello">Добрый день!</h1>
<p>Пришлите, пожалуйста, счёт.</p>
<a id="js" href="javascript:top.pwned='link';top.document.title='pwned'" style="display:block;height:60px;background:#fee">click me</a>
<script>top.pwned='script';parent.document.title='pwned'</script>
<img src="x" onerror="top.pwned='onerror';top.document.title='pwned'">
<svg onload="top.pwned='svg'"></svg>
<iframe src="javascript:top.pwned='frame'"></iframe>
<form action="javascript:top.pwned='form'"><button>send</button></form>`
	touch, conv := ta.touchConv(channels.Inbound{
		AccountID: mail.ID, ExternalID: "<m1@example.ru>", Kind: channels.Mail,
		From:        []channels.Handle{{Kind: "email", Value: "buyer@example.ru"}},
		Name:        "Сергей Покупатель",
		Subject:     "Счёт на стулья",
		Text:        "Пришлите счёт. <img src=x onerror=\"top.pwned='text'\">",
		HTML:        payload,
		Attachments: []channels.Attachment{{Name: "реквизиты.txt", ContentType: "text/plain", Data: []byte("ИНН 5406000000")}},
	})
	// Ingest sanitizes email HTML; the frame must hold even if a payload
	// slipped through, so put the raw payload back for the page.
	if err := ta.db.Model(&crm.Touch{}).Where("conversation_id = ?", conv).Update("html", payload).Error; err != nil {
		t.Fatal(err)
	}
	// Our answer carries a file whose bytes are HTML.
	if _, err := ta.Reply(context.Background(), lena, conv, inbox.ReplyRequest{Text: "Счёт во вложении", Attachments: []inbox.ReplyAttachment{{Name: "счёт.html", ContentType: "text/html", Data: []byte("<script>top.pwned='file'</script> 40 стульев")}}}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, ta)

	p := b.tab("lena", "en-US")
	p.login("lena@example.ru")
	p.open(fmt.Sprintf("/inbox/all/%d", conv))
	p.wait("the email frame", "document.querySelector('iframe.email-frame')")
	if v := p.eval("document.querySelector('iframe.email-frame').getAttribute('sandbox')"); v != "" {
		t.Fatalf("the email frame's sandbox is %q, want empty (no permissions)", v)
	}
	p.wait("the email page", "document.querySelector('iframe.email-frame[data-loaded]')")
	if v, _ := p.frameProp(touch, "body", "textContent").(string); !strings.Contains(v, "Добрый день!") {
		t.Fatalf("the email frame does not hold the email: %q", v)
	}
	p.waitText(".touch.in .subject", "Счёт на стулья")
	time.Sleep(500 * time.Millisecond) // time for a payload to run, if anything let it

	// Click the javascript: link inside the frame.
	box := p.eval("(() => { const f = document.querySelector('iframe.email-frame'); f.scrollIntoView({block: 'center'}); const r = f.getBoundingClientRect(); return [r.left, r.top]; })()")
	if xy, ok := box.([]any); ok && len(xy) == 2 {
		x, _ := xy[0].(float64)
		y, _ := xy[1].(float64)
		p.do(chromedp.MouseClickXY(x+30, y+80))
	}
	time.Sleep(300 * time.Millisecond)
	if v := p.eval("window.pwned"); v != nil {
		t.Errorf("a payload ran: window.pwned = %v", v)
	}
	if v := p.eval("document.title"); v != "Switchboard" {
		t.Errorf("document.title = %v", v)
	}
	// The plain text goes on the page as text, never as markup.
	p.click(".touch.in button.link")
	p.waitText(".touch.in .text", `<img src=x onerror="top.pwned='text'">`)
	if n := p.eval("document.querySelectorAll('.timeline img, .timeline script, .timeline svg:not(.ch-icon):not(.icon)').length"); n != float64(0) {
		t.Errorf("the timeline has %v elements from the message", n)
	}
	if v := p.eval("window.pwned"); v != nil {
		t.Errorf("a payload ran: window.pwned = %v", v)
	}
	p.click(".touch.in button.link")
	p.wait("the frame again", "document.querySelector('iframe.email-frame[data-loaded]')")

	// Files are download links; they come back as they were, never as a page.
	p.waitText(".touch.in .files", "реквизиты.txt")
	href, _ := p.eval(`document.querySelector('.touch.out .files a[download]')?.getAttribute('href')`).(string)
	if !strings.HasPrefix(href, "/api/v1/attachments/") || !strings.Contains(p.text(".touch.out .files"), "счёт.html") {
		t.Fatalf("attachment link %q in %q", href, p.text(".touch.out .files"))
	}
	got, err := chromedp.Run(p.ctx, chromedp.Evaluate[string]("fetch("+js(href)+").then(async r => r.headers.get('content-disposition') + '|' + r.headers.get('content-type') + '|' + await r.text())", chromedp.EvalAwaitPromise))
	if err != nil || !strings.Contains(got, "attachment") || !strings.Contains(got, "application/octet-stream") || !strings.Contains(got, "40 стульев") {
		t.Errorf("attachment download: %q, %v", got, err)
	}
	p.screenshot("conversation-email")
	p.noScriptErrors("sandbox", "Content Security Policy", "Content-Security-Policy")
}

func TestBrowserOwnerPagesAndNarrowScreens(t *testing.T) {
	ta := newTestApp(t)
	bot := &stateful{states: make(chan channels.State, 4)}
	ta.useAdapters(map[channels.Kind]channels.Factory{
		channels.Telegram: func(channels.Account, *slog.Logger) (channels.Adapter, error) { return bot, nil },
		channels.Email:    func(channels.Account, *slog.Logger) (channels.Adapter, error) { return &scripted{}, nil },
	})
	ta.user("owner@example.ru", crm.Owner)
	lead := ta.user("lena@example.ru", crm.Lead)
	maria := ta.user("maria@example.ru", crm.Manager)
	oleg := ta.user("oleg@example.ru", crm.Manager)
	phone := ta.account("phone", "Tracking numbers")
	mail := ta.account("email", "sales@chairs.example.ru")
	tg := ta.account("telegram", "Sales bot")
	web := ta.account("web", "chairs.example.ru")
	now := time.Now().UTC()
	at := func(ago time.Duration) time.Time { return now.Add(-ago) }
	_, c1 := ta.touchConv(channels.Inbound{AccountID: phone.ID, ExternalID: "call-1", Kind: channels.Call, At: at(50 * time.Minute), From: []channels.Handle{{Kind: "phone", Value: "+73832349096"}}, Name: "Анна Петрова", EntryPoint: "+73832001122", SourceHint: "Яндекс.Директ", Call: &channels.CallInfo{Answered: true, Duration: 194 * time.Second}})
	_, c3 := ta.touchConv(channels.Inbound{AccountID: mail.ID, ExternalID: "<q1@example.ru>", Kind: channels.Mail, At: at(40 * time.Minute), From: []channels.Handle{{Kind: "email", Value: "anna@petrova.ru"}, {Kind: "phone", Value: "+73832349096"}}, Subject: "Стулья для кафе", Text: "Добрый день! Нужно 40 дубовых стульев до конца месяца.", HTML: `<p>Добрый день!</p><p>Нужно <b>40 дубовых стульев</b> до конца месяца. Можно ли с доставкой?</p><p>Анна</p>`, EntryPoint: "sales@chairs.example.ru"})
	_, c2 := ta.touchConv(channels.Inbound{AccountID: tg.ID, ExternalID: "tg-1", At: at(2 * time.Hour), From: []channels.Handle{{Kind: "telegram", Value: "3001"}}, Name: "Борис Орлов", Text: "Здравствуйте, заказ готов?", EntryPoint: "vk_spring", SourceHint: "ВКонтакте"})
	ta.touchConv(channels.Inbound{AccountID: web.ID, ExternalID: "w-1", At: at(12 * time.Minute), From: []channels.Handle{{Kind: "phone", Value: "+79135550177"}}, Name: "Елена Смирнова", Text: "Перезвоните, пожалуйста, после 18:00", EntryPoint: "avito", SourceHint: "Авито", Meta: map[string]string{"page_url": "https://chairs.example.ru/oak"}})
	ta.touchConv(channels.Inbound{AccountID: phone.ID, ExternalID: "call-2", Kind: channels.Call, At: at(5 * time.Minute), From: []channels.Handle{{Kind: "phone", Value: "+79130001122"}}, EntryPoint: "+73832001122", Call: &channels.CallInfo{Answered: false}})
	wa := ta.account("whatsapp", "WhatsApp +7 913 000-00-01")
	_, c4 := ta.touchConv(channels.Inbound{AccountID: wa.ID, ExternalID: "wa-1", At: at(3 * time.Hour), From: []channels.Handle{{Kind: "whatsapp", Value: "79135554433@s.whatsapp.net"}}, Name: "Дмитрий Волков", Text: "Добрый вечер! Пришлите фото стульев в цвете «орех»", EntryPoint: "+79130000001", SourceHint: "Instagram"})
	ta.assignTo(c4, lead, &oleg)
	ta.touchConv(channels.Inbound{AccountID: mail.ID, ExternalID: "<r1@romashka.ru>", Kind: channels.Mail, At: at(26 * time.Hour), From: []channels.Handle{{Kind: "email", Value: "zakupki@romashka.ru"}}, Name: "ООО «Ромашка»", Subject: "Запрос коммерческого предложения", Text: "Просим направить КП на 120 стульев для столовой.", EntryPoint: "sales@chairs.example.ru"})
	ta.assignTo(c1, lead, &maria)
	ta.assignTo(c2, lead, &maria)
	ta.assignTo(c3, lead, &maria)
	if _, err := ta.Reply(context.Background(), maria, c3, inbox.ReplyRequest{Text: "Добрый день, Анна! Да, доставим. Счёт пришлю сегодня."}); err != nil {
		t.Fatal(err)
	}
	oc := ta.login("owner@example.ru")
	var srcs struct {
		AdSources []crm.AdSource `json:"ad_sources"`
	}
	oc.do("GET", "/api/v1/ad-sources", nil, &srcs)
	for _, src := range srcs.AdSources {
		if src.Name == "Яндекс.Директ" {
			oc.do("POST", fmt.Sprintf("/api/v1/ad-sources/%d/spend", src.ID), map[string]any{"period_start": "2026-03-01", "period_end": "2026-03-31", "amount": 9000000}, nil)
		}
	}
	bot.states <- channels.State{Phase: channels.Live}
	ta.startApp()
	b := newBrowser(t, ta)

	p := b.tab("owner", "en-US")
	p.login("owner@example.ru")
	p.waitText("#conversations", "Анна Петрова")
	p.click(`#conversations .conv-item`)
	p.waitText("#conv-contact", "Анна Петрова")
	p.wait("the email shown", "document.querySelector('iframe.email-frame[data-loaded]')")
	p.waitText("#timeline .delivery", "sent")
	p.screenshot("inbox")

	for _, page := range []struct{ tab, sel, want string }{
		{"audit", "#audit-table tbody", "conversation.assign"},
		{"users", "#users-table tbody", "maria@example.ru"},
		{"accounts", fmt.Sprintf(`[data-account="%d"]`, tg.ID), "live"},
		{"sources", "#sources-table tbody", "₽90,000"},
	} {
		p.click(fmt.Sprintf(`.pages a[href="/owner/%s"]`, page.tab))
		p.waitText(page.sel, page.want)
		p.screenshot("owner-" + page.tab)
	}
	// An account's state changes while the owner looks at it.
	p.click(`.pages a[href="/owner/accounts"]`)
	bot.states <- channels.State{Phase: channels.Failing, Error: "Unauthorized: the bot token was revoked"}
	p.waitText(fmt.Sprintf(`[data-account="%d"]`, tg.ID), "the bot token was revoked")

	// A phone: one pane at a time, and back.
	p.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	p.open("/inbox/all")
	p.waitText("#conversations", "Анна Петрова")
	p.screenshot("phone-list")
	p.click(`#conversations .conv-item`)
	p.wait("the conversation alone", "getComputedStyle(document.querySelector('.list')).display === 'none' && document.querySelector('#conv-contact')")
	p.screenshot("phone-conversation")
	p.click(".conv-head .back")
	p.wait("the list again", "getComputedStyle(document.querySelector('.list')).display !== 'none'")

	// Russian, on a laptop.
	p.do(chromedp.EmulateViewport(1366, 768))
	p.click(`.topbar .lang button:nth-child(1)`)
	p.waitText(".queues", "Без ответственного")
	p.click(`#conversations .conv-item`)
	p.waitText("#timeline", "Входящий звонок")
	p.screenshot("inbox-ru")
	p.noScriptErrors()
}

// A manager's answer written in a mail program (read from the crm.Sent
// folder) shows in the conversation as ours, sent outside Switchboard,
// and the conversation no longer waits for a reply.
func TestBrowserAnAnswerFromAMailProgramShowsAsOurs(t *testing.T) {
	ta := newTestApp(t)
	ta.user("lena@example.ru", crm.Lead)
	mail := ta.account("email", "sales@chairs.example.ru")
	at := time.Now().Add(-2 * time.Hour)
	_, conv := ta.touchConv(channels.Inbound{AccountID: mail.ID, ExternalID: "q1@example.ru", Kind: channels.Mail, At: at,
		From: []channels.Handle{{Kind: "email", Value: "buyer@example.ru"}}, Name: "Сергей Покупатель", Subject: "Стулья", Text: "Сколько стоят 40 стульев?", ThreadKey: "q1@example.ru"})
	ta.ingest(channels.Inbound{AccountID: mail.ID, ExternalID: "a1@chairs.example.ru", Kind: channels.Mail, At: at.Add(time.Hour), Outgoing: true,
		From: []channels.Handle{{Kind: "email", Value: "buyer@example.ru"}}, Subject: "Re: Стулья", Text: "40 стульев — 96 000 ₽.", ThreadKey: "q1@example.ru"})
	b := newBrowser(t, ta)
	for _, lang := range []struct{ code, label string }{{"en-US", "sent outside Switchboard"}, {"ru-RU", "отправлено вне Switchboard"}} {
		p := b.tab("lena-"+lang.code, lang.code)
		p.login("lena@example.ru")
		p.open(fmt.Sprintf("/inbox/all/%d", conv))
		p.waitText(".touch.out .text", "40 стульев — 96 000 ₽.")
		p.waitText(".touch.out .author", lang.label)
		if p.eval("document.querySelectorAll('.touch.out').length") != float64(1) {
			t.Errorf("%s: want one outbound touch", lang.code)
		}
		if n := p.eval("document.querySelectorAll('.conv-item').length"); n != float64(1) {
			t.Errorf("%s: %v conversations listed, want 1", lang.code, n)
		}
		if n := p.eval("document.querySelectorAll('.conv-item .waiting').length"); n != float64(0) {
			t.Errorf("%s: the conversation still shows as waiting", lang.code)
		}
		p.screenshot("answer-from-mail-program-" + lang.code)
		p.noScriptErrors()
	}
}
