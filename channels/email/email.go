// Package email is the adapter for the "email" channel: one mailbox read
// over IMAP and answered over SMTP.
//
// Run reads the configured folders over IMAP (RFC 9051, IMAP4rev2, and RFC
// 3501, IMAP4rev1): the first connection imports the last initial_days
// days (UID SEARCH SINCE), later ones fetch everything after the stored
// UID (UID FETCH n:*), and then the adapter waits with IDLE, or polls when
// the server has no IDLE. The account's cursor is the UIDVALIDITY and last
// UID of every folder, as one JSON string. Messages are read with
// BODY.PEEK[] so nothing is marked as read.
//
// Parse turns one RFC 5322 message with MIME bodies (RFC 2045–2047, 2231)
// into a channels.Inbound: UTF-8 text in any common charset, the HTML, the
// attachments and inline images, the thread key, the entry point (the own
// address or plus-alias the mail was sent to) and whether it is automated
// mail (RFC 3834 auto-replies, RFC 3464 bounces, mailing lists). Broken
// mail is read as a mail program shows it: the structure is mended first
// (mend.go), transfer encodings are undone forgivingly (body.go) and
// charsets decoded without mojibake (charset.go).
//
// Send writes a reply with go-message and submits it over SMTP (RFC 5321,
// with implicit TLS, STARTTLS or, on loopback only, plain text; AUTH
// PLAIN or LOGIN).
//
// The adapter only translates: it never touches the database and never
// decides contacts or deals.
package email

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchboard/switchboard/channels"
)

// Connection security values of imap_security and smtp_security.
const (
	SecurityTLS      = "tls"      // implicit TLS (IMAP 993, SMTP 465)
	SecurityStartTLS = "starttls" // STARTTLS upgrade (IMAP 143, SMTP 587)
	SecurityPlain    = "plain"    // no encryption; needs allow_plain (loopback tests)
)

// Defaults of the optional settings.
const (
	DefaultInitialDays  = 30
	DefaultPollInterval = 60 * time.Second
	DefaultFolder       = "INBOX"
)

// Settings is an email account's configuration, stored as JSON in
// Account.Settings. The password (an app password for Yandex, Mail.ru,
// Gmail) is the account's secret, never a setting.
type Settings struct {
	// Address is the mailbox's own address (required).
	Address string `json:"address"`
	// Name is the display name of replies' From.
	Name string `json:"name,omitempty"`
	// Aliases are other addresses delivered to this mailbox; they and their
	// plus-aliases are entry points.
	Aliases []string `json:"aliases,omitempty"`

	IMAPHost string `json:"imap_host"`
	// IMAPPort defaults to 993 for tls, 143 otherwise.
	IMAPPort int `json:"imap_port,omitempty"`
	// IMAPSecurity is tls (default), starttls or plain.
	IMAPSecurity string `json:"imap_security,omitempty"`
	// IMAPUser defaults to Address.
	IMAPUser string `json:"imap_user,omitempty"`
	// Folders to read; default ["INBOX"]. IDLE watches the first one, the
	// others are checked every poll interval.
	Folders []string `json:"folders,omitempty"`
	// InitialDays is how far back the first connection imports (default 30).
	InitialDays int `json:"initial_days,omitempty"`
	// PollInterval is a Go duration ("60s", the default): how often a
	// server without IDLE is polled.
	PollInterval string `json:"poll_interval,omitempty"`

	SMTPHost string `json:"smtp_host"`
	// SMTPPort defaults to 465 for tls, 587 for starttls, 25 for plain.
	SMTPPort int `json:"smtp_port,omitempty"`
	// SMTPSecurity is tls (default), starttls or plain.
	SMTPSecurity string `json:"smtp_security,omitempty"`
	// SMTPUser defaults to IMAPUser.
	SMTPUser string `json:"smtp_user,omitempty"`

	// Signature is appended to replies after the "-- " delimiter.
	Signature string `json:"signature,omitempty"`
	// SentFolder, when set, gets a copy of every reply (APPEND, \Seen).
	SentFolder string `json:"sent_folder,omitempty"`
	// AllowPlain permits the plain security value: for loopback tests and
	// local relays only, since the password then crosses the wire in clear.
	AllowPlain bool `json:"allow_plain,omitempty"`
}

