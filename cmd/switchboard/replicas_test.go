package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/channels/telegram/telegramtest"
	"github.com/switchboard/switchboard/crm/crmtest"
)

// TestMain lets the suite run its own binary as `switchboard serve`: the
// replicas of TestTwoReplicasBehindAProxy are real processes.
func TestMain(m *testing.M) {
	if os.Getenv("SWITCHBOARD_TEST_AS_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// replica is a `switchboard serve` process.
type replica struct {
	name string
	cmd  *exec.Cmd
	url  *url.URL
	done chan error
}

// startReplica starts `switchboard serve` with env and waits until it
// answers /readyz.
func startReplica(t *testing.T, name string, env []string) *replica {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(os.Args[0], "serve")
	cmd.Env = append(append(os.Environ(), env...), "SWITCHBOARD_TEST_AS_MAIN=1", "SWITCHBOARD_ADDR="+addr, "SWITCHBOARD_DATA="+t.TempDir())
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &replica{name: name, cmd: cmd, url: &url.URL{Scheme: "http", Host: addr}, done: make(chan error, 1)}
	go func() { r.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-r.done
		}
	})
	for i := 0; i < 600; i++ {
		if res, err := http.Get(r.url.String() + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return r
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("replica %s did not become ready", name)
	return nil
}

// session is a browser's session through the proxy; the header X-Replica
// picks the replica a request goes to.
type session struct {
	t    *testing.T
	base string
	http *http.Client
	csrf string
}

func (s *session) do(method, path, to string, body, out any) int {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Replica", to)
	if s.csrf != "" {
		req.Header.Set("X-CSRF-Token", s.csrf)
	}
	res, err := s.http.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s via %s: %v", method, path, to, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if out != nil && res.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			if b, ok := out.(*[]byte); ok {
				*b = raw
			} else {
				s.t.Fatalf("%s %s: %v: %s", method, path, err, raw)
			}
		}
	}
	if res.StatusCode >= 300 {
		s.t.Logf("%s %s via %s: %d %s", method, path, to, res.StatusCode, raw)
	}
	return res.StatusCode
}

func waitFor(t *testing.T, what string, d time.Duration, ok func() bool) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// tgMessage is a Telegram update: client 9001 writes text.
func tgMessage(id int64, text string) []byte {
	return fmt.Appendf(nil, `{"update_id":%d,"message":{"message_id":%d,"from":{"id":9001,"is_bot":false,"first_name":"Анна"},"chat":{"id":9001,"first_name":"Анна","type":"private"},"date":%d,"text":%q}}`,
		id, id, time.Now().Unix(), text)
}

