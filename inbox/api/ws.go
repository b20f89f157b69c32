package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox/realtime"
)

// WebSocket tuning.
const (
	wsQueue      = 256              // events buffered per client; a client further behind is dropped and resumes
	wsPing       = 30 * time.Second // keepalive
	wsWriteWait  = 10 * time.Second
	wsReplayPage = 500
)

// Hello is the first message on a WebSocket: the last event id so far, so a
// client that had nothing can resume from here after a drop.
type Hello struct {
	Type   string `json:"type"`
	LastID int64  `json:"last_id"`
	Replay int    `json:"replayed"`
	// Reset: the client's since was beyond the newest event; it must
	// reload what it shows and follow from LastID.
	Reset   bool `json:"reset,omitempty"`
	Version int  `json:"version"`
}

// wsUpgrader keeps an idle connection small: a read buffer for the few
// bytes a client sends (control frames) and write buffers from a pool,
// held only while a hello or replay is written (events go out as prepared
// frames, which need none).
var wsUpgrader = websocket.Upgrader{
	ReadBufferSize:  512,
	WriteBufferSize: 4096,
	WriteBufferPool: &sync.Pool{},
	CheckOrigin:     sameOrigin,
}

// ws upgrades to a WebSocket that streams the events the user may see.
// ?since=<id> replays what was missed after that id first, so a dropped
// connection loses nothing. Events reach the hub only after commit.
//
// The handler returns once the hello is sent, so the HTTP request's
// memory goes with it; an open connection is two goroutines: one writes
// what the hub sends, one reads (only to notice the client leaving and to
// answer pings).
func (h *api) ws(w http.ResponseWriter, r *http.Request) {
	u := userOf(r).User
	since, _ := strconv.ParseInt(r.URL.Query().Get("since"), 10, 64)
	conn, err := wsUpgrader.Upgrade(w, r, nil)
	if err != nil {
		h.log.Info("websocket refused", "user", u.ID, "err", err)
		return // the upgrader wrote the HTTP error
	}
	sub := h.rt.Hub().Subscribe(wsQueue) // before the replay: nothing falls between
	c := &wsClient{rt: h.rt, log: h.log, conn: conn, sub: sub, user: u}
	if !c.hello(r.Context(), since) {
		sub.Close()
		conn.Close()
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	go c.read(cancel)
	go c.write(ctx)
}

// wsClient is one open WebSocket.
type wsClient struct {
	rt   *realtime.Publisher
	log  *slog.Logger
	conn *websocket.Conn
	sub  *realtime.Subscription
	user crm.User
	last int64 // the last event id the client has (or needs not)
}

func (c *wsClient) send(v any) error {
	c.conn.SetWriteDeadline(time.Now().Add(wsWriteWait))
	return c.conn.WriteJSON(v)
}

// hello replays what the client missed after since and sends the hello.
// A since beyond the newest event (a client of a database that was
// restored or replaced) gets the newest id and Reset, so it reloads and
// follows from there instead of waiting, deaf, for ids that will not come.
func (c *wsClient) hello(ctx context.Context, since int64) bool {
	u := c.user
	last, err := c.rt.LastEventID(ctx)
	if err != nil {
		c.log.Error("websocket hello", "user", u.ID, "err", err)
		return false
	}
	c.last = last
	replayed, reset := 0, since > last
	if since > 0 && !reset {
		c.last = since
		for {
			evs, err := c.rt.EventsAfter(ctx, c.last, wsReplayPage)
			if err == nil {
				evs, err = c.seenNow(ctx, evs)
			}
			if err != nil {
				c.log.Error("websocket replay", "user", u.ID, "err", err)
				return false
			}
			for _, e := range evs {
				c.last = e.ID
				if e.Type == "" { // not the user's: skipped
					continue
				}
				if c.send(e) != nil {
					return false
				}
				replayed++
			}
			if len(evs) < wsReplayPage {
				break
			}
		}
	}
	return c.send(Hello{Type: "hello", LastID: c.last, Replay: replayed, Reset: reset, Version: 1}) == nil
}

// seenNow blanks (Type "") the replayed events the user may not see: by
// the rule for events, and, for a conversation's event, by who may see the
// conversation now, as the API decides. A conversation that was
// unassigned when the event happened and is another manager's now is not
// replayed to the others; an event saying it left them (ids only) is.
func (c *wsClient) seenNow(ctx context.Context, evs []crm.Event) ([]crm.Event, error) {
	u := c.user
	var convs []int64
	for i := range evs {
		if !u.SeesEvent(evs[i]) {
			evs[i].Type = ""
		} else if evs[i].ConversationID != nil && !u.SeesAll() {
			convs = append(convs, *evs[i].ConversationID)
		}
	}
	if len(convs) == 0 {
		return evs, nil
	}
	visible, err := c.rt.VisibleConversations(ctx, u, convs)
	if err != nil {
		return nil, err
	}
	for i := range evs {
		e := &evs[i]
		if e.Type == "" || e.ConversationID == nil || visible[*e.ConversationID] {
			continue
		}
		if s := crm.ScopeOf(*e); !s.LeftUser(u) {
			e.Type = ""
		}
	}
	return evs, nil
}

// read notices the client leaving; the client sends nothing we need.
func (c *wsClient) read(leave context.CancelFunc) {
	defer leave()
	c.conn.SetReadLimit(1024)
	for {
		if _, _, err := c.conn.NextReader(); err != nil {
			return
		}
	}
}

// write sends what the hub publishes, in order, and keeps the connection
// alive, until the client leaves or falls too far behind.
func (c *wsClient) write(ctx context.Context) {
	defer c.conn.Close()
	defer c.sub.Close()
	ping := time.NewTicker(wsPing)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ping.C:
			if c.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(wsWriteWait)) != nil {
				return
			}
		case m, ok := <-c.sub.C:
			if !ok { // too slow: dropped by the hub; the client resumes from its last id
				c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseTryAgainLater, "too far behind; resume from your last id"), time.Now().Add(wsWriteWait))
				return
			}
			if m.ID <= c.last || !m.Scope.VisibleTo(c.user) {
				continue
			}
			c.last = m.ID
			c.conn.SetWriteDeadline(time.Now().Add(wsWriteWait))
			if c.conn.WritePreparedMessage(m.Frame) != nil {
				return
			}
		}
	}
}

// sameOrigin accepts browsers on our own origin and clients that send no
// Origin (not a browser, so no cross-site risk).
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}
