package demo

// The later chapters of a lead's story (won, lost, a second deal, the
// client's return) and the mail that is no lead at all.

import (
	"time"
)

// win: the client agrees, perhaps pays the deposit in writing, and the
// deal is won (the second deal too, sometimes).
func (g *demoGen) win(s *demoStory, t time.Time, amount int64) time.Time {
	w := g.d.Dialogue.Win
	fc := g.follow(s)
	t, _ = g.exchange(s, fc, g.awake(t.Add(g.days(1, 14))), g.pick(w.Agree), demoFill(w.Invite, "day", g.pick(g.d.Dialogue.Weekdays)))
	if fc != "phone" && g.chance(0.6) {
		t, _ = g.exchange(s, fc, g.awake(t.Add(g.days(1, 3))), w.Paid, demoFill(w.PaidAnswer, "when", g.pick(w.Install)))
	}
	won := g.act(s, g.work(t.Add(g.mins(10, 240))), demoWon)
	won.amount = min(max(amount*int64(g.between(97, 104))/100/100*100, 90000), 450000)
	if s.twoOpen && g.chance(0.5) {
		w2 := g.act(s, won.at.Add(2*time.Minute), demoWon)
		w2.second, w2.amount = true, int64(g.between(900, 1600))*100
	}
	s.twoOpen = false
	g.act(s, won.at.Add(5*time.Minute), demoClose)
	return won.at
}

// lose: the client usually says why, and the deal is lost.
func (g *demoGen) lose(s *demoStory, t time.Time, reason string) time.Time {
	fc := g.follow(s)
	t = g.awake(t.Add(g.days(2, 20)))
	if g.chance(0.75) {
		in, out := g.loseTalk(reason)
		t, _ = g.exchange(s, fc, t, in, out)
	}
	lost := g.act(s, g.work(t.Add(g.mins(10, 300))), demoLost)
	lost.reason = g.reason(reason)
	s.twoOpen = false
	g.act(s, lost.at.Add(time.Minute), demoClose)
	return lost.at
}

// secondDeal: the client asks for a second piece of furniture; the manager
// opens a deal from that message. Until one deal closes, the client's
// touches need linking by hand.
func (g *demoGen) secondDeal(s *demoStory, t time.Time) time.Time {
	fc := g.follow(s)
	items, words := g.d.Kitchen.OtherFurniture, g.d.Dialogue.SecondDeal
	item := items[g.r.IntN(len(items))]
	what := item.What
	size := demoMetres(g.between(14, 30) * 10)
	t = g.awake(t.Add(g.hours(3, 72)))
	in := g.say(s, fc, t, demoFill(words.Ask, "what", what, "metres", size))
	nd := g.act(s, g.work(t.Add(g.mins(10, 120))), demoNewDeal)
	nd.ref, nd.second = in, true
	nd.title = demoFill(words.Title, "title", item.Title, "metres", size)
	t = g.reply(s, fc, nd.at.Add(g.mins(1, 10)), demoFill(words.Answer, "what", what))
	s.twoOpen = true
	st := g.act(s, t.Add(g.mins(20, 300)), demoStage)
	st.stage, st.second = 1, true
	return t
}

// comeBack is a client returning after the deal closed: a warranty
// question (not a sale) or a new order (a new deal from the touch).
func (g *demoGen) comeBack(prev *demoStory, t time.Time, won bool) {
	s := &demoStory{p: prev.p, src: prev.src, first: prev.first, kit: g.kitchen(), dropped: prev.dropped}
	words := g.d.Dialogue
	fc := g.follow(s)
	t = g.awake(t.Add(g.days(7, 45)))
	if won && g.chance(0.5) {
		in := g.say(s, fc, t, g.pick(words.Warranty.Client))
		if fc != "phone" {
			t = g.reply(s, fc, g.work(t.Add(g.mins(10, 180))), words.Warranty.Answer)
		}
		n := g.act(s, g.work(t.Add(g.mins(5, 600))), demoNotASale)
		n.ref, n.reason = in, g.reason(demoService)
		g.act(s, n.at.Add(g.days(1, 4)), demoClose)
		return
	}
	text := words.Return.Again
	title := demoFill(words.Return.AgainTitle, "title", s.kit.title)
	if won {
		text = words.Return.More
		title = words.Return.MoreTitle
	}
	in := g.say(s, fc, t, text)
	nd := g.act(s, g.work(t.Add(g.mins(10, 300))), demoNewDeal)
	nd.ref, nd.title = in, title
	if fc != "phone" {
		t = g.reply(s, fc, nd.at.Add(g.mins(1, 15)), words.Return.Answer)
	}
	if g.chance(0.6) {
		g.act(s, nd.at.Add(g.hours(2, 48)), demoStage).stage = 1
	}
	if won && g.chance(0.5) {
		w := g.act(s, g.work(t.Add(g.days(5, 20))), demoWon)
		w.amount = int64(g.between(900, 1700)) * 100
		g.act(s, w.at.Add(time.Minute), demoClose)
	}
}

// supplier writes to the purchasing address, which opens no deals; the
// lead marks it not a sale.
func (g *demoGen) supplier(at time.Time) {
	mail := g.d.Mail
	i := g.r.IntN(len(mail.Suppliers))
	p := g.orgPerson(mail.Suppliers[i])
	s := &demoStory{p: p, first: "email", byLead: true, dropped: at.Before(g.start)}
	p.thread = nil
	m := mail.SupplierLetters[g.r.IntN(len(mail.SupplierLetters))]
	in := g.mailIn(s, at, m.Subject, m.Body, g.d.Company.Purchasing, false)
	if g.chance(0.9) {
		n := g.act(s, g.work(at.Add(g.hours(1, 40))), demoNotASale)
		n.ref, n.reason = in, g.reason(demoSupplier)
		g.act(s, n.at.Add(time.Minute), demoClose)
	}
}

// mailer is bulk mail to the address on the site: flagged automated, so it
// opens no deal; the lead marks it spam.
func (g *demoGen) mailer(at time.Time) {
	mail := g.d.Mail
	m := mail.MailerLetters[g.r.IntN(len(mail.MailerLetters))]
	p := g.orgPerson(mail.Mailer)
	s := &demoStory{p: p, first: "email", byLead: true, dropped: at.Before(g.start)}
	p.thread = nil
	in := g.mailIn(s, at, m.Subject, m.Body, g.d.Company.Mailbox, true)
	if g.chance(0.85) {
		n := g.act(s, g.work(at.Add(g.hours(1, 48))), demoNotASale)
		n.ref, n.reason = in, g.reason(demoSpam)
		g.act(s, n.at.Add(time.Minute), demoClose)
	}
}

// orgPerson is the one person behind an organization's address, signing
// with the organization's footer or, lacking one, their name.
func (g *demoGen) orgPerson(o demoSender) *demoPerson {
	if g.orgs == nil {
		g.orgs = map[string]*demoPerson{}
	}
	if p := g.orgs[o.Email]; p != nil {
		return p
	}
	p := &demoPerson{company: o.Company, first: o.First, last: o.Last, email: o.Email, known: map[string]bool{}, convs: map[demoConvKey]int64{},
		signature: o.Signature}
	if p.signature == "" {
		p.signature = demoFill(g.d.Mail.Signature, "first", o.First, "last", o.Last, "company", o.Company)
	}
	g.orgs[o.Email] = p
	return p
}
