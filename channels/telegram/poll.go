package telegram

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/switchboard/switchboard/channels"
)

// Backoff of the polling loop after a failed getUpdates or ingest.
const (
	minRetry = time.Second
	maxRetry = time.Minute
)

// maxUpdatesBody bounds a getUpdates response: 100 updates are far less.
const maxUpdatesBody = 32 << 20

// Run consumes the bot until ctx ends (channels.Adapter).
//
// It calls getMe first: a wrong or revoked token (401 Unauthorized) is
// reported Failing with Telegram's description and returned, for the
// supervisor to retry with backoff; Live is never reported before getMe
// succeeded. In webhook mode it then registers WebhookURL with setWebhook
// (secret_token derived from the token), reports Live and waits for ctx:
// updates arrive through ServeWebhook. In polling mode it removes any
// webhook (deleteWebhook; pending updates are kept), reports Live and
// polls.
//
// Polling does not use the library's Start: its loop moves its offset past
// an update as soon as the update is queued for a handler, so the next
// getUpdates confirms it to Telegram (which then deletes it) before
// anything is stored, and a crash in between loses the update. Run instead
// calls getUpdates itself with offset = the last stored cursor, hands the
// whole batch to sink.Ingest with each Inbound's Cursor = update_id+1 (the
// sink stores it in the touches' transaction), and moves its offset only
// after Ingest returned without error. A restart resumes from
// Account.Cursor: what was stored is confirmed and not delivered again,
// what was not is delivered again. Updates we skip (groups, channels,
// service messages) move the offset too; when a batch holds nothing else
// there is no Inbound to carry the cursor, and after a restart Telegram
// sends them again, to be skipped again.
//
// A getUpdates or ingest failure that may pass (network, 5xx, 429, the
// sink's database) is reported Failing with the time of the next attempt
// and retried with backoff, re-reading the same updates; 401, 404 and
// 409 (another poller or a webhook took over) are returned.
func (a *Adapter) Run(ctx context.Context, sink channels.Sink, report func(channels.State)) error {
	if report == nil {
		report = func(channels.State) {}
	}
	fail := func(err error) error {
		report(channels.State{Phase: channels.Failing, Error: err.Error()})
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	me, err := a.bot.GetMe(cctx)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, bot.ErrorUnauthorized) || errors.Is(err, bot.ErrorNotFound) {
			return fail(fmt.Errorf("telegram: getMe: the bot token was refused (revoked or mistyped): %w", a.redact(err)))
		}
		return fail(fmt.Errorf("telegram: getMe: %w", a.redact(err)))
	}
	log := a.log.With("bot", me.Username)
	live := channels.State{Phase: channels.Live, Self: me.Username}

	cctx, cancel = context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if a.mode == Webhook {
		// https://core.telegram.org/bots/api#setwebhook
		if _, err := a.bot.SetWebhook(cctx, &bot.SetWebhookParams{URL: a.webhookURL, SecretToken: a.secret, AllowedUpdates: allowedUpdates}); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fail(fmt.Errorf("telegram: setWebhook: %w", a.redact(err)))
		}
		log.Info("telegram: webhook set", "url", a.webhookURL)
		report(live)
		<-ctx.Done()
		return nil
	}
	// https://core.telegram.org/bots/api#deletewebhook: getUpdates is
	// refused (409) while a webhook is set.
	if _, err := a.bot.DeleteWebhook(cctx, &bot.DeleteWebhookParams{}); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fail(fmt.Errorf("telegram: deleteWebhook: %w", a.redact(err)))
	}
	log.Info("telegram: polling", "offset", a.Offset())
	report(live)
	return a.poll(ctx, sink, report, live, log)
}

