package demo

// Touches as the adapters shape them, and the manager's replies.

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
)

// demoConvKey finds a client's conversation: the account and, for email,
// the thread.
type demoConvKey struct {
	account int64
	thread  string
}

// demoThread is an email thread as the client's mail program sees it.
type demoThread struct {
	root, last string
	refs       []string
	subject    string
}

func (g *demoGen) add(s *demoStory, st *demoStep) *demoStep {
	st.story = s
	if s.dropped {
		return st
	}
	st.seq = g.nextID
	g.nextID++
	g.steps = append(g.steps, st)
	return st
}

func (g *demoGen) act(s *demoStory, at time.Time, op demoOp) *demoStep {
	return g.add(s, &demoStep{at: at, op: op})
}

// inbound adds an inbound touch; while two deals are open the manager
// usually links it by hand.
func (g *demoGen) inbound(s *demoStory, in channels.Inbound) *demoStep {
	st := g.add(s, &demoStep{at: in.At, op: demoIn, in: in})
	if s.p.lastIn == nil {
		s.p.lastIn = map[string]string{}
	}
	s.p.lastIn[g.channelOf(in.AccountID)] = in.ExternalID
	if s.twoOpen && g.chance(0.65) {
		l := g.act(s, g.work(in.At.Add(g.mins(10, 180))), demoLink)
		l.ref = st
	}
	return st
}

func (g *demoGen) call(s *demoStory, at time.Time, answered bool, number string) *demoStep {
	p := s.p
	call := &channels.CallInfo{Answered: answered}
	if answered {
		call.Duration = time.Duration(g.between(40, 720)) * time.Second
		call.Ring = time.Duration(g.between(3, 25)) * time.Second
		if p.manager != nil {
			call.Extension = g.extension(p.manager.ID)
		}
	}
	if !answered {
		call.Ring = time.Duration(g.between(10, 45)) * time.Second
		call.Missed = []string{channels.MissedNoAnswer, channels.MissedCancelled, channels.MissedAbandoned, channels.MissedBusy}[g.between(0, 3)]
	}
	p.known["phone"] = true
	in := channels.Inbound{
		AccountID: g.phoneAcc.ID, ExternalID: "call-" + g.hex(10), Kind: channels.Call, At: at,
		From: []channels.Handle{{Kind: "phone", Value: p.pbx()}}, EntryPoint: number, Call: call, // no text, as from the PBX: the timeline words it
	}
	if answered { // the recording, kept as the call's file: it plays in the timeline
		in.Attachments = []channels.Attachment{{Name: "recording.wav", ContentType: "audio/wav", Data: recordingWAV(g.between(0, 7))}}
	}
	return g.inbound(s, in)
}

func (g *demoGen) tgIn(s *demoStory, at time.Time, text string, start string, sharePhone bool) *demoStep {
	p := s.p
	p.tgMsg++
	in := channels.Inbound{
		AccountID: g.tgAcc.ID, ExternalID: fmt.Sprintf("%d:%d", p.tg, p.tgMsg), Kind: channels.Message, At: at,
		From: []channels.Handle{{Kind: "telegram", Value: strconv.FormatInt(p.tg, 10)}},
		Name: p.first, Text: text, Meta: map[string]string{},
	}
	if p.female && g.chance(0.1) || !p.female && g.chance(0.3) {
		in.Name = p.first + " " + p.last
	}
	if p.tgUser != "" {
		in.Meta["username"] = p.tgUser
	}
	if start != "" {
		in.Text = "/start " + start
		in.EntryPoint, in.SourceHint = start, start
	}
	if sharePhone {
		in.Text = ""
		in.From = append(in.From, channels.Handle{Kind: "phone", Value: p.phone})
		in.Meta["shared_phone"] = p.phone
		p.known["phone"] = true
	}
	if len(in.Meta) == 0 {
		in.Meta = nil
	}
	p.known["telegram"] = true
	return g.inbound(s, in)
}

func (g *demoGen) waIn(s *demoStory, at time.Time, text string) *demoStep {
	p := s.p
	p.known["phone"], p.known["whatsapp"] = true, true
	name := p.first
	if g.chance(0.3) {
		name = p.first + " " + string([]rune(p.last)[:1]) + "."
	}
	jid := p.pbx() + "@s.whatsapp.net"
	in := channels.Inbound{
		AccountID: g.waAcc.ID, ExternalID: jid + ":3EB0" + strings.ToUpper(g.hex(8)), Kind: channels.Message, At: at,
		From: []channels.Handle{{Kind: "whatsapp", Value: jid}},
		Name: name, EntryPoint: g.d.Company.WhatsApp, Text: text,
	}
	// Every fifth WhatsApp message comes with a photo of the client's
	// kitchen (counted, not drawn: the random sequence stays the same).
	if g.waMsgs++; g.waMsgs%5 == 0 {
		in.Attachments = []channels.Attachment{{Name: "photo.png", ContentType: "image/png", Data: photoPNG(g.waMsgs / 5)}}
	}
	return g.inbound(s, in)
}

