package phone

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard/switchboard/channels"
)

// The generic cloud hook takes our own documented call event (see
// docs/phone-cloud.md), signed exactly like the web channel's
// submissions: HMAC-SHA256 under the account's secret over
// timestamp + "." + body, in two headers.
const (
	HeaderTimestamp = channels.HeaderTimestamp
	HeaderSignature = channels.HeaderSignature
)

// Generic call events (GenericEvent.Event).
const (
	EventRinging   = "ringing"
	EventAnswered  = "answered"
	EventEnded     = "ended"
	EventRecording = "recording"
)

// GenericEvent is one call event on the generic hook. Only "ended" is
// needed to store a call; "ringing" and "answered" before it fill what the
// ended event leaves out; "recording" adds a recording to a stored call.
type GenericEvent struct {
	CallID string `json:"call_id"`
	Event  string `json:"event"`
	// Direction is "in" (a client called a company number), "out" (a
	// company extension called a client) or "internal" (ignored).
	Direction string `json:"direction"`
	// From and To as dialled: for "in", From is the client and To the
	// company (tracking) number; for "out", To is the client.
	From         string    `json:"from"`
	To           string    `json:"to"`
	Extension    string    `json:"extension"`
	StartedAt    time.Time `json:"started_at,omitzero"`
	AnsweredAt   time.Time `json:"answered_at,omitzero"`
	EndedAt      time.Time `json:"ended_at,omitzero"`
	RingSeconds  *int64    `json:"ring_seconds,omitempty"`
	TalkSeconds  *int64    `json:"talk_seconds,omitempty"`
	MissedReason string    `json:"missed_reason,omitempty"`
	RecordingURL string    `json:"recording_url,omitempty"`
	Queue        string    `json:"queue,omitempty"`
}

// SignGeneric returns the X-Switchboard-Signature value of body sent at
// timestamp: the web channel's scheme (channels.Sign).
func SignGeneric(secret []byte, timestamp string, body []byte) string {
	return channels.Sign(secret, timestamp, body)
}

type generic struct {
	secret []byte
}

func (g *generic) name() string          { return Generic }
func (g *generic) window() time.Duration { return seenGen }

