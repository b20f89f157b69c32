package server

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/channels/web"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/crm/crmtest"
	"github.com/switchboard/switchboard/inbox"
	"github.com/switchboard/switchboard/inbox/api"
)

// API tests: the real mux on the real database, driven by tables of
// scenarios. Each scenario names, as a sentence, who does what and what
// they must get back.

// reply is what the server answered.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) String() string { return fmt.Sprintf("%d %s", r.status, r.body) }

// send makes one request as c (cookie jar and CSRF token); hdr are extra
// header name, value pairs. A string body goes as is, anything else as JSON.
func send(t testing.TB, c *client, method, path string, body any, hdr ...string) reply {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.ta.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.csrf != "" {
		req.Header.Set(api.CSRFHeader, c.csrf)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read: %v", method, path, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

// must sends a request that has to succeed with want and decodes the JSON
// reply into out (if non-nil).
func must(t testing.TB, c *client, want int, method, path string, body, out any) reply {
	t.Helper()
	r := send(t, c, method, path, body)
	if r.status != want {
		t.Fatalf("%s %s as %s: got %s, want status %d", method, path, c.User.Email, r, want)
	}
	if out != nil {
		if err := json.Unmarshal(r.body, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, r.body, err)
		}
	}
	return r
}

// withCSRF is c with another CSRF token (empty: none), same cookies.
func withCSRF(c *client, token string) *client {
	cc := *c
	cc.csrf = token
	return &cc
}

// scenario is one request and what must come back. For an error status,
// code (when set) is the expected error code; every error body is checked
// for the one error shape.
type scenario struct {
	name   string
	as     *client
	method string
	path   string
	body   any
	status int
	code   string
	want   []string
	absent []string
}

func runScenarios(t *testing.T, table []scenario) {
	t.Helper()
	for _, s := range table {
		t.Run(s.name, func(t *testing.T) {
			r := send(t, s.as, s.method, s.path, s.body)
			if r.status != s.status {
				t.Errorf("%s %s: got %s, want status %d", s.method, s.path, r, s.status)
			}
			if r.status >= 400 {
				checkErrorBody(t, r, s.code)
			}
			for _, w := range s.want {
				if !bytes.Contains(r.body, []byte(w)) {
					t.Errorf("%s %s: body %s lacks %q", s.method, s.path, r.body, w)
				}
			}
			for _, a := range s.absent {
				if bytes.Contains(bytes.ToLower(r.body), []byte(strings.ToLower(a))) {
					t.Errorf("%s %s: body %s contains %q", s.method, s.path, r.body, a)
				}
			}
		})
	}
}

// checkErrorBody asserts the one error shape: a JSON object with exactly
// one key, "error", holding exactly a non-empty "code" and "message".
func checkErrorBody(t testing.TB, r reply, code string) {
	t.Helper()
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("error reply has Content-Type %q, want application/json", ct)
	}
	var outer map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &outer); err != nil || len(outer) != 1 || outer["error"] == nil {
		t.Errorf("error body %s is not {\"error\":{…}}", r.body)
		return
	}
	var inner map[string]any
	if err := json.Unmarshal(outer["error"], &inner); err != nil || len(inner) != 2 {
		t.Errorf("error body %s: \"error\" must hold exactly code and message", r.body)
		return
	}
	c, _ := inner["code"].(string)
	m, _ := inner["message"].(string)
	if c == "" || m == "" {
		t.Errorf("error body %s: code and message must be non-empty strings", r.body)
	}
	if code != "" && c != code {
		t.Errorf("error code %q, want %q (body %s)", c, code, r.body)
	}
}

// inbound is a web form touch on account acc from phone, as ingest gets it.
func inbound(acc int64, ext, phone, name, text string, at time.Time) channels.Inbound {
	return channels.Inbound{
		AccountID: acc, ExternalID: ext, At: at,
		From: []channels.Handle{{Kind: "phone", Value: phone}},
		Name: name, Text: text, EntryPoint: "yandex", SourceHint: "yandex",
	}
}

// ingest stores one inbound through App.Ingest and returns its touch id.
func ingest(t testing.TB, ta *testApp, in channels.Inbound) int64 {
	t.Helper()
	res, err := ta.Ingest(context.Background(), []channels.Inbound{in})
	if err != nil || res[0].Err != nil || res[0].Duplicate {
		t.Fatalf("ingest %s: %v %+v", in.ExternalID, err, res)
	}
	return res[0].TouchID
}

// touchOf reads a touch through the API as c.
func touchOf(t testing.TB, c *client, id int64) crm.Touch {
	t.Helper()
	var tc crm.Touch
	must(t, c, 200, "GET", fmt.Sprintf("/api/v1/touches/%d", id), nil, &tc)
	return tc
}

// team is an app with an owner, a lead and two managers, logged in.
type team struct {
	*testApp
	owner, lead, a, b *client
	site              crm.Account
}

func newTeam(t *testing.T) *team {
	t.Helper()
	ta := newTestApp(t)
	ta.user("owner@example.ru", crm.Owner)
	ta.user("lead@example.ru", crm.Lead)
	ta.user("anna.a@example.ru", crm.Manager)
	ta.user("boris.b@example.ru", crm.Manager)
	return &team{
		testApp: ta,
		owner:   ta.login("owner@example.ru"),
		lead:    ta.login("lead@example.ru"),
		a:       ta.login("anna.a@example.ru"),
		b:       ta.login("boris.b@example.ru"),
		site:    ta.account("web", "site"),
	}
}

func (tm *team) assign(t testing.TB, by *client, conv int64, to *client) {
	t.Helper()
	must(t, by, 200, "POST", fmt.Sprintf("/api/v1/conversations/%d/assign", conv), api.AssignRequest{UserID: &to.User.ID}, nil)
}

func p(format string, a ...any) string { return fmt.Sprintf(format, a...) }

// --- session ------------------------------------------------------------

// serveAs sends one request straight to the handler from a given client
// address, so that the per-address login limit can be told apart from the
// per-email one; header holds name, value pairs.
func serveAs(h http.Handler, remote, method, path, body string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.RemoteAddr = remote
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func loginBody(email, password string) string {
	b, _ := json.Marshal(api.LoginRequest{Email: email, Password: password})
	return string(b)
}

func TestAPILogin(t *testing.T) {
	ta := newTestApp(t)
	ta.user("kate@example.ru", crm.Manager)
	ta.user("oleg@example.ru", crm.Manager)

	t.Run("the right password opens a session with an HttpOnly SameSite=Lax cookie", func(t *testing.T) {
		anon := ta.anon()
		r := send(t, anon, "POST", "/api/v1/login", api.LoginRequest{Email: "Kate@Example.ru ", Password: "password-kate@example.ru"})
		if r.status != 200 {
			t.Fatalf("login: %s", r)
		}
		var me api.MeResponse
		if err := json.Unmarshal(r.body, &me); err != nil || me.CSRFToken == "" || me.User.Email != "kate@example.ru" {
			t.Fatalf("login reply %s: %v", r.body, err)
		}
		if bytes.Contains(r.body, []byte("password_hash")) || bytes.Contains(r.body, []byte("$2a$")) {
			t.Errorf("login reply leaks the password hash: %s", r.body)
		}
		var session *http.Cookie
		for _, c := range (&http.Response{Header: r.header}).Cookies() {
			if c.Name == api.SessionCookie {
				session = c
			}
		}
		if session == nil || session.Value == "" {
			t.Fatalf("no %s cookie in %q", api.SessionCookie, r.header.Values("Set-Cookie"))
		}
		if !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Path != "/" {
			t.Errorf("session cookie %q: want HttpOnly, SameSite=Lax, Path=/", r.header.Get("Set-Cookie"))
		}
		if strings.Contains(r.header.Get("Set-Cookie"), me.CSRFToken) {
			t.Error("the CSRF token must not be the cookie")
		}

		// The session works, and logout ends it: the old cookie, sent
		// again by hand, is refused.
		c := withCSRF(anon, me.CSRFToken)
		must(t, c, 200, "GET", "/api/v1/me", nil, nil)
		stale := ta.anon()
		cookie := api.SessionCookie + "=" + session.Value
		if r := send(t, stale, "GET", "/api/v1/me", nil, "Cookie", cookie); r.status != 200 {
			t.Fatalf("the cookie alone should authenticate GET /me: %s", r)
		}
		lo := send(t, c, "POST", "/api/v1/logout", nil)
		if lo.status != 204 {
			t.Fatalf("logout: %s", lo)
		}
		if !strings.Contains(lo.header.Get("Set-Cookie"), "Max-Age=0") {
			t.Errorf("logout should expire the cookie, Set-Cookie: %q", lo.header.Get("Set-Cookie"))
		}
		r = send(t, stale, "GET", "/api/v1/me", nil, "Cookie", cookie)
		if r.status != 401 {
			t.Errorf("GET /me with the logged-out cookie: got %s, want 401", r)
		}
		checkErrorBody(t, r, "unauthorized")
		if r := send(t, c, "GET", "/api/v1/me", nil); r.status != 401 {
			t.Errorf("GET /me after logout: got %s, want 401", r)
		}
	})

	anon := ta.anon()
	runScenarios(t, []scenario{
		{name: "a wrong password gets 401 bad_login", as: anon, method: "POST", path: "/api/v1/login",
			body: api.LoginRequest{Email: "oleg@example.ru", Password: "wrong-password"}, status: 401, code: "bad_login", absent: []string{"csrf_token"}},
		{name: "an unknown email gets the same 401 bad_login", as: anon, method: "POST", path: "/api/v1/login",
			body: api.LoginRequest{Email: "nobody@example.ru", Password: "password-nobody@example.ru"}, status: 401, code: "bad_login"},
		{name: "a login with an unknown field is a bad request", as: anon, method: "POST", path: "/api/v1/login",
			body: `{"email":"oleg@example.ru","password":"password-oleg@example.ru","remember":true}`, status: 400, code: "bad_request"},
		{name: "GET /me without a session is 401", as: anon, method: "GET", path: "/api/v1/me", status: 401, code: "unauthorized"},
		{name: "logout without a session is 401", as: anon, method: "POST", path: "/api/v1/logout", status: 401, code: "unauthorized"},
	})

	t.Run("eleven wrong passwords for one email block it even with the right password", func(t *testing.T) {
		h := ta.Handler(nil)
		// Each try from its own address: only the per-email limit applies.
		for i := 1; i <= 11; i++ {
			rec := serveAs(h, p("10.1.0.%d:5000", i), "POST", "/api/v1/login", loginBody("kate@example.ru", p("guess-%d-wrong", i)))
			want := 401
			if i == 11 {
				want = 429
			}
			if rec.Code != want {
				t.Fatalf("wrong try %d: got %d %s, want %d", i, rec.Code, rec.Body, want)
			}
		}
		rec := serveAs(h, "10.1.0.99:5000", "POST", "/api/v1/login", loginBody("KATE@example.ru", "password-kate@example.ru"))
		if rec.Code != 429 {
			t.Fatalf("right password after 11 wrong ones: got %d %s, want 429", rec.Code, rec.Body)
		}
		checkErrorBody(t, reply{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}, "rate_limited")
		// Retry-After says when the window lets the email try again:
		// about 15 minutes from the first failure, not a fixed minute.
		if ra, err := strconv.Atoi(rec.Header().Get("Retry-After")); err != nil || ra < 14*60 || ra > 15*60 {
			t.Errorf("Retry-After %q, want the seconds left of the 15-minute window", rec.Header().Get("Retry-After"))
		}
		// Another user from the same address is not affected.
		if rec := serveAs(h, "10.1.0.99:5000", "POST", "/api/v1/login", loginBody("oleg@example.ru", "password-oleg@example.ru")); rec.Code != 200 {
			t.Errorf("another email from the same address: got %d %s, want 200", rec.Code, rec.Body)
		}
	})

	t.Run("ten wrong logins from one address block that address for every email", func(t *testing.T) {
		h := ta.Handler(nil)
		for i := 1; i <= 10; i++ {
			if rec := serveAs(h, "10.2.0.1:5000", "POST", "/api/v1/login", loginBody(p("spray%d@example.ru", i), "password-x")); rec.Code != 401 {
				t.Fatalf("spray %d: got %d %s", i, rec.Code, rec.Body)
			}
		}
		if rec := serveAs(h, "10.2.0.1:5000", "POST", "/api/v1/login", loginBody("oleg@example.ru", "password-oleg@example.ru")); rec.Code != 429 {
			t.Errorf("right password from a blocked address: got %d %s, want 429", rec.Code, rec.Body)
		}
		if rec := serveAs(h, "10.2.0.2:5000", "POST", "/api/v1/login", loginBody("oleg@example.ru", "password-oleg@example.ru")); rec.Code != 200 {
			t.Errorf("right password from another address: got %d %s, want 200", rec.Code, rec.Body)
		}
	})

	t.Run("over IPv6 a /64 counts as one address: spreading tries over it does not escape the limit", func(t *testing.T) {
		h := ta.Handler(nil)
		for i := 1; i <= 10; i++ {
			if rec := serveAs(h, p("[2001:db8:7:1::%x]:5000", i), "POST", "/api/v1/login", loginBody(p("v6spray%d@example.ru", i), "password-x")); rec.Code != 401 {
				t.Fatalf("spray %d: got %d %s", i, rec.Code, rec.Body)
			}
		}
		if rec := serveAs(h, "[2001:db8:7:1:ffff:1:2:3]:5000", "POST", "/api/v1/login", loginBody("oleg@example.ru", "password-oleg@example.ru")); rec.Code != 429 {
			t.Errorf("right password from the same /64: got %d %s, want 429", rec.Code, rec.Body)
		}
		if rec := serveAs(h, "[2001:db8:7:2::1]:5000", "POST", "/api/v1/login", loginBody("oleg@example.ru", "password-oleg@example.ru")); rec.Code != 200 {
			t.Errorf("right password from the next /64: got %d %s, want 200", rec.Code, rec.Body)
		}
	})
}

func TestAPILoginLimitBehindAProxy(t *testing.T) {
	ta := newTestApp(t)
	ta.user("kate@example.ru", crm.Manager)
	ta.user("oleg@example.ru", crm.Manager)
	const proxy = "172.18.0.2:41000" // every request comes through it

	t.Run("with the proxy trusted, one client's failed logins block that client, not the office behind the same proxy", func(t *testing.T) {
		app := New(ta.db, testLogger(t), ta.box, Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("172.18.0.0/16")}, Channels: testChannels(nil)})
		h := app.Handler(nil)
		for i := 1; i <= 10; i++ {
			// The attacker also forges an address on the left: the proxy
			// appends the one it saw, and that is the one counted.
			rec := serveAs(h, proxy, "POST", "/api/v1/login", loginBody(p("spray%d@example.ru", i), "password-x"),
				"X-Forwarded-For", p("192.0.2.%d, 203.0.113.66", i))
			if rec.Code != 401 {
				t.Fatalf("spray %d: got %d %s, want 401", i, rec.Code, rec.Body)
			}
		}
		if rec := serveAs(h, proxy, "POST", "/api/v1/login", loginBody("kate@example.ru", "password-kate@example.ru"), "X-Forwarded-For", "203.0.113.66"); rec.Code != 429 {
			t.Errorf("the attacker's address after ten failures: got %d %s, want 429", rec.Code, rec.Body)
		}
		if rec := serveAs(h, proxy, "POST", "/api/v1/login", loginBody("oleg@example.ru", "password-oleg@example.ru"), "X-Forwarded-For", "198.51.100.10"); rec.Code != 200 {
			t.Errorf("another client behind the same proxy: got %d %s, want 200", rec.Code, rec.Body)
		}
	})

	t.Run("without trusted proxies a forged X-Forwarded-For does not escape the limit", func(t *testing.T) {
		h := ta.Handler(nil)
		for i := 1; i <= 10; i++ {
			rec := serveAs(h, "198.51.100.20:5000", "POST", "/api/v1/login", loginBody(p("forged%d@example.ru", i), "password-x"),
				"X-Forwarded-For", p("192.0.2.%d", i))
			if rec.Code != 401 {
				t.Fatalf("try %d: got %d %s, want 401", i, rec.Code, rec.Body)
			}
		}
		rec := serveAs(h, "198.51.100.20:5000", "POST", "/api/v1/login", loginBody("kate@example.ru", "password-kate@example.ru"), "X-Forwarded-For", "192.0.2.200")
		if rec.Code != 429 {
			t.Errorf("a new forged address from the same connection address: got %d %s, want 429", rec.Code, rec.Body)
		}
	})
}

