package phone

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/switchboard/switchboard/channels"
)

// A cloud PBX reports calls to one hook per account:
//
//	POST /hooks/phone/{account}[/<provider path>]
//
// The account's provider decides how a request is authenticated (a
// signature, a key and a salted hash, a secret in the path) and how its
// payload becomes a call. The adapter around the providers is the same for
// all of them: it limits the body, refuses forged and stale requests,
// answers a replayed request without storing it again, keeps the raw
// requests of every call in Inbound.Meta["raw"], and hands finished calls
// to the sink.

// MaxCloudBody is the largest cloud hook request body accepted, in bytes.
const MaxCloudBody = 64 << 10

// Error codes of refused cloud hook requests, stable for senders.
const (
	CodeUnauthorized = "unauthorized"    // 401: credentials missing
	CodeBadSignature = "bad_signature"   // 401: signature, key or token does not match
	CodeStale        = "stale_timestamp" // 401: the signed time is too far from now
	CodeTooLarge     = "too_large"       // 413
	CodeBadRequest   = "bad_request"     // 400: not the provider's JSON or form
	CodeInvalid      = "invalid"         // 422: well-formed but not a usable call event
	CodeNotFound     = "not_found"       // 404: no such provider path
)

// hookError is a refused request: the status and code to answer with and
// a message safe to show the sender.
type hookError struct {
	Status  int
	Code    string
	Message string
}

func (e *hookError) Error() string { return "phone: " + e.Message }

