package api

import (
	"net/http"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox"
)

// AccountList is the configured accounts (never their secrets).
type AccountList struct {
	Accounts []crm.Account `json:"accounts"`
}

func (h *api) listAccounts(w http.ResponseWriter, r *http.Request) {
	as, err := h.app.Accounts(r.Context(), userOf(r).User)
	respond(h, w, r, AccountList{Accounts: as}, err)
}

func (h *api) getAccount(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var a crm.Account
	if err == nil {
		a, err = h.app.Account(r.Context(), userOf(r).User, id)
	}
	respond(h, w, r, a, err)
}

// pairingQR is the QR code an account waits to be scanned with, as a PNG.
// Owner only: whoever scans it becomes the account.
func (h *api) pairingQR(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var png []byte
	if err == nil {
		png, err = h.accts.PairingQR(r.Context(), id)
	}
	if err != nil {
		writeError(w, r, h.log, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(png)
}

// PairingCodeResponse is the code an account waits to be linked with, as
// text (a phone-number pairing's code to type on the phone).
type PairingCodeResponse struct {
	Code string `json:"code"`
}

// pairingCode is the pairing code as text. Owner only, never cached.
func (h *api) pairingCode(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var code string
	if err == nil {
		code, err = h.accts.PairingCode(r.Context(), id)
	}
	w.Header().Set("Cache-Control", "no-store")
	respond(h, w, r, PairingCodeResponse{Code: code}, err)
}

// unlinkAccount logs out the device a WhatsApp account is linked as; the
// account then shows a new QR code. Owner only.
func (h *api) unlinkAccount(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err == nil {
		err = h.app.UnlinkAccount(r.Context(), userOf(r).User, id)
	}
	respond(h, w, r, struct{}{}, err)
}

func (h *api) saveAccount(w http.ResponseWriter, r *http.Request, id int64) {
	var in crm.AccountInput
	err := decode(r, &in)
	var a crm.Account
	if err == nil {
		a, err = h.app.SaveAccount(r.Context(), userOf(r).User, id, in)
	}
	respond(h, w, r, a, err)
}

func (h *api) createAccount(w http.ResponseWriter, r *http.Request) { h.saveAccount(w, r, 0) }

func (h *api) updateAccount(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		writeError(w, r, h.log, err)
		return
	}
	h.saveAccount(w, r, id)
}

// testAccount connects with an account's settings before it is saved.
func (h *api) testAccount(w http.ResponseWriter, r *http.Request) {
	var req inbox.AccountTest
	err := decode(r, &req)
	var out inbox.AccountTestResult
	if err == nil {
		out, err = h.app.TestAccount(r.Context(), req)
	}
	respond(h, w, r, out, err)
}
