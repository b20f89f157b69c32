package phone

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard/switchboard/channels"
)

// cloudCall is a finished call as a provider's mapper sees it, before it
// becomes an Inbound: the one place where direction, numbers and the
// outcome are put into the contract's shape.
type cloudCall struct {
	id        string // provider-prefixed ExternalID
	outgoing  bool
	client    string // the other side: the caller of an inbound call, the called party of an outbound one
	line      string // the company number called (inbound only): the entry point
	extension string
	queue     string
	started   time.Time
	answered  bool
	ring      time.Duration
	talk      time.Duration
	missed    string
	recording string
	meta      map[string]string
}

// inbound builds the Inbound of c with its raw requests. A call without
// the client's number cannot be tied to a contact and is refused.
func (c cloudCall) inbound(raw []rawRequest) (*channels.Inbound, error) {
	client := strings.TrimSpace(c.client)
	if client == "" {
		return nil, invalid("the call has no number for the other side (a hidden caller id?); it cannot be tied to a contact")
	}
	for _, f := range []struct {
		name, value string
		limit       int
	}{{"number", client, maxNumLen}, {"called number", c.line, maxNumLen}, {"extension", c.extension, maxNumLen}, {"queue", c.queue, maxIDLen}} {
		if err := checkLen(f.name, f.value, f.limit); err != nil {
			return nil, err
		}
	}
	info := &channels.CallInfo{
		Answered:     c.answered,
		Ring:         max(c.ring, 0),
		Duration:     max(c.talk, 0),
		Extension:    strings.TrimSpace(c.extension),
		Queue:        strings.TrimSpace(c.queue),
		RecordingURL: c.recording,
	}
	if !c.answered {
		if !c.outgoing && info.Extension != "" {
			// Extension names who answered; who rang in vain is kept.
			c.meta = withMeta(c.meta, "rang_extension", info.Extension)
			info.Extension = ""
		}
		info.Missed = c.missed
		if info.Missed == "" {
			info.Missed = channels.MissedNoAnswer
		}
		info.Duration = 0
	}
	in := &channels.Inbound{
		ExternalID: c.id,
		Kind:       channels.Call,
		At:         c.started,
		From:       []channels.Handle{{Kind: "phone", Value: client}},
		Outgoing:   c.outgoing,
		Call:       info,
	}
	if !c.outgoing {
		in.EntryPoint = strings.TrimSpace(c.line)
	}
	for k, v := range c.meta {
		if v = strings.TrimSpace(v); v != "" {
			if in.Meta == nil {
				in.Meta = map[string]string{}
			}
			in.Meta[k] = v
		}
	}
	setRaw(in, raw)
	return in, nil
}

// recordingOnly builds the Inbound that adds a recording to the stored
// call id: the contract's "same ExternalID, only RecordingURL". Who the
// call was with is filled from memory when the call was stored recently
// (ingest needs a handle to validate it).
func recordingOnly(id, url string, m *memory, q *hookRequest) *channels.Inbound {
	in := &channels.Inbound{
		ExternalID: id,
		Kind:       channels.Call,
		Call:       &channels.CallInfo{RecordingURL: url, RecordingOnly: true},
	}
	if d, ok := m.stored(id, q.now); ok {
		in.From, in.EntryPoint, in.Outgoing = d.From, d.EntryPoint, d.Outgoing
	}
	setRaw(in, []rawRequest{q.raw()})
	return in
}

// withMeta sets m[k] = v, making m when needed.
func withMeta(m map[string]string, k, v string) map[string]string {
	if m == nil {
		m = map[string]string{}
	}
	m[k] = v
	return m
}

// checkLen refuses a field longer than limit bytes.
func checkLen(field, v string, limit int) error {
	if len(v) > limit {
		return invalid("%s is %d bytes long; at most %d are allowed", field, len(v), limit)
	}
	return nil
}

// since is the time from a to b, zero when either is unknown or b is
// before a.
func since(a, b time.Time) time.Duration {
	if a.IsZero() || b.IsZero() || b.Before(a) {
		return 0
	}
	return b.Sub(a)
}

// seconds is n seconds, zero when negative.
func seconds(n int64) time.Duration {
	if n <= 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}

// flexInt is a JSON integer that may also arrive as a numeric string or
// null (providers are not consistent about it).
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := string(bytes.Trim(bytes.TrimSpace(b), `"`))
	if s == "" || s == "null" {
		*f = 0
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		x, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || x > 1<<62 || x < -(1<<62) {
			return &json.UnmarshalTypeError{Value: "string " + strconv.Quote(s), Type: reflect.TypeFor[int64]()}
		}
		n = int64(x)
	}
	*f = flexInt(n)
	return nil
}
