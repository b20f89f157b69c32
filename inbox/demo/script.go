package demo

// The script: each day's new clients and what becomes of them, written as
// steps to play later.

import (
	"time"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
)

// Reasons a deal is lost or a touch is not a sale: keys of the team's
// wording in demodata/company.json (g.reason).
const (
	demoExpensive  = "expensive"
	demoCompetitor = "competitor"
	demoNoAnswer   = "no_answer"
	demoChanged    = "changed"
	demoSpam       = "spam"
	demoSupplier   = "supplier"
	demoService    = "service"
)

// reason is the team's wording of a reason.
func (g *demoGen) reason(key string) string { return g.d.Company.Reasons[key] }

type demoOp int

const (
	demoIn       demoOp = iota // an inbound touch, through Ingest
	demoOut                    // a reply
	demoTriage                 // the story's conversations get their manager; contact and deal too
	demoStage                  // the deal moves to an open stage
	demoAmount                 // the estimate goes on the deal
	demoWon                    // the deal is won
	demoLost                   // the deal is lost
	demoClose                  // the client's conversations are closed
	demoNewDeal                // a deal is opened from a touch
	demoLink                   // an unlinked touch is linked to a deal
	demoNotASale               // a touch is marked not a sale
)

type demoStory struct {
	p       *demoPerson
	src     *demoSrc
	first   string // the channel of the first touch
	kit     demoKitchen
	byLead  bool // handled by the lead without assigning (suppliers, mailers)
	twoOpen bool // a second deal is open: inbound touches need linking
	// dropped: the story began before the period. It is still written
	// (drawing the same random numbers) but not kept, so that the stories
	// of a day do not depend on the time of day of the run.
	dropped bool

	deal, deal2 int64
}

// textual tells whether the story began on a channel with written replies.
func (s *demoStory) textual() bool {
	return s.first == "telegram" || s.first == "whatsapp" || s.first == "email"
}

type demoStep struct {
	at    time.Time
	seq   int
	op    demoOp
	story *demoStory

	in    channels.Inbound // demoIn
	touch int64            // demoIn, after Ingest

	// demoOut
	channel string
	conv    demoConvKey
	text    string
	subject string
	ext     string
	replyTo string
	refs    []string
	to      channels.Handle
	author  *crm.User

	ref    *demoStep // the touch acted on
	stage  int       // index among the open stages
	amount int64
	reason string
	title  string
	name   string
	second bool // the story's second deal
	take   bool // demoTriage: the manager takes it from the queue
}

// script writes every story of the period. Steps after the end are
// dropped: a story cut short is simply still going on.
func (g *demoGen) script() {
	first := g.dayStart(g.start)
	for d := 0; ; d++ {
		day := first.AddDate(0, 0, d)
		if day.After(g.end) {
			break
		}
		n := g.between(9, 12)
		switch day.Weekday() {
		case time.Saturday:
			n = g.between(6, 8)
		case time.Sunday:
			n = g.between(3, 5)
		}
		for range n {
			g.newLead(day.Add(g.arrival()))
		}
		if at := day.Add(g.hours(9, 18)); g.chance(0.3) {
			g.supplier(at)
		}
		if at := day.Add(g.hours(3, 12)); g.chance(0.25) {
			g.mailer(at)
		}
	}
	g.showcase()
	keep := g.steps[:0]
	kept := map[*demoStep]bool{}
	for _, st := range g.steps {
		if !st.at.Before(g.start) && st.at.Before(g.end) && (st.ref == nil || kept[st.ref]) {
			kept[st] = true
			st.at = st.at.UTC().Truncate(time.Second)
			if st.op == demoIn {
				st.in.At = st.at
			}
			keep = append(keep, st)
		}
	}
	g.steps = keep
}

// arrival is when in the day a new client turns up: mostly late morning
// and evening.
func (g *demoGen) arrival() time.Duration {
	switch g.weighted(2, 5, 3, 5, 2) {
	case 0:
		return g.hours(7, 9)
	case 1:
		return g.hours(9, 13)
	case 2:
		return g.hours(13, 17)
	case 3:
		return g.hours(17, 21)
	}
	return g.hours(21, 23.5)
}

func (g *demoGen) pickSource() *demoSrc {
	w := make([]int, len(g.srcs)+1)
	for i, s := range g.srcs {
		w[i] = s.weight
	}
	w[len(g.srcs)] = g.d.Company.UnsourcedShare // WhatsApp, where no source is known
	i := g.weighted(w...)
	if i == len(g.srcs) {
		return nil
	}
	return g.srcs[i]
}

func (g *demoGen) pickChannel(src *demoSrc) string {
	if src == nil {
		return "whatsapp"
	}
	return g.d.Company.FirstChannels[g.weighted(src.channels...)]
}

func (g *demoGen) pickManager() *crm.User {
	return &g.managers[g.weighted(g.shares...)]
}

type demoOutcome struct {
	won, lost bool
	reason    string
	stage     int  // the furthest open stage reached (index into the open stages)
	engaged   bool // the client writes or calls again on later days
}