func TestAPICSRFAndErrors(t *testing.T) {
	ta := newTestApp(t)
	owner := ta.user("owner@example.ru", crm.Owner)
	c := ta.login("owner@example.ru")
	other := ta.login("owner@example.ru") // a second session of the same user
	anon := ta.anon()
	big := `{"name":"` + strings.Repeat("x", 1<<20) // the API's body limit (api.maxJSONBody) + `"}`

	runScenarios(t, []scenario{
		{name: "a POST with a valid cookie but no CSRF header is 403", as: withCSRF(c, ""), method: "POST", path: "/api/v1/ad-sources",
			body: api.AdSourceRequest{Name: "Forged source"}, status: 403, code: "csrf"},
		{name: "a POST with a wrong CSRF token is 403", as: withCSRF(c, c.csrf+"x"), method: "POST", path: "/api/v1/ad-sources",
			body: api.AdSourceRequest{Name: "Forged source"}, status: 403, code: "csrf"},
		{name: "a POST with the CSRF token of another session is 403", as: withCSRF(c, other.csrf), method: "POST", path: "/api/v1/ad-sources",
			body: api.AdSourceRequest{Name: "Forged source"}, status: 403, code: "csrf"},
		{name: "a PATCH without the CSRF header is 403", as: withCSRF(c, ""), method: "PATCH", path: p("/api/v1/users/%d", owner.ID),
			body: inbox.UserPatch{Name: ptr("Forged")}, status: 403, code: "csrf"},
		{name: "a PUT without the CSRF header is 403", as: withCSRF(c, ""), method: "PUT", path: "/api/v1/pipeline",
			body: `{"stages":[]}`, status: 403, code: "csrf"},
		{name: "logout without the CSRF header is 403", as: withCSRF(c, ""), method: "POST", path: "/api/v1/logout", status: 403, code: "csrf"},
		{name: "a GET needs no CSRF header", as: withCSRF(c, ""), method: "GET", path: "/api/v1/ad-sources", status: 200,
			want: []string{`"ad_sources":[]`}, absent: []string{"Forged"}},
		{name: "the forged requests changed nothing", as: c, method: "GET", path: "/api/v1/users", status: 200,
			want: []string{`"name":"owner"`}, absent: []string{"Forged"}},
		{name: "an unknown API path is a JSON 404", as: c, method: "GET", path: "/api/v1/nope", status: 404, code: "not_found"},
		{name: "an unknown API path is a JSON 404 without a session too", as: anon, method: "GET", path: "/api/v1/nope", status: 404, code: "not_found"},
		{name: "a known path with the wrong method is a JSON error", as: c, method: "DELETE", path: "/api/v1/pipeline", status: 404, code: "not_found"},
		{name: "an id that is not a number is 404", as: c, method: "GET", path: "/api/v1/conversations/abc", status: 404, code: "not_found"},
		{name: "a missing conversation is 404", as: c, method: "GET", path: "/api/v1/conversations/999999", status: 404, code: "not_found"},
		{name: "an API call without a session is 401", as: anon, method: "GET", path: "/api/v1/conversations", status: 401, code: "unauthorized"},
		{name: "malformed JSON is 400 bad_request", as: c, method: "POST", path: "/api/v1/ad-sources", body: `{"name":`, status: 400, code: "bad_request"},
		{name: "an unknown field is 400 bad_request", as: c, method: "POST", path: "/api/v1/ad-sources", body: `{"name":"VK","colour":"blue"}`, status: 400, code: "bad_request"},
		{name: "a field of the wrong type is 400 bad_request", as: c, method: "POST", path: "/api/v1/ad-sources", body: `{"name":5}`, status: 400, code: "bad_request"},
		{name: "data after the JSON object is 400 bad_request", as: c, method: "POST", path: "/api/v1/ad-sources", body: `{"name":"Smuggled"}{"name":"Other"}`, status: 400, code: "bad_request"},
		{name: "a stray brace after the JSON object is 400 bad_request", as: c, method: "POST", path: "/api/v1/ad-sources", body: `{"name":"Smuggled"}}`, status: 400, code: "bad_request"},
		{name: "trailing white space after the JSON object is fine", as: c, method: "POST", path: "/api/v1/ad-sources", body: "{\"name\":\"Spaced\"}\n  ", status: 200, want: []string{`"name":"Spaced"`}},
		{name: "an empty body is 400 bad_request", as: c, method: "POST", path: "/api/v1/ad-sources", body: ``, status: 400, code: "bad_request"},
		{name: "a body over 1 MiB is 413", as: c, method: "POST", path: "/api/v1/ad-sources", body: big, status: 413, code: "too_large"},
		{name: "a valid request with the token works", as: c, method: "POST", path: "/api/v1/ad-sources", body: api.AdSourceRequest{Name: "VK"}, status: 200,
			want: []string{`"name":"VK"`}},
		{name: "the refused bodies stored nothing", as: c, method: "GET", path: "/api/v1/ad-sources", status: 200, want: []string{`"name":"VK"`}, absent: []string{"Smuggled", "Other"}},
		{name: "a duplicate is 409 conflict", as: c, method: "POST", path: "/api/v1/ad-sources", body: api.AdSourceRequest{Name: "VK"}, status: 409, code: "conflict"},
		{name: "an invalid value is 422 invalid", as: c, method: "POST", path: "/api/v1/ad-sources", body: api.AdSourceRequest{Name: "  "}, status: 422, code: "invalid"},
	})
}

// --- permissions ----------------------------------------------------------