func (g *generic) verify(q *hookRequest) (string, error) {
	if q.path != "" {
		return "", refuse(404, CodeNotFound, "the generic hook has no sub-paths; POST to /hooks/phone/{account}")
	}
	ts := q.r.Header.Get(HeaderTimestamp)
	sig := q.r.Header.Get(HeaderSignature)
	if ts == "" || sig == "" {
		return "", unauthorized("the request is not signed: set the %s and %s headers", HeaderTimestamp, HeaderSignature)
	}
	if len(g.secret) == 0 {
		return "", unauthorized("this phone account has no signing secret yet; set one in its settings in Switchboard")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || strings.Trim(ts, "0123456789") != "" {
		return "", stale("the %s header must be unix time in seconds, such as 1732431792", HeaderTimestamp)
	}
	skew := int64(maxSkewGen / time.Second)
	if n := q.now.Unix(); sec < n-skew || sec > n+skew {
		return "", stale("the %s header is %d seconds off our clock; at most %d are allowed", HeaderTimestamp, sec-n, skew)
	}
	if ok, _ := channels.SignatureMatches(g.secret, ts, q.body, sig); !ok {
		return "", forged(`the signature does not match: send "sha256=" + hex HMAC-SHA256 of timestamp + "." + the exact body under the account secret`)
	}
	return "generic:" + strings.ToLower(strings.TrimPrefix(sig, channels.SignaturePrefix)), nil
}

func (g *generic) translate(q *hookRequest, m *memory) (outcome, error) {
	e, err := decodeGeneric(q.body)
	if err != nil {
		return outcome{}, err
	}
	if e.Direction == "internal" {
		return outcome{note: "internal call: not a touch"}, nil
	}
	id := "generic:" + e.CallID
	switch e.Event {
	case EventRinging, EventAnswered:
		m.note(id, q, func(p *partial) {
			p.Outgoing = e.Direction == "out"
			p.From, p.To = firstOf(e.From, p.From), firstOf(e.To, p.To)
			p.Extension, p.Queue = firstOf(e.Extension, p.Extension), firstOf(e.Queue, p.Queue)
			p.Started = firstTime(e.StartedAt, p.Started, q.now)
			if e.Event == EventAnswered {
				p.Answered = firstTime(e.AnsweredAt, p.Answered, q.now)
			}
		})
		return outcome{note: e.Event + ": kept until the call ends"}, nil
	case EventRecording:
		in := recordingOnly(id, e.RecordingURL, m, q)
		if len(in.From) == 0 && e.Direction != "" {
			c := genericCall(id, e, partial{})
			if full, err := c.inbound(nil); err == nil {
				in.From, in.EntryPoint, in.Outgoing = full.From, full.EntryPoint, full.Outgoing
			}
		}
		return outcome{in: in, note: "recording added"}, nil
	}
	p := m.peek(id, q.now)
	c := genericCall(id, e, p)
	in, err := c.inbound(append(p.Raw, q.raw()))
	return outcome{in: in}, err
}

// genericCall merges an ended event with what earlier events said.
func genericCall(id string, e GenericEvent, p partial) cloudCall {
	c := cloudCall{
		id:        id,
		outgoing:  e.Direction == "out" || (e.Direction == "" && p.Outgoing),
		extension: firstOf(e.Extension, p.Extension),
		queue:     firstOf(e.Queue, p.Queue),
		missed:    e.MissedReason,
		recording: e.RecordingURL,
	}
	from, to := firstOf(e.From, p.From), firstOf(e.To, p.To)
	if c.outgoing {
		c.client = to
	} else {
		c.client, c.line = from, to
	}
	started := firstTime(e.StartedAt, p.Started, time.Time{})
	answered := firstTime(e.AnsweredAt, p.Answered, time.Time{})
	c.started = started
	c.answered = !answered.IsZero() || (e.TalkSeconds != nil && *e.TalkSeconds > 0)
	if e.MissedReason != "" {
		c.answered = false
	}
	end := answered
	if end.IsZero() {
		end = e.EndedAt
	}
	c.ring = since(started, end)
	if e.RingSeconds != nil {
		c.ring = seconds(*e.RingSeconds)
	}
	c.talk = since(answered, e.EndedAt)
	if e.TalkSeconds != nil {
		c.talk = seconds(*e.TalkSeconds)
	}
	if c.started.IsZero() && !e.EndedAt.IsZero() {
		c.started = e.EndedAt.Add(-c.ring - c.talk)
	}
	return c
}

// decodeGeneric parses and checks one generic event.
func decodeGeneric(body []byte) (GenericEvent, error) {
	var e GenericEvent
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return e, badRequest(`the body must be a JSON object such as {"call_id":"…","event":"ended",…}`)
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	if err := dec.Decode(&e); err != nil {
		if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok && te.Field != "" {
			return e, badRequest("the field %q has the wrong type (a JSON %s)", te.Field, te.Value)
		}
		if _, ok := errors.AsType[*time.ParseError](err); ok {
			return e, badRequest("times must be RFC 3339, such as \"2026-12-03T09:15:00+03:00\"")
		}
		return e, badRequest("the body is not valid JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return e, badRequest("the body must hold exactly one JSON object")
	}
	e.CallID, e.Event, e.Direction = strings.TrimSpace(e.CallID), strings.TrimSpace(e.Event), strings.TrimSpace(e.Direction)
	switch {
	case e.CallID == "":
		return e, invalid("call_id is required: the PBX's id of the call, the same in every event of the call")
	case len(e.CallID) > maxIDLen:
		return e, invalid("call_id is longer than %d bytes", maxIDLen)
	case e.Event != EventRinging && e.Event != EventAnswered && e.Event != EventEnded && e.Event != EventRecording:
		return e, invalid("event must be ringing, answered, ended or recording, not %q", e.Event)
	case e.Direction != "in" && e.Direction != "out" && e.Direction != "internal" && !(e.Direction == "" && e.Event == EventRecording):
		return e, invalid("direction must be in, out or internal, not %q", e.Direction)
	case e.Event == EventRecording && e.RecordingURL == "":
		return e, invalid("a recording event needs recording_url")
	}
	if err := checkRecordingURL(e.RecordingURL); err != nil {
		return e, err
	}
	switch e.MissedReason {
	case "", channels.MissedNoAnswer, channels.MissedBusy, channels.MissedAbandoned, channels.MissedCancelled, channels.MissedFailed:
	default:
		return e, invalid("missed_reason must be no_answer, busy, abandoned, cancelled or failed, not %q", e.MissedReason)
	}
	return e, nil
}

// checkRecordingURL accepts an empty or an http(s) URL of sane length.
func checkRecordingURL(u string) error {
	if u == "" {
		return nil
	}
	if len(u) > maxURLLen {
		return invalid("recording_url is longer than %d bytes", maxURLLen)
	}
	if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		return invalid("recording_url must be an http(s) URL, not %q", truncate(u, 40))
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// firstOf returns the first non-blank value.
func firstOf(vs ...string) string {
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

// firstTime returns the first non-zero time.
func firstTime(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}
