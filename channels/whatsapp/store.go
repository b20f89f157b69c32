package whatsapp

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/store/sqlstore"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	waLog "go.mau.fi/whatsmeow/util/log"
)

// Store keeps the WhatsApp sessions in the application's database:
// whatsmeow's tables (whatsmeow_*, upgraded by whatsmeow's own versioned
// upgrades in whatsmeow_version) and whatsapp_devices, which says which
// device is which account's. One device per account; a restart finds it
// again, so the pairing survives.
//
// On SQLite whatsmeow refuses to upgrade unless foreign keys are on
// (crm.Open's DSN turns them on).
type Store struct {
	db      *sql.DB
	dialect string // "sqlite" or "postgres"

	mu       sync.Mutex
	upgraded bool
	c        *sqlstore.Container
}

// NewStore is the store on db, of dialect "sqlite" or "postgres".
func NewStore(db *sql.DB, dialect string) *Store {
	if !strings.HasPrefix(dialect, "postgres") {
		dialect = "sqlite"
	}
	return &Store{db: db, dialect: dialect}
}

// devicesTable maps accounts to their devices' JIDs. It is whatsmeow's
// session data, not the CRM's, so it lives beside whatsmeow's tables.
const devicesTable = `CREATE TABLE IF NOT EXISTS whatsapp_devices (
	account_id BIGINT PRIMARY KEY,
	jid        TEXT NOT NULL
)`

// phonesTable keeps when each account's phone was last seen (Unix
// seconds), for the phone-offline warning.
const phonesTable = `CREATE TABLE IF NOT EXISTS whatsapp_phones (
	account_id BIGINT PRIMARY KEY,
	seen_at    BIGINT NOT NULL
)`

// Upgrade creates or upgrades the session tables; it is safe to call at
// every start (and is called by the first Open).
func (s *Store) Upgrade(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.upgraded {
		return nil
	}
	c := sqlstore.NewWithDB(s.db, s.dialect, waLog.Noop)
	if err := c.Upgrade(ctx); err != nil {
		return fmt.Errorf("whatsapp: upgrade the session store: %w", err)
	}
	for _, t := range []string{devicesTable, phonesTable} {
		if _, err := s.db.ExecContext(ctx, t); err != nil {
			return fmt.Errorf("whatsapp: upgrade the session store: %w", err)
		}
	}
	s.c, s.upgraded = c, true
	return nil
}

func (s *Store) deviceJID(ctx context.Context, account int64) (types.JID, bool, error) {
	var raw string
	err := s.db.QueryRowContext(ctx, "SELECT jid FROM whatsapp_devices WHERE account_id = $1", account).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return types.JID{}, false, nil
	}
	if err != nil {
		return types.JID{}, false, fmt.Errorf("whatsapp: the account's device: %w", err)
	}
	jid, err := types.ParseJID(raw)
	if err != nil {
		return types.JID{}, false, fmt.Errorf("whatsapp: the account's device %q: %w", raw, err)
	}
	return jid, true, nil
}

// SetDevice records jid as the account's device.
func (s *Store) SetDevice(ctx context.Context, account int64, jid types.JID) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO whatsapp_devices (account_id, jid) VALUES ($1, $2)
		ON CONFLICT (account_id) DO UPDATE SET jid = excluded.jid`, account, jid.String())
	if err != nil {
		return fmt.Errorf("whatsapp: record the account's device: %w", err)
	}
	return nil
}

// PhoneSeen is when the account's phone was last seen (SeenLog).
func (s *Store) PhoneSeen(ctx context.Context, account int64) (time.Time, error) {
	if err := s.Upgrade(ctx); err != nil {
		return time.Time{}, err
	}
	var at int64
	err := s.db.QueryRowContext(ctx, "SELECT seen_at FROM whatsapp_phones WHERE account_id = $1", account).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("whatsapp: when the phone was last seen: %w", err)
	}
	return time.Unix(at, 0).UTC(), nil
}

// SetPhoneSeen records when the account's phone was last seen (SeenLog).
func (s *Store) SetPhoneSeen(ctx context.Context, account int64, at time.Time) error {
	if err := s.Upgrade(ctx); err != nil {
		return err
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO whatsapp_phones (account_id, seen_at) VALUES ($1, $2)
		ON CONFLICT (account_id) DO UPDATE SET seen_at = excluded.seen_at`, account, at.Unix())
	if err != nil {
		return fmt.Errorf("whatsapp: record when the phone was last seen: %w", err)
	}
	return nil
}

