// Package api is Switchboard's HTTP interface: the JSON API under
// /api/v1, the WebSocket of live events, the hooks channels post to, and
// the UI's files. A handler decodes the request, checks it, makes one call
// into the application (package inbox) and writes the answer; errors are
// written by writeError alone.
package api

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox"
	"github.com/switchboard/switchboard/inbox/realtime"
)

// Cookie and header names.
const (
	SessionCookie = "switchboard_session"
	CSRFHeader    = "X-CSRF-Token"
	maxJSONBody   = 1 << 20
)

// Accounts is what the API needs of the account supervisor: the QR code an
// account waits to be paired with, and the adapter that serves a webhook.
type Accounts interface {
	PairingQR(ctx context.Context, id int64) ([]byte, error)
	PairingCode(ctx context.Context, id int64) (string, error)
	Hook(ctx context.Context, id int64, channel string) (channels.Webhook, channels.Sink, error)
}

// Options are the HTTP settings, read once in cmd.
type Options struct {
	SecureCookies bool // set the Secure flag on the session cookie (behind TLS)
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client (for the login limit and the logs); default none.
	TrustedProxies []netip.Prefix
	// Meter is told of each request by its route pattern (package
	// metrics); nil: nobody.
	Meter Meter
}

// Meter records requests by route pattern ("GET /api/v1/deals/{id}",
// never the raw path), status and time: the metrics.
type Meter interface {
	Request(route string, status int, d time.Duration)
}

// api holds what the handlers need.
type api struct {
	app   *inbox.App
	accts Accounts
	rt    *realtime.Publisher
	log   *slog.Logger
	opts  Options
}

// New returns the HTTP API, the hooks channels post to, and the UI (ui may
// be nil). Every endpoint is in routes(): that is the API's index.
func New(app *inbox.App, accts Accounts, rt *realtime.Publisher, log *slog.Logger, opts Options, ui fs.FS) http.Handler {
	mux := http.NewServeMux()
	h := &api{app: app, accts: accts, rt: rt, log: log, opts: opts}

	for _, e := range h.routes() {
		switch e.access {
		case public:
			mux.HandleFunc(e.pattern, e.handler)
		case user:
			mux.Handle(e.pattern, h.auth(e.handler))
		case owner:
			mux.Handle(e.pattern, h.role(crm.Owner, e.handler))
		}
	}

	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, log, fmt.Errorf("%w: no such endpoint %s %s", crm.ErrNotFound, r.Method, r.URL.Path))
	})
	// A hook answers its senders in JSON, never with the UI's page: another
	// method is 405, another path 404.
	mux.HandleFunc("/hooks/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost && strings.Count(strings.Trim(r.URL.Path, "/"), "/") == 2 {
			w.Header().Set("Allow", http.MethodPost)
			writeError(w, r, log, fmt.Errorf("%w: a hook takes POST, not %s", errMethod, r.Method))
			return
		}
		writeError(w, r, log, fmt.Errorf("%w: no such hook %s", crm.ErrNotFound, r.URL.Path))
	})
	if ui != nil {
		mux.Handle("/", uiHandler(ui))
	}
	return h.logRequests(mux)
}

// access is who may call a route.
type access int

const (
	public access = iota // anyone: health, login, the channels' hooks (which check their own credentials)
	user                 // any logged-in user; the verbs apply the visibility rule
	owner                // the owner only
)

// route is one endpoint: its pattern, who may call it, its handler.
type route struct {
	pattern string
	access  access
	handler func(http.ResponseWriter, *http.Request)
}

