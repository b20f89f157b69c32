package web

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/switchboard/switchboard/channels"
)

// Channel registers the web channel: it runs nothing, receives signed
// submissions on its webhook, and cannot send replies.
func Channel() channels.Channel {
	return channels.Channel{Kind: channels.Web, New: New, HookOnly: true}
}

// Adapter receives one web account's submissions.
type Adapter struct {
	acc channels.Account
	log *slog.Logger
}

// New builds a web account's adapter.
func New(acc channels.Account, log *slog.Logger) (channels.Adapter, error) {
	return &Adapter{acc: acc, log: log.With("account", acc.ID, "channel", string(channels.Web))}, nil
}

// Run has nothing to consume: submissions arrive through ServeWebhook.
func (a *Adapter) Run(ctx context.Context, _ channels.Sink, report func(channels.State)) error {
	report(channels.State{Phase: channels.Hook})
	<-ctx.Done()
	return nil
}

// Send refuses: a website cannot be answered through its form.
func (a *Adapter) Send(context.Context, channels.Outbound) (string, error) {
	return "", channels.Permanent(errors.New("web: a form cannot be answered; reply by phone, email or a messenger"))
}

// HookResponse answers an accepted submission.
type HookResponse struct {
	TouchID   int64 `json:"touch_id"`
	Duplicate bool  `json:"duplicate"`
}

// ServeWebhook checks a submission's size, timestamp and signature (Read),
// stores it through sink, and answers {"touch_id":…,"duplicate":…}; every
// refusal is the API's error shape with the status and code Read chose.
func (a *Adapter) ServeWebhook(w http.ResponseWriter, r *http.Request, sink channels.Sink) {
	if !channels.PlainHook(w, r) {
		return
	}
	now := time.Now()
	sub, err := Read(r, []byte(a.acc.Secret), now)
	var we *Error
	if errors.As(err, &we) {
		io.Copy(io.Discard, io.LimitReader(r.Body, MaxBody))
		a.log.Info("web: submission refused", "remote", r.RemoteAddr, "code", we.Code, "err", we.Message)
		channels.WriteHookError(w, we.Status, we.Code, we.Message)
		return
	}
	if err != nil {
		a.fail(w, err)
		return
	}
	res, err := sink.Ingest(r.Context(), []channels.Inbound{sub.Inbound(a.acc.ID, a.acc.DefaultSource, now)})
	if err == nil {
		err = res[0].Err
	}
	switch {
	case errors.Is(err, channels.ErrInvalid):
		a.log.Info("web: submission refused by ingest", "submission_id", sub.SubmissionID, "err", err)
		channels.WriteHookError(w, http.StatusUnprocessableEntity, CodeInvalid, err.Error())
	case err != nil:
		a.fail(w, err)
	default:
		channels.WriteHookJSON(w, http.StatusOK, HookResponse{TouchID: res[0].TouchID, Duplicate: res[0].Duplicate})
	}
}

// fail answers a submission that could not be stored: the sender retries.
func (a *Adapter) fail(w http.ResponseWriter, err error) {
	a.log.Error("web: submission not stored", "err", err)
	channels.WriteHookError(w, http.StatusInternalServerError, "internal", "internal error; it has been logged")
}
