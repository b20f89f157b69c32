package amitest

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Script writes AMI event transcripts as Asterisk 13–22 sends them, with
// the header sets of the AMI event reference
// (https://docs.asterisk.org/Latest_API/API_Documentation/AMI_Events/):
// every channel event carries the channel snapshot (Channel,
// ChannelState, ChannelStateDesc, CallerIDNum, CallerIDName,
// ConnectedLineNum, ConnectedLineName, Language, AccountCode, Context,
// Exten, Priority, Uniqueid, Linkedid), a second channel the same fields
// prefixed (Dest…, LocalOne…, Transferer…), and Timestamp
// (timestampevents=yes).
type Script struct {
	Now    time.Time
	epoch  int64
	uid    int
	seq    int
	Blocks []string
	Stamps []int64 // each block's time, µs
	b      strings.Builder
}

// Chan is a channel of a Script.
type Chan struct {
	Name, UID, Linked   string
	num, cname          string
	conNum, conName     string
	context, exten      string
	state, stateDesc    string
	priority            int
	tech, peer, dialStr string
	start               time.Time
}

// T0 is when a NewScript starts: 2026-12-03 09:00 UTC.
var T0 = time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)

// NewScript is a Script starting at T0.
func NewScript() *Script { return NewScriptAt(T0) }

// NewScriptAt is a Script starting at t: its channels' Uniqueids (and so
// its calls' ids) differ from another script's that starts elsewhere.
func NewScriptAt(t time.Time) *Script { return &Script{Now: t, epoch: t.Unix()} }

// At moves the clock on.
func (s *Script) At(d time.Duration) *Script { s.Now = s.Now.Add(d); return s }

// Ev writes one event: its name, the given lines ("Key: Value"), the
// Timestamp.
func (s *Script) Ev(name string, lines ...string) {
	s.b.Reset()
	s.b.WriteString("Event: ")
	s.b.WriteString(name)
	s.b.WriteString("\nPrivilege: call,all\n")
	for _, l := range lines {
		s.b.WriteString(l)
		s.b.WriteByte('\n')
	}
	s.b.WriteString("Timestamp: ")
	s.b.WriteString(strconv.FormatInt(s.Now.Unix(), 10))
	s.b.WriteString(".")
	s.b.WriteString(fmt.Sprintf("%06d", s.Now.Nanosecond()/1000))
	s.Blocks = append(s.Blocks, s.b.String())
	s.Stamps = append(s.Stamps, s.Now.UnixMicro())
}

// Snap is a channel's snapshot lines, keys prefixed.
func (c *Chan) Snap(prefix string) []string {
	return []string{
		prefix + "Channel: " + c.Name,
		prefix + "ChannelState: " + c.state,
		prefix + "ChannelStateDesc: " + c.stateDesc,
		prefix + "CallerIDNum: " + c.num,
		prefix + "CallerIDName: " + c.cname,
		prefix + "ConnectedLineNum: " + c.conNum,
		prefix + "ConnectedLineName: " + c.conName,
		prefix + "Language: ru",
		prefix + "AccountCode: ",
		prefix + "Context: " + c.context,
		prefix + "Exten: " + c.exten,
		prefix + "Priority: " + strconv.Itoa(c.priority),
		prefix + "Uniqueid: " + c.UID,
		prefix + "Linkedid: " + c.Linked,
	}
}

func Cat(a []string, b ...string) []string { return append(append([]string(nil), a...), b...) }

// NewChan creates a channel (Newchannel); linked is the channel whose
// Linkedid it inherits (nil: a call of its own).
func (s *Script) NewChan(name, num, cname, context, exten string, linked *Chan) *Chan {
	s.uid++
	c := &Chan{Name: name, UID: fmt.Sprintf("%d.%d", s.epoch, s.uid), num: num, cname: cname,
		context: context, exten: exten, state: "0", stateDesc: "Down", priority: 1, start: s.Now}
	c.Linked = c.UID
	if linked != nil {
		c.Linked = linked.Linked
	}
	c.tech, c.peer, _ = strings.Cut(name, "/")
	s.Ev("Newchannel", c.Snap("")...)
	return c
}

// SeqName is TECH/peer-0000000N.
func (s *Script) SeqName(tech, peer string) string {
	s.seq++
	return fmt.Sprintf("%s/%s-%08x", tech, peer, s.seq)
}

// TrunkIn is an inbound call from the provider trunk.
func (s *Script) TrunkIn(caller, name, did string) *Chan {
	c := s.NewChan(s.SeqName("PJSIP", "sipnet"), caller, name, "from-pstn", did, nil)
	s.VarSet(c, "FROM_DID", did)
	return c
}

