package inbox

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard/switchboard/crm"
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
	Type    string `json:"type"`
	LastID  int64  `json:"last_id"`
	Replay  int    `json:"replayed"`
	Version int    `json:"version"`
}

// ws upgrades to a WebSocket that streams the events the user may see.
// ?since=<id> replays what was missed after that id first, so a dropped
// connection loses nothing. Events reach the hub only after commit.
func (h *api) ws(w http.ResponseWriter, r *http.Request) {
	u := userOf(r).User
	since, _ := strconv.ParseInt(r.URL.Query().Get("since"), 10, 64)
	up := websocket.Upgrader{CheckOrigin: sameOrigin}
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		h.app.log.Info("websocket refused", "user", u.ID, "err", err)
		return // the upgrader wrote the HTTP error
	}
	defer conn.Close()
	sub := h.app.hub.Subscribe(wsQueue) // before the replay: nothing falls between
	defer sub.Close()

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() { // reader: notices the client leaving; the client sends nothing we need
		defer cancel()
		conn.SetReadLimit(1024)
		for {
			if _, _, err := conn.NextReader(); err != nil {
				return
			}
		}
	}()

	send := func(v any) error {
		conn.SetWriteDeadline(time.Now().Add(wsWriteWait))
		return conn.WriteJSON(v)
	}
	last := since
	replayed := 0
	if since > 0 {
		for {
			evs, err := crm.EventsSince(h.app.db.WithContext(ctx), last, wsReplayPage)
			if err != nil {
				h.app.log.Error("websocket replay", "user", u.ID, "err", err)
				return
			}
			for _, e := range evs {
				last = e.ID
				if visibleEvent(u, e) {
					if send(e) != nil {
						return
					}
					replayed++
				}
			}
			if len(evs) < wsReplayPage {
				break
			}
		}
	} else {
		h.app.db.WithContext(ctx).Model(&crm.Event{}).Select("COALESCE(MAX(id), 0)").Scan(&last)
	}
	if send(Hello{Type: "hello", LastID: last, Replay: replayed, Version: 1}) != nil {
		return
	}
	ping := time.NewTicker(wsPing)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ping.C:
			if conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(wsWriteWait)) != nil {
				return
			}
		case e, ok := <-sub.C:
			if !ok { // too slow: dropped by the hub; the client resumes from its last id
				conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseTryAgainLater, "too far behind; resume from your last id"), time.Now().Add(wsWriteWait))
				return
			}
			if e.ID <= last || !visibleEvent(u, e) {
				continue
			}
			last = e.ID
			if send(e) != nil {
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

// visibleEvent applies the API's permissions to an event: a manager gets
// what concerns conversations assigned to them or unassigned (and hears
// that one was taken away: from them, or from the unassigned queue they
// were looking at), their own deals, and account states.
func visibleEvent(u crm.User, e crm.Event) bool {
	if u.Role != crm.Manager {
		return true
	}
	var d struct {
		AssigneeID         *int64 `json:"assignee_id"`
		PreviousAssigneeID *int64 `json:"previous_assignee_id"`
		ResponsibleID      *int64 `json:"responsible_id"`
		UserID             *int64 `json:"user_id"`
	}
	json.Unmarshal(e.Data, &d)
	mine := func(p *int64) bool { return p != nil && *p == u.ID }
	switch e.Type {
	case crm.EventAccountState:
		return true
	case crm.EventDealChanged:
		return mine(d.ResponsibleID)
	case crm.EventTouchReminder:
		return mine(d.UserID) // a reminder is for the manager reminded
	}
	if e.ConversationID == nil {
		return false
	}
	if e.Type == crm.EventConversationChanged && d.PreviousAssigneeID == nil {
		var raw map[string]json.RawMessage
		json.Unmarshal(e.Data, &raw)
		if p, ok := raw["previous_assignee_id"]; ok && string(p) == "null" {
			return true // it left the unassigned queue: only ids, no content
		}
	}
	return d.AssigneeID == nil || mine(d.AssigneeID) || mine(d.PreviousAssigneeID)
}
