package inbox

import (
	"bufio"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard/switchboard/crm"
)

// Cookie and header names.
const (
	SessionCookie = "switchboard_session"
	CSRFHeader    = "X-CSRF-Token"
	maxJSONBody   = 1 << 20
)

// Handler returns the HTTP API, the hooks channels post to, and the UI
// (ui may be nil). Every route is registered here: this is the API's index.
func (a *App) Handler(ui fs.FS) http.Handler {
	mux := http.NewServeMux()
	h := &api{app: a}

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

	mux.Handle("GET /api/v1/audit", h.role(crm.Owner, h.listAudit))
	mux.Handle("GET /api/v1/users", h.auth(h.listUsers))
	mux.Handle("POST /api/v1/users", h.role(crm.Owner, h.createUser))
	mux.Handle("PATCH /api/v1/users/{id}", h.role(crm.Owner, h.updateUser))

	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, a.log, fmt.Errorf("%w: no such endpoint %s %s", crm.ErrNotFound, r.Method, r.URL.Path))
	})
	if ui != nil {
		mux.Handle("/", uiHandler(ui))
	}
	return a.logRequests(mux)
}

// api holds what the handlers need: only the app.
type api struct {
	app *App
}

type ctxKey int

const userKey ctxKey = 1

// principal is the logged-in user of a request.
type principal struct {
	crm.User
	session Session
}

func userOf(r *http.Request) principal { return r.Context().Value(userKey).(principal) }

// auth requires a session; unsafe methods also need the CSRF token.
func (h *api) auth(next func(http.ResponseWriter, *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := r.Cookie(SessionCookie)
		token := ""
		if c != nil {
			token = c.Value
		}
		u, s, err := h.app.Authenticate(r.Context(), token)
		if err != nil {
			writeError(w, r, h.app.log, err)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if got := r.Header.Get(CSRFHeader); got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(s.CSRF)) != 1 {
				writeError(w, r, h.app.log, fmt.Errorf("%w: missing or wrong %s header", errCSRF, CSRFHeader))
				return
			}
		}
		ctx := context.WithValue(r.Context(), userKey, principal{User: u, session: s})
		next(w, r.WithContext(ctx))
	})
}

// role requires at least the given role: Lead admits leads and owners.
func (h *api) role(min crm.Role, next func(http.ResponseWriter, *http.Request)) http.Handler {
	return h.auth(func(w http.ResponseWriter, r *http.Request) {
		u := userOf(r)
		if !atLeast(u.Role, min) {
			writeError(w, r, h.app.log, fmt.Errorf("%w: this needs the %s role", crm.ErrForbidden, min))
			return
		}
		next(w, r)
	})
}

func atLeast(r, min crm.Role) bool {
	rank := map[crm.Role]int{crm.Manager: 1, crm.Lead: 2, crm.Owner: 3}
	return rank[r] >= rank[min]
}

var (
	errCSRF     = errors.New("csrf token")
	errBadJSON  = errors.New("bad request body")
	errBadQuery = errors.New("bad query parameter")
	errTooLarge = errors.New("request body too large")
)

