// Package web is the adapter for the "web" channel: website forms ("call me
// back", contact forms) and other systems that push leads to Switchboard.
//
// A sender POSTs a JSON Submission to /hooks/web/{account}, signed with
// HMAC-SHA256 under the account's secret:
//
//	X-Switchboard-Timestamp: 1732431792
//	X-Switchboard-Signature: sha256=<hex of HMAC-SHA256(secret, timestamp + "." + body)>
//
// Read checks the size, the timestamp and the signature before it parses
// anything, then decodes and validates the body; every refusal is an *Error
// that carries the HTTP status and a stable code for the response.
// Submission.Inbound turns an accepted submission into a channels.Inbound.
// The HTTP route and the storage live elsewhere (package inbox); this
// package only translates and validates.
package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/switchboard/switchboard/channels"
)

// The request headers a sender sets.
const (
	// HeaderTimestamp carries the signing time in unix seconds.
	HeaderTimestamp = channels.HeaderTimestamp
	// HeaderSignature carries SignaturePrefix followed by the lowercase hex
	// HMAC-SHA256 of timestamp + "." + body under the account secret.
	HeaderSignature = channels.HeaderSignature
	// SignaturePrefix starts every HeaderSignature value.
	SignaturePrefix = channels.SignaturePrefix
)

// MaxBody is the largest request body Read accepts, in bytes.
const MaxBody = 64 << 10

// MaxSkew is how far the timestamp may be from the receiver's clock, in
// either direction.
const MaxSkew = 5 * time.Minute

// DirectEntryPoint is the entry point of a submission that names no source
// and arrives on an account without a default source.
const DirectEntryPoint = "direct"

// Field limits, in characters. A form never comes close; anything longer is
// garbage or abuse.
const (
	maxIDLen     = 200
	maxNameLen   = 300
	maxPhoneLen  = 64
	maxEmailLen  = 320
	maxURLLen    = 4096
	maxUTMLen    = 500
	futureLeeway = time.Minute
	pastLeeway   = 7 * 24 * time.Hour // a site that held its leads while we were down
)

// Error codes, stable for senders to match on.
const (
	CodeUnauthorized   = "unauthorized"    // 401: signature or timestamp header missing
	CodeBadSignature   = "bad_signature"   // 401: signature does not match
	CodeStaleTimestamp = "stale_timestamp" // 401: timestamp unparsable or off by more than MaxSkew
	CodeTooLarge       = "too_large"       // 413: body over MaxBody
	CodeBadJSON        = "bad_json"        // 400: body is not a single JSON object of the right shape
	CodeInvalid        = "invalid"         // 422: well-formed, but the content is not a usable lead
)

// Error is a refused request. Status is the HTTP status to answer with,
// Code one of the Code constants and Message an English explanation safe
// to show the sender (it never contains the secret). The response body is
// {"error":{"code":Code,"message":Message}}.
type Error struct {
	Status  int
	Code    string
	Message string
}

// Error implements error.
func (e *Error) Error() string { return "web: " + e.Message }

// Is reports whether target is an *Error with the same Code, so that
// errors.Is(err, &web.Error{Code: web.CodeBadSignature}) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

func unauthorized(msg string) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: CodeUnauthorized, Message: msg}
}

func badSignature(msg string) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: CodeBadSignature, Message: msg}
}

func staleTimestamp(msg string) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: CodeStaleTimestamp, Message: msg}
}

func tooLarge() *Error {
	return &Error{
		Status:  http.StatusRequestEntityTooLarge,
		Code:    CodeTooLarge,
		Message: fmt.Sprintf("the request body is larger than %d bytes", MaxBody),
	}
}

func badJSON(msg string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeBadJSON, Message: msg}
}

func invalid(msg string) *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Code: CodeInvalid, Message: msg}
}

