package crm_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/crm/crmtest"
)

// inbox is a fixture of 15 conversations with varied assignees, statuses,
// channels and touches.
type inbox struct {
	db       *gorm.DB
	m1, m2   crm.User
	convs    []crm.Conversation // in creation order
	unlinked map[int64]bool     // conversations with a touch needing a deal
	ivan     crm.Contact
}

// lastTouch gives conversation i its time. Conversations 9 and 10 share an
// instant, and 4 and 5 differ by less than a second with fractions of
// different lengths, so that page boundaries fall on ties and on
// sub-second differences.
func lastTouch(i int) time.Time {
	switch i {
	case 10:
		return lastTouch(9)
	case 4:
		return base.Add(4*time.Minute + 500*time.Millisecond)
	case 5:
		return base.Add(4*time.Minute + 450123*time.Microsecond)
	}
	return base.Add(time.Duration(i) * time.Minute)
}

func newInbox(t *testing.T) *inbox {
	t.Helper()
	db := crmtest.Open(t)
	in := &inbox{db: db, m1: newUser(t, db, crm.Manager), m2: newUser(t, db, crm.Manager), unlinked: map[int64]bool{}}
	tg := newAccount(t, db, "telegram", "Bot")
	mail := newAccount(t, db, "email", "Mailbox")
	in.ivan = newContact(t, db, "Иван Петров", "phone", "+73832349096")
	other := newContact(t, db, "John Smith", "email", "john@example.com")
	deal := newDeal(t, db, other.ID, "")
	for i := 0; i < 15; i++ {
		acct, contact := tg, in.ivan
		if i%2 == 1 {
			acct, contact = mail, other
		}
		c := newConversation(t, db, contact.ID, acct, lastTouch(i), func(c *crm.Conversation) {
			switch i % 3 {
			case 0:
				c.AssigneeID = &in.m1.ID
			case 1:
				c.AssigneeID = &in.m2.ID
			}
			switch i % 5 {
			case 0:
				c.Status = crm.ConvClosed
			case 1:
				c.Status = crm.ConvSnoozed
				until := base.Add(48 * time.Hour)
				c.SnoozedUntil = &until
			}
			c.Subject = fmt.Sprintf("Order %d", i)
			if i == 7 {
				c.Subject = "Заказ кухни"
			}
		})
		in.convs = append(in.convs, c)
		// Touches: i%4 == 0 has none, 1 one linked to a deal, 2 one marked
		// not a sale, 3 a linked one and an unlinked one.
		switch i % 4 {
		case 1:
			newTouch(t, db, c, func(tc *crm.Touch) { tc.ContactID, tc.DealID = other.ID, &deal.ID })
		case 2:
			newTouch(t, db, c, func(tc *crm.Touch) { tc.NotASale = "spam" })
		case 3:
			newTouch(t, db, c, func(tc *crm.Touch) { tc.ContactID, tc.DealID = other.ID, &deal.ID })
			newTouch(t, db, c, nil)
			in.unlinked[c.ID] = true
		}
	}
	return in
}

// want returns the ids of the fixture's conversations that keep selects,
// latest activity first.
func (in *inbox) want(keep func(i int, c crm.Conversation) bool) []int64 {
	var sel []crm.Conversation
	for i, c := range in.convs {
		if keep(i, c) {
			sel = append(sel, c)
		}
	}
	slices.SortFunc(sel, func(a, b crm.Conversation) int {
		if c := b.LastTouchAt.Compare(a.LastTouchAt); c != 0 {
			return c
		}
		return int(b.ID - a.ID)
	})
	return ids(sel, func(c crm.Conversation) int64 { return c.ID })
}

// all pages through f with the given page size and returns the ids in
// order and the number of pages.
func (in *inbox) all(t *testing.T, f crm.ConversationFilter) ([]int64, int) {
	t.Helper()
	var got []int64
	pages := 0
	for {
		page, next, err := crm.ListConversations(in.db, f)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		got = append(got, ids(page, func(c crm.Conversation) int64 { return c.ID })...)
		if next == "" {
			return got, pages
		}
		if pages > 20 {
			t.Fatal("pagination does not end")
		}
		f.Cursor = next
	}
}

