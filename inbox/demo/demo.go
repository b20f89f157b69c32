// Package demo fills an empty database with 90 days of a small business,
// played through the application's exported verbs and ingest
// (`switchboard demo`).
package demo

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
//     past, shaped as the adapters shape them (web forms, email, Telegram,
//     WhatsApp and calls built the way the adapters and a PBX would build
//     them; the demo imports no concrete adapter).
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
//   - A few showcase stories (showcase.go) bring what real mail and
//     clients bring: a client's colleague answering in the thread, mail
//     with no readable sender, pictures inline and remote, Belarusian
//     phone numbers. Their mail is written as raw messages and read by
//     the email channel's parser that cmd passes in (Setup.ReadMail).
//
// The same seed and end time give the same data; runs on the same day
// (Novosibirsk date) tell the same stories and differ only at the edges
// of the period.
//
// The company, the people, the kitchens and every word said are data, in
// demodata/ (read by demo_data.go). The code is in files by step: the
// setup (demo_setup.go), people and kitchens (demo_people.go), what they
// say (demo_words.go), touches as the adapters shape them
// (demo_touches.go), the script of a lead (demo_script.go) and its later
// chapters and the other mail (demo_stories.go), playing the script
// through the verbs (demo_play.go), the simulated times and the last
// tidying (demo_finish.go), and the summary (demo_summary.go).

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox"
	"github.com/switchboard/switchboard/inbox/blobs"
	"github.com/switchboard/switchboard/inbox/ingest"
	"github.com/switchboard/switchboard/inbox/realtime"
)

// ErrNotEmpty is returned by Demo for a database that already holds data.
var ErrNotEmpty = errors.New("the database is not empty")

// Options shape the demo data.
type Options struct {
	// Now is the end of the simulated period; zero means time.Now().
	Now time.Time
	// Days is the length of the period; default 90.
	Days int
	// Seed makes the data reproducible; default 1.
	Seed uint64
	// Password is every demo user's password; default "demo-password".
	Password string
}

// DefaultPassword is the default password of the demo users.
const DefaultPassword = "demo-password"

// User is a user the demo created.
type User struct {
	Email string
	Name  string
	Role  crm.Role
}

// Account is a channel account the demo created.
type Account struct {
	ID      int64
	Name    string
	Channel string
	Enabled bool
}

// Source is an ad source with its entry points and spend.
type Source struct {
	Name        string
	EntryPoints []string // "phone +73832091540", "email sales+yandex@…"
	Spend       int64    // minor units over the whole period
	Periods     int      // spend records
	Touches     int
	Deals       int
	Won         int
	Revenue     int64
}

// Channel counts a channel's touches.
type Channel struct {
	Channel  string
	In, Out  int
	Missed   int // calls not answered
	Contacts int // contacts with a touch on the channel
}

// Count is a named number.
type Count struct {
	Name string
	N    int
}

// Summary is what Demo stored, counted from the database.
type Summary struct {
	Company  string
	From, To time.Time
	Seed     uint64
	Elapsed  time.Duration

	Users    []User
	Password string
	// KeptOwner is the email of the owner that was already in the
	// database (created by serve on first start); it keeps its password.
	KeptOwner string

	Accounts  []Account
	WebSecret string // the web and phone accounts' signing secret
	Sources   []Source
	Channels  []Channel

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
	NotASale                   []Count
	Stages                     []Count // deals per stage, pipeline order
	DealsOpen, DealsWon        int
	DealsLost                  int
	LostReasons                []Count
	Revenue                    int64 // won amounts
	Spend                      int64
	Currency                   string
	// Skipped counts scripted actions that found nothing to act on (a
	// generator bug when not zero).
	Skipped int

	// Participants counts conversations where someone besides the
	// contact wrote (a client's colleague answering in the thread).
	Participants int
	// Unreadable counts mail with no readable sender, in the owner's
	// "Unreadable" list.
	Unreadable int
	// Foreign counts contacts with a phone outside Russia.
	Foreign int
}