// routes is every endpoint of the API and the hooks, with who may call
// it: the API's index, read by New and, through Routes, by the tests that
// probe every route (a new route cannot be left out of them).
func (h *api) routes() []route {
	return []route{
		{"GET /healthz", public, h.healthz},
		{"GET /readyz", public, h.readyz},
		// The adapter answers every request to its hook: a cloud PBX posts to
		// paths under it and checks it with a GET; the others refuse both
		// (channels.PlainHook).
		{"POST /hooks/{channel}/{account}", public, h.channelHook},
		{"POST /hooks/{channel}/{account}/{rest...}", public, h.channelHook},
		{"GET /hooks/{channel}/{account}", public, h.channelHook},

		{"POST /api/v1/login", public, h.login},
		{"POST /api/v1/logout", user, h.logout},
		{"GET /api/v1/me", user, h.me},
		{"POST /api/v1/me/password", user, h.changePassword},
		{"GET /api/v1/ws", user, h.ws},

		{"GET /api/v1/conversations", user, h.listConversations},
		{"GET /api/v1/conversations/{id}", user, h.getConversation},
		{"POST /api/v1/conversations/{id}/assign", user, h.assignConversation},
		{"POST /api/v1/conversations/{id}/status", user, h.setConversationStatus},
		{"POST /api/v1/conversations/{id}/reply", user, h.reply},
		{"GET /api/v1/queues/counts", user, h.queueCounts},
		{"GET /api/v1/reminders", user, h.reminders},

		{"GET /api/v1/contacts", user, h.searchContacts},
		{"GET /api/v1/contacts/export.csv", user, h.exportContacts},
		{"GET /api/v1/contacts/{id}", user, h.getContact},
		{"PATCH /api/v1/contacts/{id}", user, h.updateContact},
		{"GET /api/v1/contacts/{id}/identities", user, h.listIdentities},
		{"POST /api/v1/contacts/{id}/identities", user, h.addIdentity},
		{"DELETE /api/v1/contacts/{id}/identities/{identity}", user, h.removeIdentity},
		{"GET /api/v1/contacts/{id}/duplicates", user, h.listDuplicates},
		{"POST /api/v1/contacts/{id}/duplicates/{other}/dismiss", user, h.dismissDuplicate},
		{"POST /api/v1/contacts/{id}/merge", user, h.mergeContact},
		{"POST /api/v1/contacts/{id}/call", user, h.dial},
		{"POST /api/v1/merges/{audit_id}/undo", user, h.undoMerge},

		{"GET /api/v1/pipeline", user, h.getPipeline},
		{"PUT /api/v1/pipeline", owner, h.setPipeline},
		{"GET /api/v1/team", user, h.team},
		{"GET /api/v1/team/conversations", user, h.teamConversations},
		{"GET /api/v1/deals", user, h.listDeals},
		{"POST /api/v1/deals", user, h.createDeal},
		{"GET /api/v1/deals/{id}", user, h.getDeal},
		{"GET /api/v1/deals/{id}/touches", user, h.dealTouches},
		{"PATCH /api/v1/deals/{id}", user, h.updateDeal},
		{"POST /api/v1/deals/{id}/stage", user, h.moveDeal},
		{"POST /api/v1/deals/{id}/won", user, h.winDeal},
		{"POST /api/v1/deals/{id}/lost", user, h.loseDeal},

		{"GET /api/v1/touches/{id}", user, h.getTouch},
		{"GET /api/v1/parse-errors", owner, h.parseErrors},
		{"GET /api/v1/unreadable", owner, h.listUnreadable},
		{"GET /api/v1/unreadable/{id}/raw", owner, h.downloadUnreadable},
		{"POST /api/v1/touches/{id}/deal", user, h.linkTouch},
		{"POST /api/v1/touches/{id}/new-deal", user, h.newDealForTouch},
		{"POST /api/v1/touches/{id}/not-a-sale", user, h.notASale},
		{"POST /api/v1/touches/{id}/retry", user, h.retryReply},
		{"GET /api/v1/touches/{id}/attachments", user, h.listAttachments},
		{"GET /api/v1/touches/{id}/email", user, h.emailPage},
		{"GET /api/v1/attachments/{id}", user, h.downloadAttachment},

		{"GET /api/v1/accounts", user, h.listAccounts},
		{"GET /api/v1/accounts/states", user, h.accountStates},
		{"POST /api/v1/accounts", owner, h.createAccount},
		{"POST /api/v1/accounts/test", owner, h.testAccount},
		{"GET /api/v1/accounts/{id}", user, h.getAccount},
		{"PATCH /api/v1/accounts/{id}", owner, h.updateAccount},
		{"GET /api/v1/accounts/{id}/pairing.png", owner, h.pairingQR},
		{"GET /api/v1/accounts/{id}/pairing-code", owner, h.pairingCode},
		{"POST /api/v1/accounts/{id}/unlink", owner, h.unlinkAccount},

		{"GET /api/v1/entry-points", owner, h.listEntryPoints},
		{"POST /api/v1/entry-points", owner, h.createEntryPoint},
		{"GET /api/v1/entry-points/{id}", owner, h.getEntryPoint},
		{"PATCH /api/v1/entry-points/{id}", owner, h.updateEntryPoint},
		{"POST /api/v1/entry-points/{id}/bindings", owner, h.bindEntryPoint},

		{"GET /api/v1/ad-sources", owner, h.listAdSources},
		{"POST /api/v1/ad-sources", owner, h.createAdSource},
		{"GET /api/v1/ad-sources/{id}/spend", owner, h.listSpend},
		{"POST /api/v1/ad-sources/{id}/spend", owner, h.addSpend},
		{"PUT /api/v1/spend/{id}", owner, h.replaceSpend},
		{"DELETE /api/v1/spend/{id}", owner, h.deleteSpend},
		{"PATCH /api/v1/ad-sources/{id}", owner, h.updateAdSource},
		{"GET /api/v1/spend-days", owner, h.listSpendDays},
		{"POST /api/v1/spend/import", owner, h.importSpend},

		{"GET /api/v1/reports/sources", owner, h.sourcesReport},
		{"GET /api/v1/reports/sources/items", owner, h.reportItems},
		{"GET /api/v1/reports/sources/export.csv", owner, h.exportReport},
		{"GET /api/v1/reports/funnel", owner, h.funnelReport},

		{"GET /api/v1/audit", owner, h.listAudit},
		{"GET /api/v1/users", user, h.listUsers},
		{"POST /api/v1/users", owner, h.createUser},
		{"PATCH /api/v1/users/{id}", owner, h.updateUser},
		{"POST /api/v1/users/{id}/reset-password", owner, h.resetPassword},
	}
}

// Route is an endpoint as the tests see it.
type Route struct {
	Pattern string // "METHOD /path/{id}"
	Access  string // "public", "user" or "owner"
}

// Routes lists every endpoint with who may call it.
func Routes() []Route {
	names := map[access]string{public: "public", user: "user", owner: "owner"}
	var out []Route
	for _, rt := range (&api{}).routes() {
		out = append(out, Route{Pattern: rt.pattern, Access: names[rt.access]})
	}
	return out
}
