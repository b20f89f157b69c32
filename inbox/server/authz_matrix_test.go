package server

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/channels/phone"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox/api"
)

// bSecrets are what manager A must never read of manager B's client.
var bSecrets = []string{"Secretov", "9135557777", "555-77-77", "the secret order", "secret-price.pdf"}

// TestAuthorizationMatrix probes every route of the route table as manager
// A against manager B's objects (issue 14, "keep it closed"): an owner-only
// route answers 403; a route naming one of B's objects answers exactly as
// for an object that does not exist and carries none of its content; a
// list or search returns none of it. A route added to the table without a
// probe here fails the test.
func TestAuthorizationMatrix(t *testing.T) {
	tm := newTeam(t)
	// B's client: a conversation with a file, a deal, a second contact
	// (merged away, so there is a merge to undo) and an identity.
	touch := ingest(t, tm.testApp, channels.Inbound{AccountID: tm.site.ID, ExternalID: "b-1", At: time.Now(), Name: "Sergey Secretov",
		From: []channels.Handle{{Kind: "phone", Value: "+79135557777"}}, Text: "the secret order",
		Attachments: []channels.Attachment{{Name: "secret-price.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.4 secret")}}})
	tc := touchOf(t, tm.owner, touch)
	tm.assign(t, tm.lead, tc.ConversationID, tm.b)
	other := touchOf(t, tm.owner, ingest(t, tm.testApp, channels.Inbound{AccountID: tm.site.ID, ExternalID: "b-2", At: time.Now(), Name: "Sergey Secretov 2",
		From: []channels.Handle{{Kind: "phone", Value: "+79135557778"}}, Text: "the secret order too"}))
	tm.assign(t, tm.lead, other.ConversationID, tm.b)
	var mr api.MergeResponse
	must(t, tm.b, 200, "POST", p("/api/v1/contacts/%d/merge", tc.ContactID), api.MergeRequest{ContactID: other.ContactID}, &mr)
	third := touchOf(t, tm.owner, ingest(t, tm.testApp, channels.Inbound{AccountID: tm.site.ID, ExternalID: "b-3", At: time.Now(), Name: "Secretov Junior",
		From: []channels.Handle{{Kind: "phone", Value: "+79135557779"}}, Text: "the secret order three"}))
	tm.assign(t, tm.lead, third.ConversationID, tm.b)
	var files api.AttachmentList
	must(t, tm.owner, 200, "GET", p("/api/v1/touches/%d/attachments", touch), nil, &files)
	var ids []crm.Identity
	tm.db.Where("contact_id = ?", tc.ContactID).Find(&ids)
	if len(files.Attachments) != 1 || len(ids) == 0 || tc.DealID == nil {
		t.Fatalf("fixture: files %+v, identities %+v, deal %v", files.Attachments, ids, tc.DealID)
	}
	// What each path parameter names: B's object, and one that does not exist.
	b := map[string]int64{"conversations": tc.ConversationID, "contacts": tc.ContactID, "deals": *tc.DealID, "touches": touch,
		"attachments": files.Attachments[0].ID, "merges": mr.AuditID, "identity": ids[0].ID, "other": third.ContactID}
	const missing = 987654

	public := []string{"GET /healthz", "GET /readyz", "POST /api/v1/login",
		"POST /hooks/{channel}/{account}", "POST /hooks/{channel}/{account}/{rest...}", "GET /hooks/{channel}/{account}"}
	// Routes with no object in their path: what A asks, and that B's
	// client is not in the answer.
	lists := map[string]string{
		"POST /api/v1/logout":             "",
		"GET /api/v1/me":                  "",
		"POST /api/v1/me/password":        `{"current_password":"x","new_password":"y"}`,
		"GET /api/v1/ws":                  "",
		"GET /api/v1/conversations":       "?filter=all&q=secret",
		"GET /api/v1/queues/counts":       "",
		"GET /api/v1/reminders":           "",
		"GET /api/v1/contacts":            "?q=Secretov",
		"GET /api/v1/contacts/export.csv": "",
		"GET /api/v1/pipeline":            "",
		"GET /api/v1/deals":               "",
		"GET /api/v1/team":                "",
		"GET /api/v1/team/conversations":  "?metric=open",
		"POST /api/v1/deals":              p(`{"contact_id":%d,"title":"mine now"}`, tc.ContactID),
		"GET /api/v1/accounts":            "",
		"GET /api/v1/accounts/states":     "",
		"GET /api/v1/users":               "",
	}
	// Routes whose object is not a client's: everyone may read them.
	shared := map[string]bool{"GET /api/v1/accounts/{id}": true}

	param := regexp.MustCompile(`\{([a-z_]+)(\.\.\.)?\}`)
	seen := map[string]bool{}
	for _, rt := range api.Routes() {
		seen[rt.Pattern] = true
		method, path, _ := strings.Cut(rt.Pattern, " ")
		t.Run(rt.Pattern, func(t *testing.T) {
			switch {
			case rt.Access == "public":
				if !slices.Contains(public, rt.Pattern) {
					t.Fatalf("a new public route: say here why anyone may call it, and probe it")
				}
				return
			case rt.Access == "owner":
				fill := param.ReplaceAllString(path, "1")
				if r := send(t, tm.a, method, fill, bodyFor(method)); r.status != 403 {
					t.Errorf("a manager got %d from an owner-only route, want 403: %s", r.status, r.body)
				}
				return
			case shared[rt.Pattern]:
				return
			}
			if !strings.Contains(path, "{") {
				q, ok := lists[rt.Pattern]
				if !ok {
					t.Fatalf("a new route without a probe: add it to the lists of this test")
				}
				target, body := path, ""
				if strings.HasPrefix(q, "?") {
					target += q
				} else {
					body = q
				}
				if method == "POST" && body == "" {
					body = "{}"
				}
				if rt.Pattern == "POST /api/v1/logout" {
					return // would end A's session; tested in TestAPILogin
				}
				r := send(t, tm.a, method, target, nilIfEmpty(body))
				noSecrets(t, r)
				if rt.Pattern == "POST /api/v1/deals" && r.status < 400 {
					t.Errorf("a manager opened a deal on another manager's contact: %d %s", r.status, r.body)
				}
				return
			}
			// A route naming objects: B's must answer as a missing one.
			fill := func(missingToo bool) string {
				return param.ReplaceAllStringFunc(path, func(m string) string {
					name := param.FindStringSubmatch(m)[1]
					key := name
					if name == "id" || name == "audit_id" {
						seg := strings.Split(strings.TrimPrefix(path, "/api/v1/"), "/")
						key = seg[0]
					}
					if missingToo && (name == "id" || name == "audit_id") {
						return fmt.Sprint(missing)
					}
					id, ok := b[key]
					if !ok {
						t.Fatalf("no object of B for {%s} in %s: add one to this test", name, rt.Pattern)
					}
					return fmt.Sprint(id)
				})
			}
			body := bodyFor(method)
			mine, gone := send(t, tm.a, method, fill(false), body), send(t, tm.a, method, fill(true), body)
			noSecrets(t, mine)
			if mine.status < 400 {
				t.Fatalf("manager A got %d for B's object: %s", mine.status, mine.body)
			}
			if mine.status != gone.status || errCode(mine) != errCode(gone) {
				t.Errorf("B's object answers %d %s, a missing one %d %s: an oracle", mine.status, errCode(mine), gone.status, errCode(gone))
			}
		})
	}
	for _, pat := range append(public, keys(lists)...) {
		if !seen[pat] {
			t.Errorf("the probe of %s names no route any more", pat)
		}
	}
}