func TestAPIPermissions(t *testing.T) {
	tm := newTeam(t)
	now := time.Now().UTC()
	annaT := ingest(t, tm.testApp, inbound(tm.site.ID, "perm-1", "8 (383) 234-90-96", "Anna Petrova", "Quote for 40 oak chairs", now.Add(-3*time.Minute)))
	borisT := ingest(t, tm.testApp, inbound(tm.site.ID, "perm-2", "+7 913 555-01-02", "Boris Queue", "Send the price list", now.Add(-2*time.Minute)))
	carlT := ingest(t, tm.testApp, inbound(tm.site.ID, "perm-3", "+7 913 555-01-03", "Carl Taken", "Is delivery free", now.Add(-1*time.Minute)))
	anna, boris, carl := touchOf(t, tm.owner, annaT), touchOf(t, tm.owner, borisT), touchOf(t, tm.owner, carlT)
	if anna.DealID == nil {
		t.Fatal("a first touch from a new contact should open a deal")
	}
	tm.assign(t, tm.lead, anna.ConversationID, tm.b) // a lead assigns Anna to B
	tm.assign(t, tm.a, carl.ConversationID, tm.a)    // A takes Carl

	secret := []string{"Anna", "Petrova", "3832349096", "234-90-96", "oak chairs"}
	a, b, lead, owner := tm.a, tm.b, tm.lead, tm.owner
	runScenarios(t, []scenario{
		// What a manager may not see is "not found", never its content.
		{name: "a manager gets 404 for another manager's conversation", as: a, method: "GET", path: p("/api/v1/conversations/%d", anna.ConversationID), status: 404, code: "not_found", absent: secret},
		{name: "a manager gets 404 for a touch in another manager's conversation", as: a, method: "GET", path: p("/api/v1/touches/%d", annaT), status: 404, code: "not_found", absent: secret},
		{name: "a manager gets 404 for the contact of another manager's conversation", as: a, method: "GET", path: p("/api/v1/contacts/%d", anna.ContactID), status: 404, code: "not_found", absent: secret},
		{name: "a manager gets 404 for that contact's identities", as: a, method: "GET", path: p("/api/v1/contacts/%d/identities", anna.ContactID), status: 404, code: "not_found", absent: secret},
		{name: "a manager gets 404 for that contact's deals", as: a, method: "GET", path: p("/api/v1/deals?contact_id=%d", anna.ContactID), status: 404, code: "not_found", absent: secret},
		{name: "a manager gets 404 for the deal of another manager's contact", as: a, method: "GET", path: p("/api/v1/deals/%d", *anna.DealID), status: 404, code: "not_found", absent: secret},
		{name: "a manager gets 404 marking another manager's touch not a sale", as: a, method: "POST", path: p("/api/v1/touches/%d/not-a-sale", annaT), body: api.NotASaleRequest{Reason: "spam"}, status: 404, code: "not_found", absent: secret},
		{name: "a manager gets 404 opening a deal from another manager's touch", as: a, method: "POST", path: p("/api/v1/touches/%d/new-deal", annaT), status: 404, code: "not_found", absent: secret},
		{name: "a manager gets 404 linking another manager's touch", as: a, method: "POST", path: p("/api/v1/touches/%d/deal", annaT), body: api.LinkRequest{DealID: *anna.DealID}, status: 404, code: "not_found", absent: secret},
		{name: "a manager gets 404 editing another manager's contact", as: a, method: "PATCH", path: p("/api/v1/contacts/%d", anna.ContactID), body: `{"name":"Mine now"}`, status: 404, code: "not_found", absent: secret},
		{name: "adding the phone of another manager's contact names no contact", as: a, method: "POST", path: p("/api/v1/contacts/%d/identities", carl.ContactID), body: crm.RawHandle{Kind: "phone", Value: "8 (383) 234-90-96"}, status: 409, code: "conflict",
			want: []string{"another contact"}, absent: []string{"Anna", "Petrova", "oak chairs", p("contact %d", anna.ContactID), p("id %d", anna.ContactID)}},
		{name: "the lead is told which contact has it", as: lead, method: "POST", path: p("/api/v1/contacts/%d/identities", carl.ContactID), body: crm.RawHandle{Kind: "phone", Value: "8 (383) 234-90-96"}, status: 409, code: "conflict",
			want: []string{"Anna Petrova", p("id %d", anna.ContactID)}},
		{name: "a manager gets 404 adding an identity to another manager's contact", as: a, method: "POST", path: p("/api/v1/contacts/%d/identities", anna.ContactID), body: crm.RawHandle{Kind: "email", Value: "steal@example.ru"}, status: 404, code: "not_found", absent: secret},
		{name: "a manager gets 404 merging another manager's contact into a visible one", as: a, method: "POST", path: p("/api/v1/contacts/%d/merge", boris.ContactID), body: api.MergeRequest{ContactID: anna.ContactID}, status: 404, code: "not_found", absent: secret},
		{name: "a manager gets 404 winning another manager's deal", as: a, method: "POST", path: p("/api/v1/deals/%d/won", *anna.DealID), body: api.WonRequest{Amount: 100}, status: 404, code: "not_found", absent: secret},
		{name: "a manager gets 404 editing another manager's deal", as: a, method: "PATCH", path: p("/api/v1/deals/%d", *anna.DealID), body: `{"title":"x"}`, status: 404, code: "not_found", absent: secret},
		{name: "a manager gets 404 taking another manager's conversation", as: a, method: "POST", path: p("/api/v1/conversations/%d/assign", anna.ConversationID), body: api.AssignRequest{UserID: &a.User.ID}, status: 404, code: "not_found", absent: secret},
		{name: "a manager gets 404 closing another manager's conversation", as: a, method: "POST", path: p("/api/v1/conversations/%d/status", anna.ConversationID), body: api.StatusRequest{Status: "closed"}, status: 404, code: "not_found", absent: secret},
		{name: "a manager's list (all) omits another manager's conversation but has the unassigned and their own", as: a, method: "GET", path: "/api/v1/conversations?filter=all", status: 200,
			want: []string{"Boris Queue", "Send the price list", "Carl Taken"}, absent: secret},
		{name: "a manager's contact search omits another manager's contact", as: a, method: "GET", path: "/api/v1/contacts?q=" + url.QueryEscape("+7 383 234-90-96"), status: 200, want: []string{`"contacts":[]`}, absent: secret},
		{name: "a manager's contact search finds an unassigned contact with its identities", as: a, method: "GET", path: "/api/v1/contacts?q=boris", status: 200, want: []string{"Boris Queue", "+79135550102"}},
		{name: "a manager's deal list omits another manager's contact's deal", as: a, method: "GET", path: "/api/v1/deals", status: 200, absent: secret},
		{name: "the owner's deal list has that deal", as: owner, method: "GET", path: "/api/v1/deals", status: 200, want: []string{p(`"id":%d`, *anna.DealID), `"title":"Quote for 40 oak chairs"`, `"contact_name":"Anna Petrova"`}},
		{name: "the assigned manager sees the conversation", as: b, method: "GET", path: p("/api/v1/conversations/%d", anna.ConversationID), status: 200, want: []string{"Anna Petrova", "Quote for 40 oak chairs", "+73832349096"}},
		{name: "the assigned manager sees the contact", as: b, method: "GET", path: p("/api/v1/contacts/%d", anna.ContactID), status: 200, want: []string{"Anna Petrova"}},
		{name: "the assigned manager sees the deal", as: b, method: "GET", path: p("/api/v1/deals/%d", *anna.DealID), status: 200, want: []string{p(`"contact_id":%d`, anna.ContactID)}},
		{name: "the assigned manager does not see the other manager's conversation", as: b, method: "GET", path: p("/api/v1/conversations/%d", carl.ConversationID), status: 404, code: "not_found", absent: []string{"Carl", "delivery"}},
		{name: "the lead sees another manager's conversation", as: lead, method: "GET", path: p("/api/v1/conversations/%d", anna.ConversationID), status: 200, want: []string{"Anna Petrova", "oak chairs"}},
		{name: "the lead sees the touch", as: lead, method: "GET", path: p("/api/v1/touches/%d", annaT), status: 200, want: []string{"oak chairs"}},
		{name: "the lead's list has every conversation", as: lead, method: "GET", path: "/api/v1/conversations?filter=all", status: 200, want: []string{"Anna Petrova", "Boris Queue", "Carl Taken"}},
		{name: "the owner sees another manager's conversation", as: owner, method: "GET", path: p("/api/v1/conversations/%d", anna.ConversationID), status: 200, want: []string{"Anna Petrova"}},
		{name: "the owner sees the contact", as: owner, method: "GET", path: p("/api/v1/contacts/%d", anna.ContactID), status: 200, want: []string{"+73832349096"}},
		{name: "the owner's search finds the contact by phone in another format", as: owner, method: "GET", path: "/api/v1/contacts?q=" + url.QueryEscape("8 383 234 90 96"), status: 200, want: []string{"Anna Petrova"}},

		// Assignment.
		{name: "a manager cannot assign an unassigned conversation to someone else", as: a, method: "POST", path: p("/api/v1/conversations/%d/assign", boris.ConversationID), body: api.AssignRequest{UserID: &b.User.ID}, status: 422, code: "invalid"},
		{name: "a manager cannot return an unassigned conversation to the queue", as: a, method: "POST", path: p("/api/v1/conversations/%d/assign", boris.ConversationID), body: api.AssignRequest{}, status: 422, code: "invalid"},
		{name: "a manager can take an unassigned conversation for themselves", as: a, method: "POST", path: p("/api/v1/conversations/%d/assign", boris.ConversationID), body: api.AssignRequest{UserID: &a.User.ID}, status: 200, want: []string{p(`"assignee_id":%d`, a.User.ID)}},
		{name: "the conversation taken is no longer visible to the other manager", as: b, method: "GET", path: p("/api/v1/conversations/%d", boris.ConversationID), status: 404, code: "not_found", absent: []string{"Boris Queue"}},
		{name: "assigning to a user that does not exist is 422", as: lead, method: "POST", path: p("/api/v1/conversations/%d/assign", carl.ConversationID), body: `{"user_id":999999}`, status: 422, code: "invalid"},
		{name: "the lead transfers a conversation from one manager to another", as: lead, method: "POST", path: p("/api/v1/conversations/%d/assign", anna.ConversationID), body: api.AssignRequest{UserID: &a.User.ID}, status: 200, want: []string{p(`"assignee_id":%d`, a.User.ID)}},
		{name: "after the transfer the new manager sees it", as: a, method: "GET", path: p("/api/v1/conversations/%d", anna.ConversationID), status: 200, want: []string{"Anna Petrova"}},
		{name: "after the transfer the previous manager gets 404", as: b, method: "GET", path: p("/api/v1/conversations/%d", anna.ConversationID), status: 404, code: "not_found", absent: secret},
		{name: "a manager hands their own conversation on to another manager", as: a, method: "POST", path: p("/api/v1/conversations/%d/assign", anna.ConversationID), body: api.AssignRequest{UserID: &b.User.ID}, status: 200, want: []string{p(`"assignee_id":%d`, b.User.ID)}},
		{name: "the transfers are in the audit trail", as: owner, method: "GET", path: p("/api/v1/audit?action=conversation.assign&object_id=%d", anna.ConversationID), status: 200,
			want: []string{p(`"actor_id":%d`, lead.User.ID), p(`"actor_id":%d`, a.User.ID), `"conversation.assign"`}},
	})

	// The refused not-a-sale changed nothing.
	if tc := touchOf(t, owner, annaT); tc.NotASale != "" || tc.DealID == nil || *tc.DealID != *anna.DealID {
		t.Errorf("touch after a refused not-a-sale: %+v", tc)
	}

	// Owner-only endpoints.
	var table []scenario
	ownerOnly := []struct{ method, path, body string }{
		{"GET", "/api/v1/ad-sources", ""},
		{"POST", "/api/v1/ad-sources", `{"name":"Sneaky"}`},
		{"GET", "/api/v1/ad-sources/1/spend", ""},
		{"POST", "/api/v1/ad-sources/1/spend", `{"period_start":"2026-03-01","period_end":"2026-03-31","amount":1}`},
		{"GET", "/api/v1/audit", ""},
		{"GET", "/api/v1/entry-points", ""},
		{"POST", "/api/v1/entry-points", p(`{"account_id":%d,"address":"sneaky"}`, tm.site.ID)},
		{"GET", "/api/v1/entry-points/1", ""},
		{"POST", "/api/v1/entry-points/1/bindings", `{"ad_source_id":null}`},
		{"POST", "/api/v1/users", `{"email":"sneaky@example.ru","name":"S","role":"owner","password":"long-enough-1"}`},
		{"PATCH", p("/api/v1/users/%d", a.User.ID), `{"can_export":true}`},
		{"POST", "/api/v1/accounts", `{"channel":"web","name":"sneaky","secret":"s"}`},
		{"PATCH", p("/api/v1/accounts/%d", tm.site.ID), `{"name":"sneaky"}`},
		{"PUT", "/api/v1/pipeline", `{"stages":[{"name":"Only","kind":"open"},{"name":"W","kind":"won"},{"name":"L","kind":"lost"}]}`},
	}
	for _, who := range []*client{a, lead} {
		for _, e := range ownerOnly {
			var body any
			if e.body != "" {
				body = e.body
			}
			table = append(table, scenario{name: p("a %s gets 403 on %s %s", who.User.Role, e.method, e.path), as: who,
				method: e.method, path: e.path, body: body, status: 403, code: "forbidden"})
		}
	}
	table = append(table,
		scenario{name: "a manager gets 404 undoing an audit entry that is not a merge", as: a, method: "POST", path: "/api/v1/merges/1/undo", status: 404, code: "not_found"},
		scenario{name: "nothing an owner-only endpoint refused was stored", as: owner, method: "GET", path: "/api/v1/users", status: 200, absent: []string{"sneaky"}},
		scenario{name: "the pipeline is unchanged", as: owner, method: "GET", path: "/api/v1/pipeline", status: 200, want: []string{`"name":"Qualified"`}, absent: []string{`"Only"`}},
	)
	runScenarios(t, table)

	// Export: a right the owner grants; each export is audited.
	runScenarios(t, []scenario{
		{name: "a manager without the export right gets 403", as: a, method: "GET", path: "/api/v1/contacts/export.csv", status: 403, code: "forbidden", absent: []string{"Boris Queue"}},
		{name: "a lead without the export right gets 403", as: lead, method: "GET", path: "/api/v1/contacts/export.csv", status: 403, code: "forbidden"},
		{name: "the owner grants the manager the export right", as: owner, method: "PATCH", path: p("/api/v1/users/%d", a.User.ID), body: inbox.UserPatch{CanExport: ptr(true)}, status: 200, want: []string{`"can_export":true`}},
	})
	checkExport := func(t *testing.T, c *client, want int) {
		r := send(t, c, "GET", "/api/v1/contacts/export.csv", nil)
		if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
			t.Fatalf("export as %s: %d %q %s", c.User.Role, r.status, r.header.Get("Content-Type"), r.body)
		}
		rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.body, []byte("\uFEFF")))).ReadAll()
		if err != nil || !bytes.HasPrefix(r.body, []byte("\uFEFF")) {
			t.Fatalf("export is not CSV with a byte-order mark: %v\n%s", err, r.body)
		}
		if len(rows) != want+1 || strings.Join(rows[0], ",") != "id,name,company,phones,emails,telegram,whatsapp,responsible,first_source,deals,won,currency,created_at" {
			t.Fatalf("export: want a header and %d contacts, got %q", want, rows)
		}
		found := false
		for _, row := range rows[1:] {
			if row[0] == strconv.FormatInt(boris.ContactID, 10) && row[1] == "Boris Queue" && row[3] == "+79135550102" &&
				row[8] == "yandex" && row[9] == "1" && row[10] == "0.00" && row[11] == "RUB" {
				found = true
			}
		}
		if !found {
			t.Errorf("export lacks Boris's row: %q", rows)
		}
	}
	t.Run("a manager granted the right exports the contacts they can see, not another manager's", func(t *testing.T) {
		checkExport(t, a, 2)
		if r := send(t, a, "GET", "/api/v1/contacts/export.csv", nil); bytes.Contains(r.body, []byte("Anna Petrova")) {
			t.Errorf("manager A's export holds manager B's contact: %s", r.body)
		}
	})
	t.Run("the owner exports every contact by default", func(t *testing.T) { checkExport(t, owner, 3) })
	t.Run("each export leaves a contact.export audit entry", func(t *testing.T) {
		var al inbox.AuditPage
		must(t, owner, 200, "GET", "/api/v1/audit?action=contact.export", nil, &al)
		actors := map[int64]bool{}
		for _, e := range al.Entries {
			if e.Action != "contact.export" || e.ActorID == nil {
				t.Fatalf("audit filter returned %+v", e)
			}
			actors[*e.ActorID] = true
		}
		if len(al.Entries) != 3 || !actors[a.User.ID] || !actors[owner.User.ID] {
			t.Errorf("want three export entries, two by the manager and one by the owner; got %+v", al.Entries)
		}
	})
	t.Run("for Russian Excel: semicolons and a decimal comma", func(t *testing.T) {
		r := send(t, owner, "GET", "/api/v1/contacts/export.csv", nil, "Accept-Language", "ru")
		cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.body, []byte("\uFEFF"))))
		cr.Comma = ';'
		rows, err := cr.ReadAll()
		if err != nil || len(rows) != 4 || rows[0][1] != "name" || rows[1][10] != "0,00" {
			t.Errorf("Russian export: %v %q", err, rows)
		}
	})
}

// --- conversations list ----------------------------------------------------

type convPage struct {
	Conversations []inbox.ConversationItem `json:"conversations"`
	NextCursor    string                   `json:"next_cursor"`
}

func listIDs(t testing.TB, c *client, query string) []int64 {
	t.Helper()
	var pg convPage
	must(t, c, 200, "GET", "/api/v1/conversations?"+query, nil, &pg)
	ids := make([]int64, len(pg.Conversations))
	for i, cv := range pg.Conversations {
		ids[i] = cv.ID
	}
	return ids
}

func sameIDs(a, b []int64) bool {
	x, y := append([]int64(nil), a...), append([]int64(nil), b...)
	sort.Slice(x, func(i, j int) bool { return x[i] < x[j] })
	sort.Slice(y, func(i, j int) bool { return y[i] < y[j] })
	return fmt.Sprint(x) == fmt.Sprint(y)
}

