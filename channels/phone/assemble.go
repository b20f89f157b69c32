package phone

import (
	"strings"
	"time"
	"unsafe"

	"github.com/switchboard/switchboard/channels"
)

// Assembler turns the AMI event stream into finished calls, one
// channels.Inbound per call however many channels, legs and transfers the
// PBX used. It is pure: no I/O, no clock of its own (time comes from the
// events' Timestamp headers, or the receive time the caller passes, and
// from Tick), so a test replays a transcript deterministically. It is not
// safe for concurrent use.
//
// A call is a group of channels (keyed by Uniqueid) sharing a Linkedid;
// groups are merged when an event shows that two of them are one call: a
// channel seen with another Linkedid, a Dial between them, channels of both
// in one bridge (a pickup), a Local channel optimized away
// (LocalOptimizationEnd), a blind or attended transfer, a queue agent
// connected (AgentConnect), a Pickup. The merged call keeps the key of its
// oldest group, so its ExternalID ("ami:" + that Linkedid) is stable across
// reconnects and restarts. A call is finished when all its channels have
// hung up and Grace has passed with none joining; it is then emitted (or
// dropped when it was internal) and nothing of it is kept.
type Assembler struct {
	opt     AssemblerOptions
	now     time.Time           // the clock: the latest event time or Tick
	seen    time.Time           // the latest event time
	chans   map[string]*amiChan // by Uniqueid
	groups  map[string]*call    // by Linkedid
	bridges map[string]*bridge  // by BridgeUniqueid
	ending  []ending            // calls with every channel hung up, by due time
	head    int
	calls   int // live calls (for Live)

	resync bool      // between Gap and CoreShowChannelsComplete
	gapAt  time.Time // the last event time before the connection dropped
}

// AssemblerOptions configure an Assembler.
type AssemblerOptions struct {
	// Grace is how long a call whose channels all hung up waits for a
	// late channel (a transfer, a callback leg) before it is emitted.
	// Default 2 s.
	Grace time.Duration
	// ExtensionDigits: a SIP/PJSIP/IAX2 channel whose peer name is all
	// digits and at most this long (PJSIP/101-0000002a) is a company
	// extension; any other non-Local channel is a trunk. Default 5.
	ExtensionDigits int
	// Trunks are peer names always taken as trunks even when they look
	// like extensions (a provider registered under a short number).
	Trunks []string
	// RecordingBaseURL and RecordingDir turn MIXMONITOR_FILENAME into
	// CallInfo.RecordingURL (see recordingURL).
	RecordingBaseURL string
	RecordingDir     string
}

type chanKind uint8

const (
	kindOther chanKind = iota // Local, ConfBridge, Parked, Message …
	kindExt                   // a company extension
	kindTrunk                 // the outside world
	kindLocal
)

// amiChan is one channel of a call.
type amiChan struct {
	uid, name     string
	linked        string
	kind          chanKind
	peer          string // the extension number for kindExt
	cidNum, cidNm string
	exten         string // Exten at creation
	start         time.Time
	bridged       time.Time // first BridgeEnter
	hungup        bool
	unconfirmed   bool // alive before a gap, not seen since
	call          *call
}

type bridge struct {
	call *call
	n    int
}

type ending struct {
	c   *call
	due time.Time
}

// call is a group of channels being assembled.
type call struct {
	id         string // ExternalIDPrefix + the Linkedid of its oldest group
	linked     []string
	chans      []*amiChan
	bridges    []string
	live       int
	start, end time.Time
	due        time.Time
	gone       bool // merged into another or emitted

	did, outNumber, queue, agent, recording string
	abandoned, incomplete                   bool
	dials                                   dialSet

	// Room for what most calls hold, in the call's own allocation.
	linked1 [1]string
	chans4  [4]*amiChan
	bridge2 [2]string
}

// newCall is a call of one group, linked; id is ExternalIDPrefix+linked.
func newCall(id, linked string, start time.Time) *call {
	c := &call{id: id, start: start}
	c.linked1[0] = linked
	c.linked, c.chans, c.bridges = c.linked1[:], c.chans4[:0], c.bridge2[:0]
	return c
}

// NewAssembler builds an assembler.
func NewAssembler(opt AssemblerOptions) *Assembler {
	if opt.Grace <= 0 {
		opt.Grace = 2 * time.Second
	}
	if opt.ExtensionDigits <= 0 {
		opt.ExtensionDigits = 5
	}
	return &Assembler{
		opt:     opt,
		chans:   map[string]*amiChan{},
		groups:  map[string]*call{},
		bridges: map[string]*bridge{},
	}
}