func (a *Adapter) poll(ctx context.Context, sink channels.Sink, report func(channels.State), live channels.State, log *slog.Logger) error {
	var wait time.Duration
	failing := false
	for {
		if ctx.Err() != nil {
			return nil
		}
		off := a.Offset()
		ups, err := a.getUpdates(ctx, off)
		if err == nil && len(ups) > 0 {
			err = a.deliver(ctx, sink, ups, log)
		}
		if ctx.Err() != nil {
			return nil
		}
		if err == nil {
			wait = 0
			if failing {
				failing = false
				log.Info("telegram: polling again", "offset", a.Offset())
				report(live)
			}
			continue
		}
		var ae *apiError
		if errors.As(err, &ae) && !ae.transient() {
			report(channels.State{Phase: channels.Failing, Error: err.Error()})
			return err
		}
		wait = min(max(2*wait, minRetry), maxRetry)
		if ae != nil && ae.RetryAfter > 0 {
			wait = max(wait, time.Duration(ae.RetryAfter)*time.Second)
		}
		failing = true
		log.Warn("telegram: polling failed; retrying", "offset", off, "retry_in", wait.String(), "err", err)
		report(channels.State{Phase: channels.Failing, Error: err.Error(), RetryAt: time.Now().Add(wait).UTC()})
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// rawUpdate is one update of a getUpdates result, kept undecoded so that
// one the library's models cannot decode does not stop the queue.
type rawUpdate struct {
	id  int64
	raw json.RawMessage
}

// deliver maps a batch and hands it to the sink, then moves the offset
// past it. Nothing moves when mapping or the sink fails.
func (a *Adapter) deliver(ctx context.Context, sink channels.Sink, ups []rawUpdate, log *slog.Logger) error {
	batch := make([]channels.Inbound, 0, len(ups))
	ids := make([]int64, 0, len(ups))
	for _, u := range ups {
		in, ok, err := a.decode(ctx, u.raw, log)
		if err != nil {
			return err
		}
		if !ok {
			log.Debug("telegram: update skipped", "update_id", u.id)
			if n := len(batch); n > 0 {
				// The previous touch's cursor moves past the skipped
				// update: it is stored with that touch.
				batch[n-1].Cursor = cursor(u.id)
			}
			continue
		}
		in.Cursor = cursor(u.id)
		batch = append(batch, in)
		ids = append(ids, u.id)
	}
	first, last := ups[0].id, ups[len(ups)-1].id
	if len(batch) > 0 {
		res, err := sink.Ingest(ctx, batch)
		if err != nil {
			return fmt.Errorf("telegram: ingest updates %d to %d: %w", first, last, err)
		}
		for i, r := range res {
			if i < len(ids) && r.Err != nil {
				log.Warn("telegram: update refused by ingest", "update_id", ids[i], "external_id", batch[i].ExternalID, "err", r.Err)
			}
		}
	}
	a.setOffset(last + 1)
	log.Debug("telegram: updates stored", "first_update_id", first, "last_update_id", last, "touches", len(batch))
	return nil
}

// cursor is the account position after update id: the next getUpdates
// offset.
func cursor(id int64) string { return strconv.FormatInt(id+1, 10) }

func parseCursor(s string) (int64, error) {
	off, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || off < 0 {
		return 0, fmt.Errorf("telegram: cursor %q is not an update offset", s)
	}
	return off, nil
}

// decode maps one update as received. An update the library's models do
// not decode is still recorded when it is a private message: with
// ParseError and the raw JSON as an attachment.
func (a *Adapter) decode(ctx context.Context, raw []byte, log *slog.Logger) (channels.Inbound, bool, error) {
	var u models.Update
	if err := json.Unmarshal(raw, &u); err != nil {
		return a.undecodable(raw, err, log)
	}
	return a.Inbound(ctx, u)
}

// envelope is the least of an update needed to attribute it.
type envelope struct {
	UpdateID      int64            `json:"update_id"`
	Message       *envelopeMessage `json:"message"`
	EditedMessage *envelopeMessage `json:"edited_message"`
}

type envelopeMessage struct {
	MessageID int `json:"message_id"`
	From      *struct {
		ID        int64  `json:"id"`
		FirstName string `json:"first_name"`
		LastName  string `json:"last_name"`
	} `json:"from"`
	Chat struct {
		ID   int64  `json:"id"`
		Type string `json:"type"`
	} `json:"chat"`
}

// ours reports a message a client wrote to the bot in private.
func (m *envelopeMessage) ours() bool {
	return m != nil && m.From != nil && m.From.ID > 0 && private(models.ChatType(m.Chat.Type), m.Chat.ID, m.From.ID)
}

// undecodable handles an update the library's models cannot decode. A
// private message is recorded raw; an edit of one is lost and says so.
// Anything else — a group message, an update kind the bot never asked for
// (inline and callback queries, reactions, member changes: Telegram sends
// them when another program set allowed_updates) — would be skipped even
// if it decoded, so it is worth a debug line only.
func (a *Adapter) undecodable(raw []byte, derr error, log *slog.Logger) (channels.Inbound, bool, error) {
	var e envelope
	if err := json.Unmarshal(raw, &e); err != nil || !e.Message.ours() {
		if e.EditedMessage.ours() {
			log.Warn("telegram: edit not decodable; skipped", "update_id", e.UpdateID, "err", derr)
		} else {
			log.Debug("telegram: update not decodable and not a private message; skipped", "update_id", e.UpdateID, "kind", updateKind(raw), "err", derr)
		}
		return channels.Inbound{}, false, nil
	}
	m := e.Message
	log.Warn("telegram: message not decodable; recorded raw", "update_id", e.UpdateID, "err", derr)
	return channels.Inbound{
		AccountID:   a.account,
		ExternalID:  fmt.Sprintf("%d:%d", m.Chat.ID, m.MessageID),
		Kind:        channels.Message,
		From:        []channels.Handle{{Kind: string(channels.Telegram), Value: strconv.FormatInt(m.From.ID, 10)}},
		Name:        strings.TrimSpace(m.From.FirstName + " " + m.From.LastName),
		ParseError:  "telegram: " + derr.Error(),
		Attachments: []channels.Attachment{{Name: fmt.Sprintf("update_%d.json", e.UpdateID), ContentType: "application/json", Data: raw}},
	}, true, nil
}

// updateKind names the field an update carries ("inline_query"), for logs.
func updateKind(raw []byte) string {
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil {
		return "?"
	}
	for k := range fields {
		if k != "update_id" {
			return k
		}
	}
	return "?"
}

// apiError is a Bot API refusal of getUpdates.
type apiError struct {
	Method      string
	Code        int
	Description string
	RetryAfter  int
}

func (e *apiError) Error() string {
	s := fmt.Sprintf("telegram: %s: %d %s", e.Method, e.Code, e.Description)
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry after %ds)", e.RetryAfter)
	}
	return s
}

