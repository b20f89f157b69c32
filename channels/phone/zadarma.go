package phone

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
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

// Zadarma (and Novofon, its Russian twin on the same platform) posts PBX
// call notifications as forms to the URL set in the cabinet (Settings →
// Integrations and API → Notifications). Before saving the URL, Zadarma
// checks it with GET ?zd_echo=<x> and expects <x> back as the body.
//
// Each notification carries a Signature header:
//
//	Signature = base64(hex(HMAC-SHA1(api_secret, fields)))
//
// (base64 of the hex digest, as PHP's base64_encode(hash_hmac('sha1', …))
// makes it), where fields are the concatenation, per event, of:
//
//	NOTIFY_START, NOTIFY_INTERNAL, NOTIFY_END: caller_id + called_did + call_start
//	NOTIFY_ANSWER:                             caller_id + destination + call_start
//	NOTIFY_OUT_START, NOTIFY_OUT_END:          internal + destination + call_start
//	NOTIFY_RECORD:                             pbx_call_id + call_id_with_rec
//
// Source: Zadarma's official PHP library, github.com/zadarma/user-api-v1,
// lib/Webhook/Notify*.php (getSignatureString) and lib/Client.php
// (encodeSignature), and its examples/callinfo_callback.php. The same
// encodeSignature over method + sorted query + md5(query) authenticates our
// API calls (Authorization: key:signature, lib/Client.php getAuthHeader).
//
// The signature covers only those fields: duration, disposition and the
// extension of NOTIFY_END are not signed by Zadarma, so whoever saw one
// signed notification of a call could alter them. Nothing here can fix
// that; the replay and staleness checks narrow it.

const zadarmaAPI = "https://api.zadarma.com"

// zadarmaTime is call_start's layout: local time of the PBX, no zone.
const zadarmaTime = "2006-01-02 15:04:05"

// zadarmaSign is Zadarma's encodeSignature.
func zadarmaSign(secret, s string) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(s))
	return base64.StdEncoding.EncodeToString([]byte(hex.EncodeToString(m.Sum(nil))))
}

// zadarmaSigned is the signed string of notification v.
func zadarmaSigned(v url.Values) string {
	switch v.Get("event") {
	case "NOTIFY_ANSWER":
		return v.Get("caller_id") + v.Get("destination") + v.Get("call_start")
	case "NOTIFY_OUT_START", "NOTIFY_OUT_END":
		return v.Get("internal") + v.Get("destination") + v.Get("call_start")
	case "NOTIFY_RECORD":
		return v.Get("pbx_call_id") + v.Get("call_id_with_rec")
	}
	return v.Get("caller_id") + v.Get("called_did") + v.Get("call_start")
}

type zadarma struct {
	key, secret string
	api         string
	client      *http.Client
}

func (p *zadarma) name() string { return Zadarma }

// window: call_start has no zone, so a replay is only known stale once it
// is older than a day in any zone.
func (p *zadarma) window() time.Duration { return eventAge + 2*tzSlack + futureSkew }

