package api

import (
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox"
)

// ContactList is a search result.
type ContactList struct {
	Contacts []crm.Contact `json:"contacts"`
}

// searchContacts: ?q= name, phone or email in any format; &responsible_id=
// (a user id, or "none"); &before_id= for the next page (newest first).
func (h *api) searchContacts(w http.ResponseWriter, r *http.Request) {
	q := inbox.ContactQuery{Q: r.URL.Query().Get("q"), Limit: queryInt(r, "limit")}
	var err error
	q.BeforeID, err = queryID(r, "before_id")
	if resp := r.URL.Query().Get("responsible_id"); err == nil && resp == "none" {
		q.NoResponsible = true
	} else if err == nil {
		q.Responsible, err = queryID(r, "responsible_id")
	}
	var out ContactList
	if err == nil {
		out.Contacts, err = h.app.SearchContacts(r.Context(), userOf(r).User, q)
	}
	respond(h, w, r, out, err)
}

func (h *api) getContact(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var d inbox.ContactDetail
	if err == nil {
		d, err = h.app.Contact(r.Context(), userOf(r).User, id)
	}
	respond(h, w, r, d, err)
}

func (h *api) updateContact(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var p crm.ContactPatch
	if err == nil {
		err = decode(r, &p)
	}
	var c crm.Contact
	if err == nil {
		c, err = h.app.UpdateContact(r.Context(), userOf(r).User, id, p)
	}
	respond(h, w, r, c, err)
}

// IdentityList is a contact's identities.
type IdentityList struct {
	Identities []crm.Identity `json:"identities"`
}

func (h *api) listIdentities(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var out IdentityList
	if err == nil {
		out.Identities, err = h.app.Identities(r.Context(), userOf(r).User, id)
	}
	respond(h, w, r, out, err)
}

// addIdentity adds a handle (any format) and the handles it implies.
func (h *api) addIdentity(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var req crm.RawHandle
	if err == nil {
		err = decode(r, &req)
	}
	var out IdentityList
	if err == nil {
		out.Identities, err = h.app.AddIdentity(r.Context(), userOf(r).User, id, req)
	}
	respond(h, w, r, out, err)
}

// removeIdentity takes a handle off a contact.
func (h *api) removeIdentity(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var iid int64
	if err == nil {
		iid, err = pathID(r, "identity")
	}
	var out IdentityList
	if err == nil {
		out.Identities, err = h.app.RemoveIdentity(r.Context(), userOf(r).User, id, iid)
	}
	respond(h, w, r, out, err)
}

// DuplicateList is the contacts that may be the same person.
type DuplicateList struct {
	Duplicates []crm.Duplicate `json:"duplicates"`
}

// listDuplicates suggests merges; a manager gets only those they may see.
func (h *api) listDuplicates(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	out := DuplicateList{Duplicates: []crm.Duplicate{}}
	if err == nil {
		out.Duplicates, err = h.app.Duplicates(r.Context(), userOf(r).User, id)
	}
	respond(h, w, r, out, err)
}

