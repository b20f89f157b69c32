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
	Hook(ctx context.Context, id int64, channel string) (channels.Webhook, channels.Sink, error)
}

// Options are the HTTP settings, read once in cmd.
type Options struct {
	SecureCookies bool // set the Secure flag on the session cookie (behind TLS)
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client (for the login limit and the logs); default none.
	TrustedProxies []netip.Prefix
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
// be nil). Every route is registered here: this is the API's index.
func New(app *inbox.App, accts Accounts, rt *realtime.Publisher, log *slog.Logger, opts Options, ui fs.FS) http.Handler {
	mux := http.NewServeMux()
	h := &api{app: app, accts: accts, rt: rt, log: log, opts: opts}

	mux.HandleFunc("GET /healthz", h.healthz)
	mux.HandleFunc("GET /readyz", h.readyz)
	mux.HandleFunc("POST /hooks/{channel}/{account}", h.channelHook)

	mux.HandleFunc("POST /api/v1/login", h.login)
	mux.Handle("POST /api/v1/logout", h.auth(h.logout))
	mux.Handle("GET /api/v1/me", h.auth(h.me))
	mux.Handle("GET /api/v1/ws", h.auth(h.ws))

	mux.Handle("GET /api/v1/conversations", h.auth(h.listConversations))
	mux.Handle("GET /api/v1/conversations/{id}", h.auth(h.getConversation))
	mux.Handle("POST /api/v1/conversations/{id}/assign", h.auth(h.assignConversation))
	mux.Handle("POST /api/v1/conversations/{id}/status", h.auth(h.setConversationStatus))
	mux.Handle("POST /api/v1/conversations/{id}/reply", h.auth(h.reply))
	mux.Handle("GET /api/v1/queues/counts", h.auth(h.queueCounts))
	mux.Handle("GET /api/v1/reminders", h.auth(h.reminders))

	mux.Handle("GET /api/v1/contacts", h.auth(h.searchContacts))
	mux.Handle("GET /api/v1/contacts/export.csv", h.auth(h.exportContacts))
	mux.Handle("GET /api/v1/contacts/{id}", h.auth(h.getContact))
	mux.Handle("PATCH /api/v1/contacts/{id}", h.auth(h.updateContact))
	mux.Handle("GET /api/v1/contacts/{id}/identities", h.auth(h.listIdentities))
	mux.Handle("POST /api/v1/contacts/{id}/identities", h.auth(h.addIdentity))
	mux.Handle("DELETE /api/v1/contacts/{id}/identities/{identity}", h.auth(h.removeIdentity))
	mux.Handle("GET /api/v1/contacts/{id}/duplicates", h.auth(h.listDuplicates))
	mux.Handle("POST /api/v1/contacts/{id}/duplicates/{other}/dismiss", h.auth(h.dismissDuplicate))
	mux.Handle("POST /api/v1/contacts/{id}/merge", h.auth(h.mergeContact))
	mux.Handle("POST /api/v1/merges/{audit_id}/undo", h.auth(h.undoMerge))

	mux.Handle("GET /api/v1/pipeline", h.auth(h.getPipeline))
	mux.Handle("PUT /api/v1/pipeline", h.role(crm.Owner, h.setPipeline))
	mux.Handle("GET /api/v1/deals", h.auth(h.listDeals))
	mux.Handle("POST /api/v1/deals", h.auth(h.createDeal))
	mux.Handle("GET /api/v1/deals/{id}", h.auth(h.getDeal))
	mux.Handle("PATCH /api/v1/deals/{id}", h.auth(h.updateDeal))
	mux.Handle("POST /api/v1/deals/{id}/stage", h.auth(h.moveDeal))
	mux.Handle("POST /api/v1/deals/{id}/won", h.auth(h.winDeal))
	mux.Handle("POST /api/v1/deals/{id}/lost", h.auth(h.loseDeal))

	mux.Handle("GET /api/v1/touches/{id}", h.auth(h.getTouch))
	mux.Handle("GET /api/v1/parse-errors", h.role(crm.Owner, h.parseErrors))
	mux.Handle("POST /api/v1/touches/{id}/deal", h.auth(h.linkTouch))
	mux.Handle("POST /api/v1/touches/{id}/new-deal", h.auth(h.newDealForTouch))
	mux.Handle("POST /api/v1/touches/{id}/not-a-sale", h.auth(h.notASale))
	mux.Handle("GET /api/v1/touches/{id}/attachments", h.auth(h.listAttachments))
	mux.Handle("GET /api/v1/attachments/{id}", h.auth(h.downloadAttachment))

	mux.Handle("GET /api/v1/accounts", h.auth(h.listAccounts))
	mux.Handle("GET /api/v1/accounts/states", h.auth(h.accountStates))
	mux.Handle("POST /api/v1/accounts", h.role(crm.Owner, h.createAccount))
	mux.Handle("GET /api/v1/accounts/{id}", h.auth(h.getAccount))
	mux.Handle("PATCH /api/v1/accounts/{id}", h.role(crm.Owner, h.updateAccount))
	mux.Handle("GET /api/v1/accounts/{id}/pairing.png", h.role(crm.Owner, h.pairingQR))

	mux.Handle("GET /api/v1/entry-points", h.role(crm.Owner, h.listEntryPoints))
	mux.Handle("POST /api/v1/entry-points", h.role(crm.Owner, h.createEntryPoint))
	mux.Handle("GET /api/v1/entry-points/{id}", h.role(crm.Owner, h.getEntryPoint))
	mux.Handle("POST /api/v1/entry-points/{id}/bindings", h.role(crm.Owner, h.bindEntryPoint))

	mux.Handle("GET /api/v1/ad-sources", h.role(crm.Owner, h.listAdSources))
	mux.Handle("POST /api/v1/ad-sources", h.role(crm.Owner, h.createAdSource))
	mux.Handle("GET /api/v1/ad-sources/{id}/spend", h.role(crm.Owner, h.listSpend))
	mux.Handle("POST /api/v1/ad-sources/{id}/spend", h.role(crm.Owner, h.addSpend))
	mux.Handle("PATCH /api/v1/ad-sources/{id}", h.role(crm.Owner, h.updateAdSource))
	mux.Handle("GET /api/v1/spend-days", h.role(crm.Owner, h.listSpendDays))
	mux.Handle("POST /api/v1/spend/import", h.role(crm.Owner, h.importSpend))

	mux.Handle("GET /api/v1/reports/sources", h.role(crm.Owner, h.sourcesReport))
	mux.Handle("GET /api/v1/reports/sources/items", h.role(crm.Owner, h.reportItems))
	mux.Handle("GET /api/v1/reports/sources/export.csv", h.role(crm.Owner, h.exportReport))
	mux.Handle("GET /api/v1/reports/funnel", h.role(crm.Owner, h.funnelReport))

	mux.Handle("GET /api/v1/audit", h.role(crm.Owner, h.listAudit))
	mux.Handle("GET /api/v1/users", h.auth(h.listUsers))
	mux.Handle("POST /api/v1/users", h.role(crm.Owner, h.createUser))
	mux.Handle("PATCH /api/v1/users/{id}", h.role(crm.Owner, h.updateUser))

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