func TestAPIConversationList(t *testing.T) {
	tm := newTeam(t)
	bot := tm.account("telegram", "bot")
	base := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	// Five web conversations; two pairs share a time, so that paging has
	// to break ties by id.
	people := []struct{ phone, name, text string }{
		{"8 (383) 234-90-96", "Anna Petrova", "Quote for chairs"},
		{"+7 913 555-01-02", "Boris Orlov", "Price list please"},
		{"+7 913 555-01-03", "Carl Lind", "Delivery to Tomsk?"},
		{"+7 913 555-01-04", "Анна Смирнова", "Перезвоните"},
		{"+7 913 555-01-05", "Dmitri Sokol", "Invoice"},
	}
	at := []time.Time{base, base, base.Add(time.Minute), base.Add(time.Minute), base.Add(2 * time.Minute)}
	conv := make([]int64, len(people))
	for i, pp := range people {
		tc := touchOf(t, tm.owner, ingest(t, tm.testApp, inbound(tm.site.ID, p("list-%d", i), pp.phone, pp.name, pp.text, at[i])))
		conv[i] = tc.ConversationID
	}
	// A Telegram conversation, newer than all of them.
	tgTouch := ingest(t, tm.testApp, channels.Inbound{AccountID: bot.ID, ExternalID: "tg-1", At: base.Add(3 * time.Minute),
		From: []channels.Handle{{Kind: "telegram", Value: "123456789"}}, Name: "Telegram Tim", Text: "hi from telegram"})
	tg := touchOf(t, tm.owner, tgTouch).ConversationID
	// One conversation whose touch is unlinked: its entry point opens no deals.
	must(t, tm.owner, 200, "POST", "/api/v1/entry-points", inbox.NewEntryPoint{AccountID: tm.site.ID, Address: "partner", AutoDeal: ptr(false)}, nil)
	in := inbound(tm.site.ID, "list-unlinked", "+7 913 555-01-06", "Unlinked Ulla", "Supplier offer", base.Add(-time.Hour))
	in.EntryPoint, in.SourceHint = "partner", ""
	ul := touchOf(t, tm.owner, ingest(t, tm.testApp, in))
	if ul.DealID != nil {
		t.Fatal("a touch at an entry point without automatic deals should stay unlinked")
	}
	tm.assign(t, tm.a, conv[1], tm.a)                                                                                       // Boris: A's
	tm.assign(t, tm.lead, conv[2], tm.b)                                                                                    // Carl: B's
	must(t, tm.owner, 200, "POST", p("/api/v1/conversations/%d/status", conv[4]), api.StatusRequest{Status: "closed"}, nil) // Dmitri: closed

	all := append(append([]int64{}, conv...), tg, ul.ConversationID)
	cases := []struct {
		name  string
		as    *client
		query string
		want  []int64
	}{
		{"the owner's filter=all lists every conversation", tm.owner, "filter=all", all},
		{"no filter means all", tm.owner, "", all},
		{"a manager's filter=all lists theirs and the unassigned, not another manager's", tm.a, "filter=all", []int64{conv[0], conv[1], conv[3], conv[4], tg, ul.ConversationID}},
		{"filter=mine lists the manager's own", tm.a, "filter=mine", []int64{conv[1]}},
		{"filter=mine for another manager", tm.b, "filter=mine", []int64{conv[2]}},
		{"filter=unassigned lists the queue", tm.owner, "filter=unassigned", []int64{conv[0], conv[3], conv[4], tg, ul.ConversationID}},
		{"a manager's filter=unassigned lists the same queue", tm.b, "filter=unassigned", []int64{conv[0], conv[3], conv[4], tg, ul.ConversationID}},
		{"filter=unlinked lists conversations with a touch not tied to a deal", tm.owner, "filter=unlinked", []int64{ul.ConversationID}},
		{"status=closed lists the closed one", tm.owner, "status=closed", []int64{conv[4]}},
		{"status=open lists the others", tm.owner, "status=open", []int64{conv[0], conv[1], conv[2], conv[3], tg, ul.ConversationID}},
		{"channel=telegram lists the Telegram conversation", tm.owner, "channel=telegram", []int64{tg}},
		{"channel=web with status=open combine", tm.owner, "channel=web&status=open", []int64{conv[0], conv[1], conv[2], conv[3], ul.ConversationID}},
		{"q finds a contact by phone in another format", tm.owner, "q=" + url.QueryEscape("+7 383 234-90-96"), []int64{conv[0]}},
		{"q finds a contact by phone written with an 8", tm.owner, "q=" + url.QueryEscape("8-383-234-90-96"), []int64{conv[0]}},
		{"q finds a contact by part of the name, any case", tm.owner, "q=PETROVA", []int64{conv[0]}},
		{"q finds a contact by a Cyrillic name in another case", tm.owner, "q=" + url.QueryEscape("анна смирнова"), []int64{conv[3]}},
		{"q finds a conversation by its text", tm.owner, "q=tomsk", []int64{conv[2]}},
		{"q for a manager does not reach another manager's conversation", tm.a, "q=tomsk", []int64{}},
		{"q that matches nothing lists nothing", tm.owner, "q=nobody-here", []int64{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := listIDs(t, c.as, c.query); !sameIDs(got, c.want) {
				t.Errorf("?%s as %s: got %v, want %v", c.query, c.as.User.Role, got, c.want)
			}
		})
	}

	t.Run("the list is newest first and names the contact", func(t *testing.T) {
		var pg convPage
		must(t, tm.owner, 200, "GET", "/api/v1/conversations?channel=web", nil, &pg)
		for i := 1; i < len(pg.Conversations); i++ {
			prev, cur := pg.Conversations[i-1], pg.Conversations[i]
			if cur.LastTouchAt.After(prev.LastTouchAt) || (cur.LastTouchAt.Equal(prev.LastTouchAt) && cur.ID > prev.ID) {
				t.Errorf("order: %d (%s) before %d (%s)", prev.ID, prev.LastTouchAt, cur.ID, cur.LastTouchAt)
			}
		}
		names := map[int64]string{}
		unlinked := map[int64]int64{}
		for _, cv := range pg.Conversations {
			names[cv.ID], unlinked[cv.ID] = cv.ContactName, cv.Unlinked
		}
		if names[conv[3]] != "Анна Смирнова" || unlinked[ul.ConversationID] != 1 || unlinked[conv[0]] != 0 {
			t.Errorf("names %v, unlinked counts %v", names, unlinked)
		}
	})

	pageAll := func(t *testing.T, query string) (order []int64, pages int) {
		t.Helper()
		cursor := ""
		for {
			var pg convPage
			path := "/api/v1/conversations?limit=2&" + query
			if cursor != "" {
				path += "&cursor=" + url.QueryEscape(cursor)
			}
			must(t, tm.owner, 200, "GET", path, nil, &pg)
			pages++
			if len(pg.Conversations) > 2 || len(pg.Conversations) == 0 {
				t.Fatalf("page %d has %d conversations", pages, len(pg.Conversations))
			}
			for _, cv := range pg.Conversations {
				order = append(order, cv.ID)
			}
			if pg.NextCursor == "" {
				return order, pages
			}
			if pages > 10 {
				t.Fatal("paging does not end")
			}
			cursor = pg.NextCursor
		}
	}
	for _, c := range []struct {
		name, query string
		want        []int64
		pages       int
	}{
		{"limit=2 pages through five conversations, each exactly once", "channel=web&status=open", []int64{conv[0], conv[1], conv[2], conv[3], ul.ConversationID}, 3},
		{"limit=2 pages through all seven, each exactly once", "filter=all", all, 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			order, pages := pageAll(t, c.query)
			seen := map[int64]int{}
			for _, id := range order {
				seen[id]++
				if seen[id] > 1 {
					t.Errorf("conversation %d listed twice in %v", id, order)
				}
			}
			if pages != c.pages || !sameIDs(order, c.want) {
				t.Errorf("%d pages of %v, want %d pages with each of %v once", pages, order, c.pages, c.want)
			}
			if want := listIDs(t, tm.owner, c.query); fmt.Sprint(want) != fmt.Sprint(order) {
				t.Errorf("paged order %v differs from the unpaged list %v", order, want)
			}
		})
	}

	runScenarios(t, []scenario{
		{name: "an unknown filter is 422", as: tm.owner, method: "GET", path: "/api/v1/conversations?filter=everything", status: 422, code: "invalid"},
		{name: "a malformed cursor is 422", as: tm.owner, method: "GET", path: "/api/v1/conversations?cursor=not-a-cursor!", status: 422, code: "invalid"},
		{name: "snoozing without a time is 422", as: tm.owner, method: "POST", path: p("/api/v1/conversations/%d/status", conv[0]), body: api.StatusRequest{Status: "snoozed"}, status: 422, code: "invalid"},
		{name: "an unknown status is 422", as: tm.owner, method: "POST", path: p("/api/v1/conversations/%d/status", conv[0]), body: api.StatusRequest{Status: "archived"}, status: 422, code: "invalid"},
		{name: "snoozing until tomorrow works", as: tm.owner, method: "POST", path: p("/api/v1/conversations/%d/status", conv[0]),
			body: api.StatusRequest{Status: "snoozed", Until: ptr(time.Now().Add(24 * time.Hour))}, status: 200, want: []string{`"status":"snoozed"`}},
	})
}

// --- contacts --------------------------------------------------------------

func TestAPIContacts(t *testing.T) {
	tm := newTeam(t)
	anna := touchOf(t, tm.owner, ingest(t, tm.testApp, inbound(tm.site.ID, "c-1", "8 (383) 234-90-96", "Anna Petrova", "Quote", time.Now())))
	boris := touchOf(t, tm.owner, ingest(t, tm.testApp, inbound(tm.site.ID, "c-2", "+7 913 555-01-02", "Boris Orlov", "Hello", time.Now())))
	a, lead, owner := tm.a, tm.lead, tm.owner
	contact := func(id int64) string { return p("/api/v1/contacts/%d", id) }

	runScenarios(t, []scenario{
		{name: "a manager gets an unassigned contact by id with its E.164 phone", as: a, method: "GET", path: contact(anna.ContactID), status: 200,
			want: []string{`"name":"Anna Petrova"`, `"value":"+73832349096"`, p(`"id":%d`, anna.ConversationID), p(`"id":%d`, *anna.DealID)}},
		{name: "search finds a contact by phone in another format", as: a, method: "GET", path: "/api/v1/contacts?q=" + url.QueryEscape("+7 (383) 234 90 96"), status: 200,
			want: []string{"Anna Petrova"}, absent: []string{"Boris"}},
		{name: "search finds a contact by the last digits", as: a, method: "GET", path: "/api/v1/contacts?q=" + url.QueryEscape("555-01-02"), status: 200,
			want: []string{"Boris Orlov"}, absent: []string{"Anna"}},
		{name: "search finds a contact by name in any case", as: owner, method: "GET", path: "/api/v1/contacts?q=ORLOV", status: 200,
			want: []string{"Boris Orlov", "+79135550102"}, absent: []string{"Anna"}},
		{name: "a missing contact is 404", as: owner, method: "GET", path: contact(999999), status: 404, code: "not_found"},
		{name: "a manager renames a contact", as: a, method: "PATCH", path: contact(anna.ContactID), body: crm.ContactPatch{Name: ptr("  Anna K. Petrova "), Company: ptr("Oak & Co")}, status: 200,
			want: []string{`"name":"Anna K. Petrova"`, `"company":"Oak \u0026 Co"`}},
		{name: "the new name is found by search", as: a, method: "GET", path: "/api/v1/contacts?q=" + url.QueryEscape("k. petrova"), status: 200, want: []string{"Anna K. Petrova"}},
		{name: "a manager cannot change the responsible manager", as: a, method: "PATCH", path: contact(anna.ContactID), body: crm.ContactPatch{ResponsibleID: &a.User.ID}, status: 403, code: "forbidden"},
		{name: "a lead sets the responsible manager", as: lead, method: "PATCH", path: contact(anna.ContactID), body: crm.ContactPatch{ResponsibleID: &a.User.ID}, status: 200,
			want: []string{p(`"responsible_id":%d`, a.User.ID)}},
		{name: "a responsible user that does not exist is 422", as: lead, method: "PATCH", path: contact(anna.ContactID), body: `{"responsible_id":999999}`, status: 422, code: "invalid"},
		{name: "adding a phone written with an 8 stores it as E.164", as: a, method: "POST", path: contact(anna.ContactID) + "/identities", body: crm.RawHandle{Kind: "phone", Value: "8 913 777-12-34"}, status: 200,
			want: []string{`"value":"+79137771234"`, `"value":"+73832349096"`}, absent: []string{"8 913"}},
		{name: "the added phone is listed with the identities", as: a, method: "GET", path: contact(anna.ContactID) + "/identities", status: 200, want: []string{`"value":"+79137771234"`}},
		{name: "the added phone finds the contact", as: owner, method: "GET", path: "/api/v1/contacts?q=" + url.QueryEscape("+7 913 777 12 34"), status: 200, want: []string{"Anna K. Petrova"}},
		{name: "adding an email lower-cases it", as: a, method: "POST", path: contact(anna.ContactID) + "/identities", body: crm.RawHandle{Kind: "email", Value: " Anna.Petrova@Example.RU "}, status: 200,
			want: []string{`"value":"anna.petrova@example.ru"`}},
		{name: "adding a WhatsApp JID adds its phone too", as: a, method: "POST", path: contact(anna.ContactID) + "/identities", body: crm.RawHandle{Kind: "whatsapp", Value: "79137771235@s.whatsapp.net"}, status: 200,
			want: []string{`"value":"79137771235@s.whatsapp.net"`, `"value":"+79137771235"`}},
		{name: "adding the same phone again is harmless", as: a, method: "POST", path: contact(anna.ContactID) + "/identities", body: crm.RawHandle{Kind: "phone", Value: "+79137771234"}, status: 200},
		{name: "adding a phone that belongs to another contact the manager sees is 409 naming it", as: a, method: "POST", path: contact(anna.ContactID) + "/identities", body: crm.RawHandle{Kind: "phone", Value: "8 913 555 01 02"}, status: 409, code: "conflict",
			want: []string{"Boris Orlov", p("id %d", boris.ContactID)}},
		{name: "adding an invalid phone is 422", as: a, method: "POST", path: contact(anna.ContactID) + "/identities", body: crm.RawHandle{Kind: "phone", Value: "12-34"}, status: 422, code: "invalid"},
		{name: "adding an unknown kind is 422", as: a, method: "POST", path: contact(anna.ContactID) + "/identities", body: crm.RawHandle{Kind: "fax", Value: "123"}, status: 422, code: "invalid"},
		{name: "the refused identities were not stored", as: owner, method: "GET", path: contact(anna.ContactID) + "/identities", status: 200,
			want: []string{`"value":"+79137771234"`}, absent: []string{"+79135550102", "fax"}},
		{name: "the identity additions are audited", as: owner, method: "GET", path: p("/api/v1/audit?action=contact.identity&object_id=%d", anna.ContactID), status: 200,
			want: []string{"phone:+79137771234", "email:anna.petrova@example.ru"}},
		{name: "merging a contact into itself is 422", as: a, method: "POST", path: contact(anna.ContactID) + "/merge", body: api.MergeRequest{ContactID: anna.ContactID}, status: 422, code: "invalid"},
		{name: "merging a missing contact is 404", as: a, method: "POST", path: contact(anna.ContactID) + "/merge", body: api.MergeRequest{ContactID: 999999}, status: 404, code: "not_found"},
		{name: "a search of 60 000 characters is 422, not a 500", as: owner, method: "GET", path: "/api/v1/contacts?q=" + strings.Repeat("a", 60000), status: 422, code: "invalid", want: []string{"200"}},
		{name: "so is a conversation search that long", as: a, method: "GET", path: "/api/v1/conversations?q=" + strings.Repeat("x", 60000), status: 422, code: "invalid"},
		{name: "a search of the longest allowed length works", as: owner, method: "GET", path: "/api/v1/contacts?q=" + strings.Repeat("a", crm.MaxSearch), status: 200},
	})

	// Merge Boris into Anna, then undo.
	var mr api.MergeResponse
	must(t, a, 200, "POST", contact(anna.ContactID)+"/merge", api.MergeRequest{ContactID: boris.ContactID}, &mr)
	if mr.Contact.ID != anna.ContactID || mr.AuditID == 0 || mr.UndoEndpoint != p("/api/v1/merges/%d/undo", mr.AuditID) {
		t.Fatalf("merge reply %+v", mr)
	}
	var merged inbox.ContactDetail
	must(t, owner, 200, "GET", contact(boris.ContactID), nil, &merged)
	if merged.Contact.ID != anna.ContactID || !hasIdentity(merged.Contact, "+79135550102") || len(merged.Conversations) != 2 {
		t.Fatalf("after the merge GET /contacts/%d should resolve to %d with both phones and conversations: %+v", boris.ContactID, anna.ContactID, merged)
	}
	undo := p("/api/v1/merges/%d/undo", mr.AuditID)
	runScenarios(t, []scenario{
		{name: "the merged contact's conversation now belongs to the survivor", as: owner, method: "GET", path: p("/api/v1/conversations/%d", boris.ConversationID), status: 200,
			want: []string{p(`"contact_id":%d`, anna.ContactID)}},
		{name: "search no longer lists the merged-away contact on its own", as: owner, method: "GET", path: "/api/v1/contacts?q=orlov", status: 200, absent: []string{p(`{"id":%d,`, boris.ContactID)}},
		{name: "merging the merged-away contact again is 409", as: owner, method: "POST", path: contact(anna.ContactID) + "/merge", body: api.MergeRequest{ContactID: boris.ContactID}, status: 409, code: "conflict"},
		{name: "another manager cannot undo a manager's merge", as: tm.b, method: "POST", path: undo, status: 403, code: "forbidden"},
		{name: "undoing an audit entry that is not a merge is 422", as: lead, method: "POST", path: p("/api/v1/merges/%d/undo", 1), status: 422, code: "invalid"},
		{name: "undoing a missing audit entry is 404", as: lead, method: "POST", path: "/api/v1/merges/999999/undo", status: 404, code: "not_found"},
		{name: "a lead undoes the merge", as: lead, method: "POST", path: undo, status: 200,
			want: []string{p(`"id":%d`, boris.ContactID), `"name":"Boris Orlov"`, "+79135550102"}, absent: []string{"+73832349096"}},
		{name: "undoing twice is 409", as: lead, method: "POST", path: undo, status: 409, code: "conflict"},
		{name: "the owner undoing it again is 409 too", as: owner, method: "POST", path: undo, status: 409, code: "conflict"},
		{name: "the merge and the undo are audited", as: owner, method: "GET", path: "/api/v1/audit?object_type=contact", status: 200,
			want: []string{`"action":"contact.merge"`, `"action":"contact.unmerge"`, p(`"undo_of":%d`, mr.AuditID)}},
	})
	var back inbox.ContactDetail
	must(t, owner, 200, "GET", contact(boris.ContactID), nil, &back)
	if back.Contact.ID != boris.ContactID || back.Contact.MergedIntoID != nil || !hasIdentity(back.Contact, "+79135550102") || hasIdentity(back.Contact, "+73832349096") ||
		len(back.Conversations) != 1 || back.Conversations[0].ID != boris.ConversationID || len(back.Deals) != 1 || back.Deals[0].ID != *boris.DealID {
		t.Errorf("after the undo the contact should be itself again: %+v", back)
	}
	var survivor inbox.ContactDetail
	must(t, owner, 200, "GET", contact(anna.ContactID), nil, &survivor)
	if hasIdentity(survivor.Contact, "+79135550102") || len(survivor.Conversations) != 1 || len(survivor.Deals) != 1 {
		t.Errorf("after the undo the survivor should have only its own again: %+v", survivor)
	}
}