// ErrorBody is the one error shape of the API.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail says what went wrong: a stable code and a message for people.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// writeError is the only writer of API errors: it maps the error kind to a
// status and code, and logs server errors with the request.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	status, code := http.StatusInternalServerError, "internal"
	msg := err.Error()
	switch {
	case errors.Is(err, ErrUnauthorized):
		status, code = http.StatusUnauthorized, "unauthorized"
	case errors.Is(err, ErrBadLogin):
		status, code = http.StatusUnauthorized, "bad_login"
	case errors.Is(err, ErrRateLimited):
		status, code = http.StatusTooManyRequests, "rate_limited"
		retry := time.Minute
		if rl, ok := errors.AsType[*rateLimited](err); ok {
			retry = rl.wait
		}
		w.Header().Set("Retry-After", strconv.FormatInt(int64((retry+time.Second-1)/time.Second), 10))
	case errors.Is(err, errCSRF):
		status, code = http.StatusForbidden, "csrf"
	case errors.Is(err, crm.ErrForbidden):
		status, code = http.StatusForbidden, "forbidden"
	case errors.Is(err, crm.ErrNotFound):
		status, code = http.StatusNotFound, "not_found"
	case errors.Is(err, crm.ErrConflict):
		status, code = http.StatusConflict, "conflict"
	case errors.Is(err, crm.ErrInvalid):
		status, code = http.StatusUnprocessableEntity, "invalid"
	case errors.Is(err, errBadJSON), errors.Is(err, errBadQuery):
		status, code = http.StatusBadRequest, "bad_request"
	case errors.Is(err, errTooLarge):
		status, code = http.StatusRequestEntityTooLarge, "too_large"
	}
	if status >= 500 {
		log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		msg = "internal error; it has been logged"
	} else if strings.HasPrefix(r.URL.Path, "/hooks/") || (status != http.StatusNotFound && status != http.StatusUnauthorized) {
		log.Info("request refused", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	} else {
		log.Debug("request refused", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	writeJSON(w, status, ErrorBody{ErrorDetail{Code: code, Message: msg}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	enc.Encode(v)
}

// decode reads a JSON request body into v.
func decode(r *http.Request, v any) error { return decodeN(r, v, maxJSONBody) }

// decodeN is decode with a body limit of max bytes.
func decodeN(r *http.Request, v any, max int64) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		return fmt.Errorf("%w: %v", errBadJSON, err)
	}
	if int64(len(body)) > max {
		return fmt.Errorf("%w: over %d bytes", errTooLarge, max)
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", errBadJSON, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: data after the JSON value", errBadJSON)
	}
	return nil
}

// pathID reads a numeric path value.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%w: %s %q is not an id", crm.ErrNotFound, name, r.PathValue(name))
	}
	return id, nil
}

func queryInt(r *http.Request, name string) int {
	n, _ := strconv.Atoi(r.URL.Query().Get(name))
	return n
}

// queryID reads an optional id parameter: 0 when absent, errBadQuery when
// it is not a positive number.
func queryID(r *http.Request, name string) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%w: %s %q is not an id", errBadQuery, name, v)
	}
	return id, nil
}

// clientIP is the address of the client that sent r: RemoteAddr, unless
// that is one of the trusted proxies. Then X-Forwarded-For is read from the
// right, where each proxy appended the address it received from, and the
// first address that is not a trusted proxy is the client; anything left of
// it was written by the client and is not believed. Malformed entries are
// skipped. When every entry is a trusted proxy, the leftmost one is taken.
// With no trusted proxies the header is ignored: a client cannot choose its
// address.
func clientIP(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	remote, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	remote = remote.Unmap().WithZone("")
	if !isTrusted(remote, trusted) {
		return remote.String()
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	client := remote
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			continue
		}
		client = a
		if !isTrusted(a, trusted) {
			break
		}
	}
	return client.String()
}

// parseHop reads one X-Forwarded-For entry: an address, or an address with
// a port as some proxies write it ("192.0.2.1:4711", "[2001:db8::1]:4711").
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			return netip.Addr{}, false
		}
		a = ap.Addr()
	}
	return a.Unmap().WithZone(""), true
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Hijack lets the WebSocket upgrade take the connection.
func (s *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(s.ResponseWriter).Hijack()
}

// logRequests logs each API request at debug level with its status and time.
func (a *App) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: 200}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(sw, r)
		a.log.Debug("http", "method", r.Method, "path", r.URL.Path, "status", sw.status, "ms", time.Since(start).Milliseconds(), "remote", clientIP(r, a.opts.TrustedProxies))
	})
}

// Health is the reply of /healthz and /readyz.
type Health struct {
	Status   string `json:"status"`
	Database string `json:"database,omitempty"`
}

func (h *api) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, Health{Status: "ok"})
}

func (h *api) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := crm.Ping(ctx, h.app.db); err != nil {
		h.app.log.Error("readyz: database unreachable", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, ErrorBody{ErrorDetail{Code: "unavailable", Message: "database unreachable"}})
		return
	}
	writeJSON(w, http.StatusOK, Health{Status: "ready", Database: crm.Dialect(h.app.db)})
}
