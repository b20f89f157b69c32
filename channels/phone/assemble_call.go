package phone

import (
	"net/url"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/switchboard/switchboard/channels"
)

// ExternalIDPrefix starts the ExternalID of every AMI call: "ami:" and
// the Linkedid of the call's oldest channel group (the Uniqueid of the
// channel that started the call, "1733212800.42").
const ExternalIDPrefix = "ami:"

// dialSet is the DialEnd statuses a call saw.
type dialSet uint8

const (
	dialAnswer dialSet = 1 << iota
	dialBusy
	dialNoAnswer
	dialCancel
	dialFailed // CONGESTION, CHANUNAVAIL, DONTCALL, TORTURE, INVALIDARGS
)

// add records a DialEnd DialStatus
// (https://docs.asterisk.org/Latest_API/API_Documentation/AMI_Events/DialEnd/).
func (d *dialSet) add(status string) {
	switch status {
	case "ANSWER":
		*d |= dialAnswer
	case "BUSY":
		*d |= dialBusy
	case "NOANSWER":
		*d |= dialNoAnswer
	case "CANCEL":
		*d |= dialCancel
	case "", "CONTINUE", "GOTO":
	default:
		*d |= dialFailed
	}
}

// missed says why an unanswered call was missed: abandoned in a queue
// first, then a ring that timed out (no answer), the caller hanging up
// while it rang (cancelled), every extension busy, the PBX unable to
// place it; a call that never reached a Dial (an IVR, a voicemail) counts
// as not answered.
func (c *call) missed() string {
	switch {
	case c.abandoned:
		return channels.MissedAbandoned
	case c.dials&dialNoAnswer != 0:
		return channels.MissedNoAnswer
	case c.dials&dialCancel != 0:
		return channels.MissedCancelled
	case c.dials&dialBusy != 0:
		return channels.MissedBusy
	case c.dials&dialFailed != 0:
		return channels.MissedFailed
	}
	return channels.MissedNoAnswer
}

// classify tells a channel's kind from its name: Local/… is a Local
// channel; TECH/PEER-SEQ with PEER all digits and at most
// ExtensionDigits long, and not listed in Trunks, is an extension; any
// other SIP, PJSIP, IAX2, DAHDI … channel is a trunk; ConfBridge,
// Parked, Message, Announcer, Recorder and the like are neither.
func (o *AssemblerOptions) classify(name string) (chanKind, string) {
	tech, rest, ok := strings.Cut(name, "/")
	if !ok {
		return kindOther, ""
	}
	switch tech {
	case "Local":
		return kindLocal, ""
	case "ConfBridge", "CBAnn", "CBRec", "Parked", "Message", "Announcer", "Recorder", "Multicast", "AudioSocket", "Snoop", "Bridge":
		return kindOther, ""
	}
	peer := rest
	if i := strings.LastIndexByte(peer, '-'); i > 0 {
		peer = peer[:i]
	}
	if len(peer) > 0 && len(peer) <= o.ExtensionDigits && allDigits(peer) && !slices.Contains(o.Trunks, peer) {
		return kindExt, peer
	}
	return kindTrunk, ""
}

func (a *Assembler) classify(name string) (chanKind, string) { return a.opt.classify(name) }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// isNumber: an optional + and at least 3 digits.
func isNumber(s string) bool {
	s = strings.TrimPrefix(s, "+")
	return len(s) >= 3 && allDigits(s)
}

// dialStringNumber takes the number out of a Dial string:
// "89131234567@provider", "provider/89131234567", "PJSIP/+7913…@trunk".
func dialStringNumber(s string) string {
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		s = s[i+1:]
	}
	s, _, _ = strings.Cut(s, "@")
	if isNumber(s) {
		return s
	}
	return ""
}

// interfaceNumber is the extension of a queue member interface:
// "PJSIP/101", "SIP/101", "Local/101@from-queue/n" → "101".
func interfaceNumber(s string) string {
	_, rest, ok := strings.Cut(s, "/")
	if !ok {
		return ""
	}
	rest, _, _ = strings.Cut(rest, "@")
	rest, _, _ = strings.Cut(rest, "/")
	if allDigits(rest) {
		return rest
	}
	return ""
}