// Live reports the calls and channels held (zero when every call ended).
func (a *Assembler) Live() (calls, chans, bridges int) {
	return a.calls, len(a.chans), len(a.bridges)
}

// Tick moves the clock to now (if later) and appends the calls whose grace
// ended to out.
func (a *Assembler) Tick(now time.Time, out []channels.Inbound) []channels.Inbound {
	if now.After(a.now) {
		a.now = now
	}
	return a.flush(out)
}

// Gap tells the assembler that events were lost from now until the
// CoreShowChannels list that follows: every call alive is marked
// incomplete, and a channel the list does not show (and no event
// mentions) is taken as hung up when the connection dropped.
func (a *Assembler) Gap() {
	if a.resync {
		return // still resyncing after the last gap: it began then
	}
	a.resync = true
	a.gapAt = a.seen
	for _, ch := range a.chans {
		if !ch.hungup {
			ch.unconfirmed = true
			ch.call.incomplete = true
		}
	}
}

// SetClock sets the assembler's clock to t, backwards too: the adapter
// learnt the PBX's clock (its first Timestamp) after timing the events
// before it with its own.
func (a *Assembler) SetClock(t time.Time) {
	a.now, a.seen = t, t
}

// Event feeds one event that happened at t (m.Time(received)) and
// appends the calls it finished to out. m is not kept.
func (a *Assembler) Event(m *Message, t time.Time, out []channels.Inbound) []channels.Inbound {
	if t.After(a.now) {
		a.now = t
	}
	if t.After(a.seen) {
		a.seen = t
	}
	switch m.eventCode() {
	case evNewchannel:
		a.newChannel(m, t, false)
	case evCoreShowChannel:
		a.newChannel(m, t, true)
	case evCoreShowChannelsComplete:
		a.endResync()
	case evHangup:
		if ch := a.channel(m, self); ch != nil {
			a.hangup(ch, t)
		}
	case evRename:
		if ch := a.channel(m, self); ch != nil {
			ch.name = strings.Clone(m.Get("Newname"))
		}
	case evVarSet:
		a.varSet(m)
	case evDialBegin:
		a.dialBegin(m)
	case evDialEnd:
		if ch := a.channel(m, dest); ch != nil {
			ch.call.dials.add(m.Get("DialStatus"))
		}
	case evBridgeEnter:
		a.bridgeEnter(m, t)
	case evBridgeLeave:
		a.bridgeLeave(m)
	case evQueueCallerJoin:
		if ch := a.channel(m, self); ch != nil && ch.call.queue == "" {
			ch.call.queue = strings.Clone(m.Get("Queue"))
		}
	case evQueueCallerAbandon:
		if ch := a.channel(m, self); ch != nil {
			ch.call.abandoned = true
			if ch.call.queue == "" {
				ch.call.queue = strings.Clone(m.Get("Queue"))
			}
		}
	case evAgentConnect:
		a.agentConnect(m)
	case evLocalOptimizationEnd:
		a.join(a.channel(m, localOne), a.channel(m, localTwo))
	case evBlindTransfer:
		a.join(a.channel(m, transferer), a.channel(m, transferee))
	case evAttendedTransfer:
		orig := a.channel(m, origTransferer)
		a.join(orig, a.channel(m, secondTransferer))
		a.join(orig, a.channel(m, transferTarget))
		a.join(orig, a.channel(m, transferee))
	case evPickup:
		a.join(a.channel(m, self), a.channel(m, target))
	default:
		// Any other event of a known channel still confirms it and may
		// carry a changed Linkedid.
		a.channel(m, self)
	}
	return a.flush(out)
}

// party names the Uniqueid and Linkedid headers of one channel of an
// event: the event's own, or a second one's (Dest…, LocalOne…).
type party struct{ uid, linked string }

func partyOf(prefix string) party { return party{prefix + "Uniqueid", prefix + "Linkedid"} }

var (
	self             = partyOf("")
	dest             = partyOf("Dest")
	localOne         = partyOf("LocalOne")
	localTwo         = partyOf("LocalTwo")
	transferer       = partyOf("Transferer")
	transferee       = partyOf("Transferee")
	origTransferer   = partyOf("OrigTransferer")
	secondTransferer = partyOf("SecondTransferer")
	transferTarget   = partyOf("TransferTarget")
	target           = partyOf("Target")
)