// Setup is what the demo writes with: the database and the secret box
// (account secrets are sealed as serve seals them), the region and
// currency, and the blob store for the files its touches carry.
type Setup struct {
	DB       *gorm.DB
	Log      *slog.Logger
	Box      *crm.SecretBox
	Region   string
	Currency string
	Blobs    blobs.Store
	// ReadMail reads a raw RFC 5322 message as the email channel does
	// (cmd passes email.Parse; the demo imports no adapter): the showcase
	// mail is written as raw messages and read by it. Required.
	ReadMail func(raw []byte, own []string) (channels.Inbound, error)
}

// Generate fills an empty database with a believable small business: users,
// accounts, ad sources with entry points and spend, and Days days of
// touches on every channel with the team's work on them. It refuses a
// database holding any contact, touch, deal, account or ad source, or any
// user but the single owner that serve creates on first start
// (ErrNotEmpty).
func Generate(ctx context.Context, set Setup, opts Options) (Summary, error) {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if opts.Days <= 0 {
		opts.Days = 90
	}
	if opts.Days > 366 {
		return Summary{}, crm.Invalid("a demo covers at most 366 days")
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.Password == "" {
		opts.Password = DefaultPassword
	}
	if _, err := inbox.HashPassword(opts.Password); err != nil {
		return Summary{}, err
	}
	if set.ReadMail == nil {
		return Summary{}, errors.New("demo: Setup.ReadMail is required: the demo's mail is read by the email channel's parser")
	}
	began := time.Now()
	var sum Summary
	err := set.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		kept, err := demoCheckEmpty(tx)
		if err != nil {
			return err
		}
		// The verbs' transactions join this one.
		g := newDemoGen(ctx, set.on(tx.Session(&gorm.Session{DisableNestedTransaction: true})), opts)
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
			return "", fmt.Errorf("demo: count %s: %w", t.table, err)
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

// demoGen writes and plays the demo's script.
type demoGen struct {
	ctx      context.Context
	a        *inbox.App    // the verbs
	sink     channels.Sink // ingest, as the adapters hand it what they read
	readRaw  func(raw []byte, own []string) (channels.Inbound, error)
	rt       *realtime.Publisher
	db       *gorm.DB // the demo's transaction, for what no verb does (backdating, sent replies)
	log      *slog.Logger
	box      *crm.SecretBox
	currency string
	opts     Options
	d        *demoData // the words and tables
	r        *rand.Rand
	loc      *time.Location
	start    time.Time
	end      time.Time // nothing is scheduled after this
	rebind   time.Time // when the shared number moves from VK to 2GIS

	owner, lead crm.User
	managers    []crm.User
	exts        []string // the lead's and managers' extensions, in that order
	waMsgs      int      // WhatsApp messages written so far (every fifth has a photo)
	shares      []int    // the managers' shares of new clients
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
	base                                 context.Context // ctx before any audit time
}

// wired is the application built on the demo's transaction.
type wired struct {
	set  Setup
	db   *gorm.DB
	rt   *realtime.Publisher
	app  *inbox.App
	sink *ingest.Sink
}

// on builds the verbs and ingest over tx: their own transactions join it,
// and no account runs and no reply is sent.
func (set Setup) on(tx *gorm.DB) wired {
	rt := realtime.New(tx, set.Log, realtime.NewHub())
	return wired{set: set, db: tx, rt: rt,
		app:  inbox.New(tx, set.Log, rt, set.Box, nil, nil, inbox.Options{Region: set.Region, Currency: set.Currency, Blobs: set.Blobs}),
		sink: ingest.New(tx, set.Log, rt, set.Blobs, ingest.Options{Region: set.Region, Currency: set.Currency})}
}

func newDemoGen(ctx context.Context, w wired, opts Options) *demoGen {
	end := opts.Now.UTC().Truncate(time.Second)
	start := end.Add(-time.Duration(opts.Days) * 24 * time.Hour)
	g := &demoGen{
		ctx: ctx, a: w.app, sink: w.sink, readRaw: w.set.ReadMail, rt: w.rt, db: w.db, log: w.set.Log, box: w.set.Box, currency: w.set.Currency,
		opts: opts, d: demoTexts(),
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
	g.base = g.ctx
	g.ctx = crm.WithAuditTime(g.base, g.setupAt) // the set-up's trail, three weeks before
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