func TestListConversationsPagination(t *testing.T) {
	in := newInbox(t)
	everything := in.want(func(int, crm.Conversation) bool { return true })

	t.Run("three pages of five return every conversation once, latest first", func(t *testing.T) {
		var got []int64
		f := crm.ConversationFilter{Limit: 5}
		for page := 1; page <= 3; page++ {
			list, next, err := crm.ListConversations(in.db, f)
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 5 {
				t.Fatalf("page %d has %d conversations, want 5", page, len(list))
			}
			if page < 3 && next == "" {
				t.Fatalf("page %d has no next cursor", page)
			}
			if page == 3 && next != "" {
				t.Errorf("the last page has a next cursor %q", next)
			}
			for i := 1; i < len(list); i++ {
				if list[i].LastTouchAt.After(list[i-1].LastTouchAt) {
					t.Errorf("page %d is not latest first: %s after %s", page, list[i].LastTouchAt, list[i-1].LastTouchAt)
				}
			}
			got = append(got, ids(list, func(c crm.Conversation) int64 { return c.ID })...)
			f.Cursor = next
		}
		if !slices.Equal(got, everything) {
			t.Errorf("pages = %v, want %v", got, everything)
		}
	})

	t.Run("a page boundary inside a tie and a sub-second gap loses nothing", func(t *testing.T) {
		for _, size := range []int{1, 2, 4, 6, 7, 14, 15, 16} {
			got, _ := in.all(t, crm.ConversationFilter{Limit: size})
			if !slices.Equal(got, everything) {
				t.Errorf("pages of %d = %v, want %v", size, got, everything)
			}
		}
	})

	t.Run("a filter pages the same way", func(t *testing.T) {
		want := in.want(func(i int, _ crm.Conversation) bool { return i%2 == 0 })
		got, pages := in.all(t, crm.ConversationFilter{Channel: "telegram", Limit: 3})
		if !slices.Equal(got, want) || pages != 3 {
			t.Errorf("telegram in pages of 3 = %v in %d pages, want %v in 3", got, pages, want)
		}
	})

	t.Run("a malformed cursor is invalid", func(t *testing.T) {
		for _, cur := range []string{
			"not a cursor!",
			base64.RawURLEncoding.EncodeToString([]byte("yesterday|5")),
			base64.RawURLEncoding.EncodeToString([]byte("2026-02-10T09:00:00Z|five")),
			base64.RawURLEncoding.EncodeToString([]byte("2026-02-10T09:00:00Z")),
		} {
			if _, _, err := crm.ListConversations(in.db, crm.ConversationFilter{Cursor: cur}); !errors.Is(err, crm.ErrInvalid) {
				t.Errorf("cursor %q: err = %v, want ErrInvalid", cur, err)
			}
		}
	})
}