func TestAPIExportIsSafeForSpreadsheets(t *testing.T) {
	ta := newTestApp(t)
	ta.user("owner@example.ru", crm.Owner)
	owner := ta.login("owner@example.ru")
	site := ta.account("web", "site")
	tc := touchOf(t, owner, ingest(t, ta, inbound(site.ID, "x-1", "+7 913 555-01-02", "=2+3", "hi", time.Now())))
	// A stranger's address may start with a formula: it is a valid email.
	must(t, owner, 200, "POST", p("/api/v1/contacts/%d/identities", tc.ContactID), crm.RawHandle{Kind: "email", Value: `"=HYPERLINK(\"http://evil.example\")"@example.ru`}, nil)
	r := send(t, owner, "GET", "/api/v1/contacts/export.csv", nil)
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.body, []byte("\uFEFF")))).ReadAll()
	if r.status != 200 || err != nil || len(rows) != 2 {
		t.Fatalf("export: %s (%v)", r, err)
	}
	if name, phone, email := rows[1][1], rows[1][3], rows[1][4]; name != "'=2+3" || phone != "+79135550102" || !strings.HasPrefix(email, "'=hyperlink(") {
		t.Errorf("export row %q: a cell must never start with = (name %q, email %q), phones stay E.164 (%q)", rows[1], name, email, phone)
	}
}

func hasIdentity(c crm.Contact, value string) bool {
	for _, i := range c.Identities {
		if i.Value == value {
			return true
		}
	}
	return false
}

// --- deals and pipeline ----------------------------------------------------

func TestAPIDeals(t *testing.T) {
	tm := newTeam(t)
	anna := touchOf(t, tm.owner, ingest(t, tm.testApp, inbound(tm.site.ID, "d-1", "8 (383) 234-90-96", "Anna Petrova", "Quote", time.Now())))
	a, owner, lead := tm.a, tm.owner, tm.lead

	var pl api.Pipeline
	must(t, a, 200, "GET", "/api/v1/pipeline", nil, &pl)
	stage := map[string]crm.Stage{}
	for _, s := range pl.Stages {
		stage[s.Name] = s
	}
	if len(pl.Stages) != 5 || stage["New"].Kind != crm.StageOpen || stage["Won"].Kind != crm.StageWon || stage["Lost"].Kind != crm.StageLost || stage["New"].Position != 1 {
		t.Fatalf("default pipeline: %+v", pl)
	}

	var d crm.Deal
	must(t, a, 200, "POST", "/api/v1/deals", inbox.NewDeal{ContactID: anna.ContactID, Title: " 40 oak chairs "}, &d)
	if d.Status != crm.DealOpen || d.StageID != stage["New"].ID || d.Title != "40 oak chairs" || d.Currency != "RUB" || d.ResponsibleID == nil || *d.ResponsibleID != a.User.ID {
		t.Fatalf("new deal: %+v", d)
	}
	var lost crm.Deal
	must(t, a, 200, "POST", "/api/v1/deals", inbox.NewDeal{ContactID: anna.ContactID, Title: "Delivery"}, &lost)
	deal := func(id int64, suffix string) string { return p("/api/v1/deals/%d%s", id, suffix) }

	runScenarios(t, []scenario{
		{name: "a deal for a missing contact is 404", as: a, method: "POST", path: "/api/v1/deals", body: inbox.NewDeal{ContactID: 999999}, status: 404, code: "not_found"},
		{name: "a deal with a negative amount is 422", as: a, method: "POST", path: "/api/v1/deals", body: inbox.NewDeal{ContactID: anna.ContactID, Amount: -1}, status: 422, code: "invalid"},
		{name: "a deal with an ad source that does not exist is 422", as: a, method: "POST", path: "/api/v1/deals", body: inbox.NewDeal{ContactID: anna.ContactID, AdSourceID: ptr(int64(999999))}, status: 422, code: "invalid"},
		{name: "the manager reads the deal", as: a, method: "GET", path: deal(d.ID, ""), status: 200, want: []string{`"title":"40 oak chairs"`, `"status":"open"`}},
		{name: "the manager's deal list has both deals", as: a, method: "GET", path: "/api/v1/deals", status: 200, want: []string{p(`"id":%d`, d.ID), p(`"id":%d`, lost.ID)}},
		{name: "the contact's deal list has the automatic deal too", as: a, method: "GET", path: p("/api/v1/deals?contact_id=%d", anna.ContactID), status: 200, want: []string{p(`"id":%d`, *anna.DealID), p(`"id":%d`, d.ID)}},
		{name: "PATCH edits the title and the amount in minor units", as: a, method: "PATCH", path: deal(d.ID, ""), body: crm.DealPatch{Title: ptr("40 oak chairs, delivered"), Amount: ptr(int64(36000000))}, status: 200,
			want: []string{`"title":"40 oak chairs, delivered"`, `"amount":36000000`}},
		{name: "PATCH with a negative amount is 422", as: a, method: "PATCH", path: deal(d.ID, ""), body: crm.DealPatch{Amount: ptr(int64(-5))}, status: 422, code: "invalid"},
		{name: "PATCH with a responsible user that does not exist is 422", as: lead, method: "PATCH", path: deal(d.ID, ""), body: crm.DealPatch{ResponsibleID: ptr(int64(999999))}, status: 422, code: "invalid"},
		{name: "PATCH with an unknown field is 400", as: a, method: "PATCH", path: deal(d.ID, ""), body: `{"stage_id":1}`, status: 400, code: "bad_request"},
		{name: "a deal moves to an open stage", as: a, method: "POST", path: deal(d.ID, "/stage"), body: api.StageRequest{StageID: stage["Qualified"].ID}, status: 200,
			want: []string{p(`"stage_id":%d`, stage["Qualified"].ID), `"status":"open"`}},
		{name: "moving to the won stage needs won", as: a, method: "POST", path: deal(d.ID, "/stage"), body: api.StageRequest{StageID: stage["Won"].ID}, status: 422, code: "invalid"},
		{name: "moving to the lost stage needs lost", as: a, method: "POST", path: deal(d.ID, "/stage"), body: api.StageRequest{StageID: stage["Lost"].ID}, status: 422, code: "invalid"},
		{name: "moving to a stage that does not exist is 422", as: a, method: "POST", path: deal(d.ID, "/stage"), body: api.StageRequest{StageID: 999999}, status: 422, code: "invalid"},
		{name: "won without an amount is 422", as: a, method: "POST", path: deal(d.ID, "/won"), body: `{}`, status: 422, code: "invalid"},
		{name: "won with a zero amount is 422", as: a, method: "POST", path: deal(d.ID, "/won"), body: api.WonRequest{Amount: 0}, status: 422, code: "invalid"},
		{name: "the refused win left the deal open", as: a, method: "GET", path: deal(d.ID, ""), status: 200, want: []string{`"status":"open"`, p(`"stage_id":%d`, stage["Qualified"].ID)}},
		{name: "won with an amount closes the deal as won", as: a, method: "POST", path: deal(d.ID, "/won"), body: api.WonRequest{Amount: 900000}, status: 200,
			want: []string{`"status":"won"`, `"amount":900000`, p(`"stage_id":%d`, stage["Won"].ID)}, absent: []string{`"closed_at":null`}},
		{name: "lost without a reason is 422", as: a, method: "POST", path: deal(lost.ID, "/lost"), body: api.LostRequest{Reason: "  "}, status: 422, code: "invalid"},
		{name: "lost with a reason closes the deal as lost", as: a, method: "POST", path: deal(lost.ID, "/lost"), body: api.LostRequest{Reason: "too expensive"}, status: 200,
			want: []string{`"status":"lost"`, `"lost_reason":"too expensive"`, p(`"stage_id":%d`, stage["Lost"].ID)}},
		{name: "status=won lists the won deal only", as: owner, method: "GET", path: "/api/v1/deals?status=won", status: 200,
			want: []string{p(`"id":%d`, d.ID)}, absent: []string{p(`"id":%d,`, lost.ID)}},
		{name: "moving a lost deal to an open stage reopens it", as: a, method: "POST", path: deal(lost.ID, "/stage"), body: api.StageRequest{StageID: stage["New"].ID}, status: 200,
			want: []string{`"status":"open"`, `"lost_reason":""`, `"closed_at":null`}},
		{name: "deal changes are audited", as: owner, method: "GET", path: p("/api/v1/audit?object_type=deal&object_id=%d", d.ID), status: 200,
			want: []string{`"action":"deal.open"`, `"action":"deal.edit"`, `"action":"deal.stage"`, `"action":"deal.won"`}},
		{name: "the owner renames a stage", as: owner, method: "PUT", path: "/api/v1/pipeline", body: api.Pipeline{Stages: []crm.Stage{
			{ID: stage["New"].ID, Name: "New lead"}, {ID: stage["Qualified"].ID, Name: "Qualified"}, {ID: stage["Proposal"].ID, Name: "Proposal"},
			{ID: stage["Won"].ID, Name: "Won", Kind: crm.StageWon}, {ID: stage["Lost"].ID, Name: "Lost", Kind: crm.StageLost}}}, status: 200,
			want: []string{p(`{"id":%d,"name":"New lead","position":1,"kind":"open"}`, stage["New"].ID)}},
		{name: "the renamed stage is in the pipeline", as: a, method: "GET", path: "/api/v1/pipeline", status: 200, want: []string{`"name":"New lead"`}, absent: []string{`"name":"New"`}},
		{name: "a pipeline without a won stage is 422", as: owner, method: "PUT", path: "/api/v1/pipeline", body: api.Pipeline{Stages: []crm.Stage{{Name: "Open"}, {Name: "Lost", Kind: crm.StageLost}}}, status: 422, code: "invalid"},
		{name: "removing a stage that holds deals is 409", as: owner, method: "PUT", path: "/api/v1/pipeline", body: api.Pipeline{Stages: []crm.Stage{
			{ID: stage["Proposal"].ID, Name: "Proposal"}, {ID: stage["Won"].ID, Name: "Won", Kind: crm.StageWon}, {ID: stage["Lost"].ID, Name: "Lost", Kind: crm.StageLost}}}, status: 409, code: "conflict"},
		{name: "the refused pipeline changes left it as it was", as: a, method: "GET", path: "/api/v1/pipeline", status: 200,
			want: []string{`"name":"New lead","position":1`, `"name":"Qualified","position":2`, `"name":"Lost","position":5`}},
	})

	// Handing a deal to another manager: a lead's or the owner's decision.
	b := tm.b
	var other crm.Deal
	must(t, a, 200, "POST", "/api/v1/deals", inbox.NewDeal{ContactID: anna.ContactID, Title: "Kitchen"}, &other)
	runScenarios(t, []scenario{
		{name: "a manager cannot hand their deal to another manager", as: a, method: "PATCH", path: deal(other.ID, ""), body: crm.DealPatch{ResponsibleID: &b.User.ID}, status: 403, code: "forbidden"},
		{name: "a manager who sees the contact cannot take another's deal by naming themselves", as: b, method: "PATCH", path: deal(other.ID, ""), body: crm.DealPatch{ResponsibleID: &b.User.ID}, status: 403, code: "forbidden"},
		{name: "the refused handovers left the deal with its manager", as: owner, method: "GET", path: deal(other.ID, ""), status: 200, want: []string{p(`"responsible_id":%d`, a.User.ID)}},
		{name: "a manager may send their own id back unchanged", as: a, method: "PATCH", path: deal(other.ID, ""), body: crm.DealPatch{ResponsibleID: &a.User.ID, Title: ptr("Kitchen, oak")}, status: 200,
			want: []string{`"title":"Kitchen, oak"`, p(`"responsible_id":%d`, a.User.ID)}},
		{name: "a lead hands the deal to another manager", as: lead, method: "PATCH", path: deal(other.ID, ""), body: crm.DealPatch{ResponsibleID: &b.User.ID}, status: 200,
			want: []string{p(`"responsible_id":%d`, b.User.ID)}},
		{name: "the new manager reads it", as: b, method: "GET", path: deal(other.ID, ""), status: 200},
		{name: "the handover and the rename are audited with old and new values", as: owner, method: "GET", path: p("/api/v1/audit?action=deal.edit&object_id=%d", other.ID), status: 200,
			want: []string{p(`"responsible_from":%d`, a.User.ID), p(`"responsible_to":%d`, b.User.ID), `"title_from":"Kitchen"`, `"title_to":"Kitchen, oak"`}},
	})
	// The manager who lost the deal hears of it; a third manager does not.
	var ev crm.Event
	if err := tm.db.Where("type = ?", crm.EventDealChanged).Order("id DESC").Take(&ev).Error; err != nil {
		t.Fatal(err)
	}
	carol := tm.user("carol.c@example.ru", crm.Manager)
	for _, c := range []struct {
		u    crm.User
		want bool
	}{{a.User, true}, {b.User, true}, {carol, false}} {
		if got := c.u.SeesEvent(ev); got != c.want {
			t.Errorf("the handover event %s visible to %s: %v, want %v", ev.Data, c.u.Email, got, c.want)
		}
	}
}

