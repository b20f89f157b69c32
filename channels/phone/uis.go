package phone

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard/switchboard/channels"
)

// UIS (and CoMagic, the same platform) sends HTTP notifications whose body
// the customer writes in the cabinet (Уведомления → Добавить → HTTP) from
// the event's variables, {{call_session_id}} and the like, which it fills
// in as JSON values (strings quoted, numbers bare, null when empty). UIS
// signs nothing, so the URL carries a secret:
//
//	POST /hooks/phone/{account}/{secret}
//
// compared in constant time with the account's secret. The template we
// ask for is in docs/phone-cloud.md; UISEvent is what it produces. Every
// field takes a string, a number, a boolean, null or a list (its first
// element), so a template written with or without quotes around the
// variables reads the same.

// UISEvent is one UIS notification built from our template.
type UISEvent struct {
	// Event is written literally in each notification's template:
	// "ended" in the call-ended notification, "recording" in the
	// recording-ready one.
	Event         flexText `json:"event"`
	CallSessionID flexText `json:"call_session_id"`
	Direction     flexText `json:"direction"`
	IsInternal    flexText `json:"is_internal"`
	Contact       flexText `json:"contact_phone_number"`
	Virtual       flexText `json:"virtual_phone_number"`
	EmployeeID    flexText `json:"employee_id"`
	EmployeePhone flexText `json:"employee_phone_number"`
	StartTime     flexText `json:"start_time"`
	Talk          flexText `json:"talk_time_duration"`
	Total         flexText `json:"total_time_duration"`
	Wait          flexText `json:"wait_time_duration"`
	FinishReason  flexText `json:"finish_reason"`
	RecordingURL  flexText `json:"recording_url"`
	Notification  flexText `json:"notification_time"`
}

// flexText is a template value that may arrive as a string, a number, a
// boolean or null.
type flexText string

func (f *flexText) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*f = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexText(strings.TrimSpace(s))
	case len(b) > 0 && b[0] == '[':
		// {{employee_ids}} and the like may be lists: the first counts.
		var list []flexText
		if err := json.Unmarshal(b, &list); err != nil {
			return err
		}
		*f = ""
		if len(list) > 0 {
			*f = list[0]
		}
	default:
		*f = flexText(b)
	}
	return nil
}

// maxCallSeconds bounds a duration: no call lasts 100 days.
const maxCallSeconds = 100 * 24 * 3600

