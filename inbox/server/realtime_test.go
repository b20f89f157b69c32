package server

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/crm/crmtest"
	"github.com/switchboard/switchboard/inbox/realtime"
)

// replica is one more App on the PostgreSQL database at dsn, with its own
// connection pool and server, started as serve starts it.
func replica(t *testing.T, dsn string, backoff time.Duration) *testApp {
	t.Helper()
	db, err := crm.Open(dsn, "")
	if err != nil {
		t.Fatal(err)
	}
	box, _ := crm.NewSecretBox(testKey)
	app := New(db, testLogger(t), box, Options{Region: "RU", Currency: "RUB"})
	if backoff > 0 {
		app.Realtime.RelayBackoff = backoff
	}
	ta := wrap(t, app, box)
	ctx, cancel := context.WithCancel(context.Background())
	if err := app.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ta.srv.Close()
		cancel()
		app.Wait()
		if s, err := db.DB(); err == nil {
			s.Close()
		}
	})
	return ta
}

func needPostgres(t *testing.T) {
	if !crmtest.Postgres() {
		t.Skip("replicas share a PostgreSQL database; SQLite runs one process (set " + crmtest.EnvURL + ")")
	}
}

// waitFor polls cond for up to d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// received reads n events from a subscription.
func received(t *testing.T, sub *realtime.Subscription, n int) []int64 {
	t.Helper()
	var ids []int64
	timeout := time.After(15 * time.Second)
	for len(ids) < n {
		select {
		case m, ok := <-sub.C:
			if !ok {
				t.Fatalf("subscription dropped after %v", ids)
			}
			ids = append(ids, m.ID)
		case <-timeout:
			t.Fatalf("got events %v, want %d", ids, n)
		}
	}
	return ids
}

// readIDs reads n events from a WebSocket.
func readIDs(t *testing.T, conn *websocket.Conn, n int) []int64 {
	t.Helper()
	var ids []int64
	conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	for len(ids) < n {
		var e crm.Event
		if err := conn.ReadJSON(&e); err != nil {
			t.Fatalf("after events %v: %v", ids, err)
		}
		ids = append(ids, e.ID)
	}
	return ids
}

func (ta *testApp) eventIDsAfter(id int64) []int64 {
	ta.t.Helper()
	var ids []int64
	if err := ta.db.Model(&crm.Event{}).Where("id > ?", id).Order("id").Pluck("id", &ids).Error; err != nil {
		ta.t.Fatal(err)
	}
	return ids
}

func TestOnPostgresAnEventCommittedOnOneReplicaReachesEveryReplicasWebSocket(t *testing.T) {
	needPostgres(t)
	_, dsn := crmtest.OpenDSN(t)
	a, b := replica(t, dsn, 0), replica(t, dsn, 0)
	lead := a.user("lead@example.ru", crm.Lead)
	acc := a.account("phone", "pbx")
	connA, _ := a.login("lead@example.ru").dial(t, 0, "")
	connB, _ := b.login("lead@example.ru").dial(t, 0, "")

	r := a.ingest(phoneIn(acc.ID, "call-1", "+79131000001"))
	for name, conn := range map[string]*websocket.Conn{"A": connA, "B": connB} {
		if e := next(t, conn, crm.EventTouchAdded); e.TouchID == nil || *e.TouchID != r[0].TouchID {
			t.Errorf("replica %s got %+v, want the touch ingested on A", name, e)
		}
	}
	// And the other way: an action on B reaches A.
	tch, _ := crm.GetTouch(b.db, r[0].TouchID)
	if _, err := b.SetConversationStatus(context.Background(), lead, tch.ConversationID, crm.ConvClosed, nil); err != nil {
		t.Fatal(err)
	}
	for name, conn := range map[string]*websocket.Conn{"A": connA, "B": connB} {
		if e := next(t, conn, crm.EventConversationChanged); *e.ConversationID != tch.ConversationID {
			t.Errorf("replica %s got %+v", name, e)
		}
	}
}

