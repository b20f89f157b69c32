package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/channels/email"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox/demo"
)

const demoSummary = `Fills an EMPTY database with 90 days (ending now) of a small business: a kitchen-furniture
maker in Novosibirsk with an owner, a lead and three managers, a PBX, a mailbox, a Telegram bot,
WhatsApp and a website form, five ad sources with their entry points and monthly spend, and about
3 000 calls, emails, messages and forms with the team's work on them (assignment, replies, deals
won and lost, unlinked touches, "not a sale"). Among them, as real mail and clients bring them:
clients' colleagues answering in the client's email thread (participants of the conversation),
mail with no readable sender (the owner's Unreadable list), a supplier's letter with its logo
inline and a newsletter with remote images, and clients from Belarus whose numbers, typed the
national way, are read as +375.

Empty means no contacts, touches, deals, accounts or ad sources, and no users except the one owner
that serve creates on first start (that owner is kept as it is). Anything else is refused, and
nothing is written. The whole demo is one transaction: it is stored completely or not at all.
The same --seed tells the same stories on any run the same day; only the edges of the period
move with the time of the run.`

// demoCmd fills an empty database with demo data and prints what it made.
func demoCmd(ctx context.Context, args []string) error {
	var cfg Config
	fs := flags("demo", demoSummary, &cfg, false)
	password := fs.String("password", demo.DefaultPassword, "password of every demo user (at least 8 characters)")
	seed := fs.Uint64("seed", 1, "random seed: the same seed gives the same data")
	days := fs.Int("days", 90, "length of the simulated period, ending now")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	return withDB(ctx, &cfg, func(db *gorm.DB, box *crm.SecretBox) error {
		store, err := cfg.blobStore(ctx, cfg.Blobs, db)
		if err != nil {
			return err
		}
		set := demo.Setup{DB: db, Log: cfg.logger(), Box: box, Region: cfg.Region, Currency: cfg.Currency, Blobs: store, ReadMail: email.Parse}
		sum, err := demo.Generate(ctx, set, demo.Options{Password: *password, Seed: *seed, Days: *days})
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		printDemo(os.Stdout, sum, crm.Dialect(db))
		return nil
	})
}

func printDemo(out io.Writer, s demo.Summary, dialect string) {
	money := func(v int64) string { return crm.FormatMinor(v) + " " + s.Currency }
	days := int(s.To.Sub(s.From).Hours()/24 + 0.5)
	fmt.Fprintf(out, "Demo data stored (%s): «%s», %d days from %s to %s, seed %d, in %.1f s.\n\n",
		dialect, s.Company, days, s.From.Format("2006-01-02"), s.To.Format("2006-01-02"), s.Seed, s.Elapsed.Seconds())

	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "ACCOUNT\tCHANNEL\tSTATE")
	for _, a := range s.Accounts {
		state := "enabled"
		if !a.Enabled {
			state = "disabled: placeholder settings, never connects"
		}
		if a.Channel == "web" {
			state += fmt.Sprintf(": POST /hooks/web/%d signed with the secret below", a.ID)
		}
		if a.Channel == "phone" {
			state += ": no telephony adapter yet, nothing runs"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\n", a.Name, a.Channel, state)
	}
	w.Flush()

	fmt.Fprintln(out)
	w = tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "AD SOURCE\tENTRY POINTS\tSPEND\tTOUCHES\tDEALS\tWON\tREVENUE\t")
	for _, src := range s.Sources {
		fmt.Fprintf(w, "%s\t%d\t%s\t%d\t%d\t%d\t%s\t\n", src.Name, len(src.EntryPoints), money(src.Spend), src.Touches, src.Deals, src.Won, money(src.Revenue))
	}
	w.Flush()
	for _, src := range s.Sources {
		fmt.Fprintf(out, "  %s: %s\n", src.Name, strings.Join(src.EntryPoints, ", "))
	}
	if len(s.Sources) > 0 {
		fmt.Fprintf(out, "  spend: one record per source for each of %d periods, %s in all\n", s.Sources[0].Periods, money(s.Spend))
	}

	fmt.Fprintln(out)
	w = tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "CHANNEL\tIN\tOUT\tCONTACTS\t")
	for _, c := range s.Channels {
		in := fmt.Sprint(c.In)
		if c.Missed > 0 {
			in = fmt.Sprintf("%d (%d missed)", c.In, c.Missed)
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%d\t\n", c.Channel, in, c.Out, c.Contacts)
	}
	fmt.Fprintf(w, "all\t%d\t%d\t%d\t\n", s.Inbound, s.Outbound, s.Contacts)
	w.Flush()

	fmt.Fprintf(out, "\ncontacts: %d, %d of them came back on another day; %d with two open deals\n", s.Contacts, s.RepeatContacts, s.TwoOpenDeals)
	fmt.Fprintf(out, "conversations: %d — %d unassigned, %d open and waiting for a reply, %d to call back, %d snoozed, %d closed\n", s.Conversations, s.Unassigned, s.Waiting, s.CallBack, s.Snoozed, s.Closed)
	fmt.Fprintf(out, "touches: %d unlinked (in %d conversations), not a sale: %s\n", s.Unlinked, s.UnlinkedConversations, demoCounts(s.NotASale))
	fmt.Fprintf(out, "deals: %d open, %d won, %d lost — by stage: %s\n", s.DealsOpen, s.DealsWon, s.DealsLost, demoCounts(s.Stages))
	fmt.Fprintf(out, "revenue (won): %s; ad spend: %s; lost because: %s\n", money(s.Revenue), money(s.Spend), demoCounts(s.LostReasons))
	fmt.Fprintf(out, "mail: %d conversations with a client's colleague as a participant; %d unreadable (owner → Unreadable); contacts with a foreign phone: %d\n",
		s.Participants, s.Unreadable, s.Foreign)

	fmt.Fprintln(out)
	w = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "USER\tROLE\tEMAIL")
	for _, u := range s.Users {
		fmt.Fprintf(w, "%s\t%s\t%s\n", u.Name, u.Role, u.Email)
	}
	w.Flush()
	fmt.Fprintf(out, "\nEvery demo user's password: %s\n", s.Password)
	if s.KeptOwner != "" {
		fmt.Fprintf(out, "The owner that was already there, %s, is kept with its own password.\n", s.KeptOwner)
	}
	fmt.Fprintf(out, "Web form and phone webhook signing secret: %s\n", s.WebSecret)
	fmt.Fprintln(out, "\nLog in: run `switchboard serve` on this database (the same --data / DATABASE_URL), open")
	fmt.Fprintln(out, "http://localhost:8080 and sign in with one of the emails above and the password; a manager sees")
	fmt.Fprintln(out, "their own conversations and the unassigned queue, the lead the team's, the owner everything.")
	fmt.Fprintln(out, "The email, Telegram and WhatsApp accounts are disabled on purpose: their servers (imap/smtp.example.com)")
	fmt.Fprintln(out, "and the bot token are placeholders, so nothing tries to connect and no reply can be sent (the reply box")
	fmt.Fprintln(out, "says so). To try replying, put real settings on one of them and enable it on the Accounts page.")
	fmt.Fprintln(out, "Replies in the demo were written as already sent; customers' addresses are under example.* domains.")
}

func demoCounts(cs []demo.Count) string {
	if len(cs) == 0 {
		return "none"
	}
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprintf("%s %d", c.Name, c.N)
	}
	return strings.Join(parts, ", ")
}
