package phone

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard/switchboard/channels"
)

// Mango Office's Virtual PBX API ("API ВАТС"): Mango posts each event as a
// form to the URL given in the cabinet with the event's path appended
// (events/call, events/summary, events/recording, …), with the fields
// vpbx_api_key, sign and json, where
//
//	sign = hex(sha256(vpbx_api_key + json + vpbx_api_salt))
//
// The same three fields authenticate our commands to Mango
// (commands/callback). Field names follow Mango's VPBX API description
// (app.mango-office.ru/vpbx, "Описание API ВАТС"), as used by public
// clients of it; entry_id identifies the whole call (every leg and
// transfer), so it is the call's ExternalID.

const mangoAPI = "https://app.mango-office.ru/vpbx"

// mangoSign is Mango's signature of json.
func mangoSign(key, json, salt string) string {
	h := sha256.Sum256([]byte(key + json + salt))
	return hex.EncodeToString(h[:])
}

// mangoParty is a from/to object of a Mango event.
type mangoParty struct {
	Extension  string `json:"extension"`
	Number     string `json:"number"`
	LineNumber string `json:"line_number"`
	AcdGroup   string `json:"acd_group"`
}

// mangoEvent holds the fields of events/call, events/summary and
// events/recording that we use; numbers are JSON numbers on the wire
// (numeric strings are accepted too).
type mangoEvent struct {
	EntryID          string     `json:"entry_id"`
	CallID           string     `json:"call_id"`
	Timestamp        flexInt    `json:"timestamp"`
	CallState        string     `json:"call_state"`
	Location         string     `json:"location"`
	From             mangoParty `json:"from"`
	To               mangoParty `json:"to"`
	DisconnectReason flexInt    `json:"disconnect_reason"`
	// CommandID names the command that made the call (our callback);
	// Result is a command's result code (result/callback; 1000 is
	// success).
	CommandID string  `json:"command_id"`
	Result    flexInt `json:"result"`
	// events/summary
	CallDirection flexInt `json:"call_direction"`
	LineNumber    string  `json:"line_number"`
	CreateTime    flexInt `json:"create_time"`
	ForwardTime   flexInt `json:"forward_time"`
	TalkTime      flexInt `json:"talk_time"`
	EndTime       flexInt `json:"end_time"`
	EntryResult   flexInt `json:"entry_result"`
	// events/recording, events/record/added
	RecordingID    string `json:"recording_id"`
	RecordingState string `json:"recording_state"`
}

type mango struct {
	key, salt string
	api       string
	client    *http.Client
}

func (p *mango) name() string          { return Mango }
func (p *mango) window() time.Duration { return eventAge + futureSkew }

// mangoForm reads the three fields of a Mango request.
func mangoForm(body []byte) (key, sign, js string, err error) {
	v, perr := url.ParseQuery(string(body))
	if perr != nil {
		return "", "", "", badRequest("the body must be a form (application/x-www-form-urlencoded) with vpbx_api_key, sign and json")
	}
	return v.Get("vpbx_api_key"), v.Get("sign"), v.Get("json"), nil
}

func (p *mango) verify(q *hookRequest) (string, error) {
	if !strings.HasPrefix(q.path, "events/") && !strings.HasPrefix(q.path, "result/") {
		return "", refuse(http.StatusNotFound, CodeNotFound, "Mango posts to events/… and result/… under this hook, not %q", q.path)
	}
	key, sign, js, err := mangoForm(q.body)
	if err != nil {
		return "", err
	}
	if key == "" || sign == "" {
		return "", unauthorized("the request has no vpbx_api_key or sign")
	}
	if p.key == "" || p.salt == "" {
		return "", unauthorized("this Mango account has no API key or salt yet; set them in Switchboard")
	}
	if subtle.ConstantTimeCompare([]byte(key), []byte(p.key)) != 1 {
		return "", forged("vpbx_api_key is not this account's key")
	}
	want := mangoSign(p.key, js, p.salt)
	if subtle.ConstantTimeCompare([]byte(strings.ToLower(sign)), []byte(want)) != 1 {
		return "", forged("sign does not match: sha256(vpbx_api_key + json + salt)")
	}
	var e mangoEvent
	if json.Unmarshal([]byte(js), &e) == nil {
		t := int64(e.Timestamp)
		if strings.HasSuffix(q.path, "summary") {
			t = int64(e.EndTime)
		}
		if err := checkEventTime(t, q.now); err != nil {
			return "", err
		}
	}
	return "mango:" + q.path + ":" + want, nil
}