// Ext is an extension's channel dialled by from (DialBegin).
func (s *Script) Ext(from *Chan, ext string) *Chan {
	c := s.NewChan(s.SeqName("PJSIP", ext), ext, "Ext "+ext, "from-internal", from.exten, from)
	c.conNum, c.conName = from.num, from.cname
	s.Dial(from, c, ext)
	s.State(c, "5", "Ringing")
	return c
}

// Local creates the two halves of a Local channel dialled by from.
func (s *Script) Local(from *Chan, exten, context string) (one, two *Chan) {
	s.seq++
	n := fmt.Sprintf("Local/%s@%s-%08x", exten, context, s.seq)
	if from == nil { // an Originate: ;2 inherits ;1's Linkedid
		one = s.NewChan(n+";1", "", "", context, exten, nil)
		two = s.NewChan(n+";2", "", "", context, exten, one)
		return one, two
	}
	one = s.NewChan(n+";1", from.num, from.cname, context, exten, from)
	two = s.NewChan(n+";2", from.num, from.cname, context, exten, from)
	s.Dial(from, one, exten+"@"+context)
	return one, two
}

func (s *Script) VarSet(c *Chan, name, value string) {
	s.Ev("VarSet", Cat(c.Snap(""), "Variable: "+name, "Value: "+value)...)
}

func (s *Script) State(c *Chan, state, desc string) {
	c.state, c.stateDesc = state, desc
	s.Ev("Newstate", c.Snap("")...)
}

func (s *Script) Dial(from, to *Chan, dialString string) {
	to.dialStr = dialString
	s.Ev("DialBegin", Cat(Cat(from.Snap(""), to.Snap("Dest")...), "DialString: "+dialString)...)
}

func (s *Script) DialEnd(from, to *Chan, status string) {
	if status == "ANSWER" {
		s.State(to, "6", "Up")
	}
	s.Ev("DialEnd", Cat(Cat(from.Snap(""), to.Snap("Dest")...), "DialStatus: "+status)...)
}

// Answer is a DialEnd ANSWER, the caller Up, both into a new bridge.
func (s *Script) Answer(from, to *Chan, bridge string) {
	s.DialEnd(from, to, "ANSWER")
	if from.state != "6" {
		s.State(from, "6", "Up")
	}
	s.Enter(bridge, to, from)
}

func (s *Script) Enter(bridge string, cs ...*Chan) {
	for i, c := range cs {
		s.Ev("BridgeEnter", Cat([]string{"BridgeUniqueid: " + bridge, "BridgeType: basic", "BridgeTechnology: simple_bridge",
			"BridgeCreator: <unknown>", "BridgeName: <unknown>", "BridgeNumChannels: " + strconv.Itoa(i+1), "BridgeVideoSourceMode: none"},
			c.Snap("")...)...)
	}
}

func (s *Script) Leave(bridge string, cs ...*Chan) {
	for i, c := range cs {
		s.Ev("BridgeLeave", Cat([]string{"BridgeUniqueid: " + bridge, "BridgeType: basic", "BridgeTechnology: simple_bridge",
			"BridgeCreator: <unknown>", "BridgeName: <unknown>", "BridgeNumChannels: " + strconv.Itoa(len(cs)-i-1), "BridgeVideoSourceMode: none"},
			c.Snap("")...)...)
	}
}

func (s *Script) Hangup(cs ...*Chan) {
	for _, c := range cs {
		s.Ev("Hangup", Cat(c.Snap(""), "Cause: 16", "Cause-txt: Normal Clearing")...)
	}
}

func (s *Script) QueueJoin(c *Chan, q string) {
	s.Ev("QueueCallerJoin", Cat(c.Snap(""), "Queue: "+q, "Position: 1", "Count: 1")...)
}

func (s *Script) QueueAbandon(c *Chan, q string, hold int) {
	s.Ev("QueueCallerAbandon", Cat(c.Snap(""), "Queue: "+q, "Position: 1", "OriginalPosition: 1", "HoldTime: "+strconv.Itoa(hold))...)
}

func (s *Script) AgentConnect(caller, agent *Chan, q, iface, member string, hold, ring int) {
	s.Ev("AgentConnect", Cat(Cat(caller.Snap(""), agent.Snap("Dest")...), "Queue: "+q, "MemberName: "+member,
		"Interface: "+iface, "HoldTime: "+strconv.Itoa(hold), "RingTime: "+strconv.Itoa(ring))...)
}

