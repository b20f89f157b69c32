package demo

// What clients and managers say, from demodata/dialogue.json. Each
// function draws its random numbers in a fixed order: the same seed tells
// the same stories.

import (
	"strconv"
	"strings"
	"time"

	"github.com/switchboard/switchboard/crm"
)

func (g *demoGen) hello(at time.Time) string {
	gr := g.d.Dialogue.Greetings
	switch h := at.In(g.loc).Hour(); {
	case h < 11 && g.chance(0.3):
		return gr.Morning
	case h >= 18 && g.chance(0.4):
		return g.pick(gr.Evening)
	case h >= 11 && h < 18 && g.chance(0.4):
		return g.pick(gr.Day)
	}
	return g.pick(gr.Any)
}

// question is a new client's first message.
func (g *demoGen) question(s *demoStory, at time.Time) string {
	k, p, d := s.kit, s.p, g.d.Dialogue
	where := ""
	if s.src != nil && s.src.where != "" && g.chance(0.5) {
		where = demoFill(p.v(d.SawAd.Male, d.SawAd.Female), "where", s.src.where) + " "
	}
	if s.src != nil && s.src.referral && g.chance(0.7) {
		friend := g.pick(g.d.People.Female)
		where = demoFill(d.Recommended, "friend", friend) + " "
	}
	jk := ""
	if k.jk != "" {
		jk = demoFill(d.InComplex, "complex", k.jk)
	}
	hello := g.hello(at)
	q := demoFill(g.pick(d.Questions), "what", k.what, "metres", demoMetres(k.length), "facade", k.facade, "layout", k.layout,
		"top", k.top, "in_complex", jk)
	return strings.TrimSpace(hello + " " + where + q)
}

func (g *demoGen) firstAnswer(s *demoStory, m *crm.User) string {
	k, p := s.kit, s.p
	from := int64(float64(k.price)*0.85) / 1000 * 1000
	name := strings.Split(m.Name, " ")[0]
	return demoFill(g.pick(g.d.Dialogue.FirstAnswers), "first", p.first, "manager", name, "company", g.d.Company.Name,
		"what", k.what, "metres", demoMetres(k.length), "facade", k.facade, "from", demoRub(from))
}

func (g *demoGen) details(s *demoStory) string {
	k := s.kit
	a, b := k.length, g.between(16, 32)*10
	budget := k.price/1000/10*10 + int64(g.between(-2, 3)*10)
	return demoFill(g.pick(g.d.Dialogue.Details), "length", strconv.Itoa(a), "width", strconv.Itoa(b),
		"budget", strconv.FormatInt(budget, 10), "facade", k.facade, "top", k.top)
}

func (g *demoGen) detailsAnswer() string {
	return g.pick(g.d.Dialogue.DetailsAnswers)
}

func (g *demoGen) measureAsk(s *demoStory) string {
	day := g.pick(g.d.Dialogue.Weekdays)
	h := g.between(10, 17)
	return demoFill(g.pick(g.d.Dialogue.MeasureOffers), "day", day, "from", strconv.Itoa(h), "to", strconv.Itoa(h+2), "hour", strconv.Itoa(h))
}

func (g *demoGen) measureOK(s *demoStory) string {
	street := g.pick(g.d.People.Streets)
	house, flat := g.between(2, 180), g.between(3, 240)
	return demoFill(g.pick(g.d.Dialogue.MeasureReplies), "street", street, "house", strconv.Itoa(house), "flat", strconv.Itoa(flat))
}

func (g *demoGen) proposalText(s *demoStory, amount int64) string {
	days := g.d.Kitchen.LeadDays[g.r.IntN(len(g.d.Kitchen.LeadDays))]
	return demoFill(g.pick(g.d.Dialogue.Proposals), "amount", demoRub(amount), "days", strconv.Itoa(days))
}

// proposalTalk is a client's question about the proposal and the answer.
func (g *demoGen) proposalTalk(s *demoStory) (string, string) {
	budget := s.kit.price / 1000 * 85 / 100 / 10 * 10
	district := g.pick(g.d.People.Districts)
	talk := g.d.Dialogue.ProposalTalk[g.r.IntN(len(g.d.Dialogue.ProposalTalk))]
	kv := []string{"budget", strconv.FormatInt(budget, 10), "cheaper", strconv.FormatInt(budget+5, 10), "district", district}
	return demoFill(talk[0], kv...), demoFill(talk[1], kv...)
}

// formMessage is what a client writes in the site's form, if anything.
func (g *demoGen) formMessage(s *demoStory) string {
	if !g.chance(0.7) {
		return ""
	}
	estate := g.pick(g.d.People.Complexes)
	return demoFill(g.pick(g.d.Dialogue.FormMessages), "what", s.kit.what, "metres", demoMetres(s.kit.length),
		"budget", strconv.FormatInt(s.kit.price/1000/10*10+20, 10), "complex", estate)
}

// firstSubject is the subject of a new client's first email.
func (g *demoGen) firstSubject(s *demoStory) string {
	subj := demoFill(g.pick(g.d.Dialogue.FirstSubjects), "metres", demoMetres(s.kit.length))
	if s.kit.jk != "" && g.chance(0.5) {
		subj = demoFill(g.d.Dialogue.ComplexSubject, "complex", s.kit.jk)
	}
	return subj
}

// loseTalk is what a client who goes elsewhere says, and the answer.
func (g *demoGen) loseTalk(reason string) (string, string) {
	lose := g.d.Dialogue.Lose
	talk := lose.Other
	switch reason {
	case demoExpensive:
		talk = lose.Expensive
	case demoCompetitor:
		talk = lose.Competitor
	}
	return g.pick(talk.Client), talk.Answer
}