func TestListConversationsFilters(t *testing.T) {
	in := newInbox(t)
	tests := []struct {
		name   string
		filter crm.ConversationFilter
		keep   func(i int, c crm.Conversation) bool
	}{
		{"no filter lists everything", crm.ConversationFilter{},
			func(int, crm.Conversation) bool { return true }},
		{"Unassigned lists only the unassigned queue", crm.ConversationFilter{Unassigned: true},
			func(_ int, c crm.Conversation) bool { return c.AssigneeID == nil }},
		{"AssigneeID lists only that manager's conversations", crm.ConversationFilter{AssigneeID: in.m1.ID},
			func(_ int, c crm.Conversation) bool { return c.AssigneeID != nil && *c.AssigneeID == in.m1.ID }},
		{"VisibleTo lists a manager's own and the unassigned ones", crm.ConversationFilter{For: &in.m2},
			func(_ int, c crm.Conversation) bool { return c.AssigneeID == nil || *c.AssigneeID == in.m2.ID }},
		{"Unlinked lists those with a touch that needs a deal", crm.ConversationFilter{Unlinked: true},
			func(_ int, c crm.Conversation) bool { return in.unlinked[c.ID] }},
		{"Status closed lists only closed ones", crm.ConversationFilter{Status: "closed"},
			func(i int, _ crm.Conversation) bool { return i%5 == 0 }},
		{"Status snoozed lists only snoozed ones", crm.ConversationFilter{Status: "snoozed"},
			func(i int, _ crm.Conversation) bool { return i%5 == 1 }},
		{"Status open lists only open ones", crm.ConversationFilter{Status: "open"},
			func(i int, _ crm.Conversation) bool { return i%5 > 1 }},
		{"Channel lists only that channel", crm.ConversationFilter{Channel: "email"},
			func(i int, _ crm.Conversation) bool { return i%2 == 1 }},
		{"ContactID lists only that contact's conversations", crm.ConversationFilter{ContactID: in.ivan.ID},
			func(_ int, c crm.Conversation) bool { return c.ContactID == in.ivan.ID }},
		{"filters combine", crm.ConversationFilter{For: &in.m1, Status: "open", Channel: "telegram"},
			func(i int, c crm.Conversation) bool {
				return (c.AssigneeID == nil || *c.AssigneeID == in.m1.ID) && i%5 > 1 && i%2 == 0
			}},
		{"Q finds conversations by the contact's phone in any format", crm.ConversationFilter{Q: "8 (383) 234-90-96", Region: "RU"},
			func(_ int, c crm.Conversation) bool { return c.ContactID == in.ivan.ID }},
		{"Q finds conversations by subject in any case", crm.ConversationFilter{Q: "ORDER 12"},
			func(i int, _ crm.Conversation) bool { return i == 12 }},
		{"Q finds conversations by a Cyrillic subject in another case", crm.ConversationFilter{Q: "ЗАКАЗ"},
			func(i int, _ crm.Conversation) bool { return i == 7 }},
		{"Q finds conversations by the contact's Cyrillic name", crm.ConversationFilter{Q: "ПЕТРОВ"},
			func(_ int, c crm.Conversation) bool { return c.ContactID == in.ivan.ID }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := in.want(tt.keep)
			if len(want) == 0 || (len(want) == len(in.convs) && tt.filter != (crm.ConversationFilter{})) {
				t.Fatalf("fixture selects %d of %d conversations; the case cannot tell right from wrong", len(want), len(in.convs))
			}
			got, _ := in.all(t, tt.filter)
			if !slices.Equal(got, want) {
				t.Errorf("ListConversations(%+v) = %v, want %v", tt.filter, got, want)
			}
		})
	}
}

func TestTakingAConversationMakesTheManagerResponsibleForAnUnownedClient(t *testing.T) {
	db := crmtest.Open(t)
	m := newUser(t, db, crm.Manager)
	c := newContact(t, db, "Client", "phone", "+79131112233")
	acc := newAccount(t, db, "phone", "pbx")
	now := time.Now().UTC()
	conv := newConversation(t, db, c.ID, acc, now, func(cv *crm.Conversation) { cv.WaitingSince = &now })
	d := newDeal(t, db, c.ID, "kitchen")
	if _, err := crm.AssignConversation(db, conv.ID, &m.ID); err != nil {
		t.Fatal(err)
	}
	got, _ := crm.GetContact(db, c.ID)
	deal, _ := crm.GetDeal(db, d.ID)
	if got.ResponsibleID == nil || *got.ResponsibleID != m.ID || deal.ResponsibleID == nil || *deal.ResponsibleID != m.ID {
		t.Errorf("after taking: contact responsible %v, deal responsible %v; want %d", got.ResponsibleID, deal.ResponsibleID, m.ID)
	}
	if _, err := crm.SetConversationStatus(db, conv.ID, crm.ConvClosed, nil); err != nil {
		t.Fatal(err)
	}
	if cv, _ := crm.GetConversation(db, conv.ID); cv.WaitingSince != nil {
		t.Error("a closed conversation must not wait for our reply")
	}
}