// channel finds the known channel an event's prefix+"Uniqueid" names,
// confirms it after a gap, and merges its call with the group of the
// event's prefix+"Linkedid" when they differ. Unknown channels (other
// traffic on the PBX) give nil.
func (a *Assembler) channel(m *Message, p party) *amiChan {
	var uid, l string
	switch p {
	case self:
		uid, l = m.channelIDs()
	case dest:
		uid, l = m.destIDs()
	default:
		uid, l = m.get2(p.uid, p.linked)
	}
	if uid == "" {
		return nil
	}
	ch := a.chans[uid]
	if ch == nil {
		return nil
	}
	ch.unconfirmed = false
	if l != "" && l != ch.linked {
		l = strings.Clone(l)
		ch.linked = l
		if g := a.groups[l]; g != nil {
			a.merge(ch.call, g)
		} else {
			ch.call.linked = append(ch.call.linked, l)
			a.groups[l] = ch.call
		}
	}
	return ch
}

// newChannel handles Newchannel, and CoreShowChannel (listed: a channel
// alive after a gap or when we connected, whose beginning we may not have
// seen).
func (a *Assembler) newChannel(m *Message, t time.Time, listed bool) {
	var v [len(newChannelKeys)]string
	m.getAll(newChannelKeys[:], v[:])
	uid, linked := v[0], v[1]
	if uid == "" {
		return
	}
	if ch := a.channel(m, self); ch != nil {
		return // a duplicate, or a channel the list confirms
	}
	if linked == "" {
		linked = uid
	}
	ch := new(amiChan)
	ch.start = t
	// The message's strings are views of the reader's buffer: keep copies.
	id := ch.keep(uid, linked, v[2], v[3], v[4], v[5])
	uid, linked = ch.uid, ch.linked
	ch.kind, ch.peer = a.classify(ch.name)
	if listed {
		// CoreShowChannel's Duration is how long the channel has lived.
		if d, ok := parseHMS(m.Get("Duration")); ok {
			ch.start = t.Add(-d)
		}
	}
	c := a.groups[linked]
	if c == nil {
		c = newCall(id, linked, ch.start)
		a.groups[linked] = c
		a.calls++
	}
	if ch.start.Before(c.start) {
		c.start = ch.start
	}
	ch.call = c
	c.chans = append(c.chans, ch)
	c.live++
	a.chans[uid] = ch
	if listed {
		c.incomplete = true
		if b := m.Get("BridgeId"); b != "" {
			a.enterBridge(ch, b, t)
		}
	}
}

// newChannelKeys are what newChannel reads, in one pass (getAll).
var newChannelKeys = [...]string{"Uniqueid", "Linkedid", "Channel", "CallerIDNum", "CallerIDName", "Exten"}

// endResync ends a resync: channels neither listed nor mentioned since
// the gap hung up while we were away.
func (a *Assembler) endResync() {
	if !a.resync {
		return
	}
	a.resync = false
	for _, ch := range a.chans {
		if ch.unconfirmed {
			ch.unconfirmed = false
			a.hangup(ch, a.gapAt)
		}
	}
}

func (a *Assembler) hangup(ch *amiChan, t time.Time) {
	if ch.hungup {
		return
	}
	ch.hungup = true
	c := ch.call
	c.live--
	if t.After(c.end) {
		c.end = t
	}
	if c.live == 0 {
		c.due = a.now.Add(a.opt.Grace)
		if t.After(a.now) {
			c.due = t.Add(a.opt.Grace)
		}
		a.ending = append(a.ending, ending{c, c.due})
	}
}

func (a *Assembler) varSet(m *Message) {
	ch := a.channel(m, self)
	if ch == nil {
		return
	}
	name := m.Get("Variable")
	for len(name) > 0 && name[0] == '_' {
		name = name[1:] // inherited variables: _FOO, __FOO
	}
	switch name {
	case "FROM_DID":
		if v := m.Get("Value"); ch.call.did == "" && v != "" {
			ch.call.did = strings.Clone(v)
		}
	case "MIXMONITOR_FILENAME":
		if v := m.Get("Value"); v != "" {
			ch.call.recording = strings.Clone(v)
		}
	}
}

func (a *Assembler) dialBegin(m *Message) {
	src, dst := a.channel(m, self), a.channel(m, dest)
	a.join(src, dst)
	if dst == nil || dst.kind != kindTrunk || dst.call.outNumber != "" {
		return
	}
	// The number dialled out: the dialling channel's extension (which
	// app_dial copies to the new channel), else the dial string's.
	n := m.Get("DestExten")
	if !isNumber(n) {
		n = dialStringNumber(m.Get("DialString"))
	}
	dst.call.outNumber = strings.Clone(n)
}