// TestTwoReplicasBehindAProxy: two `serve` processes on one PostgreSQL
// database, blobs in the database, behind a reverse proxy (issue 17, item
// 2). A web form posted to B reaches a WebSocket session on A; a reply's
// file written through A downloads through B; the reply is sent once, by
// the replica that runs the Telegram account; killing that replica moves
// the account to the other within seconds, and no message is lost or
// doubled; a SIGTERM stops a replica cleanly and hands the account over.
func TestTwoReplicasBehindAProxy(t *testing.T) {
	if !crmtest.Postgres() {
		t.Skip("replicas share a PostgreSQL database (set " + crmtest.EnvURL + "; CI does)")
	}
	_, dsn := crmtest.OpenDSN(t)
	env := []string{"DATABASE_URL=" + dsn, "SWITCHBOARD_SECRET_KEY=" + strings.Repeat("cd", 32), "SWITCHBOARD_BLOBS=database",
		"SWITCHBOARD_OWNER_EMAIL=boss@example.ru", "SWITCHBOARD_OWNER_PASSWORD=correct-horse", "SWITCHBOARD_LOG_LEVEL=error"}
	a := startReplica(t, "a", env)
	reps := map[string]*replica{"a": a}
	var n atomic.Int64
	proxy := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		to := reps[pr.In.Header.Get("X-Replica")]
		if to == nil { // no choice: take turns among those running
			for _, name := range []string{"a", "b", "c"}[n.Add(1)%2:] {
				if r := reps[name]; r != nil && r.cmd.ProcessState == nil {
					to = r
					break
				}
			}
		}
		pr.SetURL(to.url)
		pr.Out.Host = pr.In.Host
	}})
	defer proxy.Close()
	jar, _ := cookiejar.New(nil)
	s := &session{t: t, base: proxy.URL, http: &http.Client{Jar: jar}}
	var me struct {
		CSRF string `json:"csrf_token"`
	}
	if st := s.do("POST", "/api/v1/login", "a", map[string]string{"email": "boss@example.ru", "password": "correct-horse"}, &me); st != 200 {
		t.Fatalf("login: %d", st)
	}
	s.csrf = me.CSRF

	// A Telegram bot (its Bot API stands in here) runs on A, started first.
	fake := telegramtest.NewServer(t, "7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw")
	var bot, site struct{ ID int64 }
	s.do("POST", "/api/v1/accounts", "a", map[string]any{"channel": "telegram", "name": "Бот", "secret": fake.Token,
		"settings": map[string]any{"server_url": fake.URL, "poll_timeout": "2s"}}, &bot)
	s.do("POST", "/api/v1/accounts", "a", map[string]any{"channel": "web", "name": "Сайт", "secret": "s3cret"}, &site)
	live := func(to string) bool {
		var st struct {
			States map[string]channels.State `json:"states"`
		}
		s.do("GET", "/api/v1/accounts/states", to, nil, &st)
		return st.States[strconv.FormatInt(bot.ID, 10)].Phase == channels.Live
	}
	waitFor(t, "the bot live on A", 20*time.Second, func() bool { return live("a") })
	b := startReplica(t, "b", env)
	reps["b"] = b

	// A WebSocket session on A hears a web form posted to B.
	header := http.Header{"Cookie": {cookieHeader(jar, proxy.URL)}, "X-Replica": {"a"}}
	ws, _, err := websocket.DefaultDialer.Dial(strings.Replace(proxy.URL, "http", "ws", 1)+"/api/v1/ws", header)
	if err != nil {
		t.Fatalf("websocket on A: %v", err)
	}
	defer ws.Close()
	form := []byte(`{"submission_id":"f-1","name":"Борис","phone":"+7 913 555-01-02","message":"Перезвоните"}`)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req, _ := http.NewRequest("POST", fmt.Sprintf("%s/hooks/web/%d", proxy.URL, site.ID), bytes.NewReader(form))
	req.Header.Set("X-Replica", "b")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Switchboard-Timestamp", ts)
	req.Header.Set("X-Switchboard-Signature", channels.Sign([]byte("s3cret"), ts, form))
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode >= 300 {
		t.Fatalf("form through B: %v %v", res, err)
	}
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		var ev struct{ Type string }
		if err := ws.ReadJSON(&ev); err != nil {
			t.Fatalf("A's WebSocket heard no touch from B: %v", err)
		}
		if ev.Type == "touch.added" {
			break
		}
	}

	// Anna writes to the bot; a reply with a file goes through A.
	if err := fake.Push(tgMessage(1001, "Здравствуйте, пришлите каталог")); err != nil {
		t.Fatal(err)
	}
	var list struct {
		Conversations []struct {
			ID      int64  `json:"id"`
			Channel string `json:"channel"`
		} `json:"conversations"`
	}
	var conv int64
	waitFor(t, "Anna's conversation", 15*time.Second, func() bool {
		s.do("GET", "/api/v1/conversations?filter=all&channel=telegram", "b", nil, &list)
		if len(list.Conversations) > 0 {
			conv = list.Conversations[0].ID
		}
		return conv != 0
	})
	catalog := bytes.Repeat([]byte("каталог "), 4096)
	var reply struct{ ID int64 }
	if st := s.do("POST", fmt.Sprintf("/api/v1/conversations/%d/reply", conv), "a", map[string]any{"text": "Каталог во вложении",
		"attachments": []map[string]any{{"name": "catalog.txt", "content_type": "text/plain", "data": catalog}}}, &reply); st != 200 {
		t.Fatalf("reply through A: %d", st)
	}
	var detail struct {
		Attachments []struct {
			ID      int64 `json:"id"`
			TouchID int64 `json:"touch_id"`
		} `json:"attachments"`
	}
	s.do("GET", fmt.Sprintf("/api/v1/conversations/%d", conv), "b", nil, &detail)
	var fileID int64
	for _, f := range detail.Attachments {
		if f.TouchID == reply.ID {
			fileID = f.ID
		}
	}
	var got []byte
	if st := s.do("GET", fmt.Sprintf("/api/v1/attachments/%d", fileID), "b", nil, &got); st != 200 || !bytes.Equal(got, catalog) {
		t.Fatalf("the file written through A, downloaded through B: %d, %d bytes of %d", st, len(got), len(catalog))
	}
	waitFor(t, "the reply sent", 20*time.Second, func() bool { return fake.Calls("sendDocument") >= 1 })
	time.Sleep(2 * time.Second) // a second sender would have sent by now
	if docs := fake.Calls("sendDocument"); docs != 1 {
		t.Errorf("the reply's file went out %d times, want once", docs)
	}
	sendsBefore := fake.Calls("sendDocument") + fake.Calls("sendMessage")

	// A dies (SIGKILL) with messages arriving; B takes the bot over.
	fake.Push(tgMessage(1002, "Алло?"))
	a.cmd.Process.Kill()
	<-a.done
	fake.Push(tgMessage(1003, "Вы тут?"))
	waitFor(t, "the bot live on B", 30*time.Second, func() bool { return live("b") })
	fake.WaitOffset(t, 1004, 20*time.Second)
	texts := touchTexts(t, s, conv)
	for _, want := range []string{"Здравствуйте, пришлите каталог", "Алло?", "Вы тут?"} {
		if texts[want] != 1 {
			t.Errorf("%q stored %d times across the kill, want once (%v)", want, texts[want], texts)
		}
	}
	if sends := fake.Calls("sendDocument") + fake.Calls("sendMessage"); sends != sendsBefore {
		t.Errorf("the reply was sent again after the kill: %d sends, was %d", sends, sendsBefore)
	}

	// C joins; B stops on SIGTERM: it exits cleanly and C runs the bot.
	c := startReplica(t, "c", env)
	reps["c"] = c
	b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-b.done:
		if err != nil {
			t.Errorf("B after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("B did not stop on SIGTERM")
	}
	waitFor(t, "the bot live on C", 8*time.Second, func() bool { return live("c") })
}

// cookieHeader is the session cookie for a raw WebSocket dial.
func cookieHeader(jar http.CookieJar, base string) string {
	u, _ := url.Parse(base)
	var parts []string
	for _, c := range jar.Cookies(u) {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; ")
}

// touchTexts counts the conversation's touches by text.
func touchTexts(t *testing.T, s *session, conv int64) map[string]int {
	t.Helper()
	var d struct {
		Touches []struct {
			Body string `json:"body"`
		} `json:"touches"`
	}
	s.do("GET", fmt.Sprintf("/api/v1/conversations/%d?limit=500", conv), "", nil, &d)
	out := map[string]int{}
	for _, x := range d.Touches {
		out[x.Body]++
	}
	return out
}
