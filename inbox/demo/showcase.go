package demo

// The showcase: a few stories told once or twice in the period, so that
// whoever clicks through the demo meets what real mail and clients bring
// and the product handles: a client's colleague answering in the client's
// thread (a participant of the conversation), a supplier's mail with its
// logo inline, a newsletter whose remote images stay hidden, mail with no
// readable sender (the owner's "Unreadable" list), and clients from
// Belarus whose numbers are written the national way.
//
// The mail is written as raw RFC 5322 messages and read by the email
// channel's parser (Setup.ReadMail), as the IMAP adapter reads what it
// fetches. The stories draw from their own random sequence, so the rest
// of the demo tells the same stories with or without them.

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"mime"
	"net/url"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
)

// showcase scripts the showcase stories, each at its fraction of the
// period, in working hours.
func (g *demoGen) showcase() {
	main := g.r
	g.r = rand.New(rand.NewPCG(g.opts.Seed, 0x5b0a_de31))
	defer func() { g.r = main }()
	span := g.end.Sub(g.start)
	at := func(frac float64) time.Time {
		return g.work(g.dayStart(g.start.Add(time.Duration(frac * float64(span)))).Add(g.hours(9.5, 17)))
	}
	sc := g.d.Showcase
	for i := range sc.Colleagues {
		g.colleagueStory(i, at(0.15+0.27*float64(i)))
	}
	for i := range sc.Unreadable {
		g.unreadableMail(i, at(0.22+0.3*float64(i)))
	}
	g.logoMail(at(0.3))
	g.remoteMail(at(0.62))
	for i := range sc.Foreign.Leads {
		g.foreignLead(i, at(0.38+0.4*float64(i)))
	}
}

// showcasePerson is a person of the showcase, signing as organizations do
// when they have one.
func (g *demoGen) showcasePerson(o demoSender) *demoPerson {
	p := &demoPerson{company: o.Company, first: o.First, last: o.Last, email: o.Email, known: map[string]bool{}, convs: map[demoConvKey]int64{}}
	if o.Company != "" {
		p.signature = demoFill(g.d.Mail.Signature, "first", o.First, "last", o.Last, "company", o.Company)
	}
	return p
}

// colleagueStory: a client writes, the manager answers, and a colleague
// of the client (the wife, the office manager, the accountant) answers in
// the client's thread from another address of the same domain; the
// manager answers them both, and the deal moves on.
func (g *demoGen) colleagueStory(i int, t time.Time) {
	c := g.d.Showcase.Colleagues[i]
	client := g.showcasePerson(c.Client)
	client.manager = &g.managers[i%len(g.managers)]
	s := &demoStory{p: client, first: "email", kit: g.kitchen()}
	g.mailIn(s, t, c.Subject, c.Question, g.d.Company.Mailbox, false)
	name := client.last + " " + client.first
	if client.company != "" {
		name = client.company
	}
	tri := g.add(s, &demoStep{at: g.work(t.Add(g.mins(10, 60))), op: demoTriage, take: true, title: c.Subject, name: name})
	t = g.reply(s, "email", g.work(tri.at.Add(g.mins(5, 40))), c.Answer)

	// The colleague, the next day, answering to all.
	col := g.showcasePerson(c.Colleague)
	cs := &demoStory{p: col, first: "email", kit: s.kit}
	th := client.thread
	ct := g.work(t.Add(g.hours(18, 28)))
	id := fmt.Sprintf("%s.%d@%s", g.hex(8), ct.Unix(), demoDomain(col.email))
	refs := append(append([]string{}, th.refs...), th.last)
	sign := demoFill(g.d.Dialogue.Signature, "first", col.first)
	if col.signature != "" {
		sign = col.signature
	}
	raw := demoRawMail{from: demoAddress(col.first+" "+col.last, col.email), to: demoAddress(client.first+" "+client.last, client.email) + ", " + g.d.Company.Mailbox,
		subject: "Re: " + th.subject, id: id, refs: refs, at: ct, text: c.ColleagueText + sign}
	if in, ok := g.readMail(raw.bytes(), ct); ok {
		th.refs, th.last = refs, id
		col.known["email"] = true
		g.inbound(cs, in)
		t = g.reply(s, "email", g.work(ct.Add(g.mins(10, 90))), c.ColleagueAnswer)
		g.act(s, t.Add(g.mins(5, 60)), demoStage).stage = 1
	}
}