func (a *Assembler) agentConnect(m *Message) {
	caller, agent := a.channel(m, self), a.channel(m, dest)
	a.join(caller, agent)
	c := caller
	if c == nil {
		c = agent
	}
	if c == nil || c.call.agent != "" {
		return
	}
	if ext := interfaceNumber(m.Get("Interface")); ext != "" {
		c.call.agent = strings.Clone(ext)
	} else if agent != nil && agent.kind == kindExt {
		c.call.agent = agent.peer
	}
	if c.call.queue == "" {
		c.call.queue = strings.Clone(m.Get("Queue"))
	}
}

func (a *Assembler) bridgeEnter(m *Message, t time.Time) {
	ch := a.channel(m, self)
	if ch == nil {
		return
	}
	a.enterBridge(ch, m.Get("BridgeUniqueid"), t)
}

func (a *Assembler) enterBridge(ch *amiChan, id string, t time.Time) {
	if ch.bridged.IsZero() {
		ch.bridged = t
	}
	if id == "" {
		return
	}
	b := a.bridges[id]
	if b == nil {
		id = strings.Clone(id)
		b = &bridge{call: ch.call}
		a.bridges[id] = b
		ch.call.bridges = append(ch.call.bridges, id)
	} else if b.call != ch.call {
		a.merge(b.call, ch.call) // a pickup, a transfer: one call
	}
	b.n++
}

func (a *Assembler) bridgeLeave(m *Message) {
	if a.channel(m, self) == nil {
		return
	}
	id := m.Get("BridgeUniqueid")
	if b := a.bridges[id]; b != nil {
		b.n--
		if b.n <= 0 {
			delete(a.bridges, id)
		}
	}
}

// join merges the calls of two channels (either may be nil).
func (a *Assembler) join(x, y *amiChan) {
	if x != nil && y != nil && x.call != y.call {
		a.merge(x.call, y.call)
	}
}

// merge makes x and y one call, keeping the older one's key.
func (a *Assembler) merge(x, y *call) {
	if x == y {
		return
	}
	if y.start.Before(x.start) {
		x, y = y, x
	}
	for _, ch := range y.chans {
		ch.call = x
	}
	x.chans = append(x.chans, y.chans...)
	for _, l := range y.linked {
		a.groups[l] = x
	}
	x.linked = append(x.linked, y.linked...)
	for _, id := range y.bridges {
		if b := a.bridges[id]; b != nil {
			b.call = x
		}
	}
	x.bridges = append(x.bridges, y.bridges...)
	x.live += y.live
	if y.end.After(x.end) {
		x.end = y.end
	}
	x.did = first(x.did, y.did)
	x.outNumber = first(x.outNumber, y.outNumber)
	x.queue = first(x.queue, y.queue)
	x.agent = first(x.agent, y.agent)
	x.recording = first(x.recording, y.recording)
	x.abandoned = x.abandoned || y.abandoned
	x.incomplete = x.incomplete || y.incomplete
	x.dials |= y.dials
	if x.live == 0 && y.due.After(x.due) {
		x.due = y.due
		a.ending = append(a.ending, ending{x, x.due})
	}
	y.gone = true
	a.calls--
}

// keep sets the channel's strings to copies of uid, linked, name, cidNum,
// cidNm and exten, all in one allocation, and returns a copy of
// ExternalIDPrefix+linked from the same (the ExternalID if the channel
// starts a call).
func (ch *amiChan) keep(uid, linked, name, cidNum, cidNm, exten string) (id string) {
	same := uid == linked // the channel that starts a call: most often
	n := len(ExternalIDPrefix) + len(linked) + len(name) + len(cidNum) + len(cidNm) + len(exten)
	if !same {
		n += len(uid)
	}
	b := make([]byte, 0, n)
	b = append(append(b, ExternalIDPrefix...), linked...)
	if !same {
		b = append(b, uid...)
	}
	b = append(append(append(append(b, name...), cidNum...), cidNm...), exten...)
	all := unsafe.String(unsafe.SliceData(b), len(b)) // b is never written again
	o := len(ExternalIDPrefix)
	cut := func(s string) string {
		s, o = all[o:o+len(s)], o+len(s)
		return s
	}
	id = all[:o+len(linked)]
	ch.linked = cut(linked)
	ch.uid = ch.linked
	if !same {
		ch.uid = cut(uid)
	}
	ch.name, ch.cidNum, ch.cidNm, ch.exten = cut(name), cut(cidNum), cut(cidNm), cut(exten)
	return id
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
