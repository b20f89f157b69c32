package phone

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// script writes AMI event transcripts as Asterisk 13–22 sends them, with
// the header sets of the AMI event reference
// (https://docs.asterisk.org/Latest_API/API_Documentation/AMI_Events/):
// every channel event carries the channel snapshot (Channel,
// ChannelState, ChannelStateDesc, CallerIDNum, CallerIDName,
// ConnectedLineNum, ConnectedLineName, Language, AccountCode, Context,
// Exten, Priority, Uniqueid, Linkedid), a second channel the same fields
// prefixed (Dest…, LocalOne…, Transferer…), and Timestamp
// (timestampevents=yes).
type script struct {
	now    time.Time
	epoch  int64
	uid    int
	seq    int
	blocks []string
	stamps []int64 // each block's time, µs
	b      strings.Builder
}

// sc is a channel of a script.
type sc struct {
	name, uid, linked   string
	num, cname          string
	conNum, conName     string
	context, exten      string
	state, stateDesc    string
	priority            int
	tech, peer, dialStr string
	start               time.Time
}

var t0 = time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)

func newScript() *script { return &script{now: t0, epoch: t0.Unix()} }

// at moves the clock on.
func (s *script) at(d time.Duration) *script { s.now = s.now.Add(d); return s }

// ev writes one event: its name, the given lines ("Key: Value"), the
// Timestamp.
func (s *script) ev(name string, lines ...string) {
	s.b.Reset()
	s.b.WriteString("Event: ")
	s.b.WriteString(name)
	s.b.WriteString("\nPrivilege: call,all\n")
	for _, l := range lines {
		s.b.WriteString(l)
		s.b.WriteByte('\n')
	}
	s.b.WriteString("Timestamp: ")
	s.b.WriteString(strconv.FormatInt(s.now.Unix(), 10))
	s.b.WriteString(".")
	s.b.WriteString(fmt.Sprintf("%06d", s.now.Nanosecond()/1000))
	s.blocks = append(s.blocks, s.b.String())
	s.stamps = append(s.stamps, s.now.UnixMicro())
}

// snap is a channel's snapshot lines, keys prefixed.
func (c *sc) snap(prefix string) []string {
	return []string{
		prefix + "Channel: " + c.name,
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
		prefix + "Uniqueid: " + c.uid,
		prefix + "Linkedid: " + c.linked,
	}
}

func cat(a []string, b ...string) []string { return append(append([]string(nil), a...), b...) }

// newChan creates a channel (Newchannel); linked is the channel whose
// Linkedid it inherits (nil: a call of its own).
func (s *script) newChan(name, num, cname, context, exten string, linked *sc) *sc {
	s.uid++
	c := &sc{name: name, uid: fmt.Sprintf("%d.%d", s.epoch, s.uid), num: num, cname: cname,
		context: context, exten: exten, state: "0", stateDesc: "Down", priority: 1, start: s.now}
	c.linked = c.uid
	if linked != nil {
		c.linked = linked.linked
	}
	c.tech, c.peer, _ = strings.Cut(name, "/")
	s.ev("Newchannel", c.snap("")...)
	return c
}

// seqName is TECH/peer-0000000N.
func (s *script) seqName(tech, peer string) string {
	s.seq++
	return fmt.Sprintf("%s/%s-%08x", tech, peer, s.seq)
}

// trunkIn is an inbound call from the provider trunk.
func (s *script) trunkIn(caller, name, did string) *sc {
	c := s.newChan(s.seqName("PJSIP", "sipnet"), caller, name, "from-pstn", did, nil)
	s.varSet(c, "FROM_DID", did)
	return c
}

// ext is an extension's channel dialled by from (DialBegin).
func (s *script) ext(from *sc, ext string) *sc {
	c := s.newChan(s.seqName("PJSIP", ext), ext, "Ext "+ext, "from-internal", from.exten, from)
	c.conNum, c.conName = from.num, from.cname
	s.dial(from, c, ext)
	s.state(c, "5", "Ringing")
	return c
}

// local creates the two halves of a Local channel dialled by from.
func (s *script) local(from *sc, exten, context string) (one, two *sc) {
	s.seq++
	n := fmt.Sprintf("Local/%s@%s-%08x", exten, context, s.seq)
	if from == nil { // an Originate: ;2 inherits ;1's Linkedid
		one = s.newChan(n+";1", "", "", context, exten, nil)
		two = s.newChan(n+";2", "", "", context, exten, one)
		return one, two
	}
	one = s.newChan(n+";1", from.num, from.cname, context, exten, from)
	two = s.newChan(n+";2", from.num, from.cname, context, exten, from)
	s.dial(from, one, exten+"@"+context)
	return one, two
}

func (s *script) varSet(c *sc, name, value string) {
	s.ev("VarSet", cat(c.snap(""), "Variable: "+name, "Value: "+value)...)
}

func (s *script) state(c *sc, state, desc string) {
	c.state, c.stateDesc = state, desc
	s.ev("Newstate", c.snap("")...)
}

func (s *script) dial(from, to *sc, dialString string) {
	to.dialStr = dialString
	s.ev("DialBegin", cat(cat(from.snap(""), to.snap("Dest")...), "DialString: "+dialString)...)
}

