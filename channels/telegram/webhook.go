package telegram

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/switchboard/switchboard/channels"
)

// SecretHeader carries the webhook's secret_token on Telegram's requests
// (https://core.telegram.org/bots/api#setwebhook).
const SecretHeader = "X-Telegram-Bot-Api-Secret-Token"

// ServeWebhook takes one update Telegram pushes in webhook mode
// (channels.Webhook), for the route /hooks/telegram/{account}.
//
// SecretHeader must equal the secret derived from the bot token (compared
// in constant time), else 401 and nothing reaches the sink. The body is
// read up to MaxWebhookBody and decoded; a private message is mapped and
// stored through sink.Ingest. It answers 200 when stored, also for an
// update it skips or one ingest refuses as invalid (Telegram would only
// repeat it), and 500 when the sink (or an attachment download) fails, so
// that Telegram delivers the update again. Telegram's retry may come
// while the first attempt is still stored: ingest is idempotent on the
// external id, so it is one touch.
//
// ServeWebhook needs no Run: an adapter built by New can serve the route
// on any replica.
func (a *Adapter) ServeWebhook(w http.ResponseWriter, r *http.Request, sink channels.Sink) {
	if !channels.PlainHook(w, r) {
		return
	}
	if subtle.ConstantTimeCompare([]byte(r.Header.Get(SecretHeader)), []byte(a.secret)) != 1 {
		a.log.Info("telegram: webhook refused: wrong secret token", "remote", r.RemoteAddr)
		channels.WriteHookError(w, http.StatusUnauthorized, "unauthorized", "missing or wrong "+SecretHeader)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxWebhookBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			channels.WriteHookError(w, http.StatusRequestEntityTooLarge, "too_large", "the update is larger than 1 MiB")
			return
		}
		channels.WriteHookError(w, http.StatusBadRequest, "bad_request", "reading the body: "+err.Error())
		return
	}
	var id struct {
		UpdateID int64 `json:"update_id"`
	}
	if err := json.Unmarshal(body, &id); err != nil {
		channels.WriteHookError(w, http.StatusBadRequest, "bad_json", "the body is not a Telegram update: "+err.Error())
		return
	}
	log := a.log.With("update_id", id.UpdateID)
	in, ok, err := a.decode(r.Context(), body, log)
	if err != nil {
		log.Error("telegram: webhook update not mapped", "err", err)
		channels.WriteHookError(w, http.StatusInternalServerError, "internal", "the update could not be read; retry later")
		return
	}
	if !ok {
		log.Debug("telegram: update skipped")
		channels.WriteHookJSON(w, http.StatusOK, hookReply{OK: true})
		return
	}
	res, err := sink.Ingest(r.Context(), []channels.Inbound{in})
	if err != nil {
		log.Error("telegram: webhook update not stored", "external_id", in.ExternalID, "err", err)
		channels.WriteHookError(w, http.StatusInternalServerError, "internal", "the update was not stored; retry later")
		return
	}
	reply := hookReply{OK: true}
	if len(res) > 0 {
		if res[0].Err != nil {
			log.Warn("telegram: update refused by ingest", "external_id", in.ExternalID, "err", res[0].Err)
		}
		reply.TouchID, reply.Duplicate = res[0].TouchID, res[0].Duplicate
	}
	channels.WriteHookJSON(w, http.StatusOK, reply)
}

// hookReply answers an accepted update (Telegram reads only the status).
type hookReply struct {
	OK        bool  `json:"ok"`
	TouchID   int64 `json:"touch_id,omitempty"`
	Duplicate bool  `json:"duplicate,omitempty"`
}
