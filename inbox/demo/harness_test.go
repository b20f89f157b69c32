package demo

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"testing"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/channels/email"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/crm/crmtest"
	"github.com/switchboard/switchboard/inbox"
	"github.com/switchboard/switchboard/inbox/blobs"
	"github.com/switchboard/switchboard/inbox/realtime"
)

// testApp is a fresh database with the verbs over it, to run the demo on.
type testApp struct {
	*inbox.App
	db  *gorm.DB
	set Setup
}

func newTestApp(t testing.TB) *testApp {
	t.Helper()
	db := crmtest.Open(t)
	box, err := crm.NewSecretBox(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	set := Setup{DB: db, Log: log, Box: box, Region: "RU", Currency: "RUB", Blobs: blobs.Dir{Dir: t.TempDir()}, ReadMail: email.Parse}
	app := inbox.New(db, log, realtime.New(db, log, realtime.NewHub()), box, nil, nil, inbox.Options{Region: "RU", Currency: "RUB", Blobs: set.Blobs})
	return &testApp{App: app, db: db, set: set}
}

// Demo runs the demo generator on the test database.
func (ta *testApp) Demo(ctx context.Context, opts Options) (Summary, error) {
	return Generate(ctx, ta.set, opts)
}

// user adds a user with a known password.
func (ta *testApp) user(email string, role crm.Role) crm.User {
	u, err := ta.CreateUser(context.Background(), nil, email, email, role, "password-"+email)
	if err != nil {
		panic(err)
	}
	return u
}