// transient reports refusals that pass by themselves: flood control and
// server trouble. 401/404 (token), 409 (another getUpdates or a webhook)
// and 400 need the supervisor.
func (e *apiError) transient() bool {
	return e.Code == http.StatusTooManyRequests || e.Code >= 500
}

// getUpdates long-polls for updates from offset
// (https://core.telegram.org/bots/api#getupdates). The library has no
// public getUpdates, so this is the one raw call: a multipart POST like
// the library's own, through the same HTTP client.
func (a *Adapter) getUpdates(ctx context.Context, offset int64) ([]rawUpdate, error) {
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	allowed, _ := json.Marshal(allowedUpdates)
	for _, f := range [][2]string{
		{"offset", strconv.FormatInt(offset, 10)},
		{"limit", "100"},
		{"timeout", strconv.Itoa(int(a.pollTimeout / time.Second))},
		{"allowed_updates", string(allowed)},
	} {
		if err := w.WriteField(f[0], f[1]); err != nil {
			return nil, fmt.Errorf("telegram: getUpdates: %w", err)
		}
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("telegram: getUpdates: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, a.pollTimeout+callTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.serverURL+"/bot"+a.token+"/getUpdates", &body)
	if err != nil {
		return nil, fmt.Errorf("telegram: getUpdates: %w", a.redact(err))
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	resp, err := a.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("telegram: getUpdates: %w", a.redact(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxUpdatesBody))
	if err != nil {
		return nil, fmt.Errorf("telegram: getUpdates: %w", a.redact(err))
	}
	var r struct {
		OK          bool              `json:"ok"`
		Result      []json.RawMessage `json:"result"`
		ErrorCode   int               `json:"error_code"`
		Description string            `json:"description"`
		Parameters  struct {
			RetryAfter int `json:"retry_after"`
		} `json:"parameters"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("telegram: getUpdates: %s, not a Bot API answer: %w", resp.Status, err)
	}
	if !r.OK {
		code := r.ErrorCode
		if code == 0 {
			code = resp.StatusCode
		}
		return nil, &apiError{Method: "getUpdates", Code: code, Description: r.Description, RetryAfter: r.Parameters.RetryAfter}
	}
	ups := make([]rawUpdate, 0, len(r.Result))
	for _, raw := range r.Result {
		var id struct {
			UpdateID int64 `json:"update_id"`
		}
		if err := json.Unmarshal(raw, &id); err != nil {
			return nil, fmt.Errorf("telegram: getUpdates: an update without update_id: %w", err)
		}
		if id.UpdateID < offset {
			continue // confirmed before: Telegram should not send it again
		}
		ups = append(ups, rawUpdate{id: id.UpdateID, raw: raw})
	}
	slices.SortFunc(ups, func(x, y rawUpdate) int { return cmp.Compare(x.id, y.id) })
	return ups, nil
}