// --- touch resolution ------------------------------------------------------

func TestAPITouchResolution(t *testing.T) {
	tm := newTeam(t)
	a, owner := tm.a, tm.owner
	first := touchOf(t, owner, ingest(t, tm.testApp, inbound(tm.site.ID, "r-1", "8 (383) 234-90-96", "Anna Petrova", "First", time.Now().Add(-time.Hour))))
	if first.DealID == nil {
		t.Fatal("the first touch of a new contact should open a deal")
	}
	// With exactly one open deal a new touch links to it.
	second := touchOf(t, owner, ingest(t, tm.testApp, inbound(tm.site.ID, "r-2", "+7 383 234 90 96", "", "Second", time.Now().Add(-50*time.Minute))))
	if second.DealID == nil || *second.DealID != *first.DealID || second.ConversationID != first.ConversationID {
		t.Fatalf("a touch of a contact with one open deal should link to it: %+v", second)
	}
	var d2 crm.Deal
	must(t, a, 200, "POST", "/api/v1/deals", inbox.NewDeal{ContactID: first.ContactID, Title: "Second deal"}, &d2)
	// Two open deals: the next touch is unlinked.
	third := touchOf(t, owner, ingest(t, tm.testApp, inbound(tm.site.ID, "r-3", "8 383 234-90-96", "", "Which order is this about?", time.Now().Add(-40*time.Minute))))
	if third.DealID != nil || third.NotASale != "" {
		t.Fatalf("a touch of a contact with two open deals should be unlinked: %+v", third)
	}
	runScenarios(t, []scenario{
		{name: "the conversation with the unlinked touch is in filter=unlinked", as: a, method: "GET", path: "/api/v1/conversations?filter=unlinked", status: 200,
			want: []string{p(`"id":%d`, first.ConversationID), `"unlinked":1`}},
		{name: "linking to a deal of the contact resolves the touch", as: a, method: "POST", path: p("/api/v1/touches/%d/deal", third.ID), body: api.LinkRequest{DealID: d2.ID}, status: 200,
			want: []string{p(`"deal_id":%d`, d2.ID)}},
		{name: "the linked touch leaves the unlinked list", as: a, method: "GET", path: "/api/v1/conversations?filter=unlinked", status: 200, want: []string{`"conversations":[]`}},
		{name: "the link is audited", as: owner, method: "GET", path: p("/api/v1/audit?action=touch.link&object_id=%d", third.ID), status: 200,
			want: []string{p(`"actor_id":%d`, a.User.ID), p(`"deal_id":%d`, d2.ID)}},
	})

	fourth := touchOf(t, owner, ingest(t, tm.testApp, inbound(tm.site.ID, "r-4", "+73832349096", "", "One more order", time.Now().Add(-30*time.Minute))))
	if fourth.DealID != nil {
		t.Fatalf("still two open deals: the touch should be unlinked: %+v", fourth)
	}
	var nd api.NewDealResponse
	must(t, a, 200, "POST", p("/api/v1/touches/%d/new-deal", fourth.ID), nil, &nd)
	if nd.Deal.ID == 0 || nd.Deal.ID == d2.ID || nd.Deal.ContactID != first.ContactID || nd.Deal.Status != crm.DealOpen ||
		nd.Touch.ID != fourth.ID || nd.Touch.DealID == nil || *nd.Touch.DealID != nd.Deal.ID || nd.Deal.AdSourceID == nil || *nd.Deal.AdSourceID != *fourth.AdSourceID {
		t.Fatalf("new-deal reply: %+v", nd)
	}

	fifth := touchOf(t, owner, ingest(t, tm.testApp, inbound(tm.site.ID, "r-5", "+73832349096", "", "Buy our SEO services", time.Now().Add(-20*time.Minute))))
	if fifth.DealID != nil {
		t.Fatalf("three open deals: the touch should be unlinked: %+v", fifth)
	}
	other := touchOf(t, owner, ingest(t, tm.testApp, inbound(tm.site.ID, "r-other", "+7 913 555-01-02", "Boris Orlov", "Hi", time.Now())))
	runScenarios(t, []scenario{
		{name: "the new deal is audited with its touch", as: owner, method: "GET", path: p("/api/v1/audit?action=deal.open&object_id=%d", nd.Deal.ID), status: 200,
			want: []string{p(`"touch_id":%d`, fourth.ID), p(`"actor_id":%d`, a.User.ID)}},
		{name: "linking to another contact's deal answers as a missing deal does", as: a, method: "POST", path: p("/api/v1/touches/%d/deal", fifth.ID), body: api.LinkRequest{DealID: *other.DealID}, status: 404, code: "not_found",
			absent: []string{"another contact", "Boris"}},
		{name: "linking to a missing deal is 404", as: a, method: "POST", path: p("/api/v1/touches/%d/deal", fifth.ID), body: api.LinkRequest{DealID: 999999}, status: 404, code: "not_found"},
		{name: "not a sale without a reason is 422", as: a, method: "POST", path: p("/api/v1/touches/%d/not-a-sale", fifth.ID), body: api.NotASaleRequest{Reason: " "}, status: 422, code: "invalid"},
		{name: "the refused actions left the touch unlinked", as: a, method: "GET", path: "/api/v1/conversations?filter=unlinked", status: 200, want: []string{p(`"id":%d`, first.ConversationID)}},
		{name: "not a sale with a reason resolves the touch", as: a, method: "POST", path: p("/api/v1/touches/%d/not-a-sale", fifth.ID), body: api.NotASaleRequest{Reason: "spam"}, status: 200,
			want: []string{`"not_a_sale":"spam"`, `"deal_id":null`}},
		{name: "the resolved touch leaves the unlinked list", as: a, method: "GET", path: "/api/v1/conversations?filter=unlinked", status: 200, want: []string{`"conversations":[]`}},
		{name: "not a sale is audited", as: owner, method: "GET", path: p("/api/v1/audit?action=touch.not_a_sale&object_id=%d", fifth.ID), status: 200,
			want: []string{`"reason":"spam"`, p(`"actor_id":%d`, a.User.ID)}},
		{name: "a missing touch is 404", as: a, method: "POST", path: "/api/v1/touches/999999/new-deal", status: 404, code: "not_found"},
		{name: "the conversation shows its touches in time order and the open deals", as: a, method: "GET", path: p("/api/v1/conversations/%d", first.ConversationID), status: 200,
			want: []string{`"body":"First"`, `"body":"Second"`, `"not_a_sale":"spam"`, p(`"id":%d,"contact_id":%d,"title":"Second deal"`, d2.ID, first.ContactID)}},
	})
	var cd inbox.ConversationDetail
	must(t, a, 200, "GET", p("/api/v1/conversations/%d", first.ConversationID), nil, &cd)
	var bodies []string
	for _, tc := range cd.Touches {
		bodies = append(bodies, tc.Body)
	}
	if strings.Join(bodies, "|") != "First|Second|Which order is this about?|One more order|Buy our SEO services" || len(cd.OpenDeals) != 3 {
		t.Errorf("conversation touches %q, open deals %d", bodies, len(cd.OpenDeals))
	}
}

// --- accounts, entry points, spend, users ---------------------------------

func TestAPIAccounts(t *testing.T) {
	tm := newTeam(t)
	owner, lead := tm.owner, tm.lead
	const secret = "wh-secret-7f3a9c2e1b"
	var acc crm.Account
	r := must(t, owner, 200, "POST", "/api/v1/accounts", crm.AccountInput{Channel: "web", Name: ptr("Landing"), Secret: ptr(secret), Settings: json.RawMessage(`{"site":"chairs.example.ru"}`)}, &acc)
	if bytes.Contains(r.body, []byte(secret)) || !acc.HasSecret || acc.ID == 0 || !acc.Enabled {
		t.Fatalf("create account reply %s", r.body)
	}
	var stored crm.Account
	if err := tm.db.First(&stored, acc.ID).Error; err != nil || stored.Secret == "" || strings.Contains(stored.Secret, secret) {
		t.Fatalf("the secret must be stored sealed: %q %v", stored.Secret, err)
	}
	runScenarios(t, []scenario{
		{name: "the account list never contains the secret", as: owner, method: "GET", path: "/api/v1/accounts", status: 200,
			want: []string{`"name":"Landing"`, `"has_secret":true`, "chairs.example.ru"}, absent: []string{secret, stored.Secret}},
		{name: "one account never contains the secret", as: owner, method: "GET", path: p("/api/v1/accounts/%d", acc.ID), status: 200,
			want: []string{`"has_secret":true`}, absent: []string{secret, stored.Secret}},
		{name: "a lead lists accounts without their settings", as: lead, method: "GET", path: "/api/v1/accounts", status: 200,
			want: []string{`"name":"Landing"`}, absent: []string{secret, "chairs.example.ru"}},
		{name: "a lead reads one account without its settings", as: lead, method: "GET", path: p("/api/v1/accounts/%d", acc.ID), status: 200,
			want: []string{`"name":"Landing"`}, absent: []string{secret, "chairs.example.ru"}},
		{name: "a missing account is 404", as: owner, method: "GET", path: "/api/v1/accounts/999999", status: 404, code: "not_found"},
		{name: "a web account without a secret is 422", as: owner, method: "POST", path: "/api/v1/accounts", body: crm.AccountInput{Channel: "web", Name: ptr("Unsigned")}, status: 422, code: "invalid"},
		{name: "the refused account was not stored", as: owner, method: "GET", path: "/api/v1/accounts", status: 200, absent: []string{"Unsigned"}},
		{name: "an unknown channel is 422", as: owner, method: "POST", path: "/api/v1/accounts", body: crm.AccountInput{Channel: "fax", Name: ptr("Fax")}, status: 422, code: "invalid"},
		{name: "an account without a name is 422", as: owner, method: "POST", path: "/api/v1/accounts", body: crm.AccountInput{Channel: "telegram"}, status: 422, code: "invalid"},
		{name: "a duplicate account name is 409", as: owner, method: "POST", path: "/api/v1/accounts", body: crm.AccountInput{Channel: "telegram", Name: ptr("Landing")}, status: 409, code: "conflict"},
		{name: "settings that are not an object are 422", as: owner, method: "POST", path: "/api/v1/accounts", body: crm.AccountInput{Channel: "telegram", Name: ptr("Bot"), Settings: json.RawMessage(`[1]`)}, status: 422, code: "invalid"},
		{name: "clearing a web account's secret is 422", as: owner, method: "PATCH", path: p("/api/v1/accounts/%d", acc.ID), body: crm.AccountInput{Secret: ptr("")}, status: 422, code: "invalid"},
		{name: "the owner disables and renames an account", as: owner, method: "PATCH", path: p("/api/v1/accounts/%d", acc.ID), body: crm.AccountInput{Name: ptr("Landing page"), Enabled: ptr(false)}, status: 200,
			want: []string{`"name":"Landing page"`, `"enabled":false`, `"has_secret":true`}, absent: []string{secret}},
		{name: "the audit trail records account changes without the secret", as: owner, method: "GET", path: "/api/v1/audit?object_type=account", status: 200,
			want: []string{`"action":"account.create"`, `"action":"account.edit"`, `"secret_changed":true`}, absent: []string{secret, stored.Secret}},
	})
}