// unreadableMail is mail nobody can answer: a bounce with a null sender,
// a From with no address in it, no From at all.
func (g *demoGen) unreadableMail(i int, t time.Time) {
	u := g.d.Showcase.Unreadable[i]
	raw := demoRawMail{to: g.d.Company.Mailbox, subject: u.Subject, at: t, text: u.Body}
	switch u.Kind {
	case "bounce":
		raw.header = []string{"Return-Path: <>", "Auto-Submitted: auto-replied"}
		raw.id = fmt.Sprintf("%s.%d@mx.%s", g.hex(8), t.Unix(), g.d.Company.Domain)
	case "garbage":
		raw.from = u.From
	}
	in, ok := g.readMail(raw.bytes(), t)
	if !ok {
		return
	}
	if in.ExternalID == "" { // as the IMAP adapter names a message without a Message-ID
		in.ExternalID = fmt.Sprintf("imap:INBOX:%d:%d", g.start.Unix(), 1000+i)
	}
	g.add(&demoStory{byLead: true}, &demoStep{at: t, op: demoIn, in: in})
}

// logoMail is a supplier's letter whose signature shows the company's
// logo, an inline part of the message referenced from its HTML by cid:.
func (g *demoGen) logoMail(t time.Time) {
	m := g.d.Showcase.LogoMail
	p := g.showcasePerson(m.Sender)
	s := &demoStory{p: p, first: "email", byLead: true}
	domain := demoDomain(p.email)
	cid := "logo." + g.hex(6) + "@" + domain
	body := fmt.Sprintf(`<html><body><p>%s</p><p>%s<br>%s</p><p><img src="cid:%s" alt="%s" width="160" height="48"></p></body></html>`,
		html.EscapeString(m.Body), html.EscapeString(m.Sender.First+" "+m.Sender.Last), html.EscapeString(m.Sender.Company), cid, html.EscapeString(m.Sender.Company))
	raw := demoRawMail{from: demoAddress(p.company, p.email), to: g.d.Company.Purchasing, subject: m.Subject,
		id: fmt.Sprintf("%s.%d@%s", g.hex(8), t.Unix(), domain), at: t, text: m.Body + p.signature, html: body,
		inline: &channels.Attachment{Name: m.Logo, ContentType: "image/png", ContentID: cid, Data: logoPNG()}}
	g.notASaleMail(s, raw, t, demoSupplier)
}

// remoteMail is an advertising platform's newsletter whose banner is a
// remote image: the timeline shows it only when asked to.
func (g *demoGen) remoteMail(t time.Time) {
	m := g.d.Showcase.RemoteMail
	p := g.showcasePerson(m.Sender)
	s := &demoStory{p: p, first: "email", byLead: true}
	domain := demoDomain(p.email)
	body := fmt.Sprintf(`<html><body><p><a href="https://%s/"><img src="%s" alt="%s" width="600" height="200"></a></p><p>%s</p><p><a href="%s">Отписаться</a></p></body></html>`,
		domain, m.Banner, html.EscapeString(m.Sender.Company), html.EscapeString(m.Body), m.Unsubscribe)
	raw := demoRawMail{from: demoAddress(p.company, p.email), to: g.d.Company.Mailbox, subject: m.Subject,
		id: fmt.Sprintf("%s.%d@%s", g.hex(8), t.Unix(), domain), at: t, text: m.Body, html: body,
		header: []string{"List-Id: <news." + domain + ">", "List-Unsubscribe: <" + m.Unsubscribe + ">", "Precedence: bulk"}}
	g.notASaleMail(s, raw, t, demoSpam)
}

