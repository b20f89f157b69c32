package api

import (
	"bufio"
	"context"
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox"
)

type ctxKey int

const userKey ctxKey = 1

// principal is the logged-in user of a request.
type principal struct {
	crm.User
	session inbox.Session
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
			writeError(w, r, h.log, err)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if got := r.Header.Get(CSRFHeader); got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(s.CSRF)) != 1 {
				writeError(w, r, h.log, fmt.Errorf("%w: missing or wrong %s header", errCSRF, CSRFHeader))
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
			writeError(w, r, h.log, fmt.Errorf("%w: this needs the %s role", crm.ErrForbidden, min))
			return
		}
		next(w, r)
	})
}

func atLeast(r, min crm.Role) bool {
	rank := map[crm.Role]int{crm.Manager: 1, crm.Lead: 2, crm.Owner: 3}
	return rank[r] >= rank[min]
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
func (h *api) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: 200}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		cleanQuery(r.URL) // text from outside is cleaned at the edge (text.go)
		next.ServeHTTP(sw, r)
		if h.opts.Meter != nil {
			// The mux set r.Pattern: the matched route, not the path.
			h.opts.Meter.Request(r.Pattern, sw.status, time.Since(start))
		}
		h.log.Debug("http", "method", r.Method, "path", r.URL.Path, "status", sw.status, "ms", time.Since(start).Milliseconds(), "remote", clientIP(r, h.opts.TrustedProxies))
	})
}
