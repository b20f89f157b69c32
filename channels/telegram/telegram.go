// Package telegram is the adapter for Telegram bots, speaking the Bot API
// (https://core.telegram.org/bots/api) through github.com/go-telegram/bot.
//
// An account is one bot: Account.Secret is its token, Account.Settings is
// JSON (see Settings):
//
//	{"mode": "polling", "poll_timeout": "30s", "download_limit": 20971520}
//	{"mode": "webhook", "webhook_url": "https://crm.example.ru/hooks/telegram/7"}
//
// Private messages and their edits become channels.Inbound values (Kind
// channels.Message) handed to the sink; groups, channels and other update
// kinds are skipped. A deep link t.me/<bot>?start=<code> arrives as
// "/start <code>" and becomes the touch's entry point, so each ad can carry
// its own code. Replies go out with sendMessage, sendPhoto and sendDocument.
//
// In polling mode the update offset (update_id+1) travels as the Inbound
// cursor and is stored with the touches; getUpdates only confirms an update
// to Telegram once the sink has stored it (see Adapter.Run). In webhook
// mode Telegram pushes updates to ServeWebhook, authenticated by a secret
// token derived from the bot token.
//
// The adapter only translates: it never touches the database and never
// decides contacts or deals.
package telegram

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-telegram/bot"

	"github.com/switchboard/switchboard/channels"
)

// Modes of receiving updates.
const (
	// Polling reads updates with getUpdates (long polling). The default.
	Polling = "polling"
	// Webhook has Telegram push updates to WebhookURL (setWebhook).
	Webhook = "webhook"
)

// Defaults of Settings.
const (
	DefaultServerURL     = "https://api.telegram.org"
	DefaultPollTimeout   = 30 * time.Second
	DefaultDownloadLimit = 20 << 20 // the Bot API's own getFile limit
)

// MaxWebhookBody is the largest webhook request body ServeWebhook reads.
const MaxWebhookBody = 1 << 20

// Timeouts of single Bot API calls (the long poll has its own).
const (
	callTimeout     = 30 * time.Second
	sendTimeout     = 2 * time.Minute // an upload of a large document
	downloadTimeout = 2 * time.Minute
)

// allowedUpdates are the update kinds the adapter asks Telegram for: it
// maps no others, and asking for fewer keeps the queue short.
var allowedUpdates = []string{"message", "edited_message"}

// Settings is an account's Settings JSON.
type Settings struct {
	// Mode is Polling (default) or Webhook.
	Mode string `json:"mode,omitempty"`
	// WebhookURL is the public URL of /hooks/telegram/{account id};
	// required in webhook mode.
	WebhookURL string `json:"webhook_url,omitempty"`
	// ServerURL is the Bot API base URL (tests, a local Bot API server);
	// default DefaultServerURL.
	ServerURL string `json:"server_url,omitempty"`
	// PollTimeout is the getUpdates long-poll timeout as a Go duration,
	// whole seconds from "1s" to "50s"; default "30s".
	PollTimeout string `json:"poll_timeout,omitempty"`
	// DownloadLimit is the largest attachment downloaded, in bytes; a
	// larger file is recorded by name only. Default DefaultDownloadLimit.
	DownloadLimit int64 `json:"download_limit,omitempty"`
}

// Adapter is one bot account. It is safe for concurrent use: Send and
// ServeWebhook may run while Run polls.
type Adapter struct {
	account     int64
	log         *slog.Logger
	mode        string
	webhookURL  string
	serverURL   string
	token       string
	pollTimeout time.Duration
	limit       int64
	secret      string // the webhook secret token
	bot         *bot.Bot
	http        *http.Client

	mu     sync.Mutex
	offset int64 // the next getUpdates offset: every update below it is stored
}

var (
	_ channels.Factory = New
	_ channels.Adapter = (*Adapter)(nil)
	_ channels.Webhook = (*Adapter)(nil)
)

// New builds the adapter of a Telegram account (a channels.Factory). It
// checks the settings and the token's shape but makes no request: Run
// calls getMe first.
func New(acc channels.Account, log *slog.Logger) (channels.Adapter, error) {
	return NewAdapter(acc, log)
}