// foreignLead is a client from Belarus writing from the form on the
// company's Belarusian page (its entry point reads phones as Belarusian)
// or from the main site's form with the country field set: either way the
// number typed the national way is read as +375.
func (g *demoGen) foreignLead(i int, t time.Time) {
	f := g.d.Showcase.Foreign
	l := f.Leads[i]
	p := &demoPerson{first: l.First, last: l.Last, known: map[string]bool{"phone": true}, convs: map[demoConvKey]int64{}}
	p.manager = &g.managers[(i+1)%len(g.managers)]
	s := &demoStory{p: p, first: "web", kit: g.kitchen()}
	in := channels.Inbound{AccountID: g.webAcc.ID, ExternalID: "sb-form-" + g.hex(6), Kind: channels.Form, At: t,
		Name: l.First + " " + l.Last, Text: l.Message, From: []channels.Handle{{Kind: "phone", Value: l.Phone}},
		Region: l.Country, Meta: map[string]string{}}
	if l.Country == "" { // the Belarusian page's form tags its submissions
		in.EntryPoint, in.SourceHint = f.Entry, f.Entry
		in.Meta["utm_source"] = f.Entry
		in.Meta["page_url"] = f.Page + "?utm_source=" + f.Entry
	} else {
		in.EntryPoint = "direct"
		if src := g.webAcc.DefaultSource; src != "" {
			in.EntryPoint, in.SourceHint = src, src
		}
		in.Meta["page_url"] = g.d.Company.Site + "/"
	}
	if u, err := url.Parse(g.d.Company.Site); err == nil && u.Hostname() != "" {
		in.Subject = strings.ToLower(u.Hostname()) // as the web channel names the site
	}
	g.inbound(s, in)
	g.add(s, &demoStep{at: g.work(t.Add(g.mins(10, 90))), op: demoTriage, title: l.Title, name: p.last + " " + p.first})
}

// setupForeign makes the entry point of the company's Belarusian page:
// the web form there tags its submissions with its own utm_source, and its
// clients' phones are read as Belarusian. No ad source: the page is the
// company's own.
func (g *demoGen) setupForeign(tx *gorm.DB) error {
	f := g.d.Showcase.Foreign
	owner := &g.owner.ID
	e, err := crm.CreateEntryPoint(tx, g.webAcc.ID, f.Entry, true, nil, owner)
	if err != nil {
		return fmt.Errorf("inbox: demo: entry point %s: %w", f.Entry, err)
	}
	if e.Region, err = crm.SetEntryPointRegion(tx, e.ID, f.Region); err != nil {
		return fmt.Errorf("inbox: demo: entry point %s: %w", f.Entry, err)
	}
	g.epIDs = append(g.epIDs, e.ID)
	_, err = crm.Audit(tx, owner, "entry_point.create", "entry_point", e.ID, map[string]any{"account_id": g.webAcc.ID, "address": f.Entry, "auto_deal": true, "ad_source_id": nil, "region": e.Region})
	return err
}

// readMail reads a raw message as the IMAP adapter does: the parser, then
// the account, the kind, the arrival time and the folder. A message the
// parser cannot read even partly is logged and left out.
func (g *demoGen) readMail(raw []byte, at time.Time) (channels.Inbound, bool) {
	in, err := g.readRaw(raw, g.ownAddresses())
	if err != nil {
		g.log.Debug("demo: showcase mail not fully parsed", "err", err)
	}
	if len(in.From) == 0 && in.ParseError == "" {
		g.log.Warn("demo: showcase mail has no sender and no parse error", "subject", in.Subject)
		return in, false
	}
	in.AccountID, in.Kind, in.At = g.mailAcc.ID, channels.Mail, at
	if in.ThreadKey == "" && in.ExternalID != "" {
		in.ThreadKey = in.ExternalID
	}
	if in.Meta == nil {
		in.Meta = map[string]string{}
	}
	in.Meta["folder"] = "INBOX"
	return in, true
}

// ownAddresses are the mailbox's addresses: the mailbox, the purchasing
// alias and the sources' plus-addresses.
func (g *demoGen) ownAddresses() []string {
	own := []string{g.d.Company.Mailbox, g.d.Company.Purchasing}
	for _, s := range g.srcs {
		own = append(own, s.email)
	}
	return own
}