// ParseSettings decodes and validates an account's settings and fills in
// the defaults. Unknown fields are refused so that a typo is not silently
// ignored.
func ParseSettings(raw json.RawMessage) (Settings, error) {
	var s Settings
	if len(bytes.TrimSpace(raw)) == 0 {
		return s, errors.New("email: settings are required (address, imap_host, smtp_host)")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return s, fmt.Errorf("email: settings: %w", err)
	}
	return s, s.normalize()
}

func (s *Settings) normalize() error {
	var err error
	if s.Address, err = bareAddress("address", s.Address); err != nil {
		return err
	}
	if s.Address == "" {
		return errors.New("email: settings: address (the mailbox's own address) is required")
	}
	for i, a := range s.Aliases {
		if s.Aliases[i], err = bareAddress("aliases", a); err != nil {
			return err
		}
		if s.Aliases[i] == "" {
			return errors.New("email: settings: aliases: empty address")
		}
	}
	s.Name = strings.TrimSpace(s.Name)

	s.IMAPHost = strings.TrimSpace(s.IMAPHost)
	if s.IMAPHost == "" {
		return errors.New("email: settings: imap_host is required (imap.yandex.ru, imap.gmail.com, …)")
	}
	if s.IMAPSecurity, err = security("imap_security", s.IMAPSecurity, s.AllowPlain); err != nil {
		return err
	}
	if s.IMAPPort, err = port("imap_port", s.IMAPPort, s.IMAPSecurity, 993, 143, 143); err != nil {
		return err
	}
	if s.IMAPUser = strings.TrimSpace(s.IMAPUser); s.IMAPUser == "" {
		s.IMAPUser = s.Address
	}
	if len(s.Folders) == 0 {
		s.Folders = []string{DefaultFolder}
	}
	seen := map[string]bool{}
	for i, f := range s.Folders {
		f = strings.TrimSpace(f)
		if f == "" {
			return errors.New("email: settings: folders: empty folder name")
		}
		if seen[f] {
			return fmt.Errorf("email: settings: folders: %q is listed twice", f)
		}
		seen[f] = true
		s.Folders[i] = f
	}
	switch {
	case s.InitialDays == 0:
		s.InitialDays = DefaultInitialDays
	case s.InitialDays < 0 || s.InitialDays > 3650:
		return fmt.Errorf("email: settings: initial_days %d: want 1 to 3650", s.InitialDays)
	}
	if _, err := s.pollInterval(); err != nil {
		return err
	}

	s.SMTPHost = strings.TrimSpace(s.SMTPHost)
	if s.SMTPHost == "" {
		return errors.New("email: settings: smtp_host is required (smtp.yandex.ru, smtp.gmail.com, …)")
	}
	if s.SMTPSecurity, err = security("smtp_security", s.SMTPSecurity, s.AllowPlain); err != nil {
		return err
	}
	if s.SMTPPort, err = port("smtp_port", s.SMTPPort, s.SMTPSecurity, 465, 587, 25); err != nil {
		return err
	}
	if s.SMTPUser = strings.TrimSpace(s.SMTPUser); s.SMTPUser == "" {
		s.SMTPUser = s.IMAPUser
	}
	s.SentFolder = strings.TrimSpace(s.SentFolder)
	return nil
}

func (s *Settings) pollInterval() (time.Duration, error) {
	if strings.TrimSpace(s.PollInterval) == "" {
		return DefaultPollInterval, nil
	}
	d, err := time.ParseDuration(strings.TrimSpace(s.PollInterval))
	if err != nil {
		return 0, fmt.Errorf("email: settings: poll_interval %q: want a duration such as \"60s\" or \"5m\"", s.PollInterval)
	}
	if d < time.Second || d > 24*time.Hour {
		return 0, fmt.Errorf("email: settings: poll_interval %s: want 1s to 24h", d)
	}
	return d, nil
}

