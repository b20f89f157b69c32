package inbox

// The demo: 90 days of a small kitchen-furniture maker in Novosibirsk,
// played through the application's own verbs so that what the screens show
// is what real use would have stored.
//
// How it is made, and where it is not what a live installation would do:
//
//   - Everything runs in ONE database transaction: a failure leaves the
//     database as it was. The verbs (App.CreateUser, Ingest,
//     AssignConversation, LinkTouch, MarkNotASale, OpenDealForTouch,
//     SetConversationStatus, the deal changes) run inside it unchanged,
//     each auditing and recording events as it always does; their own
//     transactions become part of the outer one.
//   - What has no App method is done as its API handler does it: the
//     lead's edit of the contact card (name, responsible manager; audited
//     contact.responsible), and the setup of accounts, entry points,
//     bindings, ad sources and spend (each audited as its handler audits).
//   - Inbound touches go through App.Ingest, a day at a time, with At in the
//     past, shaped as the adapters shape them (web forms through
//     web.Submission.Inbound; email, Telegram, WhatsApp and calls built the
//     way the adapters and a PBX would build them).
//   - Replies cannot go through App.Reply: it stamps the present time and
//     queues a job for a dispatcher that would send it. Each reply is
//     written instead as what Reply and the dispatcher leave behind once a
//     reply has gone out: an outbound touch (author, recipient handle,
//     email threading ids) with delivery status "sent" at the simulated
//     time, its outbox job with status "sent" and one attempt, and a
//     touch.added event. Nothing is ever sent.
//   - Records get the simulated times (contacts, identities, deals,
//     conversations, accounts, entry points, spend, users); the audit
//     trail and the event log keep the real time of the run, because the
//     audit trail is hash-chained and append-only.
//   - Accounts are created enabled (Ingest refuses a disabled account) and
//     the email, Telegram and WhatsApp accounts are disabled at the end,
//     audited as account.edit: their servers are example.com placeholders
//     and their tokens fake, so the supervisor never tries to connect.
//   - Customers' email addresses are under example.* domains; their phone
//     numbers are random Novosibirsk mobile numbers and may exist, which
//     is harmless because nothing is ever sent to them.
//
// The same seed and end time give the same data; runs on the same day
// (Novosibirsk date) tell the same stories and differ only at the edges
// of the period.

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/channels/web"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/migrations"
)

// ErrNotEmpty is returned by Demo for a database that already holds data.
var ErrNotEmpty = errors.New("the database is not empty")

// DemoOptions shape the demo data.
type DemoOptions struct {
	// Now is the end of the simulated period; zero means time.Now().
	Now time.Time
	// Days is the length of the period; default 90.
	Days int
	// Seed makes the data reproducible; default 1.
	Seed uint64
	// Password is every demo user's password; default "demo-password".
	Password string
}

// DemoPassword is the default password of the demo users.
const DemoPassword = "demo-password"

// DemoUser is a user the demo created.
type DemoUser struct {
	Email string
	Name  string
	Role  crm.Role
}

// DemoAccount is a channel account the demo created.
type DemoAccount struct {
	ID      int64
	Name    string
	Channel string
	Enabled bool
}

// DemoSource is an ad source with its entry points and spend.
type DemoSource struct {
	Name        string
	EntryPoints []string // "phone +73832091540", "email sales+yandex@…"
	Spend       int64    // minor units over the whole period
	Periods     int      // spend records
	Touches     int
	Deals       int
	Won         int
	Revenue     int64
}

// DemoChannel counts a channel's touches.
type DemoChannel struct {
	Channel  string
	In, Out  int
	Missed   int // calls not answered
	Contacts int // contacts with a touch on the channel
}

// DemoCount is a named number.
type DemoCount struct {
	Name string
	N    int
}

// DemoSummary is what Demo stored, counted from the database.
type DemoSummary struct {
	Company  string
	From, To time.Time
	Seed     uint64
	Elapsed  time.Duration

	Users    []DemoUser
	Password string
	// KeptOwner is the email of the owner that was already in the
	// database (created by serve on first start); it keeps its password.
	KeptOwner string

	Accounts  []DemoAccount
	WebSecret string // the web account's signing secret
	Sources   []DemoSource
	Channels  []DemoChannel

	Touches, Inbound, Outbound int
	MissedCalls                int
	Contacts                   int
	RepeatContacts             int // contacts with touches on two days or more
	Conversations              int
	Unassigned                 int // conversations with no assignee
	Waiting                    int // open conversations waiting for our reply
	Closed                     int
	Snoozed                    int // conversations put aside until a time
	CallBack                   int // open conversations with a missed call nobody returned
	Unlinked                   int // touches with no deal and no "not a sale"
	UnlinkedConversations      int
	TwoOpenDeals               int // contacts with two open deals or more
	NotASale                   []DemoCount
	Stages                     []DemoCount // deals per stage, pipeline order
	DealsOpen, DealsWon        int
	DealsLost                  int
	LostReasons                []DemoCount
	Revenue                    int64 // won amounts
	Spend                      int64
	Currency                   string
	// Skipped counts scripted actions that found nothing to act on (a
	// generator bug when not zero).
	Skipped int
}

// Demo fills an empty database with a believable small business: users,
// accounts, ad sources with entry points and spend, and Days days of
// touches on every channel with the team's work on them. It refuses a
// database holding any contact, touch, deal, account or ad source, or any
// user but the single owner that serve creates on first start
// (ErrNotEmpty).
func (a *App) Demo(ctx context.Context, opts DemoOptions) (DemoSummary, error) {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if opts.Days <= 0 {
		opts.Days = 90
	}
	if opts.Days > 366 {
		return DemoSummary{}, crm.Invalid("a demo covers at most 366 days")
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.Password == "" {
		opts.Password = DemoPassword
	}
	if _, err := HashPassword(opts.Password); err != nil {
		return DemoSummary{}, err
	}
	began := time.Now()
	var sum DemoSummary
	err := a.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		kept, err := demoCheckEmpty(tx)
		if err != nil {
			return err
		}
		// The verbs' transactions join this one.
		app := New(tx.Session(&gorm.Session{DisableNestedTransaction: true}), a.log, a.box, a.opts)
		g := newDemoGen(ctx, app, opts)
		if err := g.run(); err != nil {
			return err
		}
		if err := g.tidy(); err != nil {
			return err
		}
		if err := g.snooze(); err != nil {
			return err
		}
		if sum, err = g.summary(); err != nil {
			return err
		}
		sum.KeptOwner = kept
		return nil
	})
	sum.Elapsed = time.Since(began)
	return sum, err
}

// demoCheckEmpty refuses a database with data. A single owner and nothing
// else is what serve leaves on first start: that counts as empty, and the
// owner's email is returned.
func demoCheckEmpty(tx *gorm.DB) (string, error) {
	var found []string
	for _, t := range []struct{ table, what string }{
		{"contacts", "contact"}, {"touches", "touch"}, {"deals", "deal"},
		{"conversations", "conversation"}, {"accounts", "account"}, {"ad_sources", "ad source"},
	} {
		var n int64
		if err := tx.Table(t.table).Count(&n).Error; err != nil {
			return "", fmt.Errorf("inbox: demo: count %s: %w", t.table, err)
		}
		if n > 0 {
			found = append(found, demoPlural(int(n), t.what))
		}
	}
	users, err := crm.ListUsers(tx)
	if err != nil {
		return "", err
	}
	kept := ""
	if len(users) == 1 && users[0].Role == crm.Owner {
		kept = users[0].Email
	} else if len(users) > 0 {
		found = append(found, demoPlural(len(users), "user"))
	}
	if len(found) > 0 {
		return "", fmt.Errorf("%w: it holds %s; the demo fills only a new database, or one holding nothing but the owner that serve creates on first start", ErrNotEmpty, strings.Join(found, ", "))
	}
	return kept, nil
}

