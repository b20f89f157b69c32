package server

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox/api"
)

// dial opens the client's WebSocket, resuming after since (0: live only).
func (c *client) dial(t *testing.T, since int64, origin string) (*websocket.Conn, api.Hello) {
	t.Helper()
	u, _ := url.Parse(c.ta.srv.URL)
	wsURL := "ws://" + u.Host + "/api/v1/ws"
	if since > 0 {
		wsURL += "?since=" + strconvI(since)
	}
	h := http.Header{}
	for _, ck := range c.http.Jar.Cookies(u) {
		h.Add("Cookie", ck.Name+"="+ck.Value)
	}
	if origin != "" {
		h.Set("Origin", origin)
	}
	conn, resp, err := websocket.DefaultDialer.Dial(wsURL, h)
	if err != nil {
		st := 0
		if resp != nil {
			st = resp.StatusCode
		}
		t.Fatalf("dial: %v (status %d)", err, st)
	}
	t.Cleanup(func() { conn.Close() })
	// Replayed events come first, then the hello.
	var hello api.Hello
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for hello.Type != "hello" {
		if err := conn.ReadJSON(&hello); err != nil {
			t.Fatalf("hello: %v", err)
		}
	}
	return conn, hello
}

func strconvI(n int64) string { return strconv.FormatInt(n, 10) }

func jsonInt(n int64) string { return strconv.FormatInt(n, 10) }

// next reads events until one of typ arrives (or times out).
func next(t *testing.T, conn *websocket.Conn, typ string) crm.Event {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		conn.SetReadDeadline(deadline)
		var e crm.Event
		if err := conn.ReadJSON(&e); err != nil {
			t.Fatalf("waiting for %s: %v", typ, err)
		}
		if e.Type == typ {
			return e
		}
	}
}

func TestWebSocketStreamsNewTouchesAndResumesAfterADrop(t *testing.T) {
	ta := newTestApp(t)
	ta.user("lead@example.ru", crm.Lead)
	acc := ta.account("phone", "pbx")
	c := ta.login("lead@example.ru")
	conn, hello := c.dial(t, 0, "")
	r := ta.ingest(phoneIn(acc.ID, "call-1", "+79131000001"))
	e := next(t, conn, crm.EventTouchAdded)
	if e.TouchID == nil || *e.TouchID != r[0].TouchID || e.ID <= hello.LastID {
		t.Fatalf("event %+v after hello %+v", e, hello)
	}
	conn.Close()
	// While disconnected, two more touches arrive.
	ta.ingest(phoneIn(acc.ID, "call-2", "+79131000002"), phoneIn(acc.ID, "call-3", "+79131000003"))
	conn2, hello2 := c.dial(t, e.ID, "")
	if hello2.Replay < 2 {
		t.Errorf("replayed %d events, want the 2 missed touches", hello2.Replay)
	}
	_ = conn2
}

func TestWebSocketReplayDeliversMissedEventsInOrder(t *testing.T) {
	ta := newTestApp(t)
	ta.user("lead@example.ru", crm.Lead)
	acc := ta.account("phone", "pbx")
	c := ta.login("lead@example.ru")
	first := ta.ingest(phoneIn(acc.ID, "a", "+79131000004"))
	var since int64
	ta.db.Model(&crm.Event{}).Where("touch_id = ?", first[0].TouchID).Select("id").Scan(&since)
	r := ta.ingest(phoneIn(acc.ID, "b", "+79131000005"), phoneIn(acc.ID, "c", "+79131000006"))
	u, _ := url.Parse(ta.srv.URL)
	h := http.Header{}
	for _, ck := range c.http.Jar.Cookies(u) {
		h.Add("Cookie", ck.Name+"="+ck.Value)
	}
	conn, _, err := websocket.DefaultDialer.Dial("ws://"+u.Host+"/api/v1/ws?since="+jsonInt(since), h)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var got []int64
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for len(got) < 2 {
		var e crm.Event
		if err := conn.ReadJSON(&e); err != nil {
			t.Fatal(err)
		}
		if e.Type == crm.EventTouchAdded {
			got = append(got, *e.TouchID)
		}
	}
	if got[0] != r[0].TouchID || got[1] != r[1].TouchID {
		t.Errorf("replayed touches %v, want %d, %d in order", got, r[0].TouchID, r[1].TouchID)
	}
}

func TestAManagersWebSocketNeverCarriesAnotherManagersConversation(t *testing.T) {
	ta := newTestApp(t)
	a := ta.user("a@example.ru", crm.Manager)
	b := ta.user("b@example.ru", crm.Manager)
	acc := ta.account("telegram", "bot")
	in := func(ext, user string) channels.Inbound {
		return channels.Inbound{AccountID: acc.ID, ExternalID: ext, From: []channels.Handle{{Kind: "telegram", Value: user}}, Text: "secret of " + user}
	}
	r := ta.ingest(in("1", "111"))
	tch, _ := crm.GetTouch(ta.db, r[0].TouchID)
	if _, err := ta.AssignConversation(context.Background(), b, tch.ConversationID, &b.ID); err != nil {
		t.Fatal(err)
	}
	ca := ta.login("a@example.ru")
	connA, _ := ca.dial(t, 0, "")
	// B's client writes again, then a new client writes: A's first event
	// must be the new, unassigned one (events arrive in order).
	ta.ingest(in("2", "111"))
	ta.ingest(in("3", "222"))
	e := next(t, connA, crm.EventTouchAdded)
	if got, _ := crm.GetTouch(ta.db, *e.TouchID); got.ExternalID == nil || *got.ExternalID != "3" {
		t.Errorf("manager A's first event is touch %s, want the unassigned one (3), never B's", *got.ExternalID)
	}
	// Transferred from B to A: A hears the assignment.
	if _, err := ta.AssignConversation(context.Background(), b, tch.ConversationID, &a.ID); err != nil {
		t.Fatal(err)
	}
	if e := next(t, connA, crm.EventConversationChanged); *e.ConversationID != tch.ConversationID {
		t.Errorf("assignment event %+v", e)
	}
}