// dismissDuplicate takes back the suggestion that the contacts in the
// path are one person: 204, no body.
func (h *api) dismissDuplicate(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var other int64
	if err == nil {
		other, err = pathID(r, "other")
	}
	if err == nil {
		_, err = h.app.DismissDuplicate(r.Context(), userOf(r).User, id, other)
	}
	if err != nil {
		writeError(w, r, h.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// MergeRequest names the contact to merge into the one in the path.
type MergeRequest struct {
	ContactID int64 `json:"contact_id"`
}

// MergeResponse is the merged contact and the audit entry that undoes it.
type MergeResponse struct {
	Contact      crm.Contact `json:"contact"`
	AuditID      int64       `json:"audit_id"`
	UndoEndpoint string      `json:"undo"`
}

func (h *api) mergeContact(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var req MergeRequest
	if err == nil {
		err = decode(r, &req)
	}
	var m inbox.Merge
	if err == nil {
		m, err = h.app.MergeContacts(r.Context(), userOf(r).User, id, req.ContactID)
	}
	respond(h, w, r, MergeResponse{Contact: m.Contact, AuditID: m.AuditID, UndoEndpoint: fmt.Sprintf("/api/v1/merges/%d/undo", m.AuditID)}, err)
}

func (h *api) undoMerge(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "audit_id")
	var m inbox.Merge
	if err == nil {
		m, err = h.app.UndoMerge(r.Context(), userOf(r).User, id)
	}
	respond(h, w, r, m.Contact, err)
}

// exportContacts streams every contact the user may export as CSV.
func (h *api) exportContacts(w http.ResponseWriter, r *http.Request) {
	var cw *csv.Writer
	dialect := excelDialect(r)
	names := map[int64]string{}
	if users, err := h.app.Users(r.Context()); err == nil {
		for _, u := range users {
			names[u.ID] = crm.FirstNonEmpty(u.Name, u.Email)
		}
	}
	start := func() *csv.Writer {
		return dialect.start(w, fmt.Sprintf("contacts-%s.csv", time.Now().Format("2006-01-02")),
			"id", "name", "company", "phones", "emails", "telegram", "whatsapp", "responsible", "first_source", "deals", "won", "currency", "created_at")
	}
	err := h.app.ExportContacts(r.Context(), userOf(r).User, clientIP(r, h.opts.TrustedProxies), func(rows []crm.ContactRow) error {
		if cw == nil { // the export is allowed and audited: the file starts
			cw = start()
		}
		for _, c := range rows {
			resp := ""
			if c.ResponsibleID != nil {
				resp = names[*c.ResponsibleID]
			}
			m := c.Handles
			cw.Write([]string{strconv.FormatInt(c.ID, 10), csvSafe(c.Name), csvSafe(c.Company),
				strings.Join(m[crm.PhoneID], " "), csvSafe(strings.Join(m[crm.EmailID], " ")), csvSafe(strings.Join(m[crm.TelegramID], " ")),
				csvSafe(strings.Join(m[crm.WhatsAppID], " ")), csvSafe(resp), csvSafe(c.Source), strconv.Itoa(c.Deals), dialect.money(c.Won), c.Currency,
				c.CreatedAt.Format(time.RFC3339)})
		}
		cw.Flush()
		return cw.Error()
	})
	switch {
	case err != nil && cw == nil:
		writeError(w, r, h.log, err)
	case err != nil: // the file has started: all that can be done is to log
		h.log.Error("contact export cut short", "user", userOf(r).ID, "err", err)
	case cw == nil: // nothing to export: the header alone
		start().Flush()
	}
}

// csvDialect is how an export is written for the spreadsheet that opens
// it. Every file starts with a UTF-8 byte-order mark, so that Excel reads
// Cyrillic as such; for the Russian locale the separator is ";" and
// decimals take a comma, as Russian Excel expects.
type csvDialect struct {
	sep     rune
	decimal string
}

// excelDialect is the dialect the request asks for (?sep=semicolon or
// ?sep=comma), else the one of the user's language (Accept-Language).
func excelDialect(r *http.Request) csvDialect {
	ru := csvDialect{';', ","}
	switch r.URL.Query().Get("sep") {
	case "semicolon":
		return ru
	case "comma":
		return csvDialect{',', "."}
	}
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(r.Header.Get("Accept-Language"))), "ru") {
		return ru
	}
	return csvDialect{',', "."}
}

// start writes the headers, the byte-order mark and the header row.
func (d csvDialect) start(w http.ResponseWriter, file string, header ...string) *csv.Writer {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, file))
	io.WriteString(w, "\uFEFF")
	cw := csv.NewWriter(w)
	cw.Comma = d.sep
	cw.Write(header)
	return cw
}

// money writes minor units as a decimal number in the dialect.
func (d csvDialect) money(minor int64) string {
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	return fmt.Sprintf("%s%d%s%02d", sign, minor/100, d.decimal, minor%100)
}

// csvSafe stops a spreadsheet from running a cell as a formula. Names and
// emails come from strangers ("=cmd()"@example.ru is a valid address);
// phones are E.164, a plus and digits, and stay as they are.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