// mailIn is a client's email, as the email adapter reads it: threaded by
// References, its entry point the address it was sent to.
func (g *demoGen) mailIn(s *demoStory, at time.Time, subject, body, to string, automated bool) *demoStep {
	p := s.p
	domain := p.email[strings.Index(p.email, "@")+1:]
	id := fmt.Sprintf("%s.%d@%s", g.hex(8), at.Unix(), domain)
	meta := map[string]string{"message_id": id, "to": to, "folder": "INBOX"}
	th := p.thread
	if th == nil || subject != "" {
		th = &demoThread{root: id, subject: subject}
		p.thread = th
	} else {
		subject = "Re: " + th.subject
		meta["in_reply_to"] = th.last
		meta["references"] = strings.Join(append(append([]string{}, th.refs...), th.last), " ")
	}
	th.refs = strings.Fields(meta["references"])
	th.last = id
	name := ""
	if p.company != "" {
		name = p.company
	} else if g.chance(0.7) {
		name = p.first + " " + p.last
	}
	sign := demoFill(g.d.Dialogue.Signature, "first", p.first)
	if p.signature != "" {
		sign = p.signature
	} else if g.chance(0.4) {
		sign += "\n" + g.typed(p)
	}
	p.known["email"] = true
	return g.inbound(s, channels.Inbound{
		AccountID: g.mailAcc.ID, ExternalID: id, Kind: channels.Mail, At: at,
		From: []channels.Handle{{Kind: "email", Value: p.email}}, Name: name,
		EntryPoint: to, ThreadKey: th.root, Subject: subject, Text: body + sign, Meta: meta, Automated: automated,
	})
}

func (g *demoGen) form(s *demoStory, at time.Time, msg string) *demoStep {
	p := s.p
	in := channels.Inbound{AccountID: g.webAcc.ID, ExternalID: "sb-form-" + g.hex(6), Kind: channels.Form, At: at, Name: p.first, Text: msg,
		From: []channels.Handle{{Kind: "phone", Value: g.typed(p)}}}
	page := g.d.Company.Site + g.pick(g.d.Company.SitePages)
	if g.chance(0.2) {
		in.Name = p.first + " " + p.last
	}
	if p.email != "" && g.chance(0.7) {
		in.From = append(in.From, channels.Handle{Kind: "email", Value: p.email})
		p.known["email"] = true
	}
	// Shaped as the web channel shapes a form (channels/web, Submission.Inbound):
	// the UTM source is the entry point and the source hint, the page and
	// the UTM tags are meta, the subject names the site.
	in.Meta = map[string]string{}
	in.EntryPoint, in.SourceHint = "direct", ""
	if src := g.webAcc.DefaultSource; src != "" {
		in.EntryPoint, in.SourceHint = src, src
	}
	if s.src != nil {
		in.EntryPoint, in.SourceHint = s.src.code, s.src.code
		in.Meta["utm_source"] = s.src.code
		if s.src.medium != "" {
			in.Meta["utm_medium"] = s.src.medium
		}
		if len(s.src.camps) > 0 {
			in.Meta["utm_campaign"] = g.pick(s.src.camps)
		}
		page += "?utm_source=" + s.src.code
	}
	in.Meta["page_url"] = page
	if u, err := url.Parse(g.d.Company.Site); err == nil && u.Hostname() != "" {
		in.Subject = strings.ToLower(u.Hostname())
	}
	p.known["phone"] = true
	return g.inbound(s, in)
}

// say is a client's message on ch at t (a call when ch is the phone).
func (g *demoGen) say(s *demoStory, ch string, at time.Time, text string) *demoStep {
	switch ch {
	case "telegram":
		return g.tgIn(s, at, text, "", false)
	case "whatsapp":
		return g.waIn(s, at, text)
	case "email":
		subject := ""
		if s.p.thread == nil {
			subject = g.pick(g.d.Dialogue.LaterSubjects)
		}
		return g.mailIn(s, at, subject, text, g.d.Company.Mailbox, false)
	}
	num := g.d.Company.MainNumber
	if s.src != nil {
		num = g.number(s.src, at)
	}
	if !g.working(at) && g.chance(0.8) {
		at = g.work(at) // a client who knows the hours calls within them
	}
	return g.call(s, at, g.working(at) && g.chance(0.9) || g.chance(0.05), num)
}

