package crm_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/crm"
)

// testKey is a fixed SecretBox key for tests.
var testKey = bytes.Repeat([]byte{7}, 32)

func newBox(t testing.TB) *crm.SecretBox {
	t.Helper()
	box, err := crm.NewSecretBox(testKey)
	if err != nil {
		t.Fatal(err)
	}
	return box
}

// inTx runs fn in a transaction and fails the test on an error.
func inTx(t testing.TB, db *gorm.DB, fn func(tx *gorm.DB) error) {
	t.Helper()
	if err := db.Transaction(fn); err != nil {
		t.Fatal(err)
	}
}

func keys(t testing.TB, handles ...string) []crm.Key {
	t.Helper()
	if len(handles)%2 != 0 {
		t.Fatal("keys: want kind, value pairs")
	}
	var raw []crm.RawHandle
	for i := 0; i < len(handles); i += 2 {
		raw = append(raw, crm.RawHandle{Kind: handles[i], Value: handles[i+1]})
	}
	ks, err := crm.NormalizeAll(raw, "RU")
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func newContact(t testing.TB, db *gorm.DB, name string, handles ...string) crm.Contact {
	t.Helper()
	c := crm.Contact{Name: name}
	if err := crm.CreateContact(db, &c, keys(t, handles...)); err != nil {
		t.Fatalf("create contact %q: %v", name, err)
	}
	return c
}

func newAccount(t testing.TB, db *gorm.DB, channel, name string) crm.Account {
	t.Helper()
	a, err := crm.SaveAccount(db, newBox(t), 0, crm.AccountInput{Channel: channel, Name: &name})
	if err != nil {
		t.Fatalf("save account %q: %v", name, err)
	}
	return a
}

var userSeq int

func newUser(t testing.TB, db *gorm.DB, role crm.Role) crm.User {
	t.Helper()
	userSeq++
	u := crm.User{Email: fmt.Sprintf("user%d@example.com", userSeq), Name: fmt.Sprintf("User %d", userSeq), Role: role, PasswordHash: "x"}
	if err := crm.CreateUser(db, &u); err != nil {
		t.Fatal(err)
	}
	return u
}

// base is a fixed UTC instant the fixtures count from.
var base = time.Date(2026, 2, 10, 9, 0, 0, 0, time.UTC)

func newConversation(t testing.TB, db *gorm.DB, contactID int64, a crm.Account, at time.Time, edit func(*crm.Conversation)) crm.Conversation {
	t.Helper()
	c := crm.Conversation{
		ContactID: contactID, AccountID: a.ID, Channel: a.Channel, Status: crm.ConvOpen,
		LastTouchAt: at.UTC(), Subject: "hello",
	}
	if edit != nil {
		edit(&c)
	}
	if err := db.Create(&c).Error; err != nil {
		t.Fatalf("create conversation: %v", err)
	}
	return c
}

func newTouch(t testing.TB, db *gorm.DB, c crm.Conversation, edit func(*crm.Touch)) crm.Touch {
	t.Helper()
	tc := crm.Touch{
		AccountID: c.AccountID, Channel: c.Channel, Kind: "message", Direction: crm.Inbound,
		ContactID: c.ContactID, ConversationID: c.ID, Body: "hi", Meta: json.RawMessage("{}"),
		OccurredAt: c.LastTouchAt,
	}
	if edit != nil {
		edit(&tc)
	}
	if err := db.Create(&tc).Error; err != nil {
		t.Fatalf("create touch: %v", err)
	}
	return tc
}

func newDeal(t testing.TB, db *gorm.DB, contactID int64, title string) crm.Deal {
	t.Helper()
	d := crm.Deal{ContactID: contactID, Title: title, Currency: "RUB"}
	if err := crm.OpenDeal(db, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func ids[T any](xs []T, id func(T) int64) []int64 {
	out := make([]int64, len(xs))
	for i, x := range xs {
		out[i] = id(x)
	}
	return out
}

func contactIDs(cs []crm.Contact) []int64 { return ids(cs, func(c crm.Contact) int64 { return c.ID }) }