func (s *script) dialEnd(from, to *sc, status string) {
	if status == "ANSWER" {
		s.state(to, "6", "Up")
	}
	s.ev("DialEnd", cat(cat(from.snap(""), to.snap("Dest")...), "DialStatus: "+status)...)
}

// answer is a DialEnd ANSWER, the caller Up, both into a new bridge.
func (s *script) answer(from, to *sc, bridge string) {
	s.dialEnd(from, to, "ANSWER")
	if from.state != "6" {
		s.state(from, "6", "Up")
	}
	s.enter(bridge, to, from)
}

func (s *script) enter(bridge string, cs ...*sc) {
	for i, c := range cs {
		s.ev("BridgeEnter", cat([]string{"BridgeUniqueid: " + bridge, "BridgeType: basic", "BridgeTechnology: simple_bridge",
			"BridgeCreator: <unknown>", "BridgeName: <unknown>", "BridgeNumChannels: " + strconv.Itoa(i+1), "BridgeVideoSourceMode: none"},
			c.snap("")...)...)
	}
}

func (s *script) leave(bridge string, cs ...*sc) {
	for i, c := range cs {
		s.ev("BridgeLeave", cat([]string{"BridgeUniqueid: " + bridge, "BridgeType: basic", "BridgeTechnology: simple_bridge",
			"BridgeCreator: <unknown>", "BridgeName: <unknown>", "BridgeNumChannels: " + strconv.Itoa(len(cs)-i-1), "BridgeVideoSourceMode: none"},
			c.snap("")...)...)
	}
}

func (s *script) hangup(cs ...*sc) {
	for _, c := range cs {
		s.ev("Hangup", cat(c.snap(""), "Cause: 16", "Cause-txt: Normal Clearing")...)
	}
}

func (s *script) queueJoin(c *sc, q string) {
	s.ev("QueueCallerJoin", cat(c.snap(""), "Queue: "+q, "Position: 1", "Count: 1")...)
}

func (s *script) queueAbandon(c *sc, q string, hold int) {
	s.ev("QueueCallerAbandon", cat(c.snap(""), "Queue: "+q, "Position: 1", "OriginalPosition: 1", "HoldTime: "+strconv.Itoa(hold))...)
}

func (s *script) agentConnect(caller, agent *sc, q, iface, member string, hold, ring int) {
	s.ev("AgentConnect", cat(cat(caller.snap(""), agent.snap("Dest")...), "Queue: "+q, "MemberName: "+member,
		"Interface: "+iface, "HoldTime: "+strconv.Itoa(hold), "RingTime: "+strconv.Itoa(ring))...)
}

func (s *script) agentComplete(caller, agent *sc, q, iface, member string, hold, talk int) {
	s.ev("AgentComplete", cat(cat(caller.snap(""), agent.snap("Dest")...), "Queue: "+q, "MemberName: "+member,
		"Interface: "+iface, "HoldTime: "+strconv.Itoa(hold), "TalkTime: "+strconv.Itoa(talk), "Reason: caller")...)
}

func (s *script) localOptimize(one, two, source *sc) {
	lines := cat(cat(one.snap("LocalOne"), two.snap("LocalTwo")...), source.snap("Source")...)
	s.ev("LocalOptimizationBegin", cat(lines, "DestUniqueId: "+source.uid, "Id: 1")...)
	s.ev("LocalOptimizationEnd", cat(cat(one.snap("LocalOne"), two.snap("LocalTwo")...), "Success: Yes", "Id: 1")...)
}

// noise is traffic of the PBX that is none of our calls' business.
func (s *script) noise(i int) {
	switch i % 4 {
	case 0:
		s.ev("PeerStatus", "ChannelType: PJSIP", fmt.Sprintf("Peer: PJSIP/%d", 200+i%50), "PeerStatus: Reachable", "Time: 12")
	case 1:
		s.ev("RTCPSent", fmt.Sprintf("Channel: PJSIP/9%03d-ffffffff", i%1000), fmt.Sprintf("Uniqueid: 1.%d", i), "SSRC: 0x1234", "PT: 200(SR)", "To: 10.0.0.5:10001", "ReportCount: 1")
	case 2:
		s.ev("VarSet", fmt.Sprintf("Channel: PJSIP/9%03d-ffffffff", i%1000), fmt.Sprintf("Uniqueid: 1.%d", i), "Variable: RTPAUDIOQOS", "Value: ssrc=1;themssrc=2;lp=0")
	case 3:
		s.ev("ContactStatus", fmt.Sprintf("URI: sip:%d@10.0.0.%d:5060", 200+i%50, i%250), "ContactStatus: Reachable", fmt.Sprintf("AOR: %d", 200+i%50), "EndpointName: x", "RoundtripUsec: 1200")
	}
}

// coreShowChannel is c as CoreShowChannels lists it.
func (s *script) coreShowChannel(c *sc, bridge string) string {
	d := s.now.Sub(c.start)
	lines := cat(c.snap(""), "Application: Dial", "ApplicationData: PJSIP/101,30",
		fmt.Sprintf("Duration: %02d:%02d:%02d", int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60), "BridgeId: "+bridge)
	return "Event: CoreShowChannel\n" + strings.Join(lines, "\n") + fmt.Sprintf("\nTimestamp: %d.000000", s.now.Unix())
}

// take returns the blocks written so far and forgets them.
func (s *script) take() []string {
	b := s.blocks
	s.blocks, s.stamps = nil, nil
	return b
}