func demoPlural(n int, what string) string {
	switch {
	case n == 1:
		return "1 " + what
	case strings.HasSuffix(what, "ch"):
		return fmt.Sprintf("%d %ses", n, what)
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// The company.
const (
	demoCompany    = "Сибирские кухни"
	demoDomain     = "sibkuhni.example"
	demoSite       = "https://sibkuhni.example"
	demoMainNumber = "+73832091500"
	demoWANumber   = "+79139001122"
	demoBot        = "sibkuhni_bot"
	demoSalon      = "на Красном проспекте, 182"
)

// Reasons, as the team writes them.
const (
	demoExpensive  = "дорого"
	demoCompetitor = "выбрали конкурента"
	demoNoAnswer   = "не дозвонились"
	demoChanged    = "передумали"
	demoSpam       = "спам"
	demoSupplier   = "поставщик"
	demoService    = "сервис/гарантия"
)

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

type demoPerson struct {
	first, last, patr string
	female            bool
	company           string // suppliers, mailers
	signature         string // an organization's mail footer
	phone             string // E.164
	email             string
	tg                int64
	tgUser            string
	tgMsg             int // message ids in the bot chat (ours and theirs)
	usesWA            bool
	known             map[string]bool   // handle kinds the system has seen
	thread            *demoThread       // the email thread in progress
	lastIn            map[string]string // the last inbound external id per channel
	manager           *crm.User

	// Filled while the script runs.
	contact int64
	convs   map[demoConvKey]int64
	convSeq []int64
}

type demoKitchen struct {
	layout, facade, top string
	length              int // centimetres
	price               int64
	jk                  string
}

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

type demoSrc struct {
	name    string
	code    string // Telegram start code and utm_source
	email   string // entry address
	numbers []string
	weight  int
	spend   [2]int64 // rubles a month, min and max
	note    string
	medium  string
	camps   []string
	id      int64
	where   string // how a client says they found us
}

type demoGen struct {
	ctx    context.Context
	a      *App
	opts   DemoOptions
	r      *rand.Rand
	loc    *time.Location
	start  time.Time
	end    time.Time // nothing is scheduled after this
	rebind time.Time // when the shared number moves from VK to 2GIS

	owner, lead crm.User
	managers    []crm.User
	phoneAcc    crm.Account
	mailAcc     crm.Account
	tgAcc       crm.Account
	waAcc       crm.Account
	webAcc      crm.Account
	webSecret   string
	srcs        []*demoSrc
	open        []crm.Stage // the pipeline's open stages

	steps   []*demoStep
	orgs    map[string]*demoPerson
	epIDs   []int64 // entry points made in the setup
	phones  map[string]bool
	emails  map[string]bool
	tgs     map[int64]bool
	nextID  int
	skipped int

	dealCreated, dealUpdated, dealClosed map[int64]time.Time
	closedDeals                          map[int64]bool
	setupAt                              time.Time
}

func newDemoGen(ctx context.Context, a *App, opts DemoOptions) *demoGen {
	end := opts.Now.UTC().Truncate(time.Second)
	start := end.Add(-time.Duration(opts.Days) * 24 * time.Hour)
	g := &demoGen{
		ctx: ctx, a: a, opts: opts,
		r:     rand.New(rand.NewPCG(opts.Seed, 0x5b0a_de30)),
		loc:   time.FixedZone("Novosibirsk", 7*3600),
		start: start, end: end.Add(-time.Minute),
		phones: map[string]bool{}, emails: map[string]bool{}, tgs: map[int64]bool{},
		dealCreated: map[int64]time.Time{}, dealUpdated: map[int64]time.Time{}, dealClosed: map[int64]time.Time{},
		closedDeals: map[int64]bool{},
	}
	g.rebind = g.dayStart(start.Add(time.Duration(opts.Days) * 12 * time.Hour))
	g.setupAt = start.Add(-21 * 24 * time.Hour)
	return g
}

func (g *demoGen) run() error {
	if err := g.setup(); err != nil {
		return err
	}
	g.script()
	if err := g.play(); err != nil {
		return err
	}
	if err := g.disableAccounts(); err != nil {
		return err
	}
	return g.backdate()
}

// ---------------------------------------------------------------- setup

var demoStaff = []struct {
	email, name string
	role        crm.Role
}{
	{"s.kuznetsov@" + demoDomain, "Сергей Кузнецов", crm.Owner},
	{"o.smirnova@" + demoDomain, "Ольга Смирнова", crm.Lead},
	{"a.volkova@" + demoDomain, "Анна Волкова", crm.Manager},
	{"d.orlov@" + demoDomain, "Дмитрий Орлов", crm.Manager},
	{"e.belova@" + demoDomain, "Екатерина Белова", crm.Manager},
}

func (g *demoGen) setup() error {
	ctx := g.ctx
	var actor *int64
	for _, s := range demoStaff {
		u, err := g.a.CreateUser(ctx, actor, s.email, s.name, s.role, g.opts.Password)
		if err != nil {
			return fmt.Errorf("inbox: demo: user %s: %w", s.email, err)
		}
		switch s.role {
		case crm.Owner:
			g.owner = u
			actor = &g.owner.ID
		case crm.Lead:
			g.lead = u
		default:
			g.managers = append(g.managers, u)
		}
	}
	// The company's own pipeline, in its language (a fresh install has the
	// English default): the owner renames it, as they would.
	stages, err := crm.Stages(g.a.db.WithContext(ctx))
	if err != nil {
		return err
	}
	if len(stages) == len(demoStageNames) {
		for i := range stages {
			stages[i].Name = demoStageNames[i]
		}
		if stages, err = crm.SetPipeline(g.a.db.WithContext(ctx), stages); err != nil {
			return fmt.Errorf("inbox: demo: pipeline: %w", err)
		}
		if _, err := crm.Audit(g.a.db.WithContext(ctx), &g.owner.ID, "pipeline.set", "pipeline", 0, stages); err != nil {
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

	g.srcs = []*demoSrc{
		{name: "Яндекс Директ", code: "yandex", email: "sales+yandex@" + demoDomain, numbers: []string{"+73832091540", "+73832091541"},
			weight: 34, spend: [2]int64{135000, 185000}, note: "пополнение рекламного кабинета", medium: "cpc",
			camps: []string{"kuhni_nsk_poisk", "kuhni_rsya", "kuhni_na_zakaz_retarget"}, where: "в Яндексе"},
		{name: "Авито", code: "avito", email: "sales+avito@" + demoDomain, numbers: []string{"+73832091542"},
			weight: 24, spend: [2]int64{42000, 61000}, note: "тариф «Расширенный» и продвижение объявлений", medium: "referral",
			camps: []string{"avito_profile"}, where: "на Авито"},
		{name: "ВКонтакте", code: "vk", email: "sales+vk@" + demoDomain, numbers: []string{"+73832091543", "+73832091546"},
			weight: 14, spend: [2]int64{32000, 52000}, note: "таргетированная реклама", medium: "social",
			camps: []string{"vk_novostroyki", "vk_lookalike", "vk_gola_bez_ruchek"}, where: "во ВКонтакте"},
		{name: "2ГИС", code: "2gis", email: "sales+2gis@" + demoDomain, numbers: []string{"+73832091544"},
			weight: 12, spend: [2]int64{18500, 18500}, note: "рекламное размещение в справочнике", medium: "referral",
			camps: []string{"2gis_card"}, where: "в 2ГИС"},
		{name: "Сарафан/рекомендации", code: "friend", email: "info@" + demoDomain, numbers: []string{demoMainNumber},
			weight: 16, spend: [2]int64{10000, 25000}, note: "бонусы клиентам за рекомендации (5 000 ₽ за договор)", medium: "",
			camps: nil, where: ""},
	}

	mailSettings, _ := json.Marshal(map[string]any{
		"address": "sales@" + demoDomain, "name": "Отдел продаж «" + demoCompany + "»",
		"aliases":   []string{"info@" + demoDomain, "snab@" + demoDomain},
		"imap_host": "imap.example.com", "imap_port": 993, "imap_security": "tls",
		"smtp_host": "smtp.example.com", "smtp_port": 465, "smtp_security": "tls",
		"folders": []string{"INBOX"}, "initial_days": 30,
		"signature": "Отдел продаж «" + demoCompany + "»\n+7 383 209-15-00\n" + demoSite,
	})
	g.webSecret = g.hex(32)
	type accSpec struct {
		dst      *crm.Account
		channel  string
		name     string
		settings string
		secret   string
	}
	specs := []accSpec{
		{&g.phoneAcc, "phone", "Телефония (виртуальная АТС)", `{"provider":"demo","main_number":"+7 383 209-15-00","record_calls":true}`, ""},
		{&g.mailAcc, "email", "Почта отдела продаж", string(mailSettings), "demo-app-password"},
		{&g.tgAcc, "telegram", "Telegram-бот @" + demoBot, `{"mode":"polling"}`, "1234567890:DEMO-not-a-real-bot-token"},
		{&g.waAcc, "whatsapp", "WhatsApp +7 913 900-11-22", `{"phone":"` + demoWANumber + `"}`, ""},
		{&g.webAcc, "web", "Сайт " + demoDomain, `{"site":"` + demoSite + `"}`, g.webSecret},
	}
	return g.a.change(ctx, func(tx *gorm.DB, ev *events) error {
		owner := &g.owner.ID
		for _, s := range specs {
			name := s.name
			in := crm.AccountInput{Channel: s.channel, Name: &name, Settings: json.RawMessage(s.settings)}
			if s.secret != "" {
				sec := s.secret
				in.Secret = &sec
			}
			acc, err := crm.SaveAccount(tx, g.a.box, 0, in)
			if err != nil {
				return fmt.Errorf("inbox: demo: account %s: %w", s.name, err)
			}
			if _, err := crm.Audit(tx, owner, "account.create", "account", acc.ID, map[string]any{"name": acc.Name, "channel": acc.Channel, "secret_changed": s.secret != ""}); err != nil {
				return err
			}
			*s.dst = acc
		}
		ep := func(acc crm.Account, addr string, auto bool, src *int64) (crm.EntryPoint, error) {
			e, err := crm.CreateEntryPoint(tx, acc.ID, addr, auto, src, owner)
			if err != nil {
				return e, fmt.Errorf("inbox: demo: entry point %s: %w", addr, err)
			}
			g.epIDs = append(g.epIDs, e.ID)
			_, err = crm.Audit(tx, owner, "entry_point.create", "entry_point", e.ID, map[string]any{"account_id": acc.ID, "address": addr, "auto_deal": auto, "ad_source_id": src})
			return e, err
		}
		var shared crm.EntryPoint
		for _, s := range g.srcs {
			src, err := crm.CreateAdSource(tx, s.name)
			if err != nil {
				return err
			}
			s.id = src.ID
			if _, err := crm.Audit(tx, owner, "ad_source.create", "ad_source", src.ID, map[string]any{"name": s.name}); err != nil {
				return err
			}
			for _, n := range s.numbers {
				e, err := ep(g.phoneAcc, n, true, &s.id)
				if err != nil {
					return err
				}
				if n == "+73832091546" {
					shared = e
				}
			}
			for _, x := range []struct {
				acc  crm.Account
				addr string
			}{{g.mailAcc, s.email}, {g.tgAcc, s.code}, {g.webAcc, s.code}} {
				if _, err := ep(x.acc, x.addr, true, &s.id); err != nil {
					return err
				}
			}
			// Spend, by period.
			for i, p := range g.periods() {
				amount := s.spend[0] + g.r.Int64N(s.spend[1]-s.spend[0]+1)
				amount = amount / 100 * 100 * 100 // whole hundreds of rubles, in kopecks
				sp := crm.Spend{AdSourceID: s.id, PeriodStart: p[0], PeriodEnd: p[1], Amount: amount, Currency: g.a.opts.Currency,
					Note: fmt.Sprintf("%s, период %d: %s", s.note, i+1, demoPeriodText(p))}
				if err := crm.AddSpend(tx, &sp); err != nil {
					return err
				}
				if _, err := crm.Audit(tx, owner, "spend.add", "ad_source", s.id, sp); err != nil {
					return err
				}
			}
		}
		// Addresses without a source: the mailbox itself (where replies to
		// our replies arrive), the purchasing alias (no deals from
		// suppliers), the WhatsApp number (printed everywhere).
		if _, err := ep(g.mailAcc, "sales@"+demoDomain, true, nil); err != nil {
			return err
		}
		if _, err := ep(g.mailAcc, "snab@"+demoDomain, false, nil); err != nil {
			return err
		}
		if _, err := ep(g.waAcc, demoWANumber, true, nil); err != nil {
			return err
		}
		// The VK number goes to 2GIS half-way through.
		b, err := crm.Bind(tx, shared.ID, &g.srcs[3].id, g.rebind, owner)
		if err != nil {
			return err
		}
		if _, err := crm.Audit(tx, owner, "entry_point.bind", "entry_point", shared.ID, b); err != nil {
			return err
		}
		return nil
	})
}

// periods splits the demo into months of 30 days (the last may be shorter),
// as dates in the company's time zone.
// demoStageNames rename the default pipeline (three open stages, won, lost).
var demoStageNames = []string{"Новая заявка", "Замер", "Коммерческое предложение", "Выиграна", "Проиграна"}

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
	return g.a.change(g.ctx, func(tx *gorm.DB, ev *events) error {
		off := false
		for _, acc := range []*crm.Account{&g.mailAcc, &g.tgAcc, &g.waAcc} {
			a, err := crm.SaveAccount(tx, g.a.box, acc.ID, crm.AccountInput{Enabled: &off})
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

// ---------------------------------------------------------------- randomness and time

func (g *demoGen) chance(p float64) bool { return g.r.Float64() < p }
func (g *demoGen) between(a, b int) int  { return a + g.r.IntN(b-a+1) }
func (g *demoGen) pick(list []string) string {
	return list[g.r.IntN(len(list))]
}
func (g *demoGen) mins(a, b int) time.Duration {
	return time.Duration(g.between(a*60, b*60)) * time.Second
}
func (g *demoGen) hours(a, b float64) time.Duration {
	return time.Duration((a + g.r.Float64()*(b-a)) * float64(time.Hour))
}
func (g *demoGen) days(a, b int) time.Duration {
	return time.Duration(g.between(a*24*60, b*24*60)) * time.Minute
}
func (g *demoGen) weighted(w ...int) int {
	total := 0
	for _, x := range w {
		total += x
	}
	n := g.r.IntN(total)
	for i, x := range w {
		if n < x {
			return i
		}
		n -= x
	}
	return len(w) - 1
}
func (g *demoGen) hex(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.r.UintN(256))
	}
	return hex.EncodeToString(b)
}

// dayStart is midnight in Novosibirsk of the day holding t.
func (g *demoGen) dayStart(t time.Time) time.Time {
	l := t.In(g.loc)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, g.loc)
}

// work moves t into the sales team's hours: Monday to Saturday, 9:00 to
// 19:00 in Novosibirsk.
func (g *demoGen) work(t time.Time) time.Time {
	for range 10 {
		l := t.In(g.loc)
		day := g.dayStart(t)
		switch {
		case l.Weekday() == time.Sunday:
			t = day.Add(24*time.Hour + 9*time.Hour + g.mins(0, 50))
		case l.Hour() < 9:
			t = day.Add(9*time.Hour + g.mins(0, 50))
		case l.Hour() >= 19:
			t = day.Add(24*time.Hour + 9*time.Hour + g.mins(0, 50))
		default:
			return t
		}
	}
	return t
}

// awake moves t into a client's waking hours, 8:00 to 22:30.
func (g *demoGen) awake(t time.Time) time.Time {
	l := t.In(g.loc)
	day := g.dayStart(t)
	switch {
	case l.Hour() < 8:
		return day.Add(8*time.Hour + g.mins(0, 180))
	case l.Hour()*60+l.Minute() > 22*60+30:
		return day.Add(24*time.Hour + 8*time.Hour + g.mins(0, 180))
	}
	return t
}

// working reports whether t is in the team's hours.
func (g *demoGen) working(t time.Time) bool {
	l := t.In(g.loc)
	return l.Weekday() != time.Sunday && l.Hour() >= 9 && l.Hour() < 19
}

// ---------------------------------------------------------------- people

var demoMaleFirst = []string{"Александр", "Алексей", "Андрей", "Антон", "Артём", "Борис", "Вадим", "Валерий", "Виктор", "Виталий",
	"Владимир", "Владислав", "Вячеслав", "Геннадий", "Георгий", "Григорий", "Денис", "Дмитрий", "Евгений", "Егор", "Иван", "Игорь",
	"Илья", "Кирилл", "Константин", "Леонид", "Максим", "Михаил", "Никита", "Николай", "Олег", "Павел", "Роман", "Руслан", "Сергей",
	"Станислав", "Степан", "Тимур", "Фёдор", "Юрий", "Ярослав"}

var demoFemaleFirst = []string{"Александра", "Алина", "Алёна", "Анастасия", "Анна", "Валентина", "Валерия", "Вера", "Виктория",
	"Галина", "Дарья", "Диана", "Евгения", "Екатерина", "Елена", "Елизавета", "Жанна", "Инна", "Ирина", "Карина", "Кристина", "Ксения",
	"Лариса", "Любовь", "Людмила", "Маргарита", "Марина", "Мария", "Надежда", "Наталья", "Нина", "Оксана", "Олеся", "Ольга",
	"Полина", "Светлана", "Софья", "Татьяна", "Юлия", "Яна"}

var demoPatronymics = [][2]string{{"Александрович", "Александровна"}, {"Алексеевич", "Алексеевна"}, {"Анатольевич", "Анатольевна"},
	{"Андреевич", "Андреевна"}, {"Борисович", "Борисовна"}, {"Валерьевич", "Валерьевна"}, {"Васильевич", "Васильевна"},
	{"Викторович", "Викторовна"}, {"Владимирович", "Владимировна"}, {"Геннадьевич", "Геннадьевна"}, {"Григорьевич", "Григорьевна"},
	{"Дмитриевич", "Дмитриевна"}, {"Евгеньевич", "Евгеньевна"}, {"Иванович", "Ивановна"}, {"Игоревич", "Игоревна"},
	{"Константинович", "Константиновна"}, {"Михайлович", "Михайловна"}, {"Николаевич", "Николаевна"}, {"Олегович", "Олеговна"},
	{"Павлович", "Павловна"}, {"Петрович", "Петровна"}, {"Романович", "Романовна"}, {"Сергеевич", "Сергеевна"},
	{"Юрьевич", "Юрьевна"}, {"Фёдорович", "Фёдоровна"}}

var demoSurnames = []string{"Иванов", "Смирнов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов", "Новиков", "Фёдоров",
	"Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров", "Павлов", "Козлов", "Степанов", "Николаев", "Орлов", "Андреев",
	"Макаров", "Никитин", "Захаров", "Зайцев", "Соловьёв", "Борисов", "Яковлев", "Григорьев", "Романов", "Воробьёв", "Сергеев",
	"Кузьмин", "Фролов", "Александров", "Дмитриев", "Королёв", "Гусев", "Киселёв", "Ильин", "Максимов", "Поляков", "Сорокин",
	"Виноградов", "Ковалёв", "Белов", "Медведев", "Антонов", "Тарасов", "Жуков", "Баранов", "Филиппов", "Комаров", "Давыдов",
	"Беляев", "Герасимов", "Богданов", "Осипов", "Сидоров", "Матвеев", "Титов", "Марков", "Миронов", "Крылов", "Куликов", "Карпов",
	"Власов", "Мельников", "Денисов", "Гаврилов", "Тихонов", "Казаков", "Афанасьев", "Данилов", "Савельев", "Тимофеев", "Фомин",
	"Чернов", "Абрамов", "Мартынов", "Ефимов", "Федотов", "Щербаков", "Назаров", "Калинин", "Исаев", "Чернышёв", "Быков",
	"Маслов", "Родионов", "Коновалов", "Лазарев", "Воронин", "Климов", "Филатов", "Пономарёв", "Голубев", "Кудрявцев", "Прохоров",
	"Наумов", "Потапов", "Журавлёв", "Овчинников", "Трофимов", "Леонов", "Соболев", "Ермаков", "Колесников", "Гончаров",
	"Емельянов", "Никифоров", "Грачёв", "Котов", "Гришин", "Ефремов", "Архипов", "Громов", "Кириллов", "Малышев", "Панов",
	"Моисеев", "Румянцев", "Акимов", "Кондратьев", "Бирюков", "Горбунов", "Анисимов", "Ерёмин", "Тихомиров", "Галкин",
	"Лукьянов", "Михеев", "Скворцов", "Юдин", "Белоусов", "Нестеров", "Симонов", "Прокофьев", "Харитонов", "Князев", "Цветков",
	"Левин", "Митрофанов", "Воронов", "Аксёнов", "Мальцев", "Логинов", "Горшков", "Савин", "Краснов", "Майоров", "Демидов",
	"Елисеев", "Рыбаков", "Сафонов", "Плотников", "Дёмин", "Хохлов", "Жданов", "Руденко", "Шевченко", "Ковальчук", "Бондаренко",
	"Литвиненко", "Ким", "Цой", "Шмидт", "Миллер", "Полянский", "Вишневский", "Островский", "Садовский", "Шульга", "Зуев",
	"Пестов", "Кочетков", "Рябов", "Суханов", "Лаврентьев", "Устинов", "Хромов", "Ширяев", "Щукин", "Ярцев"}

func demoFemaleSurname(s string) string {
	for _, suf := range []string{"ский", "цкий"} {
		if strings.HasSuffix(s, suf) {
			return strings.TrimSuffix(s, "ий") + "ая"
		}
	}
	for _, suf := range []string{"ов", "ев", "ёв", "ин", "ын"} {
		if strings.HasSuffix(s, suf) {
			return s + "а"
		}
	}
	return s
}

var demoTranslit = map[rune]string{'а': "a", 'б': "b", 'в': "v", 'г': "g", 'д': "d", 'е': "e", 'ё': "e", 'ж': "zh", 'з': "z",
	'и': "i", 'й': "y", 'к': "k", 'л': "l", 'м': "m", 'н': "n", 'о': "o", 'п': "p", 'р': "r", 'с': "s", 'т': "t", 'у': "u",
	'ф': "f", 'х': "kh", 'ц': "ts", 'ч': "ch", 'ш': "sh", 'щ': "shch", 'ъ': "", 'ы': "y", 'ь': "", 'э': "e", 'ю': "yu", 'я': "ya"}

func demoLatin(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if t, ok := demoTranslit[r]; ok {
			b.WriteString(t)
		} else if r < 128 {
			b.WriteRune(r)
		}
	}
	return b.String()
}

var demoMobile = []string{"913", "913", "923", "923", "952", "953", "961", "983", "999", "905", "906"}

func (g *demoGen) newPerson() *demoPerson {
	p := &demoPerson{female: g.chance(0.58), known: map[string]bool{}, convs: map[demoConvKey]int64{}}
	pat := demoPatronymics[g.r.IntN(len(demoPatronymics))]
	if p.female {
		p.first, p.last, p.patr = g.pick(demoFemaleFirst), demoFemaleSurname(g.pick(demoSurnames)), pat[1]
	} else {
		p.first, p.last, p.patr = g.pick(demoMaleFirst), g.pick(demoSurnames), pat[0]
	}
	for {
		n := "+7" + g.pick(demoMobile) + fmt.Sprintf("%07d", g.r.IntN(10000000))
		if g.phones[n] {
			continue
		}
		if _, err := crm.NormalizePhone(n, "RU"); err == nil {
			g.phones[n] = true
			p.phone = n
			break
		}
	}
	if g.chance(0.45) {
		g.giveEmail(p)
	}
	if g.chance(0.35) {
		g.giveTelegram(p)
	}
	p.usesWA = g.chance(0.72)
	return p
}

func (g *demoGen) giveEmail(p *demoPerson) {
	if p.email != "" {
		return
	}
	domains := []string{"example.ru", "example.ru", "example.com", "example.net", "example.org"}
	for i := 0; ; i++ {
		var local string
		switch g.r.IntN(4) {
		case 0:
			local = demoLatin(p.first) + "." + demoLatin(p.last)
		case 1:
			local = demoLatin(p.first)[:1] + demoLatin(p.last)
		case 2:
			local = demoLatin(p.last) + strconv.Itoa(g.between(70, 99))
		default:
			local = demoLatin(p.first) + "_" + demoLatin(p.last)[:min(4, len(demoLatin(p.last)))] + strconv.Itoa(g.between(1, 2005))
		}
		if i > 3 {
			local += strconv.Itoa(i)
		}
		e := local + "@" + g.pick(domains)
		if !g.emails[e] {
			g.emails[e] = true
			p.email = e
			return
		}
	}
}

func (g *demoGen) giveTelegram(p *demoPerson) {
	if p.tg != 0 {
		return
	}
	for {
		id := int64(100000000 + g.r.IntN(1900000000))
		if id > 999999999 {
			id = 5000000000 + id // newer accounts have ten digits
		}
		if !g.tgs[id] {
			g.tgs[id] = true
			p.tg = id
			break
		}
	}
	if g.chance(0.6) {
		p.tgUser = demoLatin(p.first) + "_" + demoLatin(p.last)[:min(5, len(demoLatin(p.last)))]
	}
}

func (p *demoPerson) fullName() string { return p.last + " " + p.first + " " + p.patr }
func (p *demoPerson) v(male, female string) string {
	if p.female {
		return female
	}
	return male
}

// pbx writes numbers as the PBX reports them: digits with the country code.
func (p *demoPerson) pbx() string { return strings.TrimPrefix(p.phone, "+") }

// typed is the number as a client types it into a form.
func (g *demoGen) typed(p *demoPerson) string {
	d := strings.TrimPrefix(p.phone, "+7")
	switch g.r.IntN(5) {
	case 0:
		return "8" + d
	case 1:
		return fmt.Sprintf("+7 (%s) %s-%s-%s", d[:3], d[3:6], d[6:8], d[8:])
	case 2:
		return fmt.Sprintf("8 %s %s %s %s", d[:3], d[3:6], d[6:8], d[8:])
	case 3:
		return fmt.Sprintf("8(%s)%s-%s-%s", d[:3], d[3:6], d[6:8], d[8:])
	}
	return p.phone
}

// ---------------------------------------------------------------- the kitchen and the words

var demoJK = []string{"ЖК «Европейский берег»", "ЖК «Оазис»", "ЖК «Никольский парк»", "ЖК «Матрёшкин двор»", "ЖК «Тихомировский»",
	"ЖК «Аквамарин»", "ЖК «Ясный берег»", "ЖК «Воздух»", "ЖК «Кварталы Немировича»", "ЖК «Сосновый бор»", "ЖК «Просторный»",
	"ЖК «Фламинго»", "ЖК «Дом на Плановой»"}

var demoDistricts = []string{"Академгородок", "Бердск", "Кольцово", "Обь", "Краснообск", "Левый берег", "Заельцовский район",
	"Октябрьский район", "Калининский район", "Первомайский район"}

var demoWeekdays = []string{"понедельник", "вторник", "среду", "четверг", "пятницу", "субботу"}

func (g *demoGen) kitchen() demoKitchen {
	layouts := []string{"прямая", "угловая", "угловая", "П-образная", "с островом", "с барной стойкой"}
	facades := []string{"ЛДСП", "МДФ в плёнке", "МДФ в плёнке", "пластик AGT", "МДФ эмаль", "МДФ эмаль", "массив ясеня"}
	perM := map[string]int64{"ЛДСП": 30000, "МДФ в плёнке": 40000, "пластик AGT": 50000, "МДФ эмаль": 62000, "массив ясеня": 82000}
	k := demoKitchen{layout: g.pick(layouts), facade: g.pick(facades), top: g.pick([]string{"ЛДСП 38 мм под камень", "компакт-плита", "кварцевый агломерат", "искусственный камень"})}
	k.length = g.between(22, 46) * 10
	if k.layout != "прямая" {
		k.length += 80
	}
	price := perM[k.facade] * int64(k.length) / 100
	switch k.top {
	case "кварцевый агломерат":
		price += 45000
	case "искусственный камень":
		price += 30000
	}
	if k.layout == "с островом" {
		price += 60000
	}
	price = price / 100 * 100
	k.price = min(max(price, 95000), 440000)
	if g.chance(0.4) {
		k.jk = g.pick(demoJK)
	}
	return k
}

func demoMetres(cm int) string {
	if cm%100 == 0 {
		return strconv.Itoa(cm / 100)
	}
	return fmt.Sprintf("%d,%d", cm/100, cm%100/10)
}

// demoRub formats whole rubles: 187400 → "187 400".
func demoRub(r int64) string {
	return strings.TrimSuffix(crm.FormatMinor(r*100), ".00")
}

func (k demoKitchen) title() string {
	name := map[string]string{"прямая": "Прямая кухня", "угловая": "Угловая кухня", "П-образная": "П-образная кухня",
		"с островом": "Кухня с островом", "с барной стойкой": "Кухня с барной стойкой"}[k.layout]
	return fmt.Sprintf("%s %s м, %s", name, demoMetres(k.length), k.facade)
}

func (k demoKitchen) what() string {
	if strings.HasPrefix(k.layout, "с ") {
		return "кухня " + k.layout
	}
	return k.layout + " кухня"
}

func (g *demoGen) hello(at time.Time) string {
	switch h := at.In(g.loc).Hour(); {
	case h < 11 && g.chance(0.3):
		return "Доброе утро!"
	case h >= 18 && g.chance(0.4):
		return g.pick([]string{"Добрый вечер!", "Добрый вечер."})
	case h >= 11 && h < 18 && g.chance(0.4):
		return g.pick([]string{"Добрый день!", "Добрый день."})
	}
	return g.pick([]string{"Здравствуйте!", "Здравствуйте.", "Здравствуйте!"})
}

func (g *demoGen) question(s *demoStory, at time.Time) string {
	k, p := s.kit, s.p
	where := ""
	if s.src != nil && s.src.where != "" && g.chance(0.5) {
		where = p.v("Увидел", "Увидела") + " вашу рекламу " + s.src.where + ". "
	}
	if s.src != nil && s.src.code == "friend" && g.chance(0.7) {
		friend := g.pick(demoFemaleFirst)
		where = "Вас посоветовала " + friend + ", вы ей делали кухню. "
	}
	jk := ""
	if k.jk != "" {
		jk = " в " + k.jk
	}
	qs := []string{
		fmt.Sprintf("Интересует %s %s м, фасады %s. Сколько примерно будет стоить?", k.what(), demoMetres(k.length), k.facade),
		fmt.Sprintf("Нужна кухня в новую квартиру%s, длина стены %s м. Подскажите цены и сроки?", jk, demoMetres(k.length)),
		fmt.Sprintf("Хотим поменять кухню, %s, примерно %s м. Замер у вас бесплатный?", k.layout, demoMetres(k.length)),
		fmt.Sprintf("Сколько стоит %s %s м со столешницей %s?", k.what(), demoMetres(k.length), k.top),
		fmt.Sprintf("Можно рассчитать кухню по нашим размерам? %s м, %s.", demoMetres(k.length), k.layout),
		fmt.Sprintf("Есть ли рассрочка на кухню? Нужна %s, около %s м.", k.what(), demoMetres(k.length)),
		"Делаете кухни без ручек, с профилем Gola? Какая цена за погонный метр?",
		fmt.Sprintf("Какой срок изготовления кухни? У нас ремонт заканчивается через месяц%s.", jk),
	}
	return strings.TrimSpace(g.hello(at) + " " + where + g.pick(qs))
}

func (g *demoGen) firstAnswer(s *demoStory, m *crm.User) string {
	k, p := s.kit, s.p
	from := int64(float64(k.price)*0.85) / 1000 * 1000
	name := strings.Split(m.Name, " ")[0]
	return g.pick([]string{
		fmt.Sprintf("%s, здравствуйте! Меня зовут %s, компания «%s». Ориентировочно %s %s м с фасадами %s — от %s ₽. Точную стоимость посчитаем после замера, замер бесплатный. Когда вам удобно?",
			p.first, name, demoCompany, k.what(), demoMetres(k.length), k.facade, demoRub(from)),
		fmt.Sprintf("Здравствуйте! Это %s, компания «%s». Подскажите, пожалуйста, размеры помещения и где выводы воды и газа — пришлите план или фото, посчитаем.", name, demoCompany),
		"Добрый день! Спасибо за обращение. Кухни делаем под заказ, срок изготовления 25–30 рабочих дней. Для расчёта нужны размеры — можем бесплатно приехать на замер. Как к вам обращаться?",
	})
}

func (g *demoGen) details(s *demoStory) string {
	k := s.kit
	a, b := k.length, g.between(16, 32)*10
	return g.pick([]string{
		fmt.Sprintf("Размеры: %d на %d см, окно посередине, газовая труба слева.", a, b),
		"Отправляю фото кухни и план квартиры. Духовка и варочная встроенные, посудомойка 45 см.",
		fmt.Sprintf("Бюджет примерно %d тысяч. Стена %d см, холодильник отдельно стоит.", k.price/1000/10*10+int64(g.between(-2, 3)*10), a),
		fmt.Sprintf("Хотим фасады %s, столешницу %s. Потолки 2,7 м, шкафы до потолка.", k.facade, k.top),
		"Можно фасады без ручек? И подсветку рабочей зоны.",
	})
}

func (g *demoGen) detailsAnswer() string {
	return g.pick([]string{
		"Спасибо, получили! Предлагаем бесплатный замер — замерщик уточнит размеры и привезёт образцы фасадов.",
		"Да, так можно сделать. Чтобы посчитать точно, нужен замер: он бесплатный, занимает около часа.",
		"Принято! Сделаем предварительный расчёт и согласуем время замера.",
	})
}

func (g *demoGen) measureAsk(s *demoStory) string {
	day := g.pick(demoWeekdays)
	h := g.between(10, 17)
	return g.pick([]string{
		fmt.Sprintf("Замерщик может приехать в %s с %d до %d, вам удобно?", day, h, h+2),
		fmt.Sprintf("Можем записать вас на замер в %s, в %d:00. Подойдёт?", day, h),
	})
}

func (g *demoGen) measureOK(s *demoStory) string {
	return g.pick([]string{"Да, удобно, ждём.", "Давайте, ждём замерщика.", "Лучше после 18:00, если можно.",
		"Подходит. Адрес: " + g.pick([]string{"ул. Большевистская", "ул. Кирова", "ул. Ипподромская", "ул. Фрунзе", "Красный проспект", "ул. Родники"}) +
			fmt.Sprintf(", %d, кв. %d.", g.between(2, 180), g.between(3, 240))})
}

func (g *demoGen) proposalText(s *demoStory, amount int64) string {
	return g.pick([]string{
		fmt.Sprintf("Направляем дизайн-проект и расчёт: %s ₽ с фурнитурой Blum и монтажом. Срок изготовления — %d рабочих дней.", demoRub(amount), []int{25, 28, 30, 35}[g.r.IntN(4)]),
		fmt.Sprintf("Проект готов, отправили вам файлом. Итог %s ₽, в стоимость входят доставка и монтаж.", demoRub(amount)),
		fmt.Sprintf("По итогам замера: %s ₽. Можем сделать рассрочку на 6 месяцев без переплаты.", demoRub(amount)),
	})
}

// proposalTalk is a client's question about the proposal and the answer.
func (g *demoGen) proposalTalk(s *demoStory) (string, string) {
	budget := s.kit.price / 1000 * 85 / 100 / 10 * 10
	talk := [][2]string{
		{"А если фасады поменять на плёнку, сколько будет?", "Если фасады МДФ в плёнке, выйдет примерно на 15% дешевле. Пересчитать?"},
		{fmt.Sprintf("Можно ли уложиться в %d тысяч?", budget), fmt.Sprintf("Можно, если взять фасады попроще и столешницу из компакт-плиты — получится около %d тысяч.", budget+5)},
		{"Сколько стоит доставка в " + g.pick(demoDistricts) + "?", "Доставка по городу бесплатно, за город — 1 500 ₽."},
		{"Посудомойку и духовку можете подобрать и поставить?", "Да, технику подберём и встроим, это входит в монтаж."},
		{"Спасибо, посмотрим проект и вернёмся.", "Хорошо, будем ждать. Если появятся вопросы — пишите."},
	}[g.r.IntN(5)]
	return talk[0], talk[1]
}

// ---------------------------------------------------------------- touches

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
	text := "Пропущенный звонок"
	if answered {
		call.Duration = time.Duration(g.between(40, 720)) * time.Second
		call.RecordingURL = "https://pbx.example.com/records/" + g.hex(8) + ".mp3"
		text = fmt.Sprintf("Входящий звонок, %d:%02d", int(call.Duration.Minutes()), int(call.Duration.Seconds())%60)
	}
	p.known["phone"] = true
	return g.inbound(s, channels.Inbound{
		AccountID: g.phoneAcc.ID, ExternalID: "call-" + g.hex(10), Kind: channels.Call, At: at,
		From: []channels.Handle{{Kind: "phone", Value: p.pbx()}}, EntryPoint: number, Text: text, Call: call,
	})
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
	return g.inbound(s, channels.Inbound{
		AccountID: g.waAcc.ID, ExternalID: "3EB0" + strings.ToUpper(g.hex(8)), Kind: channels.Message, At: at,
		From: []channels.Handle{{Kind: "whatsapp", Value: p.pbx() + "@s.whatsapp.net"}},
		Name: name, EntryPoint: demoWANumber, Text: text,
	})
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
	sign := "\n\n--\n" + p.first
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
	sub := web.Submission{SubmissionID: "sb-form-" + g.hex(6), Name: p.first, Phone: g.typed(p), Message: msg,
		PageURL: demoSite + g.pick([]string{"/", "/kuhni/", "/kuhni/uglovye/", "/kuhni/pryamye/", "/akcii/", "/kalkulyator/", "/portfolio/"})}
	if g.chance(0.2) {
		sub.Name = p.first + " " + p.last
	}
	if p.email != "" && g.chance(0.7) {
		sub.Email = p.email
		p.known["email"] = true
	}
	if s.src != nil {
		sub.UTMSource, sub.UTMMedium = s.src.code, s.src.medium
		if len(s.src.camps) > 0 {
			sub.UTMCampaign = g.pick(s.src.camps)
		}
		sub.PageURL += "?utm_source=" + s.src.code
	}
	p.known["phone"] = true
	return g.inbound(s, sub.Inbound(g.webAcc.ID, g.webAcc.DefaultSource, at))
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
			subject = g.pick([]string{"Размеры для расчёта кухни", "Фото кухни и план", "Вопрос по заказу", "Кухня — наши размеры"})
		}
		return g.mailIn(s, at, subject, text, "sales@"+demoDomain, false)
	}
	num := demoMainNumber
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
		st.ext = "sb." + g.hex(12) + "@" + demoDomain
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

// number is a tracking number of the source in force at t.
func (g *demoGen) number(src *demoSrc, at time.Time) string {
	var ok []string
	for _, n := range src.numbers {
		if n == "+73832091546" && (src.code == "vk") != at.Before(g.rebind) {
			continue
		}
		ok = append(ok, n)
	}
	if src.code == "2gis" && !at.Before(g.rebind) && g.chance(0.4) {
		return "+73832091546"
	}
	return ok[g.r.IntN(len(ok))]
}

// ---------------------------------------------------------------- the script

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
	w[len(g.srcs)] = 7 // WhatsApp, where no source is known
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
	chans := []string{"phone", "web", "email", "telegram"}
	w := map[string][]int{
		"yandex": {40, 40, 8, 12},
		"avito":  {60, 0, 15, 25},
		"vk":     {20, 35, 5, 40},
		"2gis":   {75, 15, 10, 0},
		"friend": {55, 15, 15, 15},
	}[src.code]
	return chans[g.weighted(w...)]
}