// demoRawMail is a message as a mail program writes it.
type demoRawMail struct {
	from, to, subject, id string
	refs                  []string // the thread, oldest first; the last is In-Reply-To
	at                    time.Time
	header                []string // more header lines
	text, html            string
	inline                *channels.Attachment // a picture the HTML shows by cid:
}

func (m demoRawMail) bytes() []byte {
	var b bytes.Buffer
	line := func(s string) { b.WriteString(s + "\r\n") }
	for _, h := range m.header {
		line(h)
	}
	if m.from != "" {
		line("From: " + m.from)
	}
	line("To: " + m.to)
	line("Subject: " + mime.BEncoding.Encode("utf-8", m.subject))
	line("Date: " + m.at.Format(time.RFC1123Z))
	if m.id != "" {
		line("Message-ID: <" + m.id + ">")
	}
	if len(m.refs) > 0 {
		line("In-Reply-To: <" + m.refs[len(m.refs)-1] + ">")
		line("References: <" + strings.Join(m.refs, "> <") + ">")
	}
	line("MIME-Version: 1.0")
	text := func() {
		line("Content-Type: text/plain; charset=utf-8")
		line("Content-Transfer-Encoding: base64")
		line("")
		line(demoBase64([]byte(m.text)))
	}
	switch {
	case m.html == "":
		text()
	case m.inline == nil:
		line(`Content-Type: multipart/alternative; boundary="alt"`)
		line("")
		m.alternative(&b, text)
	default:
		line(`Content-Type: multipart/related; type="multipart/alternative"; boundary="rel"`)
		line("")
		line("--rel")
		line(`Content-Type: multipart/alternative; boundary="alt"`)
		line("")
		m.alternative(&b, text)
		a := m.inline
		line("--rel")
		line("Content-Type: " + a.ContentType + `; name="` + a.Name + `"`)
		line("Content-Transfer-Encoding: base64")
		line("Content-ID: <" + a.ContentID + ">")
		line(`Content-Disposition: inline; filename="` + a.Name + `"`)
		line("")
		line(demoBase64(a.Data))
		line("--rel--")
	}
	return b.Bytes()
}

// alternative writes the text and HTML parts under the boundary "alt".
func (m demoRawMail) alternative(b *bytes.Buffer, text func()) {
	b.WriteString("--alt\r\n")
	text()
	b.WriteString("--alt\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	b.WriteString(demoBase64([]byte(m.html)) + "\r\n--alt--\r\n")
}

// demoBase64 is data in base64 lines of 76 characters.
func demoBase64(data []byte) string {
	s := base64.StdEncoding.EncodeToString(data)
	var b strings.Builder
	for len(s) > 76 {
		b.WriteString(s[:76] + "\r\n")
		s = s[76:]
	}
	b.WriteString(s)
	return b.String()
}

// demoAddress is a From or To with a display name (encoded).
func demoAddress(name, email string) string {
	if name == "" {
		return email
	}
	return mime.BEncoding.Encode("utf-8", name) + " <" + email + ">"
}

func demoDomain(email string) string {
	_, d, _ := strings.Cut(email, "@")
	return d
}

// logoPNG is a supplier's logo: a dark plate with three facade panels.
func logoPNG() []byte {
	const w, h = 160, 48
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	plate, panel := color.RGBA{48, 62, 80, 255}, []color.RGBA{{214, 190, 150, 255}, {160, 180, 160, 255}, {230, 230, 225, 255}}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := plate
			if y > 8 && y < 40 && x > 8 && x < 104 && (x-8)%32 > 3 {
				c = panel[(x-8)/32]
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

// notASaleMail reads raw as the mail adapter would and has the lead mark
// it not a sale (reason, a key of Company.Reasons) and close it.
func (g *demoGen) notASaleMail(s *demoStory, raw demoRawMail, t time.Time, reason string) {
	in, ok := g.readMail(raw.bytes(), t)
	if !ok {
		return
	}
	s.p.known["email"] = true
	st := g.inbound(s, in)
	n := g.act(s, g.work(t.Add(g.hours(1, 30))), demoNotASale)
	n.ref, n.reason = st, g.reason(reason)
	g.act(s, n.at.Add(time.Minute), demoClose)
}