func TestAPIEntryPointsAndSpend(t *testing.T) {
	ta := newTestApp(t)
	ta.user("owner@example.ru", crm.Owner)
	owner := ta.login("owner@example.ru")
	pbx := ta.account("phone", "pbx")
	var yandex, vk crm.AdSource
	must(t, owner, 200, "POST", "/api/v1/ad-sources", api.AdSourceRequest{Name: "Yandex Direct"}, &yandex)
	must(t, owner, 200, "POST", "/api/v1/ad-sources", api.AdSourceRequest{Name: "VK Ads"}, &vk)
	var ep crm.EntryPoint
	must(t, owner, 200, "POST", "/api/v1/entry-points", inbox.NewEntryPoint{AccountID: pbx.ID, Address: " +73832000001 ", AdSourceID: &yandex.ID}, &ep)
	if ep.Address != "+73832000001" || !ep.AutoDeal || len(ep.Bindings) != 1 || *ep.Bindings[0].AdSourceID != yandex.ID || !ep.Bindings[0].ValidFrom.Equal(crm.Epoch) {
		t.Fatalf("new entry point: %+v", ep)
	}
	epPath := p("/api/v1/entry-points/%d", ep.ID)
	march := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	runScenarios(t, []scenario{
		{name: "an entry point with the same address on the account is 409", as: owner, method: "POST", path: "/api/v1/entry-points", body: inbox.NewEntryPoint{AccountID: pbx.ID, Address: "+73832000001"}, status: 409, code: "conflict"},
		{name: "an entry point on a missing account is 404", as: owner, method: "POST", path: "/api/v1/entry-points", body: inbox.NewEntryPoint{AccountID: 999999, Address: "x"}, status: 404, code: "not_found"},
		{name: "an entry point without an address is 422", as: owner, method: "POST", path: "/api/v1/entry-points", body: inbox.NewEntryPoint{AccountID: pbx.ID, Address: " "}, status: 422, code: "invalid"},
		{name: "binding from a date moves the entry point to another source", as: owner, method: "POST", path: epPath + "/bindings", body: api.BindRequest{AdSourceID: &vk.ID, ValidFrom: &march}, status: 200,
			want: []string{p(`"ad_source_id":%d,"valid_from":"2026-03-01T00:00:00Z"`, vk.ID)}},
		{name: "a binding to no source is allowed", as: owner, method: "POST", path: epPath + "/bindings", body: `{"ad_source_id":null,"valid_from":"2025-06-01T00:00:00Z"}`, status: 200},
		{name: "a second binding at the same time is 409", as: owner, method: "POST", path: epPath + "/bindings", body: api.BindRequest{AdSourceID: &yandex.ID, ValidFrom: &march}, status: 409, code: "conflict"},
		{name: "a binding to a missing source is 404", as: owner, method: "POST", path: epPath + "/bindings", body: `{"ad_source_id":999999,"valid_from":"2026-04-01T00:00:00Z"}`, status: 404, code: "not_found"},
		{name: "a binding of a missing entry point is 404", as: owner, method: "POST", path: "/api/v1/entry-points/999999/bindings", body: api.BindRequest{AdSourceID: &vk.ID}, status: 404, code: "not_found"},
		{name: "the entry points list has the history", as: owner, method: "GET", path: p("/api/v1/entry-points?account_id=%d", pbx.ID), status: 200, want: []string{`"address":"+73832000001"`, `"valid_from":"2026-03-01T00:00:00Z"`}},
		{name: "the bindings are audited", as: owner, method: "GET", path: p("/api/v1/audit?action=entry_point.bind&object_id=%d", ep.ID), status: 200, want: []string{`"entry_point.bind"`}},
	})
	var got crm.EntryPoint
	must(t, owner, 200, "GET", epPath, nil, &got)
	var hist []string
	for _, b := range got.Bindings {
		src := "none"
		if b.AdSourceID != nil {
			src = strconv.FormatInt(*b.AdSourceID, 10)
		}
		hist = append(hist, b.ValidFrom.Format(time.DateOnly)+"="+src)
	}
	if want := []string{"2000-01-01=" + strconv.FormatInt(yandex.ID, 10), "2025-06-01=none", "2026-03-01=" + strconv.FormatInt(vk.ID, 10)}; fmt.Sprint(hist) != fmt.Sprint(want) {
		t.Errorf("binding history %v, want %v in order", hist, want)
	}

	spend := p("/api/v1/ad-sources/%d/spend", yandex.ID)
	runScenarios(t, []scenario{
		{name: "spend for a month is recorded in minor units with the default currency", as: owner, method: "POST", path: spend,
			body: inbox.NewSpend{PeriodStart: "2026-03-01", PeriodEnd: "2026-03-31", Amount: 9000000}, status: 200,
			want: []string{`"amount":9000000`, `"currency":"RUB"`, p(`"ad_source_id":%d`, yandex.ID)}},
		{name: "spend in another currency keeps it", as: owner, method: "POST", path: spend,
			body: inbox.NewSpend{PeriodStart: "2026-04-01", PeriodEnd: "2026-04-30", Amount: 150000, Currency: "usd", Note: "test"}, status: 200, want: []string{`"currency":"USD"`}},
		{name: "a date that does not exist is 422", as: owner, method: "POST", path: spend, body: inbox.NewSpend{PeriodStart: "2026-02-30", PeriodEnd: "2026-03-31", Amount: 1}, status: 422, code: "invalid"},
		{name: "a date in another format is 422", as: owner, method: "POST", path: spend, body: inbox.NewSpend{PeriodStart: "01.03.2026", PeriodEnd: "2026-03-31", Amount: 1}, status: 422, code: "invalid"},
		{name: "an end before the start is 422", as: owner, method: "POST", path: spend, body: inbox.NewSpend{PeriodStart: "2026-03-31", PeriodEnd: "2026-03-01", Amount: 1}, status: 422, code: "invalid"},
		{name: "a negative amount is 422", as: owner, method: "POST", path: spend, body: inbox.NewSpend{PeriodStart: "2026-03-01", PeriodEnd: "2026-03-31", Amount: -1}, status: 422, code: "invalid"},
		{name: "an amount with a fraction is 400", as: owner, method: "POST", path: spend, body: `{"period_start":"2026-03-01","period_end":"2026-03-31","amount":90000.5}`, status: 400, code: "bad_request"},
		{name: "a bad currency is 422", as: owner, method: "POST", path: spend, body: inbox.NewSpend{PeriodStart: "2026-03-01", PeriodEnd: "2026-03-31", Amount: 1, Currency: "rubles"}, status: 422, code: "invalid"},
		{name: "spend for a missing source is 404", as: owner, method: "POST", path: "/api/v1/ad-sources/999999/spend", body: inbox.NewSpend{PeriodStart: "2026-03-01", PeriodEnd: "2026-03-31", Amount: 1}, status: 404, code: "not_found"},
		{name: "the spend list has both records, newest period first", as: owner, method: "GET", path: spend, status: 200,
			want: []string{`"period_start":"2026-04-01T00:00:00Z"`, `"amount":150000`, `"amount":9000000`}},
		{name: "the spend list of a missing source is 404", as: owner, method: "GET", path: "/api/v1/ad-sources/999999/spend", status: 404, code: "not_found"},
		{name: "the ad sources are listed by name", as: owner, method: "GET", path: "/api/v1/ad-sources", status: 200, want: []string{`"name":"VK Ads"`, `"name":"Yandex Direct"`}},
		{name: "spend is audited", as: owner, method: "GET", path: p("/api/v1/audit?action=spend.add&object_id=%d", yandex.ID), status: 200, want: []string{`"amount":9000000`}},
	})
	var sl api.SpendList
	must(t, owner, 200, "GET", spend, nil, &sl)
	if len(sl.Spend) != 2 || sl.Spend[0].PeriodStart.Format(time.DateOnly) != "2026-04-01" || sl.Spend[1].PeriodEnd.Format(time.DateOnly) != "2026-03-31" {
		t.Errorf("spend list %+v", sl.Spend)
	}
}

func TestAPIUsers(t *testing.T) {
	ta := newTestApp(t)
	ta.user("owner@example.ru", crm.Owner)
	owner := ta.login("owner@example.ru")
	const email = "new.manager@example.ru"
	var nu crm.User
	r := must(t, owner, 200, "POST", "/api/v1/users", api.UserRequest{Email: "New.Manager@Example.RU", Name: "New Manager", Role: crm.Manager, Password: "password-" + email}, &nu)
	if nu.Email != email || nu.Role != crm.Manager || !nu.Active || nu.CanExport || bytes.Contains(r.body, []byte("password_hash")) || bytes.Contains(r.body, []byte("password-"+email)) {
		t.Fatalf("new user %s", r.body)
	}
	m := ta.login(email)
	runScenarios(t, []scenario{
		{name: "the new manager is logged in", as: m, method: "GET", path: "/api/v1/me", status: 200, want: []string{`"role":"manager"`}},
		{name: "a manager lists the team", as: m, method: "GET", path: "/api/v1/users", status: 200, want: []string{`"email":"owner@example.ru"`, `"email":"new.manager@example.ru"`}, absent: []string{"password", "$2a$"}},
		{name: "a duplicate email is 409", as: owner, method: "POST", path: "/api/v1/users", body: api.UserRequest{Email: email, Name: "Again", Role: crm.Manager, Password: "long-enough-pw"}, status: 409, code: "conflict"},
		{name: "a duplicate email in another case is 409", as: owner, method: "POST", path: "/api/v1/users", body: api.UserRequest{Email: "NEW.MANAGER@example.ru", Role: crm.Manager, Password: "long-enough-pw"}, status: 409, code: "conflict"},
		{name: "a short password is 422", as: owner, method: "POST", path: "/api/v1/users", body: api.UserRequest{Email: "short@example.ru", Role: crm.Manager, Password: "short"}, status: 422, code: "invalid"},
		{name: "an unknown role is 422", as: owner, method: "POST", path: "/api/v1/users", body: api.UserRequest{Email: "role@example.ru", Role: "admin", Password: "long-enough-pw"}, status: 422, code: "invalid"},
		{name: "an email that is not an address is 422", as: owner, method: "POST", path: "/api/v1/users", body: api.UserRequest{Email: "not-an-email", Role: crm.Manager, Password: "long-enough-pw"}, status: 422, code: "invalid"},
		{name: "the owner cannot deactivate themselves", as: owner, method: "PATCH", path: p("/api/v1/users/%d", owner.User.ID), body: inbox.UserPatch{Active: ptr(false)}, status: 422, code: "invalid"},
		{name: "the owner cannot demote themselves", as: owner, method: "PATCH", path: p("/api/v1/users/%d", owner.User.ID), body: inbox.UserPatch{Role: ptr(crm.Manager)}, status: 422, code: "invalid"},
		{name: "the owner is still an active owner", as: owner, method: "GET", path: "/api/v1/me", status: 200, want: []string{`"role":"owner"`, `"active":true`}},
		{name: "a missing user is 404", as: owner, method: "PATCH", path: "/api/v1/users/999999", body: inbox.UserPatch{Name: ptr("x")}, status: 404, code: "not_found"},
		{name: "a short new password is 422", as: owner, method: "PATCH", path: p("/api/v1/users/%d", nu.ID), body: inbox.UserPatch{Password: ptr("short")}, status: 422, code: "invalid"},
		{name: "the owner promotes the manager to lead", as: owner, method: "PATCH", path: p("/api/v1/users/%d", nu.ID), body: inbox.UserPatch{Role: ptr(crm.Lead)}, status: 200, want: []string{`"role":"lead"`}},
		{name: "the promotion applies to the open session at once", as: m, method: "GET", path: "/api/v1/me", status: 200, want: []string{`"role":"lead"`}},
		{name: "the owner deactivates the user", as: owner, method: "PATCH", path: p("/api/v1/users/%d", nu.ID), body: inbox.UserPatch{Active: ptr(false)}, status: 200, want: []string{`"active":false`}},
		{name: "a deactivated user's session ends", as: m, method: "GET", path: "/api/v1/me", status: 401, code: "unauthorized"},
		{name: "a deactivated user cannot log in", as: ta.anon(), method: "POST", path: "/api/v1/login", body: api.LoginRequest{Email: email, Password: "password-" + email}, status: 401, code: "bad_login"},
		{name: "user changes are audited without the password", as: owner, method: "GET", path: p("/api/v1/audit?object_type=user&object_id=%d", nu.ID), status: 200,
			want: []string{`"action":"user.create"`, `"action":"user.edit"`}, absent: []string{"password-", "$2a$"}},
	})

	t.Run("a password set by the owner ends the user's sessions and works for the next login", func(t *testing.T) {
		ta.user("pw@example.ru", crm.Manager)
		s := ta.login("pw@example.ru")
		var u crm.User
		must(t, s, 200, "GET", "/api/v1/me", nil, &struct{ User *crm.User }{&u})
		must(t, owner, 200, "PATCH", p("/api/v1/users/%d", u.ID), inbox.UserPatch{Password: ptr("a-brand-new-password")}, nil)
		if r := send(t, s, "GET", "/api/v1/me", nil); r.status != 401 {
			t.Errorf("session after a password change: got %s, want 401", r)
		}
		if r := send(t, ta.anon(), "POST", "/api/v1/login", api.LoginRequest{Email: "pw@example.ru", Password: "password-pw@example.ru"}); r.status != 401 {
			t.Errorf("old password: got %s, want 401", r)
		}
		if r := send(t, ta.anon(), "POST", "/api/v1/login", api.LoginRequest{Email: "pw@example.ru", Password: "a-brand-new-password"}); r.status != 200 {
			t.Errorf("new password: got %s, want 200", r)
		}
	})
}

// --- health ------------------------------------------------------------------

func TestAPIHealth(t *testing.T) {
	ta := newTestApp(t)
	anon := ta.anon()
	db := "sqlite"
	if crmtest.Postgres() {
		db = "postgres"
	}
	runScenarios(t, []scenario{
		{name: "healthz answers 200 without a session", as: anon, method: "GET", path: "/healthz", status: 200, want: []string{`{"status":"ok"}`}},
		{name: "readyz answers 200 with the database name", as: anon, method: "GET", path: "/readyz", status: 200, want: []string{`"status":"ready"`, p(`"database":"%s"`, db)}},
	})
}

// --- web hook ----------------------------------------------------------------

// hook posts body to path signed with secret (a wrong secret makes a bad
// signature); an empty secret sends no signature headers.
func hook(t testing.TB, ta *testApp, path string, body []byte, secret string) reply {
	t.Helper()
	c := ta.anon()
	if secret == "" {
		return send(t, c, "POST", path, body)
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	return send(t, c, "POST", path, body, web.HeaderTimestamp, ts, web.HeaderSignature, web.Sign([]byte(secret), ts, body))
}

func TestAPIWebHook(t *testing.T) {
	ta := newTestApp(t)
	ta.user("owner@example.ru", crm.Owner)
	owner := ta.login("owner@example.ru")
	site := ta.account("web", "site") // secret "s3cret"
	pbx := ta.account("phone", "pbx")
	path := p("/hooks/web/%d", site.ID)
	touches := func(ext string) int64 {
		t.Helper()
		var n int64
		if err := ta.db.Model(&crm.Touch{}).Where("account_id = ? AND external_id = ?", site.ID, ext).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}
	body := []byte(`{"submission_id":"form-0001","name":"Анна","phone":"8 (383) 234-90-96","message":"Перезвоните после 18:00","utm_source":"yandex","page_url":"https://chairs.example.ru/oak"}`)

	var first web.HookResponse
	r := hook(t, ta, path, body, "s3cret")
	if r.status != 200 || json.Unmarshal(r.body, &first) != nil || first.TouchID == 0 || first.Duplicate {
		t.Fatalf("signed submission: %s", r)
	}
	var again web.HookResponse
	r = hook(t, ta, path, body, "s3cret")
	if r.status != 200 || json.Unmarshal(r.body, &again) != nil || !again.Duplicate || again.TouchID != first.TouchID {
		t.Fatalf("the same submission again: %s, want duplicate of touch %d", r, first.TouchID)
	}
	if n := touches("form-0001"); n != 1 {
		t.Fatalf("a submission sent twice stored %d touches", n)
	}

	tc := touchOf(t, owner, first.TouchID)
	var srcs api.AdSourceList
	must(t, owner, 200, "GET", "/api/v1/ad-sources", nil, &srcs)
	var yandex int64
	for _, s := range srcs.AdSources {
		if s.Name == "yandex" {
			yandex = s.ID
		}
	}
	if yandex == 0 || tc.AdSourceID == nil || *tc.AdSourceID != yandex || tc.Kind != "form" || tc.Channel != "web" || tc.Handle != "phone:+73832349096" ||
		tc.Body != "Перезвоните после 18:00" || tc.DealID == nil {
		t.Errorf("touch from the hook %+v; ad source yandex is %d", tc, yandex)
	}

	forged := []byte(`{"submission_id":"form-forged","phone":"+7 913 555-01-02"}`)
	huge := []byte(`{"submission_id":"form-huge","phone":"+7 913 555-01-02","message":"` + strings.Repeat("я", web.MaxBody/2+1) + `"}`)
	for _, c := range []struct {
		name   string
		path   string
		body   []byte
		secret string
		status int
		code   string
		ext    string
	}{
		{"a wrong signature is 401 and stores nothing", path, forged, "not-the-secret", 401, web.CodeBadSignature, "form-forged"},
		{"an unsigned request is 401 and stores nothing", path, forged, "", 401, web.CodeUnauthorized, "form-forged"},
		{"an unknown account is 404", "/hooks/web/999999", forged, "s3cret", 404, "not_found", "form-forged"},
		{"an account that is not a web account is 404", p("/hooks/web/%d", pbx.ID), forged, "s3cret", 404, "not_found", "form-forged"},
		{"an account id that is not a number is 404", "/hooks/web/site", forged, "s3cret", 404, "not_found", "form-forged"},
		{"a body over 64 KiB is 413", path, huge, "s3cret", 413, web.CodeTooLarge, "form-huge"},
		{"malformed JSON, signed, is 400", path, []byte(`{"submission_id":"form-bad",`), "s3cret", 400, web.CodeBadJSON, "form-bad"},
		{"a submission without phone or email is 422", path, []byte(`{"submission_id":"form-empty","name":"Nobody"}`), "s3cret", 422, web.CodeInvalid, "form-empty"},
		{"a phone that is not a number is 422", path, []byte(`{"submission_id":"form-badphone","phone":"12"}`), "s3cret", 422, web.CodeInvalid, "form-badphone"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := hook(t, ta, c.path, c.body, c.secret)
			if r.status != c.status {
				t.Errorf("got %s, want %d", r, c.status)
			}
			checkErrorBody(t, r, c.code)
			if n := touches(c.ext); n != 0 {
				t.Errorf("a refused submission stored %d touches", n)
			}
		})
	}

	t.Run("a submission on a disabled account is refused", func(t *testing.T) {
		must(t, owner, 200, "PATCH", p("/api/v1/accounts/%d", site.ID), crm.AccountInput{Enabled: ptr(false)}, nil)
		r := hook(t, ta, path, []byte(`{"submission_id":"form-off","phone":"+7 913 555-01-09"}`), "s3cret")
		if r.status != 422 {
			t.Errorf("got %s, want 422", r)
		}
		checkErrorBody(t, r, "invalid")
		if n := touches("form-off"); n != 0 {
			t.Errorf("stored %d touches", n)
		}
	})
}