func bodyFor(method string) any {
	if method == "GET" || method == "DELETE" {
		return nil
	}
	return "{}"
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func noSecrets(t *testing.T, r reply) {
	t.Helper()
	body, _ := url.QueryUnescape(string(r.body))
	for _, s := range bSecrets {
		if strings.Contains(body, s) || strings.Contains(string(r.body), s) {
			t.Errorf("the answer carries %q of B's client: %s", s, r.body)
		}
	}
}

func errCode(r reply) string {
	if m := regexp.MustCompile(`"code":"([a-z_]+)"`).FindSubmatch(r.body); m != nil {
		return string(m[1])
	}
	return ""
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// badText is what a careless or hostile client sends: NUL, invalid UTF-8,
// control characters, a right-to-left override, a huge string.
var badText = []string{"a\x00b", "\xff\xfe\xfd", "x\x01\x02\x1b[31m\x7f", "\u202eevil", strings.Repeat("я", 20000)}

// badFields are the text fields of the API's requests.
var badFields = []string{"name", "title", "text", "subject", "note", "company", "email", "phone", "value", "kind", "address",
	"reason", "lost_reason", "status", "channel", "password", "current_password", "new_password", "extension", "campaign",
	"currency", "default_source", "comment", "csv", "period_start", "day", "from", "to", "until", "role"}

// TestNoRouteAnswers5xxToBadText sends NUL, invalid UTF-8, control
// characters and huge strings in every text field and query parameter of
// every route, as the owner (who reaches every handler), and to the hooks:
// nothing answers 5xx, on either database (issue 14, item 9).
func TestNoRouteAnswers5xxToBadText(t *testing.T) {
	tm := newTeam(t)
	touch := ingest(t, tm.testApp, channels.Inbound{AccountID: tm.site.ID, ExternalID: "f-1", At: time.Now(), Name: "Fuzz",
		From: []channels.Handle{{Kind: "phone", Value: "+79135550000"}}, Text: "hello"})
	tc := touchOf(t, tm.owner, touch)
	param := regexp.MustCompile(`\{([a-z_]+)(\.\.\.)?\}`)
	ids := map[string]int64{"conversations": tc.ConversationID, "contacts": tc.ContactID, "touches": touch, "deals": *tc.DealID,
		"accounts": tm.site.ID, "users": tm.owner.User.ID}
	quoted := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	n := 0
	for _, rt := range api.Routes() {
		method, path, _ := strings.Cut(rt.Pattern, " ")
		if rt.Pattern == "POST /api/v1/logout" || rt.Pattern == "GET /api/v1/ws" || strings.HasPrefix(path, "/hooks/") {
			continue
		}
		seg := strings.Split(strings.TrimPrefix(path, "/api/v1/"), "/")[0]
		target := param.ReplaceAllStringFunc(path, func(string) string {
			if id, ok := ids[seg]; ok {
				return fmt.Sprint(id)
			}
			return "1"
		})
		for _, bad := range badText {
			q := url.Values{}
			for _, k := range []string{"q", "filter", "cursor", "from", "to", "group", "model", "basis", "action", "contact_id", "source_id"} {
				q.Set(k, bad)
			}
			check := func(body any, where string) {
				r := send(t, tm.owner, method, target+"?"+q.Encode(), body)
				n++
				if r.status >= 500 {
					t.Errorf("%s with %s %q: %d %s", rt.Pattern, where, crm.Clip(bad, 20), r.status, r.body)
				}
			}
			if method == "GET" || method == "DELETE" {
				check(nil, "query")
				continue
			}
			for _, f := range badFields {
				check(fmt.Sprintf(`{%q:%s}`, f, quoted(bad)), f)
			}
		}
	}
	// The hooks: a signed web lead and a signed call with bad text everywhere.
	pbx := tm.phoneAccount("pbx", `{"provider":"generic"}`, "pbx-secret")
	tm.useAdapters(map[channels.Kind]channels.Factory{channels.Phone: phone.New})
	for i, bad := range badText {
		lead := fmt.Sprintf(`{"submission_id":%s,"name":%s,"phone":"+79131110000","message":%s,"utm_source":%s,"page_url":%s}`,
			quoted(fmt.Sprint("f", i, bad)), quoted(bad), quoted(bad), quoted(bad), quoted(bad))
		if r := hook(t, tm.testApp, p("/hooks/web/%d", tm.site.ID), []byte(lead), "s3cret"); r.status >= 500 {
			t.Errorf("web hook with %q: %s", crm.Clip(bad, 20), r)
		}
		call := map[string]any{"call_id": fmt.Sprint("c", i, bad), "event": "ended", "direction": "in", "from": "+79131110001", "to": bad,
			"extension": bad, "queue": bad, "missed_reason": "no_answer"}
		if r := callHook(t, tm.testApp, pbx.ID, "pbx-secret", call); r.status >= 500 {
			t.Errorf("phone hook with %q: %s", crm.Clip(bad, 20), r)
		}
	}
	t.Logf("%d requests", n)
}