// outcome decides how a lead ends. Most leads are one-off: a question, an
// answer, and whatever the manager then does by phone (calls out are not
// recorded). The engaged ones come back on later days. A source may bring
// buyers more or less often than the usual (its win weight).
func (g *demoGen) outcome(src *demoSrc) demoOutcome {
	top := len(g.open) - 1
	q := min(1, top)
	win := 12
	if src != nil && src.winW > 0 {
		win = src.winW
	}
	var o demoOutcome
	switch g.weighted(win, 12, 10, 8, 8, 20, 15, 15) {
	case 0:
		o = demoOutcome{won: true, stage: top, engaged: true}
	case 1:
		o = demoOutcome{lost: true, reason: demoNoAnswer}
	case 2:
		o = demoOutcome{lost: true, reason: demoExpensive, stage: top, engaged: g.chance(0.45)}
	case 3:
		o = demoOutcome{lost: true, reason: demoCompetitor, stage: g.between(q, top), engaged: g.chance(0.4)}
	case 4:
		o = demoOutcome{lost: true, reason: demoChanged, stage: g.between(0, q), engaged: g.chance(0.2)}
	case 5:
		o = demoOutcome{engaged: g.chance(0.05)}
	case 6:
		o = demoOutcome{stage: q, engaged: g.chance(0.2)}
	default:
		o = demoOutcome{stage: top, engaged: g.chance(0.6)}
	}
	if !o.engaged {
		o.stage = min(o.stage, q) // a proposal needs a measurement, and talking
	}
	return o
}

// newLead is one client's story from the first touch to a won or lost deal,
// or as far as it got by now.
func (g *demoGen) newLead(t0 time.Time) {
	s, out := g.newStory(t0)
	t, t0 := g.firstTouch(s, t0, out)
	t, ok := g.triage(s, t0, t)
	if !ok {
		return
	}
	if !out.engaged {
		g.oneOff(s, t, out)
		return
	}
	g.engage(s, t, out)
}

// newStory is a new client: where they come from, how they first get in
// touch, how it will end, who they are and what kitchen they want.
func (g *demoGen) newStory(t0 time.Time) (*demoStory, demoOutcome) {
	src := g.pickSource()
	ch := g.pickChannel(src)
	out := g.outcome(src)
	if out.reason == demoNoAnswer && src == nil {
		out.reason = demoChanged // a WhatsApp writer is always reachable
	}
	if out.reason == demoNoAnswer && ch != "phone" && ch != "web" {
		ch = "phone"
	}
	p := g.newPerson()
	switch ch {
	case "telegram":
		g.giveTelegram(p)
	case "email":
		g.giveEmail(p)
	case "whatsapp":
		p.usesWA = true
	}
	p.manager = g.pickManager()
	return &demoStory{p: p, src: src, first: ch, kit: g.kitchen(), dropped: t0.Before(g.start)}, out
}

// firstTouch is the client's first call, form, letter or message. It
// returns when the touch ended and when it began (a caller may wait for
// the office to open).
func (g *demoGen) firstTouch(s *demoStory, t0 time.Time, out demoOutcome) (time.Time, time.Time) {
	src, t := s.src, t0
	switch s.first {
	case "phone":
		if !g.working(t) && g.chance(0.75) {
			t = g.work(t) // most people call when the office is open
			t0 = t
		}
		num := g.number(src, t)
		answered := g.working(t) && g.chance(0.85) && out.reason != demoNoAnswer
		g.call(s, t, answered, num)
		if !answered && out.reason != demoNoAnswer && g.chance(0.6) {
			t = t.Add(g.mins(10, 240))
			if g.dayStart(t) == g.dayStart(t0) && g.working(t) {
				g.call(s, t, true, num)
			}
		} else if !answered && g.chance(0.4) {
			t = t.Add(g.mins(20, 120))
			if g.dayStart(t) == g.dayStart(t0) {
				g.call(s, t, false, num)
			}
		}
	case "web":
		g.form(s, t, g.formMessage(s))
	case "email":
		g.mailIn(s, t, g.firstSubject(s), g.question(s, t), src.email, false)
	case "telegram":
		g.tgIn(s, t, "", src.code, false)
		t = t.Add(g.mins(1, 4))
		g.tgIn(s, t, g.question(s, t), "", false)
	case "whatsapp":
		g.waIn(s, t, g.question(s, t))
	}
	return t, t0
}

// triage: the lead gives the client a manager, who answers in writing
// where the client wrote. A few clients fall through the cracks (false).
func (g *demoGen) triage(s *demoStory, t0, t time.Time) (time.Time, bool) {
	p, ch := s.p, s.first
	if g.chance(0.03) {
		if g.chance(0.5) {
			g.say(s, g.follow(s), g.awake(t.Add(g.hours(20, 60))), g.pick(g.d.Dialogue.Nudges))
		}
		return t, false
	}
	tri := g.work(t0.Add(g.mins(5, 100)))
	if tri.Before(t) {
		tri = t.Add(g.mins(2, 20))
	}
	g.add(s, &demoStep{at: tri, op: demoTriage, take: g.chance(0.35), title: s.kit.title, name: p.fullName()})
	t = tri
	if s.textual() {
		t = g.reply(s, ch, g.work(t.Add(g.mins(2, 25))), g.firstAnswer(s, p.manager))
	}
	if ch == "telegram" && g.chance(0.4) {
		if at := t.Add(g.mins(3, 90)); g.dayStart(at) == g.dayStart(t) {
			t = at
			g.tgIn(s, t, "", "", true) // "share my number", when the bot asks
		}
	}
	return t, true
}

