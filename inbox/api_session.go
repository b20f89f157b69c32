package inbox

import (
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/channels/web"
	"github.com/switchboard/switchboard/crm"
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
	Currency  string    `json:"currency"`
	Region    string    `json:"region"`
	// OverdueAfterS is how many seconds a contact may wait for our reply
	// before the conversation is overdue (highlighted).
	OverdueAfterS int64 `json:"overdue_after_s"`
}

func (h *api) login(w http.ResponseWriter, r *http.Request) {
	var req LoginRequest
	if err := decode(r, &req); err != nil {
		writeError(w, r, h.app.log, err)
		return
	}
	token, s, u, err := h.app.Login(r.Context(), req.Email, req.Password, clientIP(r, h.app.opts.TrustedProxies))
	if err != nil {
		writeError(w, r, h.app.log, err)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: token, Path: "/", Expires: s.ExpiresAt,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: h.app.opts.SecureCookies || r.TLS != nil,
	})
	writeJSON(w, http.StatusOK, MeResponse{User: u, CSRFToken: s.CSRF, ExpiresAt: s.ExpiresAt, Currency: h.app.opts.Currency, Region: h.app.opts.Region, OverdueAfterS: int64(h.app.opts.OverdueAfter / time.Second)})
}

func (h *api) logout(w http.ResponseWriter, r *http.Request) {
	c, _ := r.Cookie(SessionCookie)
	if c != nil {
		if err := h.app.Logout(r.Context(), c.Value); err != nil {
			writeError(w, r, h.app.log, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	w.WriteHeader(http.StatusNoContent)
}

func (h *api) me(w http.ResponseWriter, r *http.Request) {
	u := userOf(r)
	writeJSON(w, http.StatusOK, MeResponse{User: u.User, CSRFToken: u.session.CSRF, ExpiresAt: u.session.ExpiresAt, Currency: h.app.opts.Currency, Region: h.app.opts.Region, OverdueAfterS: int64(h.app.opts.OverdueAfter / time.Second)})
}

// HookResponse answers a channel webhook.
type HookResponse struct {
	TouchID   int64 `json:"touch_id"`
	Duplicate bool  `json:"duplicate"`
}

// webHook takes a signed lead from a website form or another system
// (channels/web); see docs/web-channel.md.
func (h *api) webHook(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "account")
	if err != nil {
		io.Copy(io.Discard, io.LimitReader(r.Body, web.MaxBody))
		writeError(w, r, h.app.log, err)
		return
	}
	acc, err := crm.GetAccount(h.app.db.WithContext(r.Context()), id)
	if err == nil && acc.Channel != "web" {
		err = crm.NotFound("web account", id)
	}
	if err != nil {
		writeError(w, r, h.app.log, err)
		return
	}
	secret, err := h.app.box.Open(acc.Secret)
	if err != nil {
		writeError(w, r, h.app.log, err)
		return
	}
	sub, err := web.Read(r, []byte(secret), time.Now())
	if err != nil {
		writeError(w, r, h.app.log, err)
		return
	}
	if !acc.Enabled {
		writeError(w, r, h.app.log, crm.Invalid("account %d is disabled", id))
		return
	}
	res, err := h.app.Ingest(r.Context(), []channels.Inbound{sub.Inbound(acc.ID, acc.DefaultSource, time.Now())})
	if err == nil {
		err = res[0].Err
	}
	if err != nil {
		if errors.Is(err, crm.ErrInvalid) {
			err = &web.Error{Status: http.StatusUnprocessableEntity, Code: web.CodeInvalid, Message: err.Error()}
		}
		writeError(w, r, h.app.log, err)
		return
	}
	if !res[0].Duplicate {
		h.app.accts.received(acc.ID, time.Now())
	}
	writeJSON(w, http.StatusOK, HookResponse{TouchID: res[0].TouchID, Duplicate: res[0].Duplicate})
}