// reply is the manager's answer on ch; a phone conversation has none.
func (g *demoGen) reply(s *demoStory, ch string, at time.Time, text string) time.Time {
	p := s.p
	st := &demoStep{at: at, op: demoOut, channel: ch, text: text, author: p.manager}
	if !p.known[ch] || ch == "email" && p.thread == nil {
		return at // no conversation there to answer in
	}
	switch ch {
	case "telegram":
		p.tgMsg++
		st.replyTo = p.lastIn["telegram"]
		st.conv = demoConvKey{g.tgAcc.ID, ""}
		st.ext = fmt.Sprintf("%d:%d", p.tg, p.tgMsg)
		st.to = channels.Handle{Kind: "telegram", Value: strconv.FormatInt(p.tg, 10)}
	case "whatsapp":
		st.replyTo = p.lastIn["whatsapp"]
		st.conv = demoConvKey{g.waAcc.ID, ""}
		st.ext = "3EB0" + strings.ToUpper(g.hex(8))
		st.to = channels.Handle{Kind: "whatsapp", Value: p.pbx() + "@s.whatsapp.net"}
	case "email":
		th := p.thread
		if th == nil {
			return at
		}
		st.conv = demoConvKey{g.mailAcc.ID, th.root}
		st.ext = "sb." + g.hex(12) + "@" + g.d.Company.Domain
		st.replyTo = th.last
		st.refs = append(append([]string{}, th.refs...), th.last)
		st.subject = th.subject
		if !strings.HasPrefix(strings.ToLower(st.subject), "re:") {
			st.subject = "Re: " + st.subject
		}
		st.to = channels.Handle{Kind: "email", Value: p.email}
		th.refs, th.last = st.refs, st.ext
	default:
		return at
	}
	g.add(s, st)
	return at
}

// exchange is a client's message and, on a channel that has replies, the
// manager's answer in working hours. It returns when the exchange ended.
func (g *demoGen) exchange(s *demoStory, ch string, at time.Time, in, out string) (time.Time, *demoStep) {
	st := g.say(s, ch, at, in)
	if ch == "phone" {
		return at, st
	}
	return g.reply(s, ch, g.work(at.Add(g.mins(4, 70))), out), st
}

// follow picks the channel a client goes on with: one the system already
// knows them on, so that no second contact appears.
func (g *demoGen) follow(s *demoStory) string {
	p := s.p
	if s.first == "telegram" && g.chance(0.7) || s.first == "email" || s.first == "whatsapp" && g.chance(0.8) {
		return s.first
	}
	var opts []string
	var w []int
	if p.known["phone"] {
		if p.usesWA {
			opts, w = append(opts, "whatsapp"), append(w, 6)
		}
		opts, w = append(opts, "phone"), append(w, 3)
	}
	if p.known["telegram"] {
		opts, w = append(opts, "telegram"), append(w, 5)
	}
	if p.known["email"] {
		opts, w = append(opts, "email"), append(w, 2)
	}
	if len(opts) == 0 {
		return s.first
	}
	return opts[g.weighted(w...)]
}

func (g *demoGen) channelOf(account int64) string {
	for _, a := range []crm.Account{g.phoneAcc, g.mailAcc, g.tgAcc, g.waAcc, g.webAcc} {
		if a.ID == account {
			return a.Channel
		}
	}
	return ""
}

// number is a tracking number of the source in force at t: the shared
// number belongs to its first source before the rebinding, to the second
// after.
func (g *demoGen) number(src *demoSrc, at time.Time) string {
	rb := g.d.Company.Rebind
	var ok []string
	for _, n := range src.numbers {
		if n == rb.Number && (src.code == rb.From) != at.Before(g.rebind) {
			continue
		}
		ok = append(ok, n)
	}
	if src.code == rb.To && !at.Before(g.rebind) && g.chance(0.4) {
		return rb.Number
	}
	return ok[g.r.IntN(len(ok))]
}

// numberOf is the number a story's client calls.
func (g *demoGen) numberOf(s *demoStory, at time.Time) string {
	if s.src == nil {
		return g.d.Company.MainNumber
	}
	return g.number(s.src, at)
}