// oneOff is a lead that is not engaged: perhaps one more exchange the
// same day, then only what the manager does after calling the client.
func (g *demoGen) oneOff(s *demoStory, t time.Time, out demoOutcome) {
	if s.textual() && out.reason != demoNoAnswer && g.chance(0.4) {
		at := t.Add(g.mins(5, 90))
		if g.dayStart(at) == g.dayStart(t) {
			t, _ = g.exchange(s, s.first, at, g.details(s), g.detailsAnswer())
		}
	}
	if out.stage >= 1 {
		t = g.work(t.Add(g.hours(1, 48)))
		g.act(s, t, demoStage).stage = 1
	}
	if !out.lost {
		// Leads that go quiet are closed after a while.
		switch {
		case out.stage == 0 && g.chance(0.5):
			out.lost, out.reason = true, g.pick([]string{demoNoAnswer, demoChanged, demoCompetitor})
			t = t.Add(g.days(7, 20))
		case out.stage >= 1 && g.chance(0.35):
			out.lost, out.reason = true, g.pick([]string{demoChanged, demoCompetitor, demoExpensive})
			t = t.Add(g.days(10, 35))
		}
	}
	if out.lost {
		lost := g.act(s, g.work(t.Add(g.days(1, 10))), demoLost)
		lost.reason = g.reason(out.reason)
		g.act(s, lost.at.Add(time.Minute), demoClose)
		if out.reason == demoChanged && g.chance(0.15) {
			g.comeBack(s, lost.at, false)
		}
	}
}

// engage is a client who comes back on later days: details, perhaps a
// second piece of furniture, the measurement and the proposal, the end.
func (g *demoGen) engage(s *demoStory, t time.Time, out demoOutcome) {
	// Qualification: the client sends details.
	if out.stage >= 1 {
		fc := g.follow(s)
		t, _ = g.exchange(s, fc, g.awake(t.Add(g.hours(16, 60))), g.details(s), g.detailsAnswer())
		t = g.work(t.Add(g.mins(5, 60)))
		g.act(s, t, demoStage).stage = 1
	}
	if out.stage >= 1 && g.chance(0.1) {
		t = g.secondDeal(s, t)
	}

	amount := s.kit.price
	if out.stage >= 2 {
		t, amount = g.propose(s, t)
	} else if out.engaged && !out.lost {
		// Engaged but not yet at a proposal: a question on a later day.
		fc := g.follow(s)
		t, _ = g.exchange(s, fc, g.awake(t.Add(g.hours(20, 96))), g.pick(g.d.Dialogue.LaterQuestions), g.detailsAnswer())
	}

	switch {
	case out.won:
		t = g.win(s, t, amount)
	case out.lost:
		t = g.lose(s, t, out.reason)
	default:
		// Still open: often the client spoke last.
		if g.chance(0.35) {
			fc := g.follow(s)
			g.say(s, fc, g.awake(t.Add(g.hours(4, 120))), g.pick(g.d.Dialogue.StillOpen))
		}
		return
	}
	if g.chance(0.16) {
		g.comeBack(s, t, out.won)
	}
}

// propose: the measurement, then the proposal with its price, and
// perhaps a question about it. It returns the end and the price.
func (g *demoGen) propose(s *demoStory, t time.Time) (time.Time, int64) {
	p := s.p
	fc := g.follow(s)
	ask := g.work(t.Add(g.hours(1, 48)))
	switch {
	case fc == "phone":
		g.call(s, ask, true, g.numberOf(s, ask))
		t = ask
	case !p.known[fc] || fc == "email" && p.thread == nil:
		t, _ = g.exchange(s, fc, g.awake(ask), g.d.Dialogue.MeasureQuestion, g.measureAsk(s))
	default:
		g.reply(s, fc, ask, g.measureAsk(s))
		t = g.awake(ask.Add(g.mins(5, 300)))
		g.say(s, fc, t, g.measureOK(s))
	}
	t = g.work(t.Add(g.days(2, 8)))
	amount := s.kit.price * int64(g.between(95, 110)) / 100 / 100 * 100
	if fc != "phone" {
		g.reply(s, fc, t, g.proposalText(s, amount))
	}
	g.act(s, t.Add(time.Minute), demoStage).stage = len(g.open) - 1
	g.act(s, t.Add(2*time.Minute), demoAmount).amount = amount
	if g.chance(0.5) {
		q, a := g.proposalTalk(s)
		t, _ = g.exchange(s, fc, g.awake(t.Add(g.hours(2, 72))), q, a)
	}
	return t, amount
}
