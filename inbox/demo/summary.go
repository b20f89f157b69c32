package demo

// The summary of what the demo stored, counted from the database.

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
)

func (g *demoGen) summary() (Summary, error) {
	tx := g.db.WithContext(g.ctx)
	sum := Summary{Company: g.d.Company.Name + ", " + g.d.Company.City, From: g.start, To: g.end.Add(time.Minute), Seed: g.opts.Seed,
		Password: g.opts.Password, WebSecret: g.webSecret, Currency: g.currency, Skipped: g.skipped}
	for _, s := range g.d.Company.Staff {
		sum.Users = append(sum.Users, User{Email: s.Email, Name: s.Name, Role: s.Role})
	}
	accs, err := crm.ListAccounts(tx)
	if err != nil {
		return sum, err
	}
	for _, a := range accs {
		sum.Accounts = append(sum.Accounts, Account{ID: a.ID, Name: a.Name, Channel: a.Channel, Enabled: a.Enabled})
	}
	srcTouches, err := g.countTouches(tx, &sum)
	if err != nil {
		return sum, err
	}
	if err := g.countConversations(tx, &sum); err != nil {
		return sum, err
	}
	bySrc, err := g.countDeals(tx, &sum)
	if err != nil {
		return sum, err
	}
	if err := g.countSources(tx, &sum, srcTouches, bySrc); err != nil {
		return sum, err
	}
	return sum, g.countShowcase(tx, &sum)
}

// countShowcase counts what the showcase stories left: conversations
// with participants, unreadable mail, contacts with a foreign phone.
func (g *demoGen) countShowcase(tx *gorm.DB, sum *Summary) error {
	var n int64
	if err := tx.Raw(`SELECT COUNT(DISTINCT t.conversation_id) FROM touches t JOIN conversations c ON c.id = t.conversation_id
		WHERE t.contact_id <> c.contact_id`).Scan(&n).Error; err != nil {
		return fmt.Errorf("inbox: demo: participants: %w", err)
	}
	sum.Participants = int(n)
	if err := tx.Model(&crm.UnreadableMail{}).Count(&n).Error; err != nil {
		return fmt.Errorf("inbox: demo: unreadable mail: %w", err)
	}
	sum.Unreadable = int(n)
	// The demo's own people have Russian numbers (newPerson).
	if err := tx.Model(&crm.Identity{}).Where("kind = 'phone' AND value NOT LIKE '+7%'").Distinct("contact_id").Count(&n).Error; err != nil {
		return fmt.Errorf("inbox: demo: foreign phones: %w", err)
	}
	sum.Foreign = int(n)
	return nil
}

// countTouches counts touches by channel and direction, missed calls,
// contacts, not-a-sale reasons and unlinked touches; it returns the
// touches per ad source.
func (g *demoGen) countTouches(tx *gorm.DB, sum *Summary) (map[int64]int, error) {
	var touches []crm.Touch
	if err := tx.Select("id", "channel", "direction", "contact_id", "deal_id", "not_a_sale", "ad_source_id", "meta", "occurred_at", "conversation_id").Find(&touches).Error; err != nil {
		return nil, err
	}
	chans := map[string]*Channel{}
	for _, k := range channels.Kinds {
		sum.Channels = append(sum.Channels, Channel{Channel: string(k)})
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
	return srcTouches, nil
}

func (g *demoGen) countConversations(tx *gorm.DB, sum *Summary) error {
	var convs []crm.Conversation
	if err := tx.Select("id", "assignee_id", "status", "waiting_since").Find(&convs).Error; err != nil {
		return err
	}
	sum.Conversations = len(convs)
	for _, c := range convs {
		if c.AssigneeID == nil && c.Status == crm.ConvOpen { // the queue: open and nobody's
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
		return err
	}
	sum.CallBack = int(q.CallBack)
	if int64(sum.Unassigned) != q.Unassigned {
		return fmt.Errorf("inbox: demo: %d unassigned conversations counted, the queue says %d", sum.Unassigned, q.Unassigned)
	}
	return nil
}

// demoSrcAgg is an ad source's deals.
type demoSrcAgg struct {
	deals, won int
	revenue    int64
}

// countDeals counts deals by status, stage and lost reason; it returns
// them per ad source.
func (g *demoGen) countDeals(tx *gorm.DB, sum *Summary) (map[int64]*demoSrcAgg, error) {
	stages, err := crm.Stages(tx)
	if err != nil {
		return nil, err
	}
	var deals []crm.Deal
	if err := tx.Find(&deals).Error; err != nil {
		return nil, err
	}
	perStage := map[int64]int{}
	lost := map[string]int{}
	openPer := map[int64]int{}
	bySrc := map[int64]*demoSrcAgg{}
	for _, d := range deals {
		perStage[d.StageID]++
		if d.AdSourceID != nil {
			if bySrc[*d.AdSourceID] == nil {
				bySrc[*d.AdSourceID] = &demoSrcAgg{}
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
		sum.Stages = append(sum.Stages, Count{Name: s.Name, N: perStage[s.ID]})
	}
	sum.LostReasons = demoCounts(lost)
	return bySrc, nil
}

// countSources sums each ad source's entry points, touches, deals and
// spend.
func (g *demoGen) countSources(tx *gorm.DB, sum *Summary, srcTouches map[int64]int, bySrc map[int64]*demoSrcAgg) error {
	eps, err := crm.ListEntryPoints(tx, 0)
	if err != nil {
		return err
	}
	for _, s := range g.srcs {
		ds := Source{Name: s.name, Touches: srcTouches[s.id], EntryPoints: g.entryPointsOf(eps, s.id)}
		if a := bySrc[s.id]; a != nil {
			ds.Deals, ds.Won, ds.Revenue = a.deals, a.won, a.revenue
		}
		spends, err := crm.ListSpend(tx, s.id)
		if err != nil {
			return err
		}
		for _, sp := range spends {
			ds.Spend += sp.Amount
			ds.Periods++
		}
		sum.Spend += ds.Spend
		sum.Sources = append(sum.Sources, ds)
	}
	return nil
}

// entryPointsOf lists the addresses bound to a source now, by channel.
func (g *demoGen) entryPointsOf(eps []crm.EntryPoint, src int64) []string {
	chanOf := map[int64]string{}
	for _, a := range []crm.Account{g.phoneAcc, g.mailAcc, g.tgAcc, g.waAcc, g.webAcc} {
		chanOf[a.ID] = a.Channel
	}
	label := g.d.Company.EntryLabels
	var out []string
	for _, e := range eps {
		if s := e.SourceAt(g.end); s != nil && *s == src {
			out = append(out, label[chanOf[e.AccountID]]+e.Address)
		}
	}
	return out
}

func demoCounts(m map[string]int) []Count {
	out := make([]Count, 0, len(m))
	for k, v := range m {
		out = append(out, Count{Name: k, N: v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].N != out[j].N {
			return out[i].N > out[j].N
		}
		return out[i].Name < out[j].Name
	})
	return out
}
