package api

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox"
)

// AttachmentList is a touch's files.
type AttachmentList struct {
	Attachments []crm.Attachment `json:"attachments"`
}

func (h *api) listAttachments(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	out := AttachmentList{Attachments: []crm.Attachment{}}
	if err == nil {
		out.Attachments, err = h.app.Attachments(r.Context(), userOf(r).User, id)
	}
	respond(h, w, r, out, err)
}

// downloadAttachment serves a file as a download, never rendered inline
// by the browser under our origin.
func (h *api) downloadAttachment(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var at crm.Attachment
	var rc io.ReadCloser
	if err == nil {
		at, rc, err = h.app.OpenAttachment(r.Context(), userOf(r).User, id)
	}
	if err != nil {
		writeError(w, r, h.log, err)
		return
	}
	defer rc.Close()
	body := io.Reader(rc)
	ctype, disposition := "application/octet-stream", "attachment"
	if r.URL.Query().Get("inline") == "1" {
		// A preview: only a picture or a sound whose bytes say so is
		// served as itself; anything else stays a download.
		head := make([]byte, 512)
		n, _ := io.ReadFull(rc, head)
		head = head[:n]
		if t := previewType(head, at.ContentType); t != "" {
			ctype, disposition = t, "inline"
			w.Header().Set("Cache-Control", "private, max-age=86400")
		}
		body = io.MultiReader(bytes.NewReader(head), rc)
	}
	sendFile(w, ctype, disposition, at.Name, at.Size, body)
}

// sendFile writes a stored file: its type, disposition and name, its size,
// and a sandbox policy, so that nothing in it runs under our origin even
// if a browser opens it.
func sendFile(w http.ResponseWriter, ctype, disposition, name string, size int64, body io.Reader) {
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": name}))
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	w.Header().Set("Content-Security-Policy", "sandbox")
	io.Copy(w, body)
}

// previewType is the type to show a file inline as, from its first bytes
// (never from what the sender declared alone: an "image/png" that is HTML
// stays a download), or "" when it is not a raster image or a sound. SVG is
// never inline: it can carry script.
func previewType(head []byte, declared string) string {
	if t := inbox.PictureType(head); t != "" {
		return t
	}
	switch t := http.DetectContentType(head); t {
	case "audio/mpeg", "audio/wave", "audio/aiff", "audio/basic":
		return t
	case "application/ogg": // Telegram voice notes: Ogg Opus
		if strings.HasPrefix(declared, "audio/") {
			return "audio/ogg"
		}
	}
	return ""
}

// AccountStateList is the live state of every account, whichever
// replica runs it.
type AccountStateList struct {
	States map[int64]channels.State `json:"states"`
}

func (h *api) accountStates(w http.ResponseWriter, r *http.Request) {
	states, err := h.app.AccountStates(r.Context())
	respond(h, w, r, AccountStateList{States: states}, err)
}

// channelHook hands a push (Telegram's webhook, a website's signed form)
// to the account's adapter, which checks the request's credentials itself
// and answers.
func (h *api) channelHook(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "account")
	var hook channels.Webhook
	var sink channels.Sink
	if err == nil {
		hook, sink, err = h.accts.Hook(r.Context(), id, r.PathValue("channel"))
	}
	if err != nil {
		io.Copy(io.Discard, io.LimitReader(r.Body, maxJSONBody))
		writeError(w, r, h.log, err)
		return
	}
	// The adapter logs the sender of a refused push: the client behind a
	// trusted proxy, not the proxy.
	r.RemoteAddr = clientIP(r, h.opts.TrustedProxies)
	hook.ServeWebhook(w, r, sink)
}

// TouchList is a list of touches.
type TouchList struct {
	Touches []crm.Touch `json:"touches"`
}

// parseErrors lists messages that could not be parsed (newest first): each
// is stored with its raw bytes as an attachment, for the owner to look at.
func (h *api) parseErrors(w http.ResponseWriter, r *http.Request) {
	ts, err := h.app.ParseErrors(r.Context())
	respond(h, w, r, TouchList{Touches: ts}, err)
}

func (h *api) getTouch(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var t crm.Touch
	if err == nil {
		t, err = h.app.Touch(r.Context(), userOf(r).User, id)
	}
	respond(h, w, r, t, err)
}

// LinkRequest ties a touch to a deal.
type LinkRequest struct {
	DealID int64 `json:"deal_id"`
}

func (h *api) linkTouch(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var req LinkRequest
	if err == nil {
		err = decode(r, &req)
	}
	var t crm.Touch
	if err == nil {
		t, err = h.app.LinkTouch(r.Context(), userOf(r).User, id, req.DealID)
	}
	respond(h, w, r, t, err)
}

// NewDealResponse is the deal opened from a touch and the linked touch.
type NewDealResponse struct {
	Deal  crm.Deal  `json:"deal"`
	Touch crm.Touch `json:"touch"`
}

// NewDealRequest is the optional body of new-deal: a title (default:
// made from the touch) and an amount in minor units.
type NewDealRequest struct {
	Title  string `json:"title"`
	Amount int64  `json:"amount"`
}

func (h *api) newDealForTouch(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var req NewDealRequest
	if err == nil && r.ContentLength != 0 {
		err = decode(r, &req)
	}
	var out NewDealResponse
	if err == nil {
		out.Deal, out.Touch, err = h.app.OpenDealForTouch(r.Context(), userOf(r).User, id, req.Title, req.Amount)
	}
	respond(h, w, r, out, err)
}

// NotASaleRequest says why a touch is not a sale.
type NotASaleRequest struct {
	Reason string `json:"reason"`
}

func (h *api) notASale(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var req NotASaleRequest
	if err == nil {
		err = decode(r, &req)
	}
	var t crm.Touch
	if err == nil {
		t, err = h.app.MarkNotASale(r.Context(), userOf(r).User, id, req.Reason)
	}
	respond(h, w, r, t, err)
}