// serveGet answers Zadarma's echo check with the value it sent.
func (p *zadarma) serveGet(w http.ResponseWriter, r *http.Request) {
	echo := r.URL.Query().Get("zd_echo")
	if echo == "" || len(echo) > echoLimit {
		channels.WriteHookError(w, http.StatusBadRequest, CodeBadRequest, "GET is only Zadarma's check: ?zd_echo=<value>")
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	io.WriteString(w, echo)
}

func (p *zadarma) verify(q *hookRequest) (string, error) {
	if q.path != "" {
		return "", refuse(http.StatusNotFound, CodeNotFound, "Zadarma posts to the hook itself, not to %q", q.path)
	}
	v, err := url.ParseQuery(string(q.body))
	if err != nil || v.Get("event") == "" {
		return "", badRequest("the body must be a Zadarma notification form with an event field")
	}
	sig := q.r.Header.Get("Signature")
	if sig == "" {
		return "", unauthorized("the Signature header is missing (Zadarma sends it once an API key and secret exist)")
	}
	if p.secret == "" {
		return "", unauthorized("this Zadarma account has no API secret yet; set it in Switchboard")
	}
	if subtle.ConstantTimeCompare([]byte(sig), []byte(zadarmaSign(p.secret, zadarmaSigned(v)))) != 1 {
		return "", forged("the Signature does not match: base64(hex(HMAC-SHA1(secret, the event's signed fields)))")
	}
	if cs := v.Get("call_start"); cs != "" {
		if err := checkZoneless(cs, v.Get("duration"), q.now); err != nil {
			return "", err
		}
	}
	h := sha256.Sum256(append([]byte(sig+"\n"), q.body...))
	return "zadarma:" + hex.EncodeToString(h[:]), nil
}

// checkZoneless refuses a call_start that, read in any time zone, is
// more than eventAge (plus the call's duration) old or is in the future.
func checkZoneless(callStart, duration string, now time.Time) error {
	t, err := time.Parse(zadarmaTime, callStart)
	if err != nil {
		return invalid("call_start must look like 2026-12-03 12:15:00, not %q", truncate(callStart, 40))
	}
	d, _ := strconv.ParseInt(duration, 10, 64)
	naive := time.Date(now.Year(), now.Month(), now.Day(), now.Hour(), now.Minute(), now.Second(), 0, time.UTC)
	switch {
	case t.Before(naive.Add(-eventAge - tzSlack - seconds(d))):
		return stale("call_start %s is too old to be a fresh notification", callStart)
	case t.After(naive.Add(tzSlack + futureSkew)):
		return stale("call_start %s is in the future", callStart)
	}
	return nil
}

func (p *zadarma) translate(q *hookRequest, m *memory) (outcome, error) {
	v, _ := url.ParseQuery(string(q.body))
	ev := v.Get("event")
	id := v.Get("pbx_call_id")
	if id == "" {
		return outcome{}, invalid("%s has no pbx_call_id", ev)
	}
	if len(id) > maxIDLen {
		return outcome{}, invalid("pbx_call_id is longer than %d bytes", maxIDLen)
	}
	key := "zadarma:" + id
	switch ev {
	case "NOTIFY_START", "NOTIFY_INTERNAL", "NOTIFY_ANSWER", "NOTIFY_OUT_START":
		m.note(key, q, func(c *partial) {
			c.Started = firstTime(c.Started, q.now)
			switch ev {
			case "NOTIFY_START":
				c.From, c.To = v.Get("caller_id"), v.Get("called_did")
			case "NOTIFY_ANSWER":
				c.Answered = firstTime(c.Answered, q.now)
				c.Extension = firstOf(v.Get("internal"), v.Get("destination"), c.Extension)
			case "NOTIFY_OUT_START":
				c.Outgoing, c.To, c.Extension = true, v.Get("destination"), v.Get("internal")
			}
		})
		out := outcome{note: ev + ": kept until the call ends"}
		if ev == "NOTIFY_OUT_START" {
			// A callback rings the extension first; once it answers,
			// Zadarma dials the number: the outbound call starts.
			out.dial = &dialNews{key: zadarmaDialKey(v.Get("internal"), v.Get("destination")), state: channels.DialConnected}
		}
		return out, nil
	case "NOTIFY_END", "NOTIFY_OUT_END":
		return p.end(q, m, v, key)
	case "NOTIFY_RECORD":
		rec := v.Get("call_id_with_rec")
		if rec == "" {
			return outcome{}, invalid("NOTIFY_RECORD has no call_id_with_rec")
		}
		return outcome{in: recordingOnly(key, "zadarma-record:"+rec, m, q), note: "recording added"}, nil
	}
	return outcome{note: ev + ": not used"}, nil
}

// end turns NOTIFY_END or NOTIFY_OUT_END into the touch.
func (p *zadarma) end(q *hookRequest, m *memory, v url.Values, key string) (outcome, error) {
	mem := m.peek(key, q.now)
	c := cloudCall{id: key, outgoing: v.Get("event") == "NOTIFY_OUT_END", extension: firstOf(v.Get("internal"), mem.Extension)}
	if c.outgoing {
		c.client = v.Get("destination")
		if isExtension(c.client) {
			return outcome{note: "internal call: not a touch"}, nil
		}
	} else {
		c.client, c.line = v.Get("caller_id"), v.Get("called_did")
		if isExtension(c.client) && isExtension(c.line) {
			return outcome{note: "internal call: not a touch"}, nil
		}
	}
	dur, err := strconv.ParseInt(firstOf(v.Get("duration"), "0"), 10, 64)
	if err != nil || dur < 0 {
		return outcome{}, invalid("duration must be whole seconds, not %q", truncate(v.Get("duration"), 20))
	}
	disp := strings.ToLower(strings.TrimSpace(v.Get("disposition")))
	c.answered = disp == "answered"
	c.missed = zadarmaMissed(disp)
	if c.answered {
		c.talk = seconds(dur)
		c.ring = since(mem.Started, mem.Answered)
	} else {
		c.ring = seconds(dur)
	}
	c.started = firstTime(mem.Started, q.now.Add(-c.ring-c.talk))
	if v.Get("is_recorded") == "1" && v.Get("call_id_with_rec") != "" {
		c.recording = "zadarma-record:" + v.Get("call_id_with_rec")
	}
	c.meta = map[string]string{"disposition": disp, "status_code": v.Get("status_code")}
	in, err := c.inbound(append(mem.Raw, q.raw()))
	return outcome{in: in}, err
}

// zadarmaMissed maps a disposition to why the call was missed.
func zadarmaMissed(disp string) string {
	switch disp {
	case "answered":
		return ""
	case "busy":
		return channels.MissedBusy
	case "cancel":
		return channels.MissedCancelled
	case "no answer", "":
		return channels.MissedNoAnswer
	}
	return channels.MissedFailed // failed, no money, unallocated number, line limit, …
}

// isExtension reports a short number: a PBX extension, not a phone.
func isExtension(s string) bool {
	s = strings.TrimSpace(s)
	return s != "" && len(s) <= 5 && digits(s) == s
}

// call makes a GET to Zadarma's API method (such as
// "/v1/request/callback/") with params, signed, and decodes the answer.
func (p *zadarma) call(ctx context.Context, method string, params url.Values, out any) error {
	params.Set("format", "json")
	query := params.Encode() // sorted by key, spaces as +: PHP's http_build_query RFC 1738
	sum := md5.Sum([]byte(query))
	auth := p.key + ":" + zadarmaSign(p.secret, method+query+hex.EncodeToString(sum[:]))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.api+method+"?"+query, nil)
	if err != nil {
		return fmt.Errorf("zadarma: %s: %w", method, err)
	}
	req.Header.Set("Authorization", auth)
	resp, err := p.client.Do(req)
	if err != nil {
		return fmt.Errorf("zadarma: %s: %w", method, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return fmt.Errorf("zadarma: %s: %w", method, err)
	}
	var st struct {
		Status  string `json:"status"`
		Message string `json:"message"`
	}
	_ = json.Unmarshal(b, &st)
	if resp.StatusCode != http.StatusOK || st.Status != "success" {
		return fmt.Errorf("zadarma: %s refused: HTTP %d: %s", method, resp.StatusCode, firstOf(st.Message, truncate(string(b), 200)))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("zadarma: %s: %w", method, err)
		}
	}
	return nil
}