func TestWebSocketRefusesAnotherOriginAndAnonymousClients(t *testing.T) {
	ta := newTestApp(t)
	ta.user("lead@example.ru", crm.Lead)
	c := ta.login("lead@example.ru")
	u, _ := url.Parse(ta.srv.URL)
	h := http.Header{"Origin": {"https://evil.example"}}
	for _, ck := range c.http.Jar.Cookies(u) {
		h.Add("Cookie", ck.Name+"="+ck.Value)
	}
	if _, resp, err := websocket.DefaultDialer.Dial("ws://"+u.Host+"/api/v1/ws", h); err == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin upgrade: %v", err)
	}
	if _, resp, err := websocket.DefaultDialer.Dial("ws://"+u.Host+"/api/v1/ws", nil); err == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous upgrade: %v", err)
	}
	c.dial(t, 0, "http://"+u.Host) // same origin is fine
}

// The replay decides by who may see a conversation now: a touch that
// arrived unassigned while manager A was away, and that B has taken since,
// is not replayed to A (only that it left the queue is); A's own is
// (issue 14, item 5).
func TestWebSocketReplayFiltersByWhoMaySeeTheConversationNow(t *testing.T) {
	ta := newTestApp(t)
	a := ta.user("a@example.ru", crm.Manager)
	b := ta.user("b@example.ru", crm.Manager)
	acc := ta.account("telegram", "bot")
	in := func(ext, user string) channels.Inbound {
		return channels.Inbound{AccountID: acc.ID, ExternalID: ext, From: []channels.Handle{{Kind: "telegram", Value: user}}, Text: "secret of " + user}
	}
	ta.ingest(in("0", "100"))
	ca := ta.login("a@example.ru")
	_, hello := ca.dial(t, 0, "")
	// While A is away: two clients write, unassigned; B takes the first,
	// A the second.
	r := ta.ingest(in("1", "111"), in("2", "222"))
	t1, _ := crm.GetTouch(ta.db, r[0].TouchID)
	t2, _ := crm.GetTouch(ta.db, r[1].TouchID)
	if _, err := ta.AssignConversation(context.Background(), b, t1.ConversationID, &b.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := ta.AssignConversation(context.Background(), a, t2.ConversationID, &a.ID); err != nil {
		t.Fatal(err)
	}
	_, hello2 := ca.dial(t, hello.LastID, "")
	var evs []crm.Event
	ta.db.Where("id > ?", hello.LastID).Order("id").Find(&evs)
	// Read what is replayed: dial skips it to the hello, so replay again
	// on a raw connection.
	u, _ := url.Parse(ta.srv.URL)
	h := http.Header{}
	for _, ck := range ca.http.Jar.Cookies(u) {
		h.Add("Cookie", ck.Name+"="+ck.Value)
	}
	raw, _, err := websocket.DefaultDialer.Dial("ws://"+u.Host+"/api/v1/ws?since="+jsonInt(hello.LastID), h)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetReadDeadline(time.Now().Add(5 * time.Second))
	var got []crm.Event
	for {
		var e struct {
			crm.Event
			Hello string `json:"type"`
		}
		if err := raw.ReadJSON(&e); err != nil {
			t.Fatal(err)
		}
		if e.Hello == "hello" {
			break
		}
		e.Event.Type = e.Hello
		got = append(got, e.Event)
	}
	if len(got) != hello2.Replay {
		t.Fatalf("replayed %d, hello says %d", len(got), hello2.Replay)
	}
	sawOwn := false
	for _, e := range got {
		if e.ConversationID != nil && *e.ConversationID == t1.ConversationID && e.Type != crm.EventConversationChanged {
			t.Errorf("A was replayed %s of B's conversation %d", e.Type, t1.ConversationID)
		}
		if e.TouchID != nil && *e.TouchID == t2.ID {
			sawOwn = true
		}
	}
	if !sawOwn || len(evs) <= len(got) {
		t.Errorf("replay of %d events (of %d): A's own touch replayed %v", len(got), len(evs), sawOwn)
	}
}

// A client whose since is beyond the newest event (the database was
// replaced) is told to reset and follows the new events, not deaf.
func TestWebSocketSinceBeyondTheNewestEventResets(t *testing.T) {
	ta := newTestApp(t)
	ta.user("lead@example.ru", crm.Lead)
	acc := ta.account("phone", "pbx")
	c := ta.login("lead@example.ru")
	conn, hello := c.dial(t, 1_000_000, "")
	if !hello.Reset || hello.LastID >= 1_000_000 {
		t.Fatalf("hello %+v, want a reset to the newest id", hello)
	}
	r := ta.ingest(phoneIn(acc.ID, "call-1", "+79131000001"))
	if e := next(t, conn, crm.EventTouchAdded); *e.TouchID != r[0].TouchID {
		t.Errorf("event %+v", e)
	}
}
