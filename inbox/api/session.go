package api

import (
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox"
)

// LoginRequest is the body of POST /api/v1/login.
type LoginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// MeResponse is who is logged in, with the CSRF token for unsafe requests.
type MeResponse struct {
	User      crm.User  `json:"user"`
	CSRFToken string    `json:"csrf_token"`
	ExpiresAt time.Time `json:"expires_at"`
	// CanDial: the user has an extension and a phone account can place
	// calls, so the inbox shows call buttons.
	CanDial bool `json:"can_dial"`
	// MustChangePassword: the password was generated or set by the owner;
	// the UI asks for the user's own before anything else.
	MustChangePassword bool `json:"must_change_password"`
	inbox.Settings
}

func (h *api) login(w http.ResponseWriter, r *http.Request) {
	var req LoginRequest
	if err := loginOrigin(r); err != nil {
		writeError(w, r, h.log, err)
		return
	}
	if err := decode(r, &req); err != nil {
		writeError(w, r, h.log, err)
		return
	}
	token, s, u, err := h.app.Login(r.Context(), req.Email, req.Password, clientIP(r, h.opts.TrustedProxies))
	if err != nil {
		writeError(w, r, h.log, err)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: token, Path: "/", Expires: s.ExpiresAt,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: h.opts.SecureCookies || r.TLS != nil,
	})
	writeJSON(w, http.StatusOK, MeResponse{User: u, CSRFToken: s.CSRF, ExpiresAt: s.ExpiresAt, MustChangePassword: u.MustChangePassword, Settings: h.app.Settings()})
}

func (h *api) logout(w http.ResponseWriter, r *http.Request) {
	c, _ := r.Cookie(SessionCookie)
	if c != nil {
		if err := h.app.Logout(r.Context(), c.Value); err != nil {
			writeError(w, r, h.log, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	w.WriteHeader(http.StatusNoContent)
}

func (h *api) me(w http.ResponseWriter, r *http.Request) {
	u := userOf(r)
	writeJSON(w, http.StatusOK, MeResponse{User: u.User, CSRFToken: u.session.CSRF, ExpiresAt: u.session.ExpiresAt, CanDial: h.app.CanDial(r.Context(), u.User), MustChangePassword: u.User.MustChangePassword, Settings: h.app.Settings()})
}

// loginOrigin refuses a login another site's page could send on a
// browser's behalf (login CSRF: the browser would end up in the attacker's
// account). A login is JSON, which a cross-site form cannot send without
// a preflight, and it comes from our own origin: a browser's
// Sec-Fetch-Site or Origin says so (tools such as curl send neither).
func loginOrigin(r *http.Request) error {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return fmt.Errorf("%w: a login is sent as application/json", errBadJSON)
	}
	// A browser that sends Sec-Fetch-Site says where the request comes
	// from whatever a reverse proxy did to Host; only older ones need the
	// Origin compared with Host.
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return nil
	case "":
	default:
		return fmt.Errorf("%w: a login from another site", errCSRF)
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || !strings.EqualFold(u.Host, r.Host) {
			return fmt.Errorf("%w: a login from another origin", errCSRF)
		}
	}
	return nil
}

// changePassword changes the user's own password (the current one
// required); their other sessions end, this one stays.
func (h *api) changePassword(w http.ResponseWriter, r *http.Request) {
	var req inbox.PasswordChange
	err := decode(r, &req)
	if err == nil {
		u := userOf(r)
		err = h.app.ChangeOwnPassword(r.Context(), u.User, u.session.ID, req)
	}
	if err != nil {
		writeError(w, r, h.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
