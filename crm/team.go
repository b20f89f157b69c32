package crm

import (
	"slices"
	"time"

	"gorm.io/gorm"
)

// TeamLoad is what waits on each manager now (key: user id, 0 for the
// unassigned queue): open conversations, those waiting for our reply and,
// of them, those waiting since before overdueBefore, and unlinked
// touches.
type TeamLoad struct {
	Open     int64 `json:"open"`
	Waiting  int64 `json:"waiting"`
	Overdue  int64 `json:"overdue"`
	Unlinked int64 `json:"unlinked"`
}

// TeamLoads counts each assignee's load (open conversations only).
func TeamLoads(tx *gorm.DB, overdueBefore time.Time) (map[int64]*TeamLoad, error) {
	out := map[int64]*TeamLoad{}
	at := func(id *int64) *TeamLoad {
		var k int64
		if id != nil {
			k = *id
		}
		if out[k] == nil {
			out[k] = &TeamLoad{}
		}
		return out[k]
	}
	var convs []struct {
		AssigneeID *int64
		Open       int64
		Waiting    int64
		Overdue    int64
	}
	if err := tx.Table("conversations").Where("status = ?", ConvOpen).
		Select("assignee_id, COUNT(*) AS open, COUNT(waiting_since) AS waiting, SUM(CASE WHEN waiting_since < ? THEN 1 ELSE 0 END) AS overdue", overdueBefore.UTC()).
		Group("assignee_id").Scan(&convs).Error; err != nil {
		return nil, err
	}
	for _, c := range convs {
		l := at(c.AssigneeID)
		l.Open, l.Waiting, l.Overdue = c.Open, c.Waiting, c.Overdue
	}
	var unlinked []struct {
		AssigneeID *int64
		N          int64
	}
	if err := tx.Table("touches t").Joins("JOIN conversations c ON c.id = t.conversation_id").
		Where(UnlinkedTouchOf("t")).
		Select("c.assignee_id, COUNT(*) AS n").Group("c.assignee_id").Scan(&unlinked).Error; err != nil {
		return nil, err
	}
	for _, u := range unlinked {
		at(u.AssigneeID).Unlinked = u.N
	}
	return out, nil
}

// Times are durations measured in a period: how many, the median and the
// 90th percentile, in seconds (nil when none).
type Times struct {
	N      int    `json:"n"`
	Median *int64 `json:"median_s"`
	P90    *int64 `json:"p90_s"`
}

// timesOf summarizes ds (nearest-rank percentiles).
func timesOf(ds []time.Duration) Times {
	t := Times{N: len(ds)}
	if len(ds) == 0 {
		return t
	}
	slices.Sort(ds)
	rank := func(p float64) *int64 {
		i := int(p*float64(len(ds))+0.999999) - 1
		s := int64(ds[max(0, min(i, len(ds)-1))].Seconds())
		return &s
	}
	t.Median, t.P90 = rank(0.5), rank(0.9)
	return t
}

// ReplyTimes are a manager's answer times in a period: to a
// conversation's first message (first response) and to every message
// that left the client waiting (reply).
type ReplyTimes struct {
	FirstResponse Times `json:"first_response"`
	Reply         Times `json:"reply"`
}

// replyLookback is how far before a period a wait may have begun to be
// counted when it is answered in the period.
const replyLookback = 7 * 24 * time.Hour

// TeamReplyTimes measures, per author, the answers written in [from, to):
// the time from the message that began a wait (the client wrote while
// nobody waited) to the manager's reply that ended it. A conversation's
// first wait is its first response. Automated and history touches do not
// count; an answered call ends a wait unmeasured, as does a reply written
// outside Switchboard (no author).
func TeamReplyTimes(tx *gorm.DB, from, to time.Time) (map[int64]ReplyTimes, error) {
	var rows []struct {
		ConversationID int64
		Direction      Direction
		AuthorID       *int64
		CallStatus     string
		OccurredAt     time.Time
		ConvCreated    time.Time
	}
	err := tx.Table("touches t").Joins("JOIN conversations c ON c.id = t.conversation_id").
		Where("t.conversation_id IN (?)", tx.Table("touches").Select("conversation_id").
			Where("direction = ? AND author_id IS NOT NULL AND occurred_at >= ? AND occurred_at < ?", Outbound, from.UTC(), to.UTC())).
		Where("t.automated = FALSE AND t.history = FALSE AND t.occurred_at >= ? AND t.occurred_at < ?", from.Add(-replyLookback).UTC(), to.UTC()).
		Select("t.conversation_id, t.direction, t.author_id, t.call_status, t.occurred_at, c.created_at AS conv_created").
		Order("t.conversation_id, t.occurred_at, t.id").Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	first, reply := map[int64][]time.Duration{}, map[int64][]time.Duration{}
	var conv int64
	var wait time.Time
	var firstWait, answered bool
	for i, r := range rows {
		if i == 0 || r.ConversationID != conv {
			conv, wait, answered = r.ConversationID, time.Time{}, false
			// The conversation's first wait is measurable only when its
			// beginning is in what was read.
			firstWait = !r.ConvCreated.Before(from.Add(-replyLookback))
		}
		switch {
		case r.Direction == Inbound && r.CallStatus == CallAnswered:
			wait, firstWait = time.Time{}, false
		case r.Direction == Inbound:
			if wait.IsZero() {
				wait = r.OccurredAt
			}
		case wait.IsZero(): // we wrote first: no first response to measure
			firstWait = false
		case r.AuthorID == nil:
			wait, firstWait = time.Time{}, false
		default:
			if !r.OccurredAt.Before(from) {
				d := r.OccurredAt.Sub(wait)
				reply[*r.AuthorID] = append(reply[*r.AuthorID], d)
				if firstWait && !answered {
					first[*r.AuthorID] = append(first[*r.AuthorID], d)
				}
			}
			wait, answered, firstWait = time.Time{}, true, false
		}
	}
	out := map[int64]ReplyTimes{}
	for id, ds := range reply {
		out[id] = ReplyTimes{FirstResponse: timesOf(first[id]), Reply: timesOf(ds)}
	}
	return out, nil
}

// TeamWon counts the deals each manager won in [from, to), and their
// amounts by currency.
type TeamWon struct {
	ResponsibleID int64  `json:"-"`
	Currency      string `json:"currency"`
	Count         int64  `json:"count"`
	Amount        int64  `json:"amount"`
}

// TeamWins are the deals won in [from, to) by responsible manager.
func TeamWins(tx *gorm.DB, from, to time.Time) ([]TeamWon, error) {
	var out []TeamWon
	return out, tx.Table("deals").Where("status = ? AND responsible_id IS NOT NULL AND closed_at >= ? AND closed_at < ?", DealWon, from.UTC(), to.UTC()).
		Select("responsible_id, currency, COUNT(*) AS count, COALESCE(SUM(amount), 0) AS amount").
		Group("responsible_id, currency").Order("responsible_id, currency").Scan(&out).Error
}