func (s *Script) AgentComplete(caller, agent *Chan, q, iface, member string, hold, talk int) {
	s.Ev("AgentComplete", Cat(Cat(caller.Snap(""), agent.Snap("Dest")...), "Queue: "+q, "MemberName: "+member,
		"Interface: "+iface, "HoldTime: "+strconv.Itoa(hold), "TalkTime: "+strconv.Itoa(talk), "Reason: caller")...)
}

func (s *Script) LocalOptimize(one, two, source *Chan) {
	lines := Cat(Cat(one.Snap("LocalOne"), two.Snap("LocalTwo")...), source.Snap("Source")...)
	s.Ev("LocalOptimizationBegin", Cat(lines, "DestUniqueId: "+source.UID, "Id: 1")...)
	s.Ev("LocalOptimizationEnd", Cat(Cat(one.Snap("LocalOne"), two.Snap("LocalTwo")...), "Success: Yes", "Id: 1")...)
}

// Noise is traffic of the PBX that is none of our calls' business.
func (s *Script) Noise(i int) {
	switch i % 4 {
	case 0:
		s.Ev("PeerStatus", "ChannelType: PJSIP", fmt.Sprintf("Peer: PJSIP/%d", 200+i%50), "PeerStatus: Reachable", "Time: 12")
	case 1:
		s.Ev("RTCPSent", fmt.Sprintf("Channel: PJSIP/9%03d-ffffffff", i%1000), fmt.Sprintf("Uniqueid: 1.%d", i), "SSRC: 0x1234", "PT: 200(SR)", "To: 10.0.0.5:10001", "ReportCount: 1")
	case 2:
		s.Ev("VarSet", fmt.Sprintf("Channel: PJSIP/9%03d-ffffffff", i%1000), fmt.Sprintf("Uniqueid: 1.%d", i), "Variable: RTPAUDIOQOS", "Value: ssrc=1;themssrc=2;lp=0")
	case 3:
		s.Ev("ContactStatus", fmt.Sprintf("URI: sip:%d@10.0.0.%d:5060", 200+i%50, i%250), "ContactStatus: Reachable", fmt.Sprintf("AOR: %d", 200+i%50), "EndpointName: x", "RoundtripUsec: 1200")
	}
}

// CoreShowChannel is c as CoreShowChannels lists it.
func (s *Script) CoreShowChannel(c *Chan, bridge string) string {
	d := s.Now.Sub(c.start)
	lines := Cat(c.Snap(""), "Application: Dial", "ApplicationData: PJSIP/101,30",
		fmt.Sprintf("Duration: %02d:%02d:%02d", int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60), "BridgeId: "+bridge)
	return "Event: CoreShowChannel\n" + strings.Join(lines, "\n") + fmt.Sprintf("\nTimestamp: %d.000000", s.Now.Unix())
}

// Take returns the blocks written so far and forgets them.
func (s *Script) Take() []string {
	b := s.Blocks
	s.Blocks, s.Stamps = nil, nil
	return b
}

// Originated is what Asterisk sends after the Originate action a of
// Local/<ext>@from-internal to contact (click-to-call): the Local pair, the
// extension ringing and, when the manager answers, the OriginateResponse,
// then ;1 dialling the contact through the trunk and the two talking for
// 30 seconds; when the manager does not answer, a failed
// OriginateResponse after 30 seconds of ringing.
func Originated(a Action, ext, contact string, answered bool) []string {
	s := NewScript()
	l1, l2 := s.Local(nil, ext, "from-internal")
	x := s.Ext(l2, ext)
	resp := func(result, reason string) {
		s.Ev("OriginateResponse", "Response: "+result, "Channel: "+l1.Name, "Context: from-internal", "Exten: "+contact,
			"Application: ", "Data: ", "Reason: "+reason, "Uniqueid: "+l1.UID, "CallerIDNum: "+ext, "CallerIDName: "+contact,
			"ActionID: "+a.Get("ActionID"))
	}
	if !answered {
		s.At(30*time.Second).DialEnd(l2, x, "NOANSWER")
		s.Hangup(x, l2, l1)
		resp("Failure", "3")
		return s.Take()
	}
	s.At(4*time.Second).Answer(l2, x, "b1")
	resp("Success", "4")
	tr := s.NewChan(s.SeqName("PJSIP", "sipnet"), ext, "", "from-internal", contact, l1)
	s.Dial(l1, tr, contact+"@sipnet")
	s.At(6*time.Second).Answer(l1, tr, "b2")
	s.At(30*time.Second).Leave("b2", tr, l1)
	s.Leave("b1", x, l2)
	s.Hangup(tr, l1, l2, x)
	return s.Take()
}