func refuse(status int, code, format string, args ...any) *hookError {
	return &hookError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func unauthorized(format string, args ...any) *hookError {
	return refuse(http.StatusUnauthorized, CodeUnauthorized, format, args...)
}

func forged(format string, args ...any) *hookError {
	return refuse(http.StatusUnauthorized, CodeBadSignature, format, args...)
}

func stale(format string, args ...any) *hookError {
	return refuse(http.StatusUnauthorized, CodeStale, format, args...)
}

func badRequest(format string, args ...any) *hookError {
	return refuse(http.StatusBadRequest, CodeBadRequest, format, args...)
}

func invalid(format string, args ...any) *hookError {
	return refuse(http.StatusUnprocessableEntity, CodeInvalid, format, args...)
}

// hookRequest is one authenticated-or-not request, its body read.
type hookRequest struct {
	r    *http.Request
	path string // channels.HookPath; a provider that takes a secret there redacts it once checked
	body []byte
	now  time.Time
}

// raw is the request as it is kept with the call it belongs to.
func (q *hookRequest) raw() rawRequest {
	return rawRequest{Path: q.path, ContentType: q.r.Header.Get("Content-Type"), Body: string(q.body)}
}

// outcome is what a provider made of an authenticated request.
type outcome struct {
	// in is the call (or the recording of a call) to store; nil when the
	// request is only remembered (ringing) or ignored (internal call).
	in *channels.Inbound
	// note says why nothing was stored ("ringing: kept until the call ends").
	note string
	// dial, when set, is news of a click-to-call in flight.
	dial *dialNews
}

// provider is one cloud PBX's dialect.
type provider interface {
	// name prefixes ExternalIDs and log lines.
	name() string
	// verify authenticates q (signature, staleness) and returns the key
	// that identifies this exact request for replay detection.
	verify(q *hookRequest) (key string, err error)
	// translate turns an authenticated request into an outcome, using and
	// updating the adapter's memory of calls in progress.
	translate(q *hookRequest, m *memory) (outcome, error)
	// window is how long a verified request can be replayed: the
	// staleness limit, or a fixed time for providers that sign no time.
	window() time.Duration
}

// getter is implemented by providers that answer GET requests (Zadarma's
// echo check). It writes the answer.
type getter interface {
	serveGet(w http.ResponseWriter, r *http.Request)
}

// dialer and linker are the optional API halves of a provider.
type dialer interface {
	dial(ctx context.Context, req channels.DialRequest) error
	// dialKey is what the provider's call events will name the attempt
	// by (dialNews.key).
	dialKey(req channels.DialRequest) string
}

type linker interface {
	recordingLink(ctx context.Context, ref string) (string, error)
}

// Cloud is a cloud PBX account's adapter: a webhook receiver, plus the
// provider's callback API for click-to-call where it has one.
type Cloud struct {
	acc   channels.Account
	s     Settings
	log   *slog.Logger
	p     provider
	seen  *seenSet
	mem   *memory
	dials *dialBook
	now   func() time.Time
}

// newCloud builds a cloud PBX's webhook adapter.
func newCloud(acc channels.Account, s Settings, log *slog.Logger) (channels.Adapter, error) {
	c := &Cloud{acc: acc, s: s, log: log, seen: newSeenSet(maxSeen), mem: newMemory(maxCalls, callMemory), dials: newDialBook(dialWait), now: time.Now}
	client := &http.Client{Timeout: 20 * time.Second}
	switch s.Provider {
	case Generic:
		c.p = &generic{secret: []byte(acc.Secret)}
	case Mango:
		c.p = &mango{key: s.APIKey, salt: acc.Secret, api: apiURL(s.APIURL, mangoAPI), client: client}
	case Zadarma:
		c.p = &zadarma{key: s.APIKey, secret: acc.Secret, api: apiURL(s.APIURL, zadarmaAPI), client: client}
	case UIS:
		c.p = &uis{token: acc.Secret}
	default:
		return nil, fmt.Errorf("phone: %q is not a cloud provider", s.Provider)
	}
	return c, nil
}

func apiURL(configured, def string) string {
	if configured = strings.TrimSpace(configured); configured != "" {
		return strings.TrimRight(configured, "/")
	}
	return def
}

// Run has nothing to consume: calls arrive through ServeWebhook.
func (c *Cloud) Run(ctx context.Context, _ channels.Sink, report func(channels.State)) error {
	report(channels.State{Phase: channels.Hook})
	<-ctx.Done()
	return nil
}

// Send refuses: a call is not a text reply.
func (c *Cloud) Send(context.Context, channels.Outbound) (string, error) {
	return "", channels.Permanent(errors.New("phone: a call cannot be answered with a message; call back or reply on another channel"))
}

// CanDial reports whether the provider has a callback API and its keys are
// set (Mango Office, Zadarma).
func (c *Cloud) CanDial() bool {
	_, ok := c.p.(dialer)
	return ok && c.s.APIKey != "" && c.acc.Secret != ""
}

// Dial asks the provider to ring req.Extension, then req.To. It reports
// DialRinging when the provider accepted, DialFailed with the provider's
// words when it refused; then DialConnected when the hook reports that the
// manager answered, or DialFailed when the provider reports a failure or
// nothing is heard for dialWait. The call itself arrives through the hook
// as an outbound call.
func (c *Cloud) Dial(ctx context.Context, req channels.DialRequest) error {
	d, ok := c.p.(dialer)
	if !ok || !c.CanDial() {
		err := fmt.Errorf("phone: %s cannot place calls from Switchboard", c.p.name())
		progress(req, channels.DialFailed, err.Error())
		return err
	}
	if strings.TrimSpace(req.Extension) == "" || digits(req.To) == "" {
		err := errors.New("phone: click-to-call needs the manager's extension and the contact's number")
		progress(req, channels.DialFailed, err.Error())
		return err
	}
	key := d.dialKey(req)
	c.dials.add(key, req)
	if err := d.dial(ctx, req); err != nil {
		c.dials.drop(key)
		c.log.Info("phone: click-to-call refused", "dial_id", req.ID, "err", err)
		progress(req, channels.DialFailed, err.Error())
		return err
	}
	c.dials.accepted(key)
	return nil
}

func progress(req channels.DialRequest, st channels.DialState, msg string) {
	if req.Progress != nil {
		req.Progress(channels.DialProgress{ID: req.ID, State: st, Error: msg})
	}
}

// RecordingLink turns a call's RecordingURL into a URL the recording can be
// downloaded from now. An http(s) URL is returned as it is; a provider
// reference ("zadarma-record:<id>", "mango-record:<id>") asks the
// provider's API for a fresh, short-lived link. Anything else (a file://
// URL: a cloud PBX has no business on our disk) is refused. The recording
// fetcher calls it before every download attempt.
func (c *Cloud) RecordingLink(ctx context.Context, ref string) (string, error) {
	if strings.HasPrefix(ref, "http://") || strings.HasPrefix(ref, "https://") {
		return ref, nil
	}
	l, ok := c.p.(linker)
	if !ok {
		return "", fmt.Errorf("phone: %s: %q is not a recording reference of this provider", c.p.name(), ref)
	}
	return l.recordingLink(ctx, ref)
}

// HookResponse answers an accepted cloud hook request.
type HookResponse struct {
	// Stored is false when nothing was stored: an event kept in memory
	// until its call ends, an internal call, a replayed request.
	Stored    bool   `json:"stored"`
	TouchID   int64  `json:"touch_id,omitempty"`
	Duplicate bool   `json:"duplicate,omitempty"`
	Note      string `json:"note,omitempty"`
}

// ServeWebhook authenticates, translates and stores one cloud PBX request.
//
// A replayed request (the very same verified request again while it could
// still pass the staleness check) is answered 200 with stored=false and
// changes nothing: a provider that did not see our first answer stops
// retrying, and an attacker replaying it gains nothing.
func (c *Cloud) ServeWebhook(w http.ResponseWriter, r *http.Request, sink channels.Sink) {
	if r.Method == http.MethodGet {
		if g, ok := c.p.(getter); ok {
			g.serveGet(w, r)
			return
		}
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		channels.WriteHookError(w, http.StatusMethodNotAllowed, "method_not_allowed", "this hook takes POST, not "+r.Method)
		return
	}
	q := &hookRequest{r: r, path: channels.HookPath(r), now: c.now()}
	body, herr := readBody(r)
	if herr != nil {
		c.refused(w, r, q.path, herr)
		return
	}
	q.body = body
	key, err := c.p.verify(q)
	if err != nil {
		c.refused(w, r, q.path, err)
		return
	}
	if !c.seen.claim(key, q.now, c.p.window()) {
		c.log.Info("phone: replayed request answered without storing", "path", q.path, "remote", r.RemoteAddr)
		channels.WriteHookJSON(w, http.StatusOK, HookResponse{Duplicate: true, Note: "this request was received before"})
		return
	}
	resp, err := c.store(q, sink)
	if err != nil {
		c.seen.forget(key)
		c.refused(w, r, q.path, err)
		return
	}
	channels.WriteHookJSON(w, http.StatusOK, resp)
}

// store translates an authenticated request and hands its call to sink.
func (c *Cloud) store(q *hookRequest, sink channels.Sink) (HookResponse, error) {
	out, err := c.p.translate(q, c.mem)
	if err != nil {
		return HookResponse{}, err
	}
	if out.dial != nil {
		c.dials.resolve(*out.dial)
	}
	if out.in == nil {
		return HookResponse{Note: out.note}, nil
	}
	out.in.AccountID = c.acc.ID
	res, err := sink.Ingest(q.r.Context(), []channels.Inbound{*out.in})
	if err == nil && len(res) != 1 {
		err = fmt.Errorf("sink returned %d results for one call", len(res))
	}
	if err == nil {
		err = res[0].Err
	}
	switch {
	case errors.Is(err, channels.ErrInvalid):
		return HookResponse{}, invalid("the call was refused: %v", err)
	case err != nil:
		return HookResponse{}, err
	}
	c.mem.finished(out.in, q.now)
	return HookResponse{Stored: true, TouchID: res[0].TouchID, Duplicate: res[0].Duplicate, Note: out.note}, nil
}

// refused answers a refused or failed request and logs it with the
// account (the logger carries it) and path (redacted where it holds a
// secret).
func (c *Cloud) refused(w http.ResponseWriter, r *http.Request, path string, err error) {
	if he, ok := errors.AsType[*hookError](err); ok {
		c.log.Info("phone: hook request refused", "path", path, "remote", r.RemoteAddr, "code", he.Code, "err", he.Message)
		channels.WriteHookError(w, he.Status, he.Code, he.Message)
		return
	}
	c.log.Error("phone: call not stored", "path", path, "err", err)
	channels.WriteHookError(w, http.StatusInternalServerError, "internal", "internal error; it has been logged")
}

// readBody reads at most MaxCloudBody bytes; more is a 413.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	if r.ContentLength > MaxCloudBody {
		return nil, refuse(http.StatusRequestEntityTooLarge, CodeTooLarge, "the request body is larger than %d bytes", MaxCloudBody)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxCloudBody+1))
	if err != nil {
		return nil, badRequest("the request body could not be read")
	}
	if len(body) > MaxCloudBody {
		return nil, refuse(http.StatusRequestEntityTooLarge, CodeTooLarge, "the request body is larger than %d bytes", MaxCloudBody)
	}
	return body, nil
}

// digits keeps the digits of a phone number ("+7 (913) 555-01-02" →
// "79135550102"), as the providers' APIs want them.
func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}
