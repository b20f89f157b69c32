package demo

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox"
	"github.com/switchboard/switchboard/inbox/realtime"
)

// demoSrc is an ad source as the script uses it: its data (company.json)
// and, once created, its id.
type demoSrc struct {
	name     string
	code     string // Telegram start code and utm_source
	email    string // entry address
	numbers  []string
	weight   int
	channels []int    // weights of the first touch's channel, as the company's first_channels
	spend    [2]int64 // rubles a month, min and max
	note     string
	medium   string
	camps    []string
	id       int64
	where    string // how a client says they found us
	referral bool   // clients come recommended by a friend
	winW     int    // weight of a won outcome (0: the usual)
}

// setup makes what the business had before the period: the staff, the
// pipeline in the company's words, the accounts, and the ad sources with
// their entry points and spend.
func (g *demoGen) setup() error {
	ctx := g.ctx
	if err := g.setupStaff(); err != nil {
		return err
	}
	if err := g.setupPipeline(); err != nil {
		return err
	}
	g.srcs = g.sources()
	g.webSecret = g.hex(32)
	return g.rt.Change(ctx, func(tx *gorm.DB, ev *realtime.Events) error {
		if err := g.setupAccounts(tx); err != nil {
			return err
		}
		shared, err := g.setupSources(tx)
		if err != nil {
			return err
		}
		return g.setupUnsourced(tx, shared)
	})
}

func (g *demoGen) setupStaff() error {
	ctx := g.ctx
	var actor *int64
	for _, s := range g.d.Company.Staff {
		u, err := g.a.CreateUser(ctx, actor, s.Email, s.Name, s.Role, g.opts.Password)
		if err != nil {
			return fmt.Errorf("inbox: demo: user %s: %w", s.Email, err)
		}
		switch s.Role {
		case crm.Owner:
			g.owner = u
			actor = &g.owner.ID
		case crm.Lead:
			g.lead = u
		default:
			g.managers = append(g.managers, u)
			g.shares = append(g.shares, s.Share)
		}
	}
	// Extensions on the office PBX: 101 for the lead, 102… for the
	// managers, so that calls name who answered them.
	for i, u := range append([]crm.User{g.lead}, g.managers...) {
		ext := strconv.Itoa(101 + i)
		if _, err := g.a.UpdateUser(ctx, g.owner, u.ID, inbox.UserPatch{Extension: &ext}); err != nil {
			return fmt.Errorf("inbox: demo: extension of %s: %w", u.Email, err)
		}
		g.exts = append(g.exts, ext)
	}
	return nil
}

// extension is a user's extension on the demo PBX ("" for the owner).
func (g *demoGen) extension(id int64) string {
	for i, u := range append([]crm.User{g.lead}, g.managers...) {
		if u.ID == id {
			return g.exts[i]
		}
	}
	return ""
}

// setupPipeline gives the company its own pipeline, in its language (a
// fresh install has the English default): the owner renames it, as they
// would.
func (g *demoGen) setupPipeline() error {
	ctx := g.ctx
	names := g.d.Company.Stages
	stages, err := crm.Stages(g.db.WithContext(ctx))
	if err != nil {
		return err
	}
	if len(stages) == len(names) {
		for i := range stages {
			stages[i].Name = names[i]
		}
		if stages, err = crm.SetPipeline(g.db.WithContext(ctx), stages); err != nil {
			return fmt.Errorf("inbox: demo: pipeline: %w", err)
		}
		if _, err := crm.Audit(g.db.WithContext(ctx), &g.owner.ID, "pipeline.set", "pipeline", 0, stages); err != nil {
			return err
		}
	}
	for _, s := range stages {
		if s.Kind == crm.StageOpen {
			g.open = append(g.open, s)
		}
	}
	if len(g.open) == 0 {
		return errors.New("inbox: demo: the pipeline has no open stage")
	}
	return nil
}

func (g *demoGen) sources() []*demoSrc {
	var out []*demoSrc
	for _, s := range g.d.Company.Sources {
		out = append(out, &demoSrc{name: s.Name, code: s.Code, email: s.Email, numbers: s.Numbers, weight: s.Weight, channels: s.Channels,
			spend: s.Spend, note: s.Note, medium: s.Medium, camps: s.Campaigns, where: s.Where, referral: s.Referral, winW: s.WinWeight})
	}
	return out
}

// source is the ad source with the code.
func (g *demoGen) source(code string) *demoSrc {
	for _, s := range g.srcs {
		if s.code == code {
			return s
		}
	}
	return nil
}

func (g *demoGen) setupAccounts(tx *gorm.DB) error {
	type accSpec struct {
		dst      *crm.Account
		channel  string
		name     string
		settings string
		secret   string
	}
	dst := map[string]*crm.Account{"phone": &g.phoneAcc, "email": &g.mailAcc, "telegram": &g.tgAcc, "whatsapp": &g.waAcc, "web": &g.webAcc}
	owner := &g.owner.ID
	for _, a := range g.d.Company.Accounts {
		s := accSpec{dst[a.Channel], a.Channel, a.Name, string(a.Settings), a.Secret}
		if s.channel == "web" || s.channel == "phone" { // both hooks, signed alike
			s.secret = g.webSecret
		}
		name := s.name
		in := crm.AccountInput{Channel: s.channel, Name: &name, Settings: json.RawMessage(s.settings)}
		if s.secret != "" {
			sec := s.secret
			in.Secret = &sec
		}
		acc, err := crm.SaveAccount(tx, g.box, 0, in)
		if err != nil {
			return fmt.Errorf("inbox: demo: account %s: %w", s.name, err)
		}
		if _, err := crm.Audit(tx, owner, "account.create", "account", acc.ID, map[string]any{"name": acc.Name, "channel": acc.Channel, "secret_changed": s.secret != ""}); err != nil {
			return err
		}
		*s.dst = acc
	}
	return nil
}