// dialKey: Zadarma's callback has no id of ours; its outbound call is
// known by the extension and the number.
func (p *zadarma) dialKey(req channels.DialRequest) string {
	return zadarmaDialKey(req.Extension, req.To)
}

func zadarmaDialKey(ext, number string) string {
	return strings.TrimSpace(ext) + "|" + digits(number)
}

// dial asks Zadarma to ring the extension, then the number.
func (p *zadarma) dial(ctx context.Context, req channels.DialRequest) error {
	return p.call(ctx, "/v1/request/callback/", url.Values{"from": {strings.TrimSpace(req.Extension)}, "to": {digits(req.To)}}, nil)
}

// recordingLink asks Zadarma for a temporary link to a recording.
func (p *zadarma) recordingLink(ctx context.Context, ref string) (string, error) {
	id, ok := strings.CutPrefix(ref, "zadarma-record:")
	if !ok || id == "" {
		return "", fmt.Errorf("zadarma: %q is not a Zadarma recording", ref)
	}
	var ans struct {
		Link  string   `json:"link"`
		Links []string `json:"links"`
	}
	if err := p.call(ctx, "/v1/pbx/record/request/", url.Values{"call_id": {id}}, &ans); err != nil {
		return "", err
	}
	if ans.Link == "" && len(ans.Links) > 0 {
		ans.Link = ans.Links[0]
	}
	if ans.Link == "" {
		return "", fmt.Errorf("zadarma: recording %s: the answer has no link", id)
	}
	return ans.Link, nil
}