// A database failure while checking a session is the server's error, not
// the user's: 500, and the session survives it (a 401 would log them out).
func TestADatabaseFailureDuringAuthenticationIsNotUnauthorized(t *testing.T) {
	ta := newTestApp(t)
	ta.user("maria@example.ru", crm.Manager)
	c := ta.login("maria@example.ru")
	if err := ta.db.Exec("ALTER TABLE users RENAME TO users_away").Error; err != nil {
		t.Fatal(err)
	}
	if st, body := c.raw("GET", "/api/v1/me", nil); st != 500 {
		t.Fatalf("with the users table gone: %d %s; want 500", st, body)
	}
	if err := ta.db.Exec("ALTER TABLE users_away RENAME TO users").Error; err != nil {
		t.Fatal(err)
	}
	if st, body := c.raw("GET", "/api/v1/me", nil); st != 200 {
		t.Fatalf("after the database is back: %d %s; want the same session to work", st, body)
	}
}

// The list by contact (the owner's contact list opens a contact's latest
// conversation with it); a bad id is a 400; a manager still sees only theirs.
func TestConversationsByContact(t *testing.T) {
	ta := newTestApp(t)
	ownerUser := ta.user("owner@example.ru", crm.Owner)
	owner := ta.login(ownerUser.Email)
	other := ta.user("other@example.ru", crm.Manager)
	mgr := ta.login(ta.user("maria@example.ru", crm.Manager).Email)
	web := ta.account("web", "site")
	_, a := ta.touchConv(channels.Inbound{AccountID: web.ID, ExternalID: "a", From: []channels.Handle{{Kind: "phone", Value: "+79135550001"}}, Text: "a"})
	_, b := ta.touchConv(channels.Inbound{AccountID: web.ID, ExternalID: "b", From: []channels.Handle{{Kind: "phone", Value: "+79135550002"}}, Text: "b"})
	ca, _ := crm.GetConversation(ta.db, a)
	var list inbox.ConversationList
	if st := owner.do("GET", fmt.Sprintf("/api/v1/conversations?filter=all&contact_id=%d", ca.ContactID), nil, &list); st != 200 || len(list.Conversations) != 1 || list.Conversations[0].ID != a {
		t.Fatalf("by contact: %d %+v; want only conversation %d (not %d)", st, list.Conversations, a, b)
	}
	if st, body := owner.raw("GET", "/api/v1/conversations?contact_id=x", nil); st != 400 {
		t.Errorf("contact_id=x: %d %s; want 400", st, body)
	}
	if _, err := ta.AssignConversation(context.Background(), ownerUser, a, &other.ID); err != nil {
		t.Fatal(err)
	}
	list = inbox.ConversationList{}
	if st := mgr.do("GET", fmt.Sprintf("/api/v1/conversations?filter=all&contact_id=%d", ca.ContactID), nil, &list); st != 200 || len(list.Conversations) != 0 {
		t.Errorf("a manager got another manager's conversation by contact: %d %+v", st, list.Conversations)
	}
}

// A reply through another account lands in the contact's conversation on
// that account: when that conversation is another manager's, the reply is
// refused as if it did not exist, and nothing is written (issue 14, item 1).
func TestAManagerCannotReplyIntoAnotherManagersConversationThroughAnotherAccount(t *testing.T) {
	tm := newTeam(t)
	form := touchOf(t, tm.owner, ingest(t, tm.testApp, inbound(tm.site.ID, "r-1", "+7 913 555-07-07", "Vera", "Call me", time.Now())))
	bot := tm.account("telegram", "bot")
	if _, err := crm.AddIdentity(tm.db, form.ContactID, crm.Key{Kind: crm.TelegramID, Value: "7770001"}, ""); err != nil {
		t.Fatal(err)
	}
	chat := touchOf(t, tm.owner, ingest(t, tm.testApp, channels.Inbound{AccountID: bot.ID, ExternalID: "tg-1", At: time.Now(), Text: "Hello?",
		From: []channels.Handle{{Kind: "telegram", Value: "7770001"}}}))
	if chat.ContactID != form.ContactID || chat.ConversationID == form.ConversationID {
		t.Fatalf("setup: the chat %+v is not a second conversation of contact %d", chat, form.ContactID)
	}
	must(t, tm.lead, 200, "POST", fmt.Sprintf("/api/v1/conversations/%d/assign", chat.ConversationID), api.AssignRequest{UserID: &tm.b.User.ID}, nil)
	touches := tm.count("touches", "conversation_id = ?", chat.ConversationID)
	waiting := tm.count("conversations", "id = ? AND waiting_since IS NOT NULL", chat.ConversationID)

	runScenarios(t, []scenario{
		{name: "a reply on the other account into the other manager's conversation is 404", as: tm.a, method: "POST", path: p("/api/v1/conversations/%d/reply", form.ConversationID),
			body: inbox.ReplyRequest{AccountID: bot.ID, Text: "It's me"}, status: 404, code: "not_found", absent: []string{p(`%d`, chat.ConversationID)}},
		{name: "the owner of that conversation may", as: tm.b, method: "POST", path: p("/api/v1/conversations/%d/reply", chat.ConversationID),
			body: inbox.ReplyRequest{Text: "Yes, Vera"}, status: 200},
	})
	if got := tm.count("touches", "conversation_id = ? AND body = ?", chat.ConversationID, "It's me"); got != 0 {
		t.Errorf("the refused reply was stored: %d touches", got)
	}
	if got := tm.count("touches", "conversation_id = ?", chat.ConversationID); got != touches+1 {
		t.Errorf("%d touches in the chat, want %d (only the rightful reply)", got, touches+1)
	}
	if waiting != 1 {
		t.Errorf("setup: the chat was not waiting")
	}
}

// A hook answers in JSON whatever is sent to it: another method is 405
// with Allow: POST, another path 404; never the UI's HTML page.
func TestHooksAnswerJSONToOtherMethodsAndPaths(t *testing.T) {
	ta := newTestApp(t)
	site := ta.account("web", "site")
	for _, c := range []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", p("/hooks/web/%d", site.ID), 405, "method_not_allowed"},
		{"PUT", p("/hooks/web/%d", site.ID), 405, "method_not_allowed"},
		{"GET", "/hooks/web", 404, "not_found"},
		{"POST", "/hooks/web", 404, "not_found"},
		{"GET", "/hooks/", 404, "not_found"},
	} {
		req, _ := http.NewRequest(c.method, ta.srv.URL+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body api.ErrorBody
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != c.status || err != nil || body.Error.Code != c.code || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Errorf("%s %s: %d %q (%v, %s); want %d %q in JSON", c.method, c.path, resp.StatusCode, body.Error.Code, err, resp.Header.Get("Content-Type"), c.status, c.code)
		}
		if c.status == 405 && resp.Header.Get("Allow") != "POST" {
			t.Errorf("%s %s: Allow %q, want POST", c.method, c.path, resp.Header.Get("Allow"))
		}
	}
}

// The login limit holds under parallel requests: however many guesses
// arrive at once, at most the limit are checked in a window, so a burst
// that holds the right password among 100 guesses cannot slip it past the
// limit (issue 14, item 6).
func TestTheLoginLimitHoldsUnderAHundredParallelGuesses(t *testing.T) {
	ta := newTestApp(t)
	ta.user("kate@example.ru", crm.Manager)
	const limit = 10 // the default
	var (
		mu                   sync.Mutex
		checked, limited, in int
		wg                   sync.WaitGroup
		start                = make(chan struct{})
	)
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			pw := p("guess-%03d", i)
			if i == 77 {
				pw = "password-kate@example.ru"
			}
			_, _, _, err := ta.Login(context.Background(), "kate@example.ru", pw, p("198.51.100.%d", i%50))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				in++
				checked++
			case errors.Is(err, inbox.ErrRateLimited):
				limited++
			case errors.Is(err, inbox.ErrBadLogin):
				checked++
			default:
				t.Errorf("login: %v", err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if checked > limit || checked+limited != 100 {
		t.Errorf("%d passwords checked and %d refused by the limit of %d; want at most %d checked", checked, limited, limit, limit)
	}
	// The email is now blocked, the right password too.
	if _, _, _, err := ta.Login(context.Background(), "kate@example.ru", "password-kate@example.ru", "203.0.113.9"); in == 0 && !errors.Is(err, inbox.ErrRateLimited) {
		t.Errorf("after the burst the right password gave %v; want rate limited", err)
	}
}

// Another site cannot log a browser into an account (login CSRF): a login
// is JSON from our own origin (issue 14, item 7).
func TestLoginRefusesAnotherSitesPageAndNonJSONBodies(t *testing.T) {
	ta := newTestApp(t)
	ta.user("kate@example.ru", crm.Manager)
	h := New(ta.db, testLogger(t), ta.box, Options{Channels: testChannels(nil)}).Handler(nil)
	good := loginBody("kate@example.ru", "password-kate@example.ru")
	for _, c := range []struct {
		name   string
		ctype  string
		header []string
		status int
		code   string
	}{
		{"a form post from another site", "application/x-www-form-urlencoded", []string{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"}, 400, "bad_request"},
		{"text/plain, as a cross-site form may send", "text/plain", []string{"Origin", "https://evil.example"}, 400, "bad_request"},
		{"JSON from another site (Sec-Fetch-Site)", "application/json", []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}, 403, "csrf"},
		{"JSON from another origin (an older browser: Origin only)", "application/json", []string{"Origin", "https://evil.example"}, 403, "csrf"},
		{"JSON from a sibling subdomain", "application/json", []string{"Sec-Fetch-Site", "same-site"}, 403, "csrf"},
		{"our own page", "application/json", []string{"Sec-Fetch-Site", "same-origin", "Origin", "http://example.com"}, 200, ""},
		{"our own page behind a proxy that rewrote Host", "application/json", []string{"Sec-Fetch-Site", "same-origin", "Origin", "https://crm.example.ru"}, 200, ""},
		{"an older browser on our origin", "application/json", []string{"Origin", "http://example.com"}, 200, ""},
		{"a tool such as curl (no Origin)", "application/json; charset=utf-8", nil, 200, ""},
	} {
		req := httptest.NewRequest("POST", "/api/v1/login", strings.NewReader(good))
		req.RemoteAddr = "192.0.2.10:5000"
		req.Header.Set("Content-Type", c.ctype)
		for i := 0; i+1 < len(c.header); i += 2 {
			req.Header.Set(c.header[i], c.header[i+1])
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var body api.ErrorBody
		json.Unmarshal(rec.Body.Bytes(), &body)
		if rec.Code != c.status || body.Error.Code != c.code {
			t.Errorf("%s: %d %q, want %d %q", c.name, rec.Code, body.Error.Code, c.status, c.code)
		}
		if c.status != 200 && len(rec.Result().Cookies()) > 0 {
			t.Errorf("%s: a session cookie was set", c.name)
		}
	}
}

// Every user changes their own password with the current one; the other
// sessions end, this one stays; a wrong current password is refused and
// counts against the login limit (issue 14, item 8).
func TestUsersChangeTheirOwnPassword(t *testing.T) {
	ta := newTestApp(t)
	ta.user("m@example.ru", crm.Manager)
	here := ta.login("m@example.ru")
	elsewhere := ta.login("m@example.ru")
	if st := here.do("POST", "/api/v1/me/password", inbox.PasswordChange{Current: "wrong-password", New: "new-password-1"}, nil); st != http.StatusUnprocessableEntity {
		t.Fatalf("wrong current password: %d, want 422", st)
	}
	if st := here.do("POST", "/api/v1/me/password", inbox.PasswordChange{Current: "password-m@example.ru", New: "short"}, nil); st != http.StatusUnprocessableEntity {
		t.Fatalf("too short: %d, want 422", st)
	}
	if st := here.do("POST", "/api/v1/me/password", inbox.PasswordChange{Current: "password-m@example.ru", New: "new-password-1"}, nil); st != http.StatusNoContent {
		t.Fatalf("change: %d", st)
	}
	if st := here.do("GET", "/api/v1/me", nil, nil); st != 200 {
		t.Errorf("the session that changed it: %d, want 200", st)
	}
	if st := elsewhere.do("GET", "/api/v1/me", nil, nil); st != http.StatusUnauthorized {
		t.Errorf("another session: %d, want 401", st)
	}
	if st := ta.anon().do("POST", "/api/v1/login", api.LoginRequest{Email: "m@example.ru", Password: "new-password-1"}, nil); st != 200 {
		t.Errorf("login with the new password: %d", st)
	}
	// Guessing the current password is limited like a login.
	st := 0
	for i := 0; i < 15 && st != http.StatusTooManyRequests; i++ {
		st = here.do("POST", "/api/v1/me/password", inbox.PasswordChange{Current: fmt.Sprintf("guess-%02d-xx", i), New: "new-password-2"}, nil)
	}
	if st != http.StatusTooManyRequests {
		t.Errorf("15 wrong guesses: last status %d, want 429", st)
	}
}