// entryPoint makes an entry point of the setup, audited.
func (g *demoGen) entryPoint(tx *gorm.DB, acc crm.Account, addr string, auto bool, src *int64) (crm.EntryPoint, error) {
	owner := &g.owner.ID
	e, err := crm.CreateEntryPoint(tx, acc.ID, addr, auto, src, owner)
	if err != nil {
		return e, fmt.Errorf("inbox: demo: entry point %s: %w", addr, err)
	}
	g.epIDs = append(g.epIDs, e.ID)
	_, err = crm.Audit(tx, owner, "entry_point.create", "entry_point", e.ID, map[string]any{"account_id": acc.ID, "address": addr, "auto_deal": auto, "ad_source_id": src})
	return e, err
}

// setupSources makes the ad sources, their entry points and spend, and
// returns the entry point of the number that changes source.
func (g *demoGen) setupSources(tx *gorm.DB) (crm.EntryPoint, error) {
	owner := &g.owner.ID
	var shared crm.EntryPoint
	for _, s := range g.srcs {
		src, err := crm.CreateAdSource(tx, s.name)
		if err != nil {
			return shared, err
		}
		s.id = src.ID
		if _, err := crm.Audit(tx, owner, "ad_source.create", "ad_source", src.ID, map[string]any{"name": s.name}); err != nil {
			return shared, err
		}
		for _, n := range s.numbers {
			e, err := g.entryPoint(tx, g.phoneAcc, n, true, &s.id)
			if err != nil {
				return shared, err
			}
			if n == g.d.Company.Rebind.Number {
				shared = e
			}
		}
		for _, x := range []struct {
			acc  crm.Account
			addr string
		}{{g.mailAcc, s.email}, {g.tgAcc, s.code}, {g.webAcc, s.code}} {
			if _, err := g.entryPoint(tx, x.acc, x.addr, true, &s.id); err != nil {
				return shared, err
			}
		}
		if err := g.setupSpend(tx, s); err != nil {
			return shared, err
		}
	}
	return shared, nil
}

// setupSpend records a source's spend, by period.
func (g *demoGen) setupSpend(tx *gorm.DB, s *demoSrc) error {
	owner := &g.owner.ID
	for i, p := range g.periods() {
		amount := s.spend[0] + g.r.Int64N(s.spend[1]-s.spend[0]+1)
		amount = amount / 100 * 100 * 100 // whole hundreds of rubles, in kopecks
		sp := crm.Spend{AdSourceID: s.id, PeriodStart: p[0], PeriodEnd: p[1], Amount: amount, Currency: g.currency,
			Note: demoFill(g.d.Company.SpendNote, "note", s.note, "n", strconv.Itoa(i+1), "period", demoPeriodText(p))}
		if err := crm.AddSpend(tx, &sp); err != nil {
			return err
		}
		if _, err := crm.Audit(tx, owner, "spend.add", "ad_source", s.id, sp); err != nil {
			return err
		}
	}
	return nil
}

// setupUnsourced makes the addresses without a source: the mailbox itself
// (where replies to our replies arrive), the purchasing alias (no deals
// from suppliers), the WhatsApp number (printed everywhere). Then the
// shared number goes to its second source half-way through.
func (g *demoGen) setupUnsourced(tx *gorm.DB, shared crm.EntryPoint) error {
	owner := &g.owner.ID
	c := g.d.Company
	if _, err := g.entryPoint(tx, g.mailAcc, c.Mailbox, true, nil); err != nil {
		return err
	}
	if _, err := g.entryPoint(tx, g.mailAcc, c.Purchasing, false, nil); err != nil {
		return err
	}
	if _, err := g.entryPoint(tx, g.waAcc, c.WhatsApp, true, nil); err != nil {
		return err
	}
	if err := g.setupForeign(tx); err != nil {
		return err
	}
	to := g.source(c.Rebind.To)
	b, err := crm.Bind(tx, shared.ID, &to.id, g.rebind, owner)
	if err != nil {
		return err
	}
	if _, err := crm.Audit(tx, owner, "entry_point.bind", "entry_point", shared.ID, b); err != nil {
		return err
	}
	return nil
}

// periods splits the demo into months of 30 days (the last may be shorter),
// as dates in the company's time zone.
func (g *demoGen) periods() [][2]time.Time {
	day := func(t time.Time) time.Time {
		l := t.In(g.loc)
		return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC)
	}
	first, last := day(g.start), day(g.end)
	var out [][2]time.Time
	for p := first; !p.After(last); p = p.AddDate(0, 0, 30) {
		e := p.AddDate(0, 0, 29)
		if e.After(last) || last.Sub(e) < 5*24*time.Hour {
			e = last
		}
		out = append(out, [2]time.Time{p, e})
		if e.Equal(last) {
			break
		}
	}
	return out
}

func demoPeriodText(p [2]time.Time) string {
	return p[0].Format("02.01.2006") + "–" + p[1].Format("02.01.2006")
}

func (g *demoGen) disableAccounts() error {
	return g.rt.Change(g.ctx, func(tx *gorm.DB, ev *realtime.Events) error {
		off := false
		for _, acc := range []*crm.Account{&g.mailAcc, &g.tgAcc, &g.waAcc} {
			a, err := crm.SaveAccount(tx, g.box, acc.ID, crm.AccountInput{Enabled: &off})
			if err != nil {
				return err
			}
			*acc = a
			if _, err := crm.Audit(tx, &g.owner.ID, "account.edit", "account", a.ID, map[string]any{"name": a.Name, "channel": a.Channel, "secret_changed": false, "enabled": false}); err != nil {
				return err
			}
		}
		return nil
	})
}
