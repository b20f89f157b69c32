package crm

import (
	"fmt"
	"time"

	"gorm.io/gorm"
)

// The queues of the inbox are conditions on conversations, written once
// here for both the list (ListConversations) and its counters
// (CountQueues), so a counter never disagrees with its list.

// MissedCallPending is the SQL condition on a touch m that is a missed
// inbound call nobody has called back: no later touch with the contact
// other than another missed call of theirs, a reply that failed or an
// automatic one. A call either way (our call back counts even when the
// client does not pick up), a written reply, or the client writing
// again, ends the wait.
const MissedCallPending = `m.direction = 'in' AND m.call_status = 'missed' AND NOT EXISTS (
	SELECT 1 FROM touches l WHERE l.contact_id = m.contact_id AND l.occurred_at > m.occurred_at AND l.automated = FALSE
	AND NOT (l.direction = 'in' AND l.call_status = 'missed') AND NOT (l.direction = 'out' AND l.delivery_status = 'failed'))`

// Queue conditions on conversations.
const (
	// queueWaiting: open, and the contact's touch is the last word.
	queueWaiting = "conversations.status = 'open' AND conversations.waiting_since IS NOT NULL"
	// queueUnlinked: a touch still needs a deal (any status): UnlinkedTouch.
	// (The set of such conversations comes from the index on deal_id: an
	// EXISTS per conversation would probe every one the list scans past.)
	queueUnlinked = "conversations.id IN (SELECT t.conversation_id FROM touches t WHERE t.deal_id IS NULL AND t.not_a_sale = '' AND t.history = FALSE AND t.automated = FALSE)"
	// queueCallBack: open, with a missed call not called back.
	queueCallBack = "conversations.status = 'open' AND EXISTS (SELECT 1 FROM touches m WHERE m.conversation_id = conversations.id AND " + MissedCallPending + ")"
)

// QueueCounts are the exact sizes of the inbox queues for one user.
type QueueCounts struct {
	Mine       int64 `json:"mine"`       // open, assigned to the user
	Unassigned int64 `json:"unassigned"` // open, nobody's
	Unlinked   int64 `json:"unlinked"`   // with a touch that needs a deal, any status
	CallBack   int64 `json:"callback"`   // open, with a missed call not called back
	Waiting    int64 `json:"waiting"`    // open, waiting for our reply
	Overdue    int64 `json:"overdue"`    // of Waiting, those waiting longer than the threshold
	Snoozed    int64 `json:"snoozed"`
	// All is every open conversation: for leads and owners only (nil for a
	// manager, whose "all" would be Mine plus Unassigned).
	All    *int64 `json:"all,omitempty"`
	Closed int64  `json:"closed"`
}

// CountQueues counts every queue in two passes as the list shows it to u
// (a manager: only their own and unassigned conversations, visibility.go).
// Conversations waiting since before overdueBefore are overdue.
func CountQueues(tx *gorm.DB, u User, overdueBefore time.Time) (QueueCounts, error) {
	me := u.ID
	where := "1 = 1"
	if !u.SeesAll() {
		where = visibleToManager
	}
	var row struct {
		Mine, Unassigned, Unlinked, CallBack, Waiting, Overdue, Snoozed, All, Closed int64
	}
	err := tx.Raw(`SELECT
		COUNT(CASE WHEN conversations.status = 'open' AND conversations.assignee_id = @me THEN 1 END) AS mine,
		COUNT(CASE WHEN conversations.status = 'open' AND conversations.assignee_id IS NULL THEN 1 END) AS unassigned,
		COUNT(CASE WHEN `+queueCallBack+` THEN 1 END) AS call_back,
		COUNT(CASE WHEN `+queueWaiting+` THEN 1 END) AS waiting,
		COUNT(CASE WHEN `+queueWaiting+` AND conversations.waiting_since < @overdue THEN 1 END) AS overdue,
		COUNT(CASE WHEN conversations.status = 'snoozed' THEN 1 END) AS snoozed,
		COUNT(CASE WHEN conversations.status = 'open' THEN 1 END) AS "all",
		COUNT(CASE WHEN conversations.status = 'closed' THEN 1 END) AS closed
		FROM conversations WHERE `+where, map[string]any{"me": me, "overdue": overdueBefore.UTC()}).Scan(&row).Error
	if err != nil {
		return QueueCounts{}, fmt.Errorf("crm: count queues: %w", err)
	}
	// Unlinked from the other side: the touches without a deal (an index
	// on deal_id finds them), not an EXISTS for every conversation ever.
	unlinked := tx.Table("touches t").Joins("JOIN conversations ON conversations.id = t.conversation_id").
		Where(UnlinkedTouchOf("t"))
	err = unlinked.Scopes(VisibleConversations(u)).Select("COUNT(DISTINCT t.conversation_id)").Scan(&row.Unlinked).Error
	if err != nil {
		return QueueCounts{}, fmt.Errorf("crm: count queues: unlinked: %w", err)
	}
	out := QueueCounts{Mine: row.Mine, Unassigned: row.Unassigned, Unlinked: row.Unlinked, CallBack: row.CallBack,
		Waiting: row.Waiting, Overdue: row.Overdue, Snoozed: row.Snoozed, Closed: row.Closed}
	if u.SeesAll() {
		out.All = &row.All
	}
	return out, nil
}

// MissedCallsSince returns, for each of the conversations that has a
// missed call not called back, the time of the oldest such call.
func MissedCallsSince(tx *gorm.DB, convIDs []int64) (map[int64]time.Time, error) {
	out := map[int64]time.Time{}
	if len(convIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		ConversationID int64
		At             time.Time
	}
	// MIN over a time column comes back as text on SQLite: order instead.
	err := tx.Table("touches m").Select("m.conversation_id, m.occurred_at AS at").
		Where("m.conversation_id IN ? AND "+MissedCallPending, convIDs).Order("m.occurred_at DESC").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("crm: missed calls: %w", err)
	}
	for _, r := range rows {
		out[r.ConversationID] = r.At // the last written is the oldest
	}
	return out, nil
}

// WakeSnoozed reopens the conversations whose snooze ended at or before
// now and returns them. Each is taken with a conditional update, so two
// replicas running this at once wake each conversation once.
func WakeSnoozed(tx *gorm.DB, now time.Time, limit int) ([]Conversation, error) {
	var due []int64
	if err := tx.Model(&Conversation{}).Where("status = ? AND snoozed_until <= ?", ConvSnoozed, now.UTC()).
		Order("snoozed_until").Limit(limit).Pluck("id", &due).Error; err != nil {
		return nil, fmt.Errorf("crm: snoozed conversations: %w", err)
	}
	var out []Conversation
	for _, id := range due {
		res := tx.Model(&Conversation{}).Where("id = ? AND status = ? AND snoozed_until <= ?", id, ConvSnoozed, now.UTC()).
			Updates(map[string]any{"status": ConvOpen, "snoozed_until": nil, "updated_at": time.Now().UTC()})
		if res.Error != nil {
			return nil, fmt.Errorf("crm: wake conversation %d: %w", id, res.Error)
		}
		if res.RowsAffected == 1 {
			c, err := GetConversation(tx, id)
			if err != nil {
				return nil, err
			}
			out = append(out, c)
		}
	}
	return out, nil
}