// parseHMS reads CoreShowChannel's Duration ("01:02:03").
func parseHMS(s string) (time.Duration, bool) {
	var d time.Duration
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return 0, false
	}
	for _, p := range parts {
		if !allDigits(p) {
			return 0, false
		}
		n := 0
		for i := 0; i < len(p); i++ {
			n = n*10 + int(p[i]-'0')
		}
		d = d*60 + time.Duration(n)
	}
	return d * time.Second, true
}

// recordingURL turns MIXMONITOR_FILENAME into a URL: the file's path
// relative to Asterisk's monitor directory (what follows "/monitor/" in an
// absolute path, FreePBX's /var/spool/asterisk/monitor/2026/12/03/…wav)
// appended to RecordingBaseURL, or joined to RecordingDir as a file://
// URL. Neither set: no URL (the path on the PBX is not ours to read).
func (o *AssemblerOptions) recordingURL(file string) string {
	rel := file
	if i := strings.Index(file, "/monitor/"); i >= 0 {
		rel = file[i+len("/monitor/"):]
	} else if strings.HasPrefix(file, "/") {
		rel = path.Base(file)
	}
	rel = strings.TrimLeft(path.Clean("/"+rel), "/")
	if rel == "" || rel == "." {
		return ""
	}
	switch {
	case o.RecordingBaseURL != "":
		segs := strings.Split(rel, "/")
		for i, s := range segs {
			segs[i] = url.PathEscape(s)
		}
		return strings.TrimRight(o.RecordingBaseURL, "/") + "/" + strings.Join(segs, "/")
	case o.RecordingDir != "":
		u := url.URL{Scheme: "file", Path: filepath.ToSlash(filepath.Join(o.RecordingDir, filepath.FromSlash(rel)))}
		return u.String()
	}
	return ""
}

// inbound builds the touch of a finished call; false for an internal
// call (no trunk channel: extension to extension, a click-to-call the
// manager did not answer) or one with nobody to attribute it to.
//
// Direction: the call is inbound when its earliest channel is a trunk
// (the outside called in), outbound when a trunk channel was dialled by
// the call (an extension or a click-to-call Local channel called out).
func (o *AssemblerOptions) inbound(c *call) (channels.Inbound, bool) {
	var firstCh, trunk, ext, bridgedExt, bridgedTrunk *amiChan
	for _, ch := range c.chans {
		if firstCh == nil || ch.start.Before(firstCh.start) {
			firstCh = ch
		}
		switch ch.kind {
		case kindTrunk:
			if trunk == nil || ch.start.Before(trunk.start) {
				trunk = ch
			}
			if !ch.bridged.IsZero() && (bridgedTrunk == nil || ch.bridged.Before(bridgedTrunk.bridged)) {
				bridgedTrunk = ch
			}
		case kindExt:
			if ext == nil || ch.start.Before(ext.start) {
				ext = ch
			}
			if !ch.bridged.IsZero() && (bridgedExt == nil || ch.bridged.Before(bridgedExt.bridged)) {
				bridgedExt = ch
			}
		}
	}
	if trunk == nil {
		return channels.Inbound{}, false
	}
	e := &emitted{info: channels.CallInfo{Queue: c.queue, Incomplete: c.incomplete}}
	info := &e.info
	in := channels.Inbound{
		ExternalID: c.id,
		Kind:       channels.Call,
		At:         c.start,
		Call:       info,
	}
	end := c.end
	if end.Before(c.start) {
		end = c.start
	}
	answer := answerTime(c, trunk, firstCh == trunk, bridgedExt, bridgedTrunk)
	if !answer.IsZero() {
		info.Answered = true
		info.Ring = answer.Sub(c.start)
		info.Duration = end.Sub(answer)
		if c.recording != "" {
			info.RecordingURL = o.recordingURL(c.recording)
		}
	} else {
		info.Ring = end.Sub(c.start)
		info.Missed = c.missed()
	}
	if firstCh == trunk {
		e.from[0] = channels.Handle{Kind: "phone", Value: trunk.cidNum}
		in.From = e.from[:]
		in.Name = callerName(trunk.cidNm, trunk.cidNum)
		in.EntryPoint = c.did
		if in.EntryPoint == "" && isNumber(trunk.exten) {
			in.EntryPoint = trunk.exten
		}
		switch {
		case c.agent != "":
			info.Extension = c.agent
		case info.Answered && bridgedExt != nil:
			info.Extension = bridgedExt.peer
		}
	} else {
		in.Outgoing = true
		n := c.outNumber
		if n == "" {
			n = trunk.exten
		}
		if !isNumber(n) {
			return channels.Inbound{}, false // nobody to attribute it to
		}
		e.from[0] = channels.Handle{Kind: "phone", Value: n}
		in.From = e.from[:]
		if ext != nil {
			info.Extension = ext.peer
		}
	}
	if in.From[0].Value == "" {
		in.From = nil // ingest refuses it; logged there with the call key
	}
	return in, true
}