// NewAdapter is New returning the concrete type.
func NewAdapter(acc channels.Account, log *slog.Logger) (*Adapter, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	token := strings.TrimSpace(acc.Secret)
	if token == "" {
		return nil, errors.New("telegram: no bot token: set the account secret to the token @BotFather gave")
	}
	if strings.ContainsAny(token, "/?#% \t\r\n") {
		return nil, errors.New("telegram: the bot token has characters a token never has")
	}
	var s Settings
	if len(bytes.TrimSpace(acc.Settings)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(acc.Settings))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			return nil, fmt.Errorf("telegram: settings: %w", err)
		}
	}
	a := &Adapter{
		account:     acc.ID,
		log:         log.With("account", acc.ID),
		mode:        s.Mode,
		serverURL:   strings.TrimRight(s.ServerURL, "/"),
		token:       token,
		pollTimeout: DefaultPollTimeout,
		limit:       s.DownloadLimit,
		secret:      webhookSecret(token),
		http:        &http.Client{}, // no overall timeout: every call carries a deadline in its context
	}
	switch a.mode {
	case "":
		a.mode = Polling
	case Polling, Webhook:
	default:
		return nil, fmt.Errorf("telegram: settings: mode %q is neither %q nor %q", s.Mode, Polling, Webhook)
	}
	if a.mode == Webhook {
		if s.WebhookURL == "" {
			return nil, errors.New("telegram: settings: webhook mode needs webhook_url, the public URL of /hooks/telegram/{account}")
		}
		if err := checkURL(s.WebhookURL); err != nil {
			return nil, fmt.Errorf("telegram: settings: webhook_url: %w", err)
		}
		a.webhookURL = s.WebhookURL
	}
	if a.serverURL == "" {
		a.serverURL = DefaultServerURL
	} else if err := checkURL(a.serverURL); err != nil {
		return nil, fmt.Errorf("telegram: settings: server_url: %w", err)
	}
	if s.PollTimeout != "" {
		d, err := time.ParseDuration(s.PollTimeout)
		if err != nil || d < time.Second || d > 50*time.Second || d%time.Second != 0 {
			return nil, fmt.Errorf("telegram: settings: poll_timeout %q is not whole seconds from 1s to 50s", s.PollTimeout)
		}
		a.pollTimeout = d
	}
	switch {
	case a.limit == 0:
		a.limit = DefaultDownloadLimit
	case a.limit < 0:
		return nil, fmt.Errorf("telegram: settings: download_limit %d is negative", a.limit)
	}
	if acc.Cursor != "" {
		off, err := parseCursor(acc.Cursor)
		if err != nil {
			return nil, err
		}
		a.offset = off
	}
	b, err := bot.New(token,
		bot.WithServerURL(a.serverURL),
		bot.WithSkipGetMe(), // Run calls getMe and reports its failure
		bot.WithHTTPClient(a.pollTimeout, a.http),
		bot.WithErrorsHandler(func(err error) { a.log.Debug("telegram: library", "err", err) }),
	)
	if err != nil {
		return nil, fmt.Errorf("telegram: %w", err)
	}
	a.bot = b
	return a, nil
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", s)
	}
	return nil
}

// webhookSecret derives the secret_token given to setWebhook, which
// Telegram sends back in X-Telegram-Bot-Api-Secret-Token: 32 hex digits of
// HMAC-SHA256(token, "switchboard-webhook"). It changes with the token and
// needs no storage of its own.
func webhookSecret(token string) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("switchboard-webhook"))
	return hex.EncodeToString(m.Sum(nil))[:32]
}

// Mode returns Polling or Webhook.
func (a *Adapter) Mode() string { return a.mode }

// Offset returns the next getUpdates offset: the position after the last
// update the sink stored (or skipped as not ours).
func (a *Adapter) Offset() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.offset
}

func (a *Adapter) setOffset(off int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if off > a.offset {
		a.offset = off
	}
}

// redact removes the bot token from an error's text (a *url.Error carries
// the request URL, and the token is part of every Bot API URL).
func (a *Adapter) redact(err error) error {
	if err == nil || !strings.Contains(err.Error(), a.token) {
		return err
	}
	return &redacted{msg: strings.ReplaceAll(err.Error(), a.token, "<token>"), err: err}
}

type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }

// Channel registers Telegram: a bot, long-polled or pushed to its webhook;
// replies go to the client's chat.
func Channel() channels.Channel {
	return channels.Channel{Kind: channels.Telegram, New: New, Check: func(raw json.RawMessage) error {
		// New checks every setting and starts nothing: build one with a
		// token of the right shape and drop it.
		_, err := New(channels.Account{Settings: raw, Secret: "0:settings-check"}, slog.New(slog.DiscardHandler))
		return err
	}}
}

// Test asks Telegram who the bot is (getMe), which checks the token
// (Tester).
func (a *Adapter) Test(ctx context.Context) (string, error) {
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	me, err := a.bot.GetMe(cctx)
	if errors.Is(err, bot.ErrorUnauthorized) || errors.Is(err, bot.ErrorNotFound) {
		return "", fmt.Errorf("telegram: the bot token was refused (revoked or mistyped): %w", a.redact(err))
	}
	if err != nil {
		return "", fmt.Errorf("telegram: getMe: %w", a.redact(err))
	}
	return "Telegram: bot @" + me.Username, nil
}