// checkEventTime refuses a signed unix time (0: none sent) older than
// eventAge or further ahead than futureSkew.
func checkEventTime(t int64, now time.Time) error {
	if t == 0 {
		return nil
	}
	at := time.Unix(t, 0)
	switch {
	case at.Before(now.Add(-eventAge)):
		return stale("the event is %s old; at most %s is accepted", now.Sub(at).Round(time.Second), eventAge)
	case at.After(now.Add(futureSkew)):
		return stale("the event is %s in the future", at.Sub(now).Round(time.Second))
	}
	return nil
}

func (p *mango) translate(q *hookRequest, m *memory) (outcome, error) {
	_, _, js, _ := mangoForm(q.body)
	var e mangoEvent
	if err := json.Unmarshal([]byte(js), &e); err != nil {
		return outcome{}, badRequest("the json field is not a Mango event: %v", jsonErr(err))
	}
	switch q.path {
	case "events/call":
		return p.callEvent(q, m, e)
	case "events/summary":
		return p.summary(q, m, e)
	case "events/recording", "events/record/added", "events/recording/added":
		if e.RecordingID == "" || e.EntryID == "" {
			return outcome{}, invalid("a recording event needs entry_id and recording_id")
		}
		if e.RecordingState != "" && !strings.EqualFold(e.RecordingState, "Completed") {
			return outcome{note: "recording " + e.RecordingState + ": waiting for Completed"}, nil
		}
		return outcome{in: recordingOnly("mango:"+e.EntryID, "mango-record:"+e.RecordingID, m, q), note: "recording added"}, nil
	case "result/callback":
		if e.CommandID != "" && e.Result != 0 && e.Result != 1000 {
			return outcome{note: "callback failed", dial: &dialNews{key: e.CommandID, state: channels.DialFailed, msg: fmt.Sprintf("Mango refused the call (result %d)", e.Result)}}, nil
		}
		return outcome{note: "callback result"}, nil
	}
	return outcome{note: q.path + ": not used"}, nil
}

// callEvent remembers a call state change until the summary comes.
func (p *mango) callEvent(q *hookRequest, m *memory, e mangoEvent) (outcome, error) {
	if e.EntryID == "" {
		return outcome{}, invalid("events/call needs entry_id")
	}
	at := q.now
	if e.Timestamp > 0 {
		at = time.Unix(int64(e.Timestamp), 0)
	}
	m.note("mango:"+e.EntryID, q, func(c *partial) {
		c.From, c.To = firstOf(c.From, e.From.Number), firstOf(c.To, e.To.LineNumber, e.To.Number)
		c.Started = firstTime(c.Started, at)
		if e.CallState == "Connected" && c.Answered.IsZero() {
			c.Answered = at
			c.Extension = firstOf(e.To.Extension, c.Extension)
		}
		c.Queue = firstOf(c.Queue, e.To.AcdGroup)
	})
	out := outcome{note: "call " + e.CallState + ": kept until the summary"}
	if e.CommandID != "" {
		// A call our callback made: its first Connected is the manager
		// answering; a Disconnected before it, the manager not answering.
		switch e.CallState {
		case "Connected":
			out.dial = &dialNews{key: e.CommandID, state: channels.DialConnected}
		case "Disconnected":
			out.dial = &dialNews{key: e.CommandID, state: channels.DialFailed, msg: "the call ended before the manager answered"}
		}
	}
	return out, nil
}