// forget drops the account's device (unlinked).
func (s *Store) forget(ctx context.Context, account int64) error {
	_, err := s.db.ExecContext(ctx, "DELETE FROM whatsapp_devices WHERE account_id = $1", account)
	return err
}

// Open is the account's client (an Opener): its linked device, or a new
// one to link.
func (s *Store) Open(ctx context.Context, account int64, log *slog.Logger) (Client, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := s.Upgrade(ctx); err != nil {
		return nil, err
	}
	jid, ok, err := s.deviceJID(ctx, account)
	if err != nil {
		return nil, err
	}
	dev := s.c.NewDevice()
	if ok {
		d, err := s.c.GetDevice(ctx, jid)
		if err != nil {
			return nil, fmt.Errorf("whatsapp: load the session of %s: %w", jid, err)
		}
		if d != nil {
			dev = d
		}
	}
	cli := whatsmeow.NewClient(dev, slogger{log})
	m := &meow{Client: cli, store: s, account: account}
	cli.AddEventHandler(func(evt any) {
		switch e := evt.(type) {
		case *events.PairSuccess:
			if err := s.SetDevice(context.Background(), account, e.ID); err != nil {
				log.Error("whatsapp: linked, but the device was not recorded: the next start pairs again", "err", err)
			}
		case *events.LoggedOut:
			if err := s.forget(context.Background(), account); err != nil {
				log.Warn("whatsapp: unlinked device not forgotten", "err", err)
			}
		}
	})
	return m, nil
}

// meow is a whatsmeow client as a Client.
type meow struct {
	*whatsmeow.Client
	store   *Store
	account int64
}

// Logout unlinks the device and forgets it as the account's.
func (m *meow) Logout(ctx context.Context) error {
	if err := m.Client.Logout(ctx); err != nil {
		return err
	}
	return m.store.forget(ctx, m.account)
}

func (m *meow) PairPhone(ctx context.Context, phone string) (string, error) {
	return m.Client.PairPhone(ctx, phone, true, whatsmeow.PairClientChrome, "Chrome (Linux)")
}

func (m *meow) SendMessage(ctx context.Context, to types.JID, msg *waE2E.Message) (whatsmeow.SendResponse, error) {
	return m.Client.SendMessage(ctx, to, msg)
}

func (m *meow) OwnJID() types.JID {
	if id := m.Store.ID; id != nil {
		return *id
	}
	return types.JID{}
}

func (m *meow) PhoneOf(ctx context.Context, lid types.JID) (types.JID, error) {
	return m.Store.LIDs.GetPNForLID(ctx, lid)
}

// slogger is whatsmeow's logger over slog; its chatter is debug.
type slogger struct{ log *slog.Logger }

func (l slogger) Warnf(msg string, args ...any) {
	l.log.Warn("whatsmeow: " + fmt.Sprintf(msg, args...))
}
func (l slogger) Errorf(msg string, args ...any) {
	l.log.Warn("whatsmeow: " + fmt.Sprintf(msg, args...))
}
func (l slogger) Infof(msg string, args ...any) {
	l.log.Debug("whatsmeow: " + fmt.Sprintf(msg, args...))
}
func (l slogger) Debugf(msg string, args ...any) {
	l.log.Debug("whatsmeow: " + fmt.Sprintf(msg, args...))
}
func (l slogger) Sub(module string) waLog.Logger { return slogger{l.log.With("module", module)} }