func (f flexText) seconds() (time.Duration, bool) {
	s := strings.TrimSpace(string(f))
	if s == "" {
		return 0, true
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n < 0 || n > maxCallSeconds {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

// redacted stands for the secret in a UIS hook path.
const redacted = "{secret}"

type uis struct {
	token string
}

func (p *uis) name() string          { return UIS }
func (p *uis) window() time.Duration { return eventAge + 2*tzSlack + futureSkew }

func (p *uis) verify(q *hookRequest) (string, error) {
	if q.path == "" {
		return "", unauthorized("the UIS hook URL ends with the account's secret: /hooks/phone/{account}/{secret}")
	}
	if p.token == "" {
		return "", unauthorized("this UIS account has no secret yet; set one in Switchboard")
	}
	if subtle.ConstantTimeCompare([]byte(q.path), []byte(p.token)) != 1 {
		return "", forged("the secret in the URL does not match this account's")
	}
	// The path is the secret: it must reach neither the log nor the raw
	// requests kept with the call.
	q.path = redacted
	var e struct {
		Notification flexText `json:"notification_time"`
	}
	if json.Unmarshal(q.body, &e) == nil && e.Notification != "" {
		if err := checkUISTime(string(e.Notification), q.now); err != nil {
			return "", err
		}
	}
	h := sha256.Sum256(q.body)
	return "uis:" + hex.EncodeToString(h[:]), nil
}

// checkUISTime applies the staleness check to notification_time, which
// UIS writes with or without a zone.
func checkUISTime(s string, now time.Time) error {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return checkEventTime(t.Unix(), now)
	}
	s = strings.TrimSpace(s)
	if len(s) > len(zadarmaTime) {
		s = s[:len(zadarmaTime)] // drop fractions of a second
	}
	return checkZoneless(s, "", now)
}

func (p *uis) translate(q *hookRequest, m *memory) (outcome, error) {
	var e UISEvent
	trimmed := bytes.TrimSpace(q.body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return outcome{}, badRequest("the body must be the JSON object of the template in docs/phone-cloud.md")
	}
	if err := json.Unmarshal(trimmed, &e); err != nil {
		return outcome{}, badRequest("the body is not the template's JSON: %s (an unquoted empty variable?)", jsonErr(err))
	}
	id := strings.TrimSpace(string(e.CallSessionID))
	switch {
	case id == "":
		return outcome{}, invalid("call_session_id is empty: put \"call_session_id\": \"{{call_session_id}}\" in the template")
	case len(id) > maxIDLen:
		return outcome{}, invalid("call_session_id is longer than %d bytes", maxIDLen)
	}
	key := "uis:" + id
	switch e.Event {
	case "recording":
		if e.RecordingURL == "" {
			return outcome{}, invalid("a recording notification needs recording_url")
		}
		if err := checkRecordingURL(string(e.RecordingURL)); err != nil {
			return outcome{}, err
		}
		return outcome{in: recordingOnly(key, string(e.RecordingURL), m, q), note: "recording added"}, nil
	case "ended", "":
	default:
		return outcome{}, invalid("event must be \"ended\" or \"recording\", not %q", e.Event)
	}
	if b := strings.ToLower(string(e.IsInternal)); b == "true" || b == "1" || e.Direction == "internal" {
		return outcome{note: "internal call: not a touch"}, nil
	}
	return p.ended(q, key, e)
}

// ended turns the call-ended notification into the touch.
func (p *uis) ended(q *hookRequest, key string, e UISEvent) (outcome, error) {
	talk, ok1 := e.Talk.seconds()
	total, ok2 := e.Total.seconds()
	wait, ok3 := e.Wait.seconds()
	if !ok1 || !ok2 || !ok3 {
		return outcome{}, invalid("talk_time_duration, total_time_duration and wait_time_duration must be seconds")
	}
	if err := checkRecordingURL(string(e.RecordingURL)); err != nil {
		return outcome{}, err
	}
	c := cloudCall{
		id:        key,
		client:    string(e.Contact),
		extension: firstOf(string(e.EmployeeID), string(e.EmployeePhone)),
		answered:  talk > 0,
		talk:      talk,
		recording: string(e.RecordingURL),
		meta:      map[string]string{"finish_reason": string(e.FinishReason), "start_time": string(e.StartTime)},
	}
	switch strings.ToLower(string(e.Direction)) {
	case "out", "outgoing":
		c.outgoing = true
	case "in", "incoming", "":
		c.line = string(e.Virtual)
	default:
		return outcome{}, invalid("direction must be in or out, not %q", e.Direction)
	}
	c.ring = wait
	if c.ring == 0 && total > talk {
		c.ring = total - talk
	}
	if t, err := time.Parse(time.RFC3339, string(e.StartTime)); err == nil {
		c.started = t
	} else {
		c.started = q.now.Add(-max(total, c.ring+talk))
	}
	c.missed = uisMissed(string(e.FinishReason))
	in, err := c.inbound([]rawRequest{q.raw()})
	return outcome{in: in}, err
}

// uisMissed maps UIS's finish_reason of an unanswered call.
func uisMissed(reason string) string {
	r := strings.ToLower(reason)
	switch {
	case strings.Contains(r, "busy"):
		return channels.MissedBusy
	case strings.Contains(r, "subscriber_disconnects"), strings.Contains(r, "contact_disconnects"):
		return channels.MissedCancelled
	case strings.Contains(r, "no_operators"), strings.Contains(r, "queue"):
		return channels.MissedAbandoned
	case strings.Contains(r, "fail"), strings.Contains(r, "error"):
		return channels.MissedFailed
	}
	return channels.MissedNoAnswer
}