// summary turns events/summary, Mango's final report of a call, into the
// touch.
func (p *mango) summary(q *hookRequest, m *memory, e mangoEvent) (outcome, error) {
	if e.EntryID == "" {
		return outcome{}, invalid("events/summary needs entry_id")
	}
	if len(e.EntryID) > maxIDLen {
		return outcome{}, invalid("entry_id is longer than %d bytes", maxIDLen)
	}
	switch e.CallDirection {
	case 0:
		m.forget("mango:" + e.EntryID)
		return outcome{note: "internal call: not a touch"}, nil
	case 1, 2:
	default:
		return outcome{}, invalid("call_direction must be 0, 1 or 2, not %d", e.CallDirection)
	}
	id := "mango:" + e.EntryID
	mem := m.peek(id, q.now)
	c := cloudCall{
		id:       id,
		outgoing: e.CallDirection == 2,
		queue:    mem.Queue,
		answered: e.EntryResult == 1,
		meta:     map[string]string{"disconnect_reason": fmtNonZero(int64(e.DisconnectReason))},
	}
	if c.outgoing {
		c.client, c.extension = e.To.Number, firstOf(e.From.Extension, mem.Extension)
	} else {
		c.client, c.line = firstOf(e.From.Number, mem.From), firstOf(e.LineNumber, mem.To, e.To.Number)
		c.extension = firstOf(mem.Extension, e.To.Extension)
	}
	if e.CreateTime > 0 {
		c.started = time.Unix(int64(e.CreateTime), 0)
	}
	if c.answered && e.TalkTime > 0 {
		c.ring = seconds(int64(e.TalkTime - e.CreateTime))
		c.talk = seconds(int64(e.EndTime - e.TalkTime))
	} else {
		c.ring = seconds(int64(e.EndTime - e.CreateTime))
	}
	if !c.answered && e.ForwardTime == 0 && !c.outgoing {
		// Never put through to anyone: the caller hung up in the voice
		// menu or the queue.
		c.missed = channels.MissedAbandoned
	}
	in, err := c.inbound(append(mem.Raw, q.raw()))
	return outcome{in: in}, err
}

func fmtNonZero(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

// jsonErr is a short reason for a JSON decoding error.
func jsonErr(err error) string {
	if te, ok := err.(*json.UnmarshalTypeError); ok && te.Field != "" {
		return fmt.Sprintf("%s has the wrong type (a JSON %s)", te.Field, te.Value)
	}
	return "not valid JSON"
}

// command posts a signed command to Mango's API.
func (p *mango) command(ctx context.Context, path string, payload any) (*http.Response, error) {
	js, err := json.Marshal(payload)
	if err != nil {
		return nil, err
	}
	form := url.Values{"vpbx_api_key": {p.key}, "sign": {mangoSign(p.key, string(js), p.salt)}, "json": {string(js)}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.api+"/"+path, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("mango: %s: %w", path, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return p.client.Do(req)
}

// dialKey: Mango names a callback's calls by our command_id.
func (p *mango) dialKey(req channels.DialRequest) string { return req.ID }

// dial asks Mango to ring the extension, then the number
// (commands/callback). Mango answers {"result":1000} when it accepted.
func (p *mango) dial(ctx context.Context, req channels.DialRequest) error {
	cmd := struct {
		CommandID string `json:"command_id"`
		From      struct {
			Extension string `json:"extension"`
		} `json:"from"`
		ToNumber string `json:"to_number"`
	}{CommandID: req.ID, ToNumber: digits(req.To)}
	cmd.From.Extension = strings.TrimSpace(req.Extension)
	resp, err := p.command(ctx, "commands/callback", cmd)
	if err != nil {
		return fmt.Errorf("mango: callback: %w", err)
	}
	defer resp.Body.Close()
	var ans struct {
		Result  int64  `json:"result"`
		Message string `json:"message"`
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_ = json.Unmarshal(b, &ans)
	if resp.StatusCode != http.StatusOK || ans.Result != 1000 {
		return fmt.Errorf("mango: callback refused: HTTP %d, result %d %s", resp.StatusCode, ans.Result, firstOf(ans.Message, truncate(string(b), 200)))
	}
	return nil
}

// recordingLink asks Mango for a download link of a recording
// (queries/recording/post with action "download"); Mango answers with a
// redirect to a temporary link.
func (p *mango) recordingLink(ctx context.Context, ref string) (string, error) {
	id, ok := strings.CutPrefix(ref, "mango-record:")
	if !ok || id == "" {
		return "", fmt.Errorf("mango: %q is not a Mango recording", ref)
	}
	// The link is the redirect's target: do not follow it.
	noRedirect := *p.client
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	p2 := *p
	p2.client = &noRedirect
	resp, err := p2.command(ctx, "queries/recording/post", map[string]string{"recording_id": id, "action": "download"})
	if err != nil {
		return "", fmt.Errorf("mango: recording %s: %w", id, err)
	}
	defer resp.Body.Close()
	if loc := resp.Header.Get("Location"); loc != "" && resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return loc, nil
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	return "", fmt.Errorf("mango: recording %s: HTTP %d without a link: %s", id, resp.StatusCode, truncate(string(b), 200))
}