// emitted is what the Inbound of a finished call points to, in one
// allocation.
type emitted struct {
	info channels.CallInfo
	from [1]channels.Handle
}

// answerTime is when the call was answered (zero: it was not): when an
// extension and the outside had both got into a bridge (the same one, or
// two joined by Local channels); for an inbound call nobody inside
// answered, when the caller's trunk channel and another trunk channel
// were both bridged (forwarded to a mobile by a follow-me or a ring
// group with an outside number).
func answerTime(c *call, trunk *amiChan, inbound bool, bridgedExt, bridgedTrunk *amiChan) time.Time {
	later := func(x, y time.Time) time.Time {
		if y.After(x) {
			return y
		}
		return x
	}
	if bridgedExt != nil && bridgedTrunk != nil {
		return later(bridgedExt.bridged, bridgedTrunk.bridged)
	}
	if !inbound || trunk.bridged.IsZero() {
		return time.Time{}
	}
	var out *amiChan
	for _, ch := range c.chans {
		if ch != trunk && ch.kind == kindTrunk && !ch.bridged.IsZero() && (out == nil || ch.bridged.Before(out.bridged)) {
			out = ch
		}
	}
	if out == nil {
		return time.Time{}
	}
	return later(trunk.bridged, out.bridged)
}

// callerName is CallerIDName unless it is empty, a placeholder or the
// number again.
func callerName(name, num string) string {
	switch name {
	case "", "<unknown>", "unknown", "Unknown", num:
		return ""
	}
	return name
}

// flush emits the calls whose grace has passed.
func (a *Assembler) flush(out []channels.Inbound) []channels.Inbound {
	for a.head < len(a.ending) {
		e := a.ending[a.head]
		c := e.c
		if !c.gone && c.live == 0 && e.due.Equal(c.due) {
			if e.due.After(a.now) {
				break
			}
			if in, ok := a.opt.inbound(c); ok {
				if len(out) == cap(out) {
					// Twice as large: append grows a long slice by a
					// quarter, copying a queue of finished calls (the
					// sink down for a while) again and again.
					out = slices.Grow(out, max(len(out), 16))
				}
				out = append(out, in)
			}
			a.forget(c)
		}
		a.ending[a.head] = ending{}
		a.head++
	}
	if a.head == len(a.ending) {
		a.ending, a.head = a.ending[:0], 0
	} else if a.head > 1024 && a.head*2 > len(a.ending) {
		n := copy(a.ending, a.ending[a.head:])
		clear(a.ending[n:])
		a.ending, a.head = a.ending[:n], 0
	}
	return out
}

// forget drops everything held for a finished call.
func (a *Assembler) forget(c *call) {
	for _, ch := range c.chans {
		if a.chans[ch.uid] == ch {
			delete(a.chans, ch.uid)
		}
	}
	for _, l := range c.linked {
		if a.groups[l] == c {
			delete(a.groups, l)
		}
	}
	for _, id := range c.bridges {
		if b := a.bridges[id]; b != nil && b.call == c {
			delete(a.bridges, id)
		}
	}
	c.gone = true
	a.calls--
}