func TestOnPostgresAReplicaWhoseListenConnectionDropsLosesNoEvent(t *testing.T) {
	needPostgres(t)
	_, dsn := crmtest.OpenDSN(t)
	const backoff = 3 * time.Second // B stays deaf this long after the drop
	a, b := replica(t, dsn, 0), replica(t, dsn, backoff)
	lead := a.user("lead@example.ru", crm.Lead)
	acc := a.account("phone", "pbx")
	connB, _ := b.login("lead@example.ru").dial(t, 0, "")
	sub := b.Hub().Subscribe(1000) // every event B's hub publishes, for exactly-once
	defer sub.Close()

	first := a.ingest(phoneIn(acc.ID, "call-1", "+79131000001"))
	e := next(t, connB, crm.EventTouchAdded)
	if *e.TouchID != first[0].TouchID {
		t.Fatalf("first event %+v", e)
	}
	received(t, sub, 1)
	rb := b.Realtime()
	pid := rb.ListenPID()
	if pid == 0 {
		t.Fatal("B has no listen connection")
	}
	if err := a.db.Exec("SELECT pg_terminate_backend(?)", pid).Error; err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "B notices its listen connection is gone", func() bool { return rb.ListenPID() == 0 })

	// Meanwhile A commits: touches in three transactions, then an action.
	start := time.Now()
	a.ingest(phoneIn(acc.ID, "call-2", "+79131000002"))
	r := a.ingest(phoneIn(acc.ID, "call-3", "+79131000003"), phoneIn(acc.ID, "call-4", "+79131000004"))
	a.ingest(phoneIn(acc.ID, "call-5", "+79131000005"))
	tch, _ := crm.GetTouch(a.db, r[0].TouchID)
	if _, err := a.SetConversationStatus(context.Background(), lead, tch.ConversationID, crm.ConvClosed, nil); err != nil {
		t.Fatal(err)
	}
	if rb.ListenPID() != 0 {
		t.Fatalf("B reconnected after %s, before A's events were all committed: the test needs a longer backoff", time.Since(start))
	}
	want := a.eventIDsAfter(e.ID)
	if len(want) != 5 {
		t.Fatalf("A wrote events %v, want 5", want)
	}

	if got := readIDs(t, connB, len(want)); !slices.Equal(got, want) {
		t.Errorf("B's WebSocket got %v, want %v", got, want)
	}
	if got := received(t, sub, len(want)); !slices.Equal(got, want) {
		t.Errorf("B's hub published %v, want %v, each once, in order", got, want)
	}
	waitFor(t, 5*time.Second, "B listens again", func() bool { p := rb.ListenPID(); return p != 0 && p != pid })
	// Listening again, live, and nothing published twice.
	last := a.ingest(phoneIn(acc.ID, "call-6", "+79131000006"))
	ids := received(t, sub, 1)
	if want := a.eventIDsAfter(want[len(want)-1]); !slices.Equal(ids, want) {
		t.Errorf("after reconnecting B's hub published %v, want %v (touch %d)", ids, want, last[0].TouchID)
	}
}

func TestOnPostgresAnEventCommittedLateWithALowerIDIsNotSkipped(t *testing.T) {
	needPostgres(t)
	_, dsn := crmtest.OpenDSN(t)
	a, b := replica(t, dsn, 0), replica(t, dsn, 0)
	sub := b.Hub().Subscribe(100)
	defer sub.Close()
	ctx := context.Background()

	// A long transaction writes an event and has not committed yet...
	tx1 := a.db.WithContext(ctx).Begin()
	defer tx1.Rollback()
	e1, err := crm.AddEvent(tx1, crm.EventContactChanged, nil, nil, map[string]any{"contact_id": 1})
	if err != nil {
		t.Fatal(err)
	}
	// ...while a quick one writes and commits another on another replica.
	done := make(chan crm.Event, 1)
	go func() {
		tx2 := b.db.WithContext(ctx).Begin()
		e2, err := crm.AddEvent(tx2, crm.EventContactChanged, nil, nil, map[string]any{"contact_id": 2})
		if err != nil {
			tx2.Rollback()
			t.Error(err)
			close(done)
			return
		}
		tx2.Commit()
		done <- e2
	}()
	select {
	case e2 := <-done:
		t.Fatalf("event %d committed while event %d was in flight: a reader past %d would never see %d", e2.ID, e1.ID, e2.ID, e1.ID)
	case <-time.After(300 * time.Millisecond):
	}
	if err := tx1.Commit().Error; err != nil {
		t.Fatal(err)
	}
	e2, ok := <-done
	if !ok {
		return
	}
	if e2.ID <= e1.ID {
		t.Fatalf("ids %d then %d: not in commit order", e1.ID, e2.ID)
	}
	if got := received(t, sub, 2); !slices.Equal(got, []int64{e1.ID, e2.ID}) {
		t.Errorf("B's hub published %v, want %d then %d", got, e1.ID, e2.ID)
	}
}

func TestEventsReachTheHubOnceEachInIDOrderUnderConcurrentWriters(t *testing.T) {
	ta := newTestApp(t)
	acc := ta.account("phone", "pbx")
	sub := ta.Hub().Subscribe(1000)
	defer sub.Close()
	const writers, each = 8, 10
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if _, err := ta.Ingest(context.Background(), []channels.Inbound{phoneIn(acc.ID, fmt.Sprintf("call-%d-%d", w, i), fmt.Sprintf("+791310%02d%03d", w, i))}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	got := received(t, sub, writers*each)
	if want := ta.eventIDsAfter(0); !slices.Equal(got, want) {
		t.Errorf("the hub published %v, want %v: each event once, in id order", got, want)
	}
}
