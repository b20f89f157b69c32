package server

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/crm"
)

// NUL, invalid UTF-8 and control characters from outside are cleaned at
// the edges, once, so no endpoint or hook answers 5xx on either database
// (PostgreSQL text cannot hold NUL), and long text is refused naming its
// field (issue 14, items 9 and 10).
func TestBadTextIsCleanedAtTheEdges(t *testing.T) {
	ta := newTestApp(t)
	ta.user("owner@example.ru", crm.Owner)
	owner := ta.login("owner@example.ru")
	site := ta.account("web", "site") // secret "s3cret"
	bad := "An\x00na \xff\xfe\x01\x1b[31m"

	// A web lead with NUL in utm_source and name: stored, cleaned.
	body := fmt.Sprintf(`{"submission_id":"nul-1","name":"An\u0000na \u001b","phone":"+79131110000","utm_source":"ya\u0000ndex","submitted_at":%q}`, time.Now().UTC().Format(time.RFC3339))
	r := hook(t, ta, fmt.Sprintf("/hooks/web/%d", site.ID), []byte(body), "s3cret")
	if r.status != 200 {
		t.Fatalf("web hook with NUL: %d %s", r.status, r.body)
	}
	var ep crm.EntryPoint
	ta.db.Where("account_id = ?", site.ID).Take(&ep)
	if strings.ContainsRune(ep.Address, 0) || ep.Address == "" {
		t.Errorf("entry point %q", ep.Address)
	}
	var c crm.Contact
	ta.db.Order("id DESC").Take(&c)

	for _, tc := range []struct {
		method, path string
		body         any
		status       int
	}{
		{"POST", "/api/v1/login", map[string]string{"email": "own\x00er@example.ru", "password": bad}, 401},
		{"GET", "/api/v1/contacts?q=" + url.QueryEscape(bad), nil, 200},
		{"GET", "/api/v1/conversations?q=" + url.QueryEscape("\x00"), nil, 200},
		{"PATCH", fmt.Sprintf("/api/v1/contacts/%d", c.ID), map[string]string{"name": bad, "note": "line\x00\nnext"}, 200},
		{"POST", "/api/v1/ad-sources", map[string]string{"name": "Ya\x00ndex \xff"}, 200},
		{"PATCH", fmt.Sprintf("/api/v1/contacts/%d", c.ID), map[string]string{"name": strings.Repeat("я", 1001)}, 422},
		{"PATCH", fmt.Sprintf("/api/v1/contacts/%d", c.ID), map[string]string{"note": strings.Repeat("n", 10_001)}, 422},
		{"POST", "/api/v1/accounts", map[string]any{"channel": "web", "name": "x", "settings": map[string]string{"a": "\x00"}}, 422},
	} {
		var rp reply
		if tc.method == "POST" && tc.path == "/api/v1/login" {
			rp = send(t, ta.anon(), tc.method, tc.path, tc.body)
		} else {
			rp = send(t, owner, tc.method, tc.path, tc.body)
		}
		if rp.status != tc.status {
			t.Errorf("%s %s: %d %s, want %d", tc.method, tc.path, rp.status, rp.body, tc.status)
		}
		if tc.status == 422 && !strings.Contains(string(rp.body), "longer than") && !strings.Contains(string(rp.body), "NUL") {
			t.Errorf("%s %s: the refusal does not say why: %s", tc.method, tc.path, rp.body)
		}
	}
	c, _ = crm.GetContact(ta.db, c.ID)
	if c.Name != "Anna \uFFFD\uFFFD[31m" || c.Note != "line\nnext" {
		t.Errorf("cleaned contact: name %q note %q", c.Name, c.Note)
	}
}