// Submission is one lead as the sender puts it on the wire. SubmissionID is
// required and is the idempotency key: the same id sent twice is one touch.
// At least one of Phone and Email is required. Unknown fields are ignored.
type Submission struct {
	SubmissionID string `json:"submission_id"`
	Name         string `json:"name,omitempty"`
	Phone        string `json:"phone,omitempty"`
	Email        string `json:"email,omitempty"`
	Message      string `json:"message,omitempty"`
	PageURL      string `json:"page_url,omitempty"`
	UTMSource    string `json:"utm_source,omitempty"`
	UTMMedium    string `json:"utm_medium,omitempty"`
	UTMCampaign  string `json:"utm_campaign,omitempty"`
	UTMContent   string `json:"utm_content,omitempty"`
	UTMTerm      string `json:"utm_term,omitempty"`
	// Country is where the visitor is (see Country: "BY", "BLR",
	// "Belarus"): their phone written the national way ("8 029 …") is
	// read as a number of that country.
	Country string `json:"country,omitempty"`
	// SubmittedAt is when the visitor sent the form (RFC 3339 on the wire;
	// absent, null or "" leave it zero).
	SubmittedAt time.Time `json:"submitted_at,omitzero"`
}

// UnmarshalJSON decodes a Submission, treating an empty submitted_at as
// absent. A submitted_at that is not RFC 3339 is an *Error with CodeInvalid.
func (s *Submission) UnmarshalJSON(data []byte) error {
	type plain Submission
	var w struct {
		plain
		SubmittedAt *string `json:"submitted_at"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
			// The path runs through the embedded alias; the sender
			// knows the field by its JSON name only.
			te.Field = strings.TrimPrefix(te.Field, "plain.")
		}
		return err
	}
	*s = Submission(w.plain)
	s.SubmittedAt = time.Time{}
	if w.SubmittedAt != nil && strings.TrimSpace(*w.SubmittedAt) != "" {
		t, err := time.Parse(time.RFC3339, strings.TrimSpace(*w.SubmittedAt))
		if err != nil {
			return invalid(`submitted_at must be an RFC 3339 time such as "2025-11-24T14:03:12+07:00"`)
		}
		s.SubmittedAt = t
	}
	return nil
}

// Sign returns the X-Switchboard-Signature value for body sent at
// timestamp (channels.Sign: the scheme every Switchboard hook shares).
func Sign(secret []byte, timestamp string, body []byte) string {
	return channels.Sign(secret, timestamp, body)
}

// Read reads, authenticates and validates one web submission. It checks, in
// order: both headers present, the timestamp within MaxSkew of now, the body
// at most MaxBody bytes, the signature (in constant time), the body being
// one JSON object, and the content being a usable lead. Every refusal is an
// *Error. Read consumes r.Body but does not close it.
func Read(r *http.Request, secret []byte, now time.Time) (Submission, error) {
	ts := r.Header.Get(HeaderTimestamp)
	sig := r.Header.Get(HeaderSignature)
	switch {
	case ts == "" && sig == "":
		return Submission{}, unauthorized("the request is not signed: set the " + HeaderTimestamp + " and " + HeaderSignature + " headers")
	case ts == "":
		return Submission{}, unauthorized("the " + HeaderTimestamp + " header is missing")
	case sig == "":
		return Submission{}, unauthorized("the " + HeaderSignature + " header is missing")
	}
	if len(secret) == 0 {
		// A misconfigured account must not accept everything signed with
		// the empty key.
		return Submission{}, unauthorized("this web account has no signing secret yet; set one in its settings in Switchboard")
	}
	if err := checkTimestamp(ts, now); err != nil {
		return Submission{}, err
	}

	body, err := readBody(r)
	if err != nil {
		return Submission{}, err
	}

	match, wellFormed := channels.SignatureMatches(secret, ts, body, sig)
	if !wellFormed {
		return Submission{}, badSignature("the " + HeaderSignature + ` header must be "sha256=" followed by the hex HMAC-SHA256`)
	}
	if !match {
		return Submission{}, badSignature(`the signature does not match: sign timestamp + "." + the exact body bytes with HMAC-SHA256 under the account secret`)
	}

	s, err := decode(body)
	if err != nil {
		return Submission{}, err
	}
	if err := s.validate(); err != nil {
		return Submission{}, err
	}
	return s, nil
}

// checkTimestamp accepts unix seconds within MaxSkew of now.
func checkTimestamp(ts string, now time.Time) error {
	if len(ts) > 18 || strings.Trim(ts, "0123456789") != "" {
		return staleTimestamp("the " + HeaderTimestamp + " header must be unix time in seconds, such as 1732431792")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return staleTimestamp("the " + HeaderTimestamp + " header must be unix time in seconds, such as 1732431792")
	}
	skew := int64(MaxSkew / time.Second)
	n := now.Unix()
	switch {
	case sec > n+skew && sec/1000 >= n-skew && sec/1000 <= n+skew:
		return staleTimestamp("the " + HeaderTimestamp + " header looks like milliseconds; send unix time in seconds")
	case sec < n-skew:
		return staleTimestamp(fmt.Sprintf("the %s header is %d seconds old; it may be at most %d seconds off (check the sender's clock)", HeaderTimestamp, n-sec, skew))
	case sec > n+skew:
		return staleTimestamp(fmt.Sprintf("the %s header is %d seconds in the future; it may be at most %d seconds off (check the sender's clock)", HeaderTimestamp, sec-n, skew))
	}
	return nil
}

// readBody reads at most MaxBody bytes; more is a 413.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	if r.ContentLength > MaxBody {
		return nil, tooLarge()
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, tooLarge()
		}
		return nil, badJSON("the request body could not be read")
	}
	if len(body) > MaxBody {
		return nil, tooLarge()
	}
	return body, nil
}

// decode parses body as exactly one JSON object.
func decode(body []byte) (Submission, error) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return Submission{}, badJSON("the request body is empty; send a JSON object")
	}
	if trimmed[0] != '{' {
		return Submission{}, badJSON("the request body must be a JSON object, such as {\"submission_id\":\"…\",\"phone\":\"…\"}")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var s Submission
	if err := dec.Decode(&s); err != nil {
		if e, ok := errors.AsType[*Error](err); ok {
			return Submission{}, e
		}
		if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok && te.Field != "" {
			return Submission{}, badJSON(fmt.Sprintf("the field %q must be a string, not a JSON %s", te.Field, te.Value))
		}
		return Submission{}, badJSON("the request body is not valid JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return Submission{}, badJSON("the request body must hold exactly one JSON object, with nothing after it")
	}
	return s, nil
}

// validate checks that s is a usable lead.
func (s Submission) validate() error {
	id := strings.TrimSpace(s.SubmissionID)
	if id == "" {
		return invalid("submission_id is required: a unique id of this submission, so a retry does not make a second lead")
	}
	if strings.TrimSpace(s.Phone) == "" && strings.TrimSpace(s.Email) == "" {
		return invalid("a phone or an email is required")
	}
	for _, f := range []struct {
		name, value string
		max         int
	}{
		{"submission_id", id, maxIDLen},
		{"name", s.Name, maxNameLen},
		{"phone", s.Phone, maxPhoneLen},
		{"email", s.Email, maxEmailLen},
		{"page_url", s.PageURL, maxURLLen},
		{"utm_source", s.UTMSource, maxUTMLen},
		{"utm_medium", s.UTMMedium, maxUTMLen},
		{"utm_campaign", s.UTMCampaign, maxUTMLen},
		{"utm_content", s.UTMContent, maxUTMLen},
		{"utm_term", s.UTMTerm, maxUTMLen},
		{"country", s.Country, maxCountryLen},
	} {
		if n := utf8.RuneCountInString(strings.TrimSpace(f.value)); n > f.max {
			return invalid(fmt.Sprintf("%s is %d characters long; at most %d are allowed", f.name, n, f.max))
		}
	}
	for _, r := range id {
		if r < ' ' || r == 0x7f {
			return invalid("submission_id must not contain control characters")
		}
	}
	// Any script's digits count: "＋７ ９１３ …" typed on a full-width
	// keyboard is a number (ingest reads it as one).
	if p := strings.TrimSpace(s.Phone); p != "" && strings.IndexFunc(p, unicode.IsDigit) < 0 {
		return invalid("phone has no digits")
	}
	if e := strings.TrimSpace(s.Email); e != "" && !strings.Contains(e, "@") {
		return invalid("email has no @")
	}
	if _, err := Country(s.Country); err != nil {
		return err
	}
	return nil
}

// Inbound maps the submission to the touch it makes on accountID.
// defaultSource is the account's default ad source, used when the
// submission has no utm_source; received is when the request arrived.
//
// ExternalID is the submission id; At is submitted_at unless it is absent or
// more than a minute after received; From holds the phone, then the email,
// raw but trimmed; EntryPoint is utm_source, else defaultSource, else
// DirectEntryPoint; SourceHint is utm_source, else defaultSource; Meta
// holds page_url and the non-empty utm_* fields; Region is the country's
// code (Country).
func (s Submission) Inbound(accountID int64, defaultSource string, received time.Time) channels.Inbound {
	in := channels.Inbound{
		AccountID:  accountID,
		ExternalID: strings.TrimSpace(s.SubmissionID),
		Kind:       channels.Form,
		At:         received,
		Name:       strings.TrimSpace(s.Name),
		Text:       strings.TrimSpace(s.Message),
	}
	// A submitted_at outside a plausible window around arrival (a clock in
	// year 1 or far ahead) would sort to the top of every queue for ever:
	// the arrival counts, and the sender's time is kept in meta.
	var late string
	if !s.SubmittedAt.IsZero() {
		if s.SubmittedAt.After(received.Add(futureLeeway)) || s.SubmittedAt.Before(received.Add(-pastLeeway)) {
			late = s.SubmittedAt.UTC().Format(time.RFC3339)
		} else {
			in.At = s.SubmittedAt
		}
	}
	in.Region, _ = Country(s.Country) // validated by Read
	if p := strings.TrimSpace(s.Phone); p != "" {
		in.From = append(in.From, channels.Handle{Kind: "phone", Value: p})
	}
	if e := strings.TrimSpace(s.Email); e != "" {
		in.From = append(in.From, channels.Handle{Kind: "email", Value: e})
	}

	source := strings.TrimSpace(s.UTMSource)
	if source == "" {
		source = strings.TrimSpace(defaultSource)
	}
	in.SourceHint = source
	in.EntryPoint = source
	if in.EntryPoint == "" {
		in.EntryPoint = DirectEntryPoint
	}

	for _, kv := range [...][2]string{
		{"submitted_at", late},
		{"page_url", s.PageURL},
		{"utm_source", s.UTMSource},
		{"utm_medium", s.UTMMedium},
		{"utm_campaign", s.UTMCampaign},
		{"utm_content", s.UTMContent},
		{"utm_term", s.UTMTerm},
	} {
		if v := strings.TrimSpace(kv[1]); v != "" {
			if in.Meta == nil {
				in.Meta = make(map[string]string)
			}
			in.Meta[kv[0]] = v
		}
	}
	// The subject is the site, in no one language: the screens say "web
	// form" in the reader's own.
	in.Subject = pageHost(s.PageURL)
	return in
}

// pageHost returns the host name of a page URL, tolerating a missing
// scheme ("example.com/contacts").
func pageHost(raw string) string {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err == nil && u.Host == "" && u.Scheme == "" && !strings.HasPrefix(raw, "/") {
		u, err = url.Parse("//" + raw)
	}
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}