// own is the mailbox address followed by its aliases, lower-cased.
func (s *Settings) own() []string {
	out := []string{strings.ToLower(s.Address)}
	for _, a := range s.Aliases {
		out = append(out, strings.ToLower(a))
	}
	return out
}

func bareAddress(field, v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Name != "" || !strings.Contains(a.Address, "@") {
		return "", fmt.Errorf("email: settings: %s: %q is not a plain address such as sales@example.ru", field, v)
	}
	return a.Address, nil
}

func security(field, v string, allowPlain bool) (string, error) {
	switch v = strings.ToLower(strings.TrimSpace(v)); v {
	case "":
		return SecurityTLS, nil
	case SecurityTLS, SecurityStartTLS:
		return v, nil
	case SecurityPlain:
		if !allowPlain {
			return "", fmt.Errorf("email: settings: %s plain sends the password unencrypted; use tls or starttls (plain needs allow_plain, for loopback tests only)", field)
		}
		return v, nil
	}
	return "", fmt.Errorf("email: settings: %s %q: want tls, starttls or plain", field, v)
}

func port(field string, p int, sec string, tlsPort, startTLSPort, plainPort int) (int, error) {
	if p < 0 || p > 65535 {
		return 0, fmt.Errorf("email: settings: %s %d: want 1 to 65535", field, p)
	}
	if p != 0 {
		return p, nil
	}
	switch sec {
	case SecurityTLS:
		return tlsPort, nil
	case SecurityStartTLS:
		return startTLSPort, nil
	}
	return plainPort, nil
}

// Adapter is one running email account. Run and Send may be called
// concurrently; Run must not run twice at once.
type Adapter struct {
	acc  channels.Account
	set  Settings
	own  []string
	poll time.Duration
	log  *slog.Logger

	// tlsConfig, when set (tests), is cloned for every TLS connection.
	tlsConfig *tls.Config
	// noIdle (tests) polls as if the server had no IDLE: go-imap's test
	// server always offers it.
	noIdle bool

	mu  sync.Mutex
	cur cursor // position after the last batch the sink accepted
}

var _ channels.Factory = New

// New builds the adapter of an email account from its settings, secret
// (the password) and stored cursor. It validates the settings and returns
// an error that names the bad field.
func New(acc channels.Account, log *slog.Logger) (channels.Adapter, error) {
	return NewAdapter(acc, log)
}

// NewAdapter is New returning the concrete type.
func NewAdapter(acc channels.Account, log *slog.Logger) (*Adapter, error) {
	if acc.Channel != "" && acc.Channel != channels.Email {
		return nil, fmt.Errorf("email: account %d is a %s account", acc.ID, acc.Channel)
	}
	set, err := ParseSettings(acc.Settings)
	if err != nil {
		return nil, err
	}
	if acc.Secret == "" {
		return nil, errors.New("email: the password (the account's secret) is required; for Yandex, Mail.ru and Gmail use an app password")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("account", acc.ID, "channel", string(channels.Email))
	poll, _ := set.pollInterval()
	a := &Adapter{acc: acc, set: set, own: set.own(), poll: poll, log: log}
	if a.cur, err = parseCursor(acc.Cursor); err != nil {
		// A cursor we cannot read costs a re-import of initial_days, which
		// ingest deduplicates; refusing to start would cost more.
		log.Warn("email: stored cursor unreadable, importing the last days again", "cursor", acc.Cursor, "err", err)
		a.cur = cursor{}
	}
	return a, nil
}

// Settings returns the validated settings with defaults filled in.
func (a *Adapter) Settings() Settings { return a.set }

// Cursor returns the account position after the last batch the sink
// accepted, as stored in Inbound.Cursor.
func (a *Adapter) Cursor() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cur.String()
}

func (a *Adapter) tlsFor(host string) *tls.Config {
	var c *tls.Config
	if a.tlsConfig != nil {
		c = a.tlsConfig.Clone()
	} else {
		c = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if c.ServerName == "" {
		c.ServerName = host
	}
	return c
}

func hostPort(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }
