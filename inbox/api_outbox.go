package inbox

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
)

func (h *api) reply(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var req ReplyRequest
	if err == nil {
		err = decodeN(r, &req, maxReplyFiles*4/3+maxJSONBody) // files travel as base64
	}
	var t crm.Touch
	if err == nil {
		t, err = h.app.Reply(r.Context(), userOf(r).User, id, req)
	}
	respond(h, w, r, t, err)
}

// AttachmentList is a touch's files.
type AttachmentList struct {
	Attachments []Attachment `json:"attachments"`
}

func (h *api) listAttachments(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	out := AttachmentList{Attachments: []Attachment{}}
	if err == nil {
		tx := h.app.db.WithContext(r.Context())
		if _, err = crm.VisibleTouch(tx, userOf(r).User, id); err == nil {
			err = tx.Where("touch_id = ?", id).Order("id").Find(&out.Attachments).Error
		}
	}
	respond(h, w, r, out, err)
}

// downloadAttachment serves a file as a download, never rendered inline
// by the browser under our origin.
func (h *api) downloadAttachment(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var at Attachment
	tx := h.app.db.WithContext(r.Context())
	if err == nil {
		if err = tx.Take(&at, id).Error; err != nil {
			err = crm.NotFound("attachment", id)
		}
	}
	if err == nil {
		if _, err = crm.VisibleTouch(tx, userOf(r).User, at.TouchID); err != nil {
			err = crm.NotFound("attachment", id)
		}
	}
	if err == nil && at.SHA256 == "" {
		err = fmt.Errorf("%w: attachment %d was too large to store", crm.ErrNotFound, id)
	}
	var rc io.ReadCloser
	if err == nil {
		rc, err = h.app.opts.Blobs.Open(at.SHA256)
	}
	if err != nil {
		writeError(w, r, h.app.log, err)
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
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": at.Name}))
	w.Header().Set("Content-Length", strconv.FormatInt(at.Size, 10))
	w.Header().Set("Content-Security-Policy", "sandbox")
	io.Copy(w, body)
}

// previewType is the type to show a file inline as, from its first bytes
// (never from what the sender declared alone: an "image/png" that is HTML
// stays a download), or "" when it is not a raster image or a sound. SVG is
// never inline: it can carry script.
func previewType(head []byte, declared string) string {
	switch t := http.DetectContentType(head); t {
	case "image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", "audio/mpeg", "audio/wave", "audio/aiff", "audio/basic":
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
	as, err := crm.ListAccounts(h.app.db.WithContext(r.Context()))
	out := AccountStateList{States: map[int64]channels.State{}}
	if err == nil {
		ids := make([]int64, len(as))
		for i, acc := range as {
			ids[i] = acc.ID
		}
		out.States, err = h.app.accts.States(r.Context(), ids)
	}
	respond(h, w, r, out, err)
}

// channelHook hands a push (Telegram's webhook, a website's signed form)
// to the account's adapter, which checks the request's credentials itself
// and answers.
func (h *api) channelHook(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "account")
	var hook channels.Webhook
	var sink channels.Sink
	if err == nil {
		hook, sink, err = h.app.accts.Hook(r.Context(), id, r.PathValue("channel"))
	}
	if err != nil {
		io.Copy(io.Discard, io.LimitReader(r.Body, maxJSONBody))
		writeError(w, r, h.app.log, err)
		return
	}
	// The adapter logs the sender of a refused push: the client behind a
	// trusted proxy, not the proxy.
	r.RemoteAddr = clientIP(r, h.app.opts.TrustedProxies)
	hook.ServeWebhook(w, r, sink)
}

// TouchList is a list of touches.
type TouchList struct {
	Touches []crm.Touch `json:"touches"`
}

// parseErrors lists messages that could not be parsed (newest first): each
// is stored with its raw bytes as an attachment, for the owner to look at.
func (h *api) parseErrors(w http.ResponseWriter, r *http.Request) {
	out := TouchList{Touches: []crm.Touch{}}
	err := h.app.db.WithContext(r.Context()).Where("parse_error <> ''").Order("id DESC").Limit(200).Find(&out.Touches).Error
	respond(h, w, r, out, err)
}