func (g *demoGen) pickManager() *crm.User {
	return &g.managers[g.weighted(40, 35, 25)]
}

type demoOutcome struct {
	won, lost bool
	reason    string
	stage     int  // the furthest open stage reached (index into the open stages)
	engaged   bool // the client writes or calls again on later days
}

// outcome decides how a lead ends. Most leads are one-off: a question, an
// answer, and whatever the manager then does by phone (calls out are not
// recorded). The engaged ones come back on later days.
func (g *demoGen) outcome() demoOutcome {
	top := len(g.open) - 1
	q := min(1, top)
	var o demoOutcome
	switch g.weighted(12, 12, 10, 8, 8, 20, 15, 15) {
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
	src := g.pickSource()
	ch := g.pickChannel(src)
	out := g.outcome()
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
	s := &demoStory{p: p, src: src, first: ch, kit: g.kitchen(), dropped: t0.Before(g.start)}
	t := t0
	textual := ch == "telegram" || ch == "whatsapp" || ch == "email"

	// The first touch.
	switch ch {
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
		msg := ""
		if g.chance(0.7) {
			msg = g.pick([]string{"Перезвоните, пожалуйста, хочу рассчитать кухню.", "Нужен замер на этой неделе.",
				fmt.Sprintf("Интересует %s %s м, бюджет до %d тыс.", s.kit.what(), demoMetres(s.kit.length), s.kit.price/1000/10*10+20),
				"Кухня в студию, с барной стойкой. Звонить после 18:00.", "Хочу консультацию дизайнера.",
				"Интересует рассрочка", fmt.Sprintf("Кухня в %s, сдача дома через 2 месяца", g.pick(demoJK))})
		}
		g.form(s, t, msg)
	case "email":
		subj := g.pick([]string{"Кухня на заказ", "Расчёт кухни", "Запрос стоимости кухни", "Вопрос по кухне", "Заявка на замер",
			"Кухня " + demoMetres(s.kit.length) + " м", "Дизайн-проект кухни"})
		if s.kit.jk != "" && g.chance(0.5) {
			subj = "Кухня в " + s.kit.jk
		}
		g.mailIn(s, t, subj, g.question(s, t), src.email, false)
	case "telegram":
		g.tgIn(s, t, "", src.code, false)
		t = t.Add(g.mins(1, 4))
		g.tgIn(s, t, g.question(s, t), "", false)
	case "whatsapp":
		g.waIn(s, t, g.question(s, t))
	}

	// Triage; a few clients fall through the cracks.
	if g.chance(0.03) {
		if g.chance(0.5) {
			g.say(s, g.follow(s), g.awake(t.Add(g.hours(20, 60))), g.pick([]string{"Алло, вы работаете?", "Ответьте, пожалуйста, актуально ещё.", "Так и не дождались ответа."}))
		}
		return
	}
	tri := g.work(t0.Add(g.mins(5, 100)))
	if tri.Before(t) {
		tri = t.Add(g.mins(2, 20))
	}
	g.add(s, &demoStep{at: tri, op: demoTriage, take: g.chance(0.35), title: s.kit.title(), name: p.fullName()})
	t = tri
	if textual {
		t = g.reply(s, ch, g.work(t.Add(g.mins(2, 25))), g.firstAnswer(s, p.manager))
	}
	if ch == "telegram" && g.chance(0.4) {
		if at := t.Add(g.mins(3, 90)); g.dayStart(at) == g.dayStart(t) {
			t = at
			g.tgIn(s, t, "", "", true) // "share my number", when the bot asks
		}
	}

	if !out.engaged {
		// A one-off: perhaps one more exchange the same day, then only
		// what the manager does after calling the client.
		if textual && out.reason != demoNoAnswer && g.chance(0.4) {
			at := t.Add(g.mins(5, 90))
			if g.dayStart(at) == g.dayStart(t) {
				t, _ = g.exchange(s, ch, at, g.details(s), g.detailsAnswer())
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
			lost.reason = out.reason
			g.act(s, lost.at.Add(time.Minute), demoClose)
			if out.reason == demoChanged && g.chance(0.15) {
				g.comeBack(s, lost.at, false)
			}
		}
		return
	}

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

	// Measurement and the proposal.
	amount := s.kit.price
	if out.stage >= 2 {
		fc := g.follow(s)
		ask := g.work(t.Add(g.hours(1, 48)))
		switch {
		case fc == "phone":
			g.call(s, ask, true, g.numberOf(s, ask))
			t = ask
		case !p.known[fc] || fc == "email" && p.thread == nil:
			t, _ = g.exchange(s, fc, g.awake(ask), "Когда сможете приехать на замер?", g.measureAsk(s))
		default:
			g.reply(s, fc, ask, g.measureAsk(s))
			t = g.awake(ask.Add(g.mins(5, 300)))
			g.say(s, fc, t, g.measureOK(s))
		}
		t = g.work(t.Add(g.days(2, 8)))
		amount = s.kit.price * int64(g.between(95, 110)) / 100 / 100 * 100
		if fc != "phone" {
			g.reply(s, fc, t, g.proposalText(s, amount))
		}
		g.act(s, t.Add(time.Minute), demoStage).stage = len(g.open) - 1
		g.act(s, t.Add(2*time.Minute), demoAmount).amount = amount
		if g.chance(0.5) {
			q, a := g.proposalTalk(s)
			t, _ = g.exchange(s, fc, g.awake(t.Add(g.hours(2, 72))), q, a)
		}
	} else if out.engaged && !out.lost {
		// Engaged but not yet at a proposal: a question on a later day.
		fc := g.follow(s)
		t, _ = g.exchange(s, fc, g.awake(t.Add(g.hours(20, 96))), g.pick([]string{"Когда сможете приехать на замер?",
			"Пришлите, пожалуйста, примеры работ.", "А фасады какие есть по цветам?"}), g.detailsAnswer())
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
			g.say(s, fc, g.awake(t.Add(g.hours(4, 120))), g.pick([]string{"Добрый день, есть новости по расчёту?",
				"Мы подумаем до выходных.", "Подскажите, а скидка при заказе до конца месяца будет?", "Можно ещё вариант с другими фасадами?",
				"Перезвоните, пожалуйста, после 18:00."}))
		}
		return
	}
	if g.chance(0.16) {
		g.comeBack(s, t, out.won)
	}
}

func (g *demoGen) numberOf(s *demoStory, at time.Time) string {
	if s.src == nil {
		return demoMainNumber
	}
	return g.number(s.src, at)
}

func (g *demoGen) win(s *demoStory, t time.Time, amount int64) time.Time {
	fc := g.follow(s)
	t, _ = g.exchange(s, fc, g.awake(t.Add(g.days(1, 14))), g.pick([]string{
		"Нас всё устраивает, готовы заключить договор.", "Давайте оформлять. Когда можно подписать договор?",
		"Согласны на этот вариант. Что нужно для договора?"}),
		fmt.Sprintf("Отлично! Ждём вас в салоне %s в %s, подпишем договор. Предоплата 50%%.", demoSalon, g.pick(demoWeekdays)))
	if fc != "phone" && g.chance(0.6) {
		t, _ = g.exchange(s, fc, g.awake(t.Add(g.days(1, 3))), "Предоплату перевели, чек прислать?",
			fmt.Sprintf("Спасибо, оплата пришла! Заказ передан в производство, монтаж ориентировочно %s.", g.pick([]string{"через месяц", "через 4–5 недель", "через 5–6 недель"})))
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

func (g *demoGen) lose(s *demoStory, t time.Time, reason string) time.Time {
	fc := g.follow(s)
	t = g.awake(t.Add(g.days(2, 20)))
	if g.chance(0.75) {
		var in, out string
		switch reason {
		case demoExpensive:
			in = g.pick([]string{"Для нас дороговато, будем искать дешевле.", "Спасибо, но бюджет не позволяет.", "Нам насчитали дешевле в другом месте."})
			out = "Понимаем. Можем предложить вариант с фасадами из ЛДСП — примерно на 25% дешевле. Если интересно — напишите."
		case demoCompetitor:
			in = g.pick([]string{"Спасибо, мы уже заказали в другой фабрике.", "Выбрали другую компанию, извините.", "Решили заказать в Леруа, там быстрее."})
			out = "Жаль! Если что-то понадобится — обращайтесь."
		default:
			in = g.pick([]string{"Мы решили пока отложить ремонт, вернёмся весной.", "Пока неактуально, спасибо.", "Передумали менять кухню, извините."})
			out = "Хорошо, будем рады помочь, когда вернётесь к вопросу."
		}
		t, _ = g.exchange(s, fc, t, in, out)
	}
	lost := g.act(s, g.work(t.Add(g.mins(10, 300))), demoLost)
	lost.reason = reason
	s.twoOpen = false
	g.act(s, lost.at.Add(time.Minute), demoClose)
	return lost.at
}

// secondDeal: the client asks for a second piece of furniture; the manager
// opens a deal from that message. Until one deal closes, the client's
// touches need linking by hand.
func (g *demoGen) secondDeal(s *demoStory, t time.Time) time.Time {
	fc := g.follow(s)
	item := [][2]string{{"шкаф-купе в прихожую", "Шкаф-купе в прихожую"}, {"шкаф-купе в спальню", "Шкаф-купе в спальню"},
		{"гардеробную", "Гардеробная"}, {"тумбу под раковину в ванную", "Тумба под раковину в ванную"}, {"прихожую", "Прихожая"}}[g.r.IntN(5)]
	what := item[0]
	size := demoMetres(g.between(14, 30) * 10)
	t = g.awake(t.Add(g.hours(3, 72)))
	in := g.say(s, fc, t, fmt.Sprintf("И ещё: посчитайте, пожалуйста, %s, %s м.", what, size))
	nd := g.act(s, g.work(t.Add(g.mins(10, 120))), demoNewDeal)
	nd.ref, nd.second = in, true
	nd.title = item[1] + ", " + size + " м"
	t = g.reply(s, fc, nd.at.Add(g.mins(1, 10)), "Да, посчитаем отдельно. Замерщик посмотрит и "+what+" в тот же визит.")
	s.twoOpen = true
	st := g.act(s, t.Add(g.mins(20, 300)), demoStage)
	st.stage, st.second = 1, true
	return t
}

// comeBack is a client returning after the deal closed: a warranty
// question (not a sale) or a new order (a new deal from the touch).
func (g *demoGen) comeBack(prev *demoStory, t time.Time, won bool) {
	s := &demoStory{p: prev.p, src: prev.src, first: prev.first, kit: g.kitchen(), dropped: prev.dropped}
	fc := g.follow(s)
	t = g.awake(t.Add(g.days(7, 45)))
	if won && g.chance(0.5) {
		in := g.say(s, fc, t, g.pick([]string{
			"Здравствуйте! Вы нам ставили кухню. Разболталась петля на навесном шкафу, можно прислать мастера?",
			"Добрый день, у нас возле мойки вздулась кромка на столешнице. Это гарантийный случай?",
			"Не закрывается до конца ящик с доводчиком, подскажите, что сделать?"}))
		if fc != "phone" {
			t = g.reply(s, fc, g.work(t.Add(g.mins(10, 180))), "Здравствуйте! Передали заявку сервисному мастеру, он свяжется с вами и согласует время.")
		}
		n := g.act(s, g.work(t.Add(g.mins(5, 600))), demoNotASale)
		n.ref, n.reason = in, demoService
		g.act(s, n.at.Add(g.days(1, 4)), demoClose)
		return
	}
	text := "Здравствуйте! Мы снова вернулись к вопросу кухни. Ваш расчёт ещё актуален?"
	title := "Повторное обращение: " + s.kit.title()
	if won {
		text = "Здравствуйте! Кухней очень довольны, теперь хотим шкаф-купе в прихожую. Можно рассчитать?"
		title = "Шкаф-купе в прихожую (повторный клиент)"
	}
	in := g.say(s, fc, t, text)
	nd := g.act(s, g.work(t.Add(g.mins(10, 300))), demoNewDeal)
	nd.ref, nd.title = in, title
	if fc != "phone" {
		t = g.reply(s, fc, nd.at.Add(g.mins(1, 15)), "Здравствуйте! Рады, что вы снова с нами. Запишем на замер — когда удобно?")
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

var demoSuppliers = []struct{ company, first, last, email string }{
	{"ООО «СибФурнитура»", "Артём", "Захаров", "opt@sibfurnitura.example"},
	{"ТД «Плита-Опт»", "Наталья", "Гусева", "sales@plita-opt.example"},
	{"Камень-Декор НСК", "Игорь", "Мельников", "info@kamen-dekor.example"},
	{"ООО «Фасад-Профи»", "Юлия", "Ершова", "zakaz@fasad-profi.example"},
	{"ТК «Груз-54»", "Олег", "Сафронов", "partner@gruz54.example"},
}

var demoSupplierMail = [][2]string{
	{"Коммерческое предложение: фурнитура Blum и Hettich со склада в Новосибирске", "Добрый день! Предлагаем фурнитуру Blum и Hettich со склада в Новосибирске, отгрузка в день заказа. Для мебельных производств — скидка 12% от прайса. Прайс во вложении."},
	{"Прайс-лист на ЛДСП и кромку", "Здравствуйте! Направляем актуальный прайс на ЛДСП Egger и Kronospan, кромку ПВХ. Поставки от одного листа, распил в размер."},
	{"Столешницы из кварца — оптовые цены", "Добрый день! Изготавливаем столешницы из кварцевого агломерата по вашим чертежам за 7 дней. Готовы обсудить оптовые условия."},
	{"Фасады МДФ под заказ, срок 10 дней", "Здравствуйте! Производим фасады МДФ в эмали и плёнке для мебельных компаний. Пришлём образцы бесплатно."},
	{"Доставка мебели по НСО — предложение о сотрудничестве", "Добрый день! Доставим и поднимем мебель по Новосибирску и области, есть грузчики-сборщики. Договор, оплата по счёту."},
}

// supplier writes to the purchasing address, which opens no deals; the
// lead marks it not a sale.
func (g *demoGen) supplier(at time.Time) {
	i := g.r.IntN(len(demoSuppliers))
	sp := demoSuppliers[i]
	p := g.orgPerson(sp.company, sp.first, sp.last, sp.email)
	s := &demoStory{p: p, first: "email", byLead: true, dropped: at.Before(g.start)}
	p.thread = nil
	m := demoSupplierMail[g.r.IntN(len(demoSupplierMail))]
	in := g.mailIn(s, at, m[0], m[1], "snab@"+demoDomain, false)
	if g.chance(0.9) {
		n := g.act(s, g.work(at.Add(g.hours(1, 40))), demoNotASale)
		n.ref, n.reason = in, demoSupplier
		g.act(s, n.at.Add(time.Minute), demoClose)
	}
}

var demoMailers = [][2]string{
	{"Вебинар: как увеличить продажи мебели в 2 раза", "Приглашаем на бесплатный вебинар для владельцев мебельного бизнеса. Регистрация по ссылке."},
	{"Ваш сайт в ТОП-10 Яндекса за 14 дней", "Выведем сайт в ТОП-10 по запросам «кухни на заказ». Гарантия результата. Ответьте на письмо — пришлём аудит."},
	{"Тренды кухонь 2026: подборка для производителей", "В этом выпуске: фасады без ручек, тёмные оттенки, кварц вместо ламината. Чтобы отписаться, перейдите по ссылке."},
	{"Базы клиентов для мебельного бизнеса", "Актуальные базы новостроек Новосибирска: контакты собственников. Скидка 30% до пятницы."},
}

// mailer is bulk mail to the address on the site: flagged automated, so it
// opens no deal; the lead marks it spam.
func (g *demoGen) mailer(at time.Time) {
	i := g.r.IntN(len(demoMailers))
	p := g.orgPerson("Бизнес-Рост", "Команда", "Бизнес-Роста", "news@biz-rost.example")
	p.signature = "\n\n—\nБизнес-Рост: рассылка для владельцев бизнеса. Вы получили это письмо, потому что ваш адрес есть на сайте. Отписаться: https://biz-rost.example/unsubscribe"
	s := &demoStory{p: p, first: "email", byLead: true, dropped: at.Before(g.start)}
	p.thread = nil
	in := g.mailIn(s, at, demoMailers[i][0], demoMailers[i][1], "sales@"+demoDomain, true)
	if g.chance(0.85) {
		n := g.act(s, g.work(at.Add(g.hours(1, 48))), demoNotASale)
		n.ref, n.reason = in, demoSpam
		g.act(s, n.at.Add(time.Minute), demoClose)
	}
}

// orgPerson is the one person behind an organization's address.
func (g *demoGen) orgPerson(company, first, last, email string) *demoPerson {
	if g.orgs == nil {
		g.orgs = map[string]*demoPerson{}
	}
	if p := g.orgs[email]; p != nil {
		return p
	}
	p := &demoPerson{company: company, first: first, last: last, email: email, known: map[string]bool{}, convs: map[demoConvKey]int64{},
		signature: "\n\nС уважением,\n" + first + " " + last + "\n" + company}
	g.orgs[email] = p
	return p
}

// ---------------------------------------------------------------- playing the script

// play runs the script a day at a time: the day's inbound touches in one
// Ingest batch, then the replies and the team's actions in time order.
func (g *demoGen) play() error {
	sort.SliceStable(g.steps, func(i, j int) bool {
		if !g.steps[i].at.Equal(g.steps[j].at) {
			return g.steps[i].at.Before(g.steps[j].at)
		}
		return g.steps[i].seq < g.steps[j].seq
	})
	for i := 0; i < len(g.steps); {
		day := g.dayStart(g.steps[i].at)
		j := i
		for j < len(g.steps) && g.dayStart(g.steps[j].at).Equal(day) {
			j++
		}
		if err := g.playDay(g.steps[i:j]); err != nil {
			return err
		}
		i = j
	}
	return nil
}

func (g *demoGen) playDay(steps []*demoStep) error {
	var ins []*demoStep
	for _, st := range steps {
		if st.op == demoIn {
			ins = append(ins, st)
		}
	}
	if len(ins) > 0 {
		batch := make([]channels.Inbound, len(ins))
		for i, st := range ins {
			batch[i] = st.in
		}
		res, err := g.a.Ingest(g.ctx, batch)
		if err != nil {
			return fmt.Errorf("inbox: demo: ingest: %w", err)
		}
		ids := make([]int64, 0, len(res))
		for i, r := range res {
			if r.Err != nil || r.Duplicate {
				return fmt.Errorf("inbox: demo: ingest %s: %v (duplicate %v)", ins[i].in.ExternalID, r.Err, r.Duplicate)
			}
			ins[i].touch = r.TouchID
			ids = append(ids, r.TouchID)
		}
		var rows []crm.Touch
		if err := g.a.db.WithContext(g.ctx).Select("id", "contact_id", "conversation_id", "deal_id", "account_id").Where("id IN ?", ids).Find(&rows).Error; err != nil {
			return err
		}
		byID := map[int64]crm.Touch{}
		for _, r := range rows {
			byID[r.ID] = r
		}
		for _, st := range ins {
			r := byID[st.touch]
			s, p := st.story, st.story.p
			if p.contact == 0 {
				p.contact = r.ContactID
			} else if p.contact != r.ContactID {
				return fmt.Errorf("inbox: demo: touch %s went to contact %d, not %d", st.in.ExternalID, r.ContactID, p.contact)
			}
			k := demoConvKey{r.AccountID, st.in.ThreadKey}
			if _, ok := p.convs[k]; !ok {
				p.convs[k] = r.ConversationID
				p.convSeq = append(p.convSeq, r.ConversationID)
			}
			if r.DealID != nil {
				if _, ok := g.dealCreated[*r.DealID]; !ok {
					g.dealCreated[*r.DealID] = st.at
				}
				if s.deal == 0 && !g.closedDeals[*r.DealID] {
					s.deal = *r.DealID
				}
			}
		}
	}
	// Replies go in one batch, except those after a new deal of the same
	// client that day: the deal is what they link to.
	var early []*demoStep
	late := map[*demoStep]bool{}
	newDeal := map[*demoPerson]bool{}
	for _, st := range steps {
		switch {
		case st.op == demoNewDeal:
			newDeal[st.story.p] = true
		case st.op == demoOut && newDeal[st.story.p]:
			late[st] = true
		case st.op == demoOut:
			early = append(early, st)
		}
	}
	if err := g.writeReplies(early); err != nil {
		return fmt.Errorf("inbox: demo: %w", err)
	}
	for _, st := range steps {
		if st.op == demoIn || st.op == demoOut && !late[st] {
			continue
		}
		if err := g.do(st); err != nil {
			return fmt.Errorf("inbox: demo: %s: %w", st.at.In(g.loc).Format("2006-01-02 15:04"), err)
		}
	}
	return nil
}

func (g *demoGen) skip(what string, st *demoStep) {
	g.skipped++
	g.a.log.Debug("demo: scripted action skipped", "what", what, "at", st.at)
}

// do carries out a reply or an action of the team.
func (g *demoGen) do(st *demoStep) error {
	ctx, s := g.ctx, st.story
	p := s.p
	m := p.manager
	if s.byLead {
		m = &g.lead
	}
	dealOf := func() int64 {
		if st.second {
			return s.deal2
		}
		return s.deal
	}
	switch st.op {
	case demoOut:
		return g.writeReplies([]*demoStep{st})
	case demoTriage:
		var open []int64
		if err := g.a.db.WithContext(ctx).Model(&crm.Conversation{}).Where("id IN ? AND assignee_id IS NULL", p.convSeq).Order("id").Pluck("id", &open).Error; err != nil {
			return err
		}
		for _, id := range open {
			by := g.lead
			if st.take {
				by = *m
			}
			if _, err := g.a.AssignConversation(ctx, by, id, &m.ID); err != nil {
				return fmt.Errorf("assign: %w", err)
			}
		}
		if p.contact == 0 {
			g.skip("triage without contact", st)
			return nil
		}
		if err := g.editContact(p.contact, st.name, m.ID); err != nil {
			return err
		}
		if s.deal != 0 {
			title := st.title
			patch := crm.DealPatch{Title: &title, ResponsibleID: &m.ID}
			if _, err := g.a.dealChange(ctx, g.lead, s.deal, "deal.edit", func(tx *gorm.DB) (crm.Deal, error) { return crm.UpdateDeal(tx, s.deal, patch) }); err != nil {
				return fmt.Errorf("deal title: %w", err)
			}
			g.touchDeal(s.deal, st.at)
		}
		return nil
	case demoStage, demoAmount, demoWon, demoLost:
		id := dealOf()
		if id == 0 {
			g.skip("deal change without a deal", st)
			return nil
		}
		var err error
		switch st.op {
		case demoStage:
			stage := g.open[min(st.stage, len(g.open)-1)].ID
			_, err = g.a.dealChange(ctx, *m, id, "deal.stage", func(tx *gorm.DB) (crm.Deal, error) { return crm.MoveDeal(tx, id, stage) })
		case demoAmount:
			amount := st.amount * 100
			_, err = g.a.dealChange(ctx, *m, id, "deal.edit", func(tx *gorm.DB) (crm.Deal, error) {
				return crm.UpdateDeal(tx, id, crm.DealPatch{Amount: &amount})
			})
		case demoWon:
			amount := st.amount * 100
			_, err = g.a.dealChange(ctx, *m, id, "deal.won", func(tx *gorm.DB) (crm.Deal, error) { return crm.WinDeal(tx, id, amount) })
		case demoLost:
			_, err = g.a.dealChange(ctx, *m, id, "deal.lost", func(tx *gorm.DB) (crm.Deal, error) { return crm.LoseDeal(tx, id, st.reason) })
		}
		if err != nil {
			return fmt.Errorf("deal %d: %w", id, err)
		}
		g.touchDeal(id, st.at)
		if st.op == demoWon || st.op == demoLost {
			g.dealClosed[id] = st.at
			g.closedDeals[id] = true
		}
		return nil
	case demoClose:
		var open []crm.Conversation
		if err := g.a.db.WithContext(ctx).Select("id", "assignee_id").Where("id IN ? AND status <> ?", p.convSeq, crm.ConvClosed).Order("id").Find(&open).Error; err != nil {
			return err
		}
		for _, c := range open {
			by := *m
			if c.AssigneeID == nil || *c.AssigneeID != m.ID {
				by = g.lead
			}
			if _, err := g.a.SetConversationStatus(ctx, by, c.ID, crm.ConvClosed, nil); err != nil {
				return fmt.Errorf("close: %w", err)
			}
		}
		return nil
	case demoNewDeal:
		if st.ref == nil || st.ref.touch == 0 {
			g.skip("new deal without a touch", st)
			return nil
		}
		d, _, err := g.a.OpenDealForTouch(ctx, *m, st.ref.touch)
		if err != nil {
			return fmt.Errorf("new deal: %w", err)
		}
		g.dealCreated[d.ID] = st.at
		if st.second {
			s.deal2 = d.ID
		} else {
			s.deal = d.ID
		}
		title := st.title
		if _, err := g.a.dealChange(ctx, *m, d.ID, "deal.edit", func(tx *gorm.DB) (crm.Deal, error) {
			return crm.UpdateDeal(tx, d.ID, crm.DealPatch{Title: &title})
		}); err != nil {
			return err
		}
		g.touchDeal(d.ID, st.at)
		return nil
	case demoLink:
		id := dealOf()
		if st.ref == nil || st.ref.touch == 0 || id == 0 {
			g.skip("link", st)
			return nil
		}
		t, err := crm.GetTouch(g.a.db.WithContext(ctx), st.ref.touch)
		if err != nil {
			return err
		}
		if !t.Unlinked() {
			return nil // linked by ingest after all: one deal was open
		}
		_, err = g.a.LinkTouch(ctx, *m, st.ref.touch, id)
		return err
	case demoNotASale:
		if st.ref == nil || st.ref.touch == 0 {
			g.skip("not a sale", st)
			return nil
		}
		if _, err := g.a.MarkNotASale(ctx, *m, st.ref.touch, st.reason); err != nil {
			return err
		}
		// The rest of the conversation's unlinked touches (our reply too)
		// go with it, or the conversation stays under the unlinked filter.
		t, err := crm.GetTouch(g.a.db.WithContext(ctx), st.ref.touch)
		if err != nil {
			return err
		}
		var rest []int64
		if err := g.a.db.WithContext(ctx).Model(&crm.Touch{}).Where("conversation_id = ? AND occurred_at >= ? AND occurred_at <= ? AND id <> ? AND "+crm.UnlinkedTouch, t.ConversationID, t.OccurredAt, st.at, t.ID).Order("id").Pluck("id", &rest).Error; err != nil {
			return err
		}
		for _, id := range rest {
			if _, err := g.a.MarkNotASale(ctx, *m, id, st.reason); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("unknown step %d", st.op)
}

func (g *demoGen) touchDeal(id int64, at time.Time) {
	if at.After(g.dealUpdated[id]) {
		g.dealUpdated[id] = at
	}
}

// editContact is what the lead does on the contact card after the first
// talk: the client's full name and the responsible manager, audited (as
// PATCH /api/v1/contacts/{id}).
func (g *demoGen) editContact(contact int64, name string, manager int64) error {
	return g.a.change(g.ctx, func(tx *gorm.DB, ev *events) error {
		before, err := crm.VisibleContact(tx, g.lead, contact)
		if err != nil {
			return err
		}
		patch := crm.ContactPatch{ResponsibleID: &manager}
		if name != "" {
			patch.Name = &name
		}
		c, err := crm.UpdateContact(tx, before.ID, patch)
		if err != nil {
			return err
		}
		if _, err := crm.Audit(tx, &g.lead.ID, "contact.responsible", "contact", c.ID, map[string]any{"from": before.ResponsibleID, "to": c.ResponsibleID}); err != nil {
			return err
		}
		return ev.add(crm.EventContactChanged, nil, nil, map[string]any{"contact_id": c.ID})
	})
}

// writeReplies stores replies as App.Reply and the dispatcher leave them
// once sent: the outbound touch (delivery status sent, linked to the
// conversation's deal), its outbox job (sent, one attempt) and the
// touch.added event, at the scripted times.
func (g *demoGen) writeReplies(steps []*demoStep) error {
	if len(steps) == 0 {
		return nil
	}
	return g.a.change(g.ctx, func(tx *gorm.DB, ev *events) error {
		ids := make([]int64, 0, len(steps))
		for _, st := range steps {
			if id, ok := st.story.p.convs[st.conv]; ok {
				ids = append(ids, id)
			}
		}
		var list []crm.Conversation
		if len(ids) > 0 {
			if err := tx.Where("id IN ?", ids).Find(&list).Error; err != nil {
				return err
			}
		}
		convs := map[int64]crm.Conversation{}
		for _, c := range list {
			convs[c.ID] = c
		}
		var touches []crm.Touch
		var obs []channels.Outbound
		var sent []*demoStep
		for _, st := range steps {
			id, ok := st.story.p.convs[st.conv]
			conv, found := convs[id]
			if !ok || !found || !st.author.SeesConversation(conv) {
				g.skip("reply without a conversation", st)
				continue
			}
			at := st.at.UTC().Truncate(time.Microsecond)
			ob := channels.Outbound{AccountID: st.conv.account, To: st.to, Text: st.text, Subject: st.subject}
			if st.channel == "email" {
				ob.MessageID, ob.InReplyTo, ob.References = st.ext, st.replyTo, st.refs
			} else {
				ob.ReplyTo = st.replyTo
			}
			ext := st.ext
			touches = append(touches, crm.Touch{AccountID: st.conv.account, Channel: st.channel, Kind: string(outKind(st.channel)), Direction: crm.Outbound,
				ExternalID: &ext, ContactID: conv.ContactID, ConversationID: conv.ID, DealID: conv.DealID, Handle: st.to.Kind + ":" + st.to.Value,
				Subject: ob.Subject, Body: st.text, Meta: crm.MetaJSON(nil), AuthorID: &st.author.ID, DeliveryStatus: Sent, OccurredAt: at, CreatedAt: at})
			obs = append(obs, ob)
			sent = append(sent, st)
		}
		if len(touches) == 0 {
			return nil
		}
		if err := tx.CreateInBatches(&touches, 100).Error; err != nil {
			return fmt.Errorf("replies: %w", err)
		}
		jobs := make([]Job, len(touches))
		evs := make([]crm.Event, len(touches))
		for i, t := range touches {
			payload, _ := json.Marshal(obs[i])
			jobs[i] = Job{TouchID: t.ID, AccountID: t.AccountID, Status: Sent, Attempts: 1, NextAttemptAt: t.OccurredAt, MessageID: obs[i].MessageID,
				Payload: payload, CreatedAt: t.OccurredAt, UpdatedAt: t.OccurredAt.Add(time.Duration(g.between(1, 4)) * time.Second)}
			data, _ := json.Marshal(map[string]any{"contact_id": t.ContactID, "direction": "out", "delivery_status": Sent,
				"deal_id": t.DealID, "unlinked": t.DealID == nil, "assignee_id": convs[t.ConversationID].AssigneeID})
			convID, touchID := t.ConversationID, t.ID
			evs[i] = crm.Event{At: time.Now().UTC(), Type: crm.EventTouchAdded, ConversationID: &convID, TouchID: &touchID, Data: data}
			sent[i].touch = t.ID
		}
		if err := tx.CreateInBatches(&jobs, 100).Error; err != nil {
			return fmt.Errorf("replies: outbox: %w", err)
		}
		ev.list = append(ev.list, evs...) // written by change, last
		return nil
	})
}

// ---------------------------------------------------------------- times

// backdate gives the records the simulated times: the conversations'
// last touch, preview and "waiting since" replayed from their touches
// (as Ingest and Reply keep them), creation times from the first touch,
// the deals' from the script. The audit trail and the event log are left
// as written.
func (g *demoGen) backdate() error {
	tx := g.a.db.WithContext(g.ctx)
	exec := func(q string, args ...any) error {
		if err := tx.Exec(q, args...).Error; err != nil {
			return fmt.Errorf("inbox: demo: backdate: %w", err)
		}
		return nil
	}

	// Conversations, replayed from their touches; contacts and identities
	// from their first touch.
	type row struct {
		ConversationID int64
		ContactID      int64
		Handle         string
		Direction      crm.Direction
		Kind           string
		CallStatus     string
		Subject        string
		Body           string
		OccurredAt     time.Time
	}
	var rows []row
	if err := tx.Table("touches").Select("conversation_id, contact_id, handle, direction, kind, call_status, subject, body, occurred_at").Order("conversation_id, occurred_at, id").Scan(&rows).Error; err != nil {
		return err
	}
	firstBy, lastBy := map[int64]time.Time{}, map[int64]time.Time{}
	firstHandle := map[string]time.Time{}
	var convRows [][]any
	for i := 0; i < len(rows); {
		j := i
		var waiting *time.Time
		for j < len(rows) && rows[j].ConversationID == rows[i].ConversationID {
			r := rows[j]
			if r.Direction == crm.Inbound && r.CallStatus != crm.CallAnswered { // as ingest does
				if waiting == nil {
					at := r.OccurredAt
					waiting = &at
				}
			} else {
				waiting = nil
			}
			if f, ok := firstBy[r.ContactID]; !ok || r.OccurredAt.Before(f) {
				firstBy[r.ContactID] = r.OccurredAt
			}
			if r.OccurredAt.After(lastBy[r.ContactID]) {
				lastBy[r.ContactID] = r.OccurredAt
			}
			if f, ok := firstHandle[r.Handle]; !ok || r.OccurredAt.Before(f) {
				firstHandle[r.Handle] = r.OccurredAt
			}
			j++
		}
		last := rows[j-1]
		preview := clip(firstNonEmpty(last.Body, last.Subject, last.Kind), previewLen)
		if last.Direction == crm.Outbound {
			preview = clip(firstNonEmpty(last.Body, "📎"), previewLen)
		}
		convRows = append(convRows, []any{rows[i].ConversationID, rows[i].OccurredAt, last.OccurredAt, last.OccurredAt, preview, waiting})
		i = j
	}
	if err := demoUpdate(tx, "conversations", []string{"id", "created_at", "updated_at", "last_touch_at", "last_text", "waiting_since"},
		[]string{"BIGINT", "TIMESTAMPTZ", "TIMESTAMPTZ", "TIMESTAMPTZ", "TEXT", "TIMESTAMPTZ"}, convRows); err != nil {
		return err
	}
	var contactRows [][]any
	for id, first := range firstBy {
		contactRows = append(contactRows, []any{id, first, lastBy[id]})
	}
	if err := demoUpdate(tx, "contacts", []string{"id", "created_at", "updated_at"}, []string{"BIGINT", "TIMESTAMPTZ", "TIMESTAMPTZ"}, contactRows); err != nil {
		return err
	}
	var idents []crm.Identity
	if err := tx.Find(&idents).Error; err != nil {
		return err
	}
	var identRows [][]any
	for _, i := range idents {
		at, ok := firstHandle[i.Handle()]
		if !ok {
			at, ok = firstBy[i.ContactID]
		}
		if ok {
			identRows = append(identRows, []any{i.ID, at})
		}
	}
	if err := demoUpdate(tx, "identities", []string{"id", "created_at"}, []string{"BIGINT", "TIMESTAMPTZ"}, identRows); err != nil {
		return err
	}

	// Deals, from the script.
	var dealRows [][]any
	for id, at := range g.dealCreated {
		up := at
		if u, ok := g.dealUpdated[id]; ok && u.After(up) {
			up = u
		}
		var closed *time.Time
		if c, ok := g.dealClosed[id]; ok {
			c = c.UTC()
			closed = &c
		}
		dealRows = append(dealRows, []any{id, at.UTC(), up.UTC(), closed})
	}
	if err := demoUpdate(tx, "deals", []string{"id", "created_at", "updated_at", "closed_at"}, []string{"BIGINT", "TIMESTAMPTZ", "TIMESTAMPTZ", "TIMESTAMPTZ"}, dealRows); err != nil {
		return err
	}

	// The setup happened before the period; entry points first seen by
	// Ingest date from their first touch.
	setup := g.setupAt
	ids := make([]int64, 0, len(demoStaff))
	var staff []crm.User
	if err := tx.Where("email IN ?", []string{demoStaff[0].email, demoStaff[1].email, demoStaff[2].email, demoStaff[3].email, demoStaff[4].email}).Find(&staff).Error; err != nil {
		return err
	}
	for _, u := range staff {
		ids = append(ids, u.ID)
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{"UPDATE users SET created_at = ?, updated_at = ? WHERE id IN ?", []any{setup.Add(-30 * 24 * time.Hour), setup.Add(-30 * 24 * time.Hour), ids}},
		{"UPDATE accounts SET created_at = ?, updated_at = ?", []any{setup, setup}},
		{"UPDATE accounts SET updated_at = ? WHERE enabled = ?", []any{g.end, false}},
		{"UPDATE ad_sources SET created_at = ?", []any{setup}},
		{"UPDATE entry_points SET created_at = ? WHERE id IN ?", []any{setup, g.epIDs}},
		{"UPDATE entry_points SET created_at = COALESCE((SELECT MIN(occurred_at) FROM touches t WHERE t.entry_point_id = entry_points.id), created_at) WHERE id NOT IN ?", []any{g.epIDs}},
		{"UPDATE entry_point_bindings SET created_at = ? WHERE valid_from < ?", []any{setup, g.start}},
		{"UPDATE entry_point_bindings SET created_at = ? WHERE valid_from >= ?", []any{g.rebind.Add(-24 * time.Hour).UTC(), g.start}},
	} {
		if err := exec(q.sql, q.args...); err != nil {
			return err
		}
	}
	// Spend is entered the day after its period (the current one today).
	var spends []crm.Spend
	if err := tx.Find(&spends).Error; err != nil {
		return err
	}
	for _, sp := range spends {
		at := time.Date(sp.PeriodEnd.Year(), sp.PeriodEnd.Month(), sp.PeriodEnd.Day(), 10, 0, 0, 0, g.loc).AddDate(0, 0, 1)
		if at.After(g.end) {
			at = g.end
		}
		if err := exec("UPDATE spends SET created_at = ? WHERE id = ?", at.UTC(), sp.ID); err != nil {
			return err
		}
	}
	return nil
}

// demoUpdate sets columns of many rows by id (the first column), a few
// hundred rows a statement: UPDATE … FROM (VALUES …). PostgreSQL needs the
// types of the VALUES; SQLite must not get them (its CAST would turn a
// time into a number).
func demoUpdate(tx *gorm.DB, table string, cols, types []string, rows [][]any) error {
	pg := crm.Dialect(tx) == migrations.Postgres
	ph := make([]string, len(cols))
	set := make([]string, 0, len(cols)-1)
	for i := range cols {
		ph[i] = "?"
		if pg {
			ph[i] = "CAST(? AS " + types[i] + ")"
		}
		if i > 0 {
			set = append(set, fmt.Sprintf("%s = v.column%d", cols[i], i+1))
		}
	}
	row := "(" + strings.Join(ph, ", ") + ")"
	for start := 0; start < len(rows); start += 200 {
		chunk := rows[start:min(len(rows), start+200)]
		var sb strings.Builder
		args := make([]any, 0, len(chunk)*len(cols))
		sb.WriteString("UPDATE " + table + " SET " + strings.Join(set, ", ") + " FROM (VALUES ")
		for i, r := range chunk {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(row)
			args = append(args, r...)
		}
		sb.WriteString(") AS v WHERE " + table + ".id = v.column1")
		if err := tx.Exec(sb.String(), args...).Error; err != nil {
			return fmt.Errorf("inbox: demo: backdate %s: %w", table, err)
		}
	}
	return nil
}

// ---------------------------------------------------------------- summary

// snooze has the managers put a few answered conversations aside, as
// people do with a client who will decide next week: until tomorrow 9:00
// or a few days on. They come back to Mine by themselves.
// tidy closes what a team would have closed by now: conversations nobody
// touched for two weeks (the talk ended, or the client went silent), by
// their manager or, unassigned, by the lead. The queues then hold the last
// fortnight, as in a business that keeps its inbox.
func (g *demoGen) tidy() error {
	var convs []crm.Conversation
	if err := g.a.db.WithContext(g.ctx).Where("status = ? AND last_touch_at < ?", crm.ConvOpen, g.opts.Now.Add(-14*24*time.Hour)).
		Order("id").Find(&convs).Error; err != nil {
		return err
	}
	staff := map[int64]crm.User{g.lead.ID: g.lead}
	for _, m := range g.managers {
		staff[m.ID] = m
	}
	for _, c := range convs {
		by := g.lead
		if c.AssigneeID != nil {
			if m, ok := staff[*c.AssigneeID]; ok {
				by = m
			}
		}
		if _, err := g.a.SetConversationStatus(g.ctx, by, c.ID, crm.ConvClosed, nil); err != nil {
			return fmt.Errorf("demo: close conversation %d: %w", c.ID, err)
		}
	}
	return nil
}

func (g *demoGen) snooze() error {
	var convs []crm.Conversation
	if err := g.a.db.WithContext(g.ctx).Where("status = ? AND assignee_id IS NOT NULL AND waiting_since IS NULL", crm.ConvOpen).
		Order("last_touch_at DESC, id DESC").Limit(4).Find(&convs).Error; err != nil {
		return err
	}
	base := g.opts.Now
	if now := time.Now(); base.Before(now) { // a demo of the past still snoozes into the future
		base = now
	}
	day := base.In(g.loc)
	for i, c := range convs {
		until := time.Date(day.Year(), day.Month(), day.Day()+1+2*i, 9, 0, 0, 0, g.loc)
		by, err := crm.GetUser(g.a.db.WithContext(g.ctx), *c.AssigneeID)
		if err != nil {
			return err
		}
		if _, err := g.a.SetConversationStatus(g.ctx, by, c.ID, crm.ConvSnoozed, &until); err != nil {
			return fmt.Errorf("demo: snooze conversation %d: %w", c.ID, err)
		}
	}
	return nil
}

func (g *demoGen) summary() (DemoSummary, error) {
	tx := g.a.db.WithContext(g.ctx)
	sum := DemoSummary{Company: demoCompany + ", Новосибирск", From: g.start, To: g.end.Add(time.Minute), Seed: g.opts.Seed,
		Password: g.opts.Password, WebSecret: g.webSecret, Currency: g.a.opts.Currency, Skipped: g.skipped}
	for _, s := range demoStaff {
		sum.Users = append(sum.Users, DemoUser{Email: s.email, Name: s.name, Role: s.role})
	}
	accs, err := crm.ListAccounts(tx)
	if err != nil {
		return sum, err
	}
	for _, a := range accs {
		sum.Accounts = append(sum.Accounts, DemoAccount{ID: a.ID, Name: a.Name, Channel: a.Channel, Enabled: a.Enabled})
	}

	var touches []crm.Touch
	if err := tx.Select("id", "channel", "direction", "contact_id", "deal_id", "not_a_sale", "ad_source_id", "meta", "occurred_at", "conversation_id").Find(&touches).Error; err != nil {
		return sum, err
	}
	chans := map[string]*DemoChannel{}
	for _, k := range channels.Kinds {
		sum.Channels = append(sum.Channels, DemoChannel{Channel: string(k)})
	}
	for i := range sum.Channels {
		chans[sum.Channels[i].Channel] = &sum.Channels[i]
	}
	days := map[int64]map[string]bool{}
	chanContacts := map[string]map[int64]bool{}
	nas := map[string]int{}
	unlinkedConv := map[int64]bool{}
	srcTouches := map[int64]int{}
	for _, t := range touches {
		c := chans[t.Channel]
		if c == nil {
			continue
		}
		sum.Touches++
		if t.Direction == crm.Inbound {
			c.In++
			sum.Inbound++
		} else {
			c.Out++
			sum.Outbound++
		}
		var meta map[string]string
		_ = json.Unmarshal(t.Meta, &meta)
		if t.Channel == "phone" && meta["call_answered"] == "false" {
			c.Missed++
			sum.MissedCalls++
		}
		if days[t.ContactID] == nil {
			days[t.ContactID] = map[string]bool{}
		}
		if t.Direction == crm.Inbound {
			days[t.ContactID][t.OccurredAt.In(g.loc).Format(time.DateOnly)] = true
		}
		if chanContacts[t.Channel] == nil {
			chanContacts[t.Channel] = map[int64]bool{}
		}
		chanContacts[t.Channel][t.ContactID] = true
		if t.NotASale != "" {
			nas[t.NotASale]++
		}
		if t.Unlinked() {
			sum.Unlinked++
			unlinkedConv[t.ConversationID] = true
		}
		if t.AdSourceID != nil {
			srcTouches[*t.AdSourceID]++
		}
	}
	for ch, cs := range chanContacts {
		chans[ch].Contacts = len(cs)
	}
	sum.Contacts = len(days)
	for _, d := range days {
		if len(d) > 1 {
			sum.RepeatContacts++
		}
	}
	sum.UnlinkedConversations = len(unlinkedConv)
	sum.NotASale = demoCounts(nas)

	var convs []crm.Conversation
	if err := tx.Select("id", "assignee_id", "status", "waiting_since").Find(&convs).Error; err != nil {
		return sum, err
	}
	sum.Conversations = len(convs)
	for _, c := range convs {
		if c.AssigneeID == nil {
			sum.Unassigned++
		}
		switch {
		case c.Status == crm.ConvClosed:
			sum.Closed++
		case c.Status == crm.ConvSnoozed:
			sum.Snoozed++
		case c.WaitingSince != nil:
			sum.Waiting++
		}
	}
	q, err := crm.CountQueues(tx, crm.User{Role: crm.Owner}, g.opts.Now)
	if err != nil {
		return sum, err
	}
	sum.CallBack = int(q.CallBack)

	stages, err := crm.Stages(tx)
	if err != nil {
		return sum, err
	}
	var deals []crm.Deal
	if err := tx.Find(&deals).Error; err != nil {
		return sum, err
	}
	perStage := map[int64]int{}
	lost := map[string]int{}
	openPer := map[int64]int{}
	type srcAgg struct {
		deals, won int
		revenue    int64
	}
	bySrc := map[int64]*srcAgg{}
	for _, d := range deals {
		perStage[d.StageID]++
		if d.AdSourceID != nil {
			if bySrc[*d.AdSourceID] == nil {
				bySrc[*d.AdSourceID] = &srcAgg{}
			}
			bySrc[*d.AdSourceID].deals++
		}
		switch d.Status {
		case crm.DealOpen:
			sum.DealsOpen++
			openPer[d.ContactID]++
		case crm.DealWon:
			sum.DealsWon++
			sum.Revenue += d.Amount
			if d.AdSourceID != nil {
				bySrc[*d.AdSourceID].won++
				bySrc[*d.AdSourceID].revenue += d.Amount
			}
		case crm.DealLost:
			sum.DealsLost++
			lost[d.LostReason]++
		}
	}
	for _, n := range openPer {
		if n > 1 {
			sum.TwoOpenDeals++
		}
	}
	for _, s := range stages {
		sum.Stages = append(sum.Stages, DemoCount{Name: s.Name, N: perStage[s.ID]})
	}
	sum.LostReasons = demoCounts(lost)

	eps, err := crm.ListEntryPoints(tx, 0)
	if err != nil {
		return sum, err
	}
	for _, s := range g.srcs {
		ds := DemoSource{Name: s.name, Touches: srcTouches[s.id], EntryPoints: g.entryPointsOf(eps, s.id)}
		if a := bySrc[s.id]; a != nil {
			ds.Deals, ds.Won, ds.Revenue = a.deals, a.won, a.revenue
		}
		spends, err := crm.ListSpend(tx, s.id)
		if err != nil {
			return sum, err
		}
		for _, sp := range spends {
			ds.Spend += sp.Amount
			ds.Periods++
		}
		sum.Spend += ds.Spend
		sum.Sources = append(sum.Sources, ds)
	}
	return sum, nil
}

// entryPointsOf lists the addresses bound to a source now, by channel.
func (g *demoGen) entryPointsOf(eps []crm.EntryPoint, src int64) []string {
	chanOf := map[int64]string{}
	for _, a := range []crm.Account{g.phoneAcc, g.mailAcc, g.tgAcc, g.waAcc, g.webAcc} {
		chanOf[a.ID] = a.Channel
	}
	label := map[string]string{"phone": "тел.", "email": "", "telegram": "t.me/" + demoBot + "?start=", "web": "utm_source="}
	var out []string
	for _, e := range eps {
		if s := e.SourceAt(g.end); s != nil && *s == src {
			out = append(out, label[chanOf[e.AccountID]]+e.Address)
		}
	}
	return out
}

func demoCounts(m map[string]int) []DemoCount {
	out := make([]DemoCount, 0, len(m))
	for k, v := range m {
		out = append(out, DemoCount{Name: k, N: v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].N != out[j].N {
			return out[i].N > out[j].N
		}
		return out[i].Name < out[j].Name
	})
	return out
}
