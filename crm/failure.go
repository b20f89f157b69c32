package crm

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Failure kinds of a reply that was not sent: what the UI explains in the
// user's language (the raw error stays beside it, for whoever fixes it).
const (
	FailInterrupted  = "interrupted"   // sends cut off before their result was known: it may have arrived
	FailCannotSend   = "cannot_send"   // the channel does not carry replies (a call, a web form)
	FailFirstMessage = "first_message" // WhatsApp: the chat never wrote to this number
	FailRecipient    = "recipient"     // no such recipient on this channel
	FailBlocked      = "blocked"       // the client blocked the bot, or the channel refused
	FailAuth         = "auth"          // the account's login was refused or it is unlinked
	FailAttachment   = "attachment"    // a file could not be sent
	FailRate         = "rate"          // the channel's sending limit
	FailNetwork      = "network"       // the channel could not be reached
	FailOther        = "other"
)

// errorHint is a kind of error and words of the errors that mean it.
type errorHint struct {
	kind  string
	words []string
}

// kindOf names what err means by the first hint one of whose words it
// holds (case-insensitively); other when none does, "" for no error.
func kindOf(err string, hints []errorHint, other string) string {
	if err == "" {
		return ""
	}
	e := strings.ToLower(err)
	for _, h := range hints {
		for _, w := range h.words {
			if strings.Contains(e, w) {
				return h.kind
			}
		}
	}
	return other
}

// failureHints maps words of the adapters' errors (channels/…/send.go,
// smtp.go, outbox) to a kind; the first match wins.
var failureHints = []errorHint{
	{FailInterrupted, []string{"interrupted"}},
	{FailCannotSend, []string{"cannot be answered", "cannot carry a text reply"}},
	{FailFirstMessage, []string{"never wrote to the account"}},
	{FailBlocked, []string{"blocked", "forbidden", "deactivated"}},
	{FailAuth, []string{"unauthorized", "auth", "535 5.", "logged out", "not logged in", "pairing", "credentials", "password"}},
	{FailRecipient, []string{"recipient", "not an email address", "chat not found", "user not found", "no such user", "mailbox unavailable", "550 5.", "553 5."}},
	{FailAttachment, []string{"attachment", "upload", "too large", "file"}},
	{FailRate, []string{"too many", "429", "rate limit", "limit"}},
	{FailNetwork, []string{"timeout", "deadline exceeded", "connection refused", "connection reset", "no such host", "unreachable", "eof", "not connected", "connect", "tls", "dial"}},
}

// FailureKind names what a send's last error means (FailOther when
// nothing is recognised; "" for no error).
func FailureKind(lastError string) string { return kindOf(lastError, failureHints, FailOther) }

// FailedReply is a conversation's reply that was not sent and that no
// later message to the contact has made up for.
type FailedReply struct {
	TouchID   int64  `json:"touch_id"`
	Failure   string `json:"failure"`
	LastError string `json:"last_error"`
}

// FailedReplies are the conversations among ids whose latest reply failed
// with nothing sent to the contact since (on any channel), by conversation.
func FailedReplies(tx *gorm.DB, ids []int64) (map[int64]FailedReply, error) {
	out := map[int64]FailedReply{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		ConversationID int64
		TouchID        int64
		LastError      string
	}
	err := tx.Raw(`SELECT t.conversation_id, t.id AS touch_id, COALESCE(o.last_error, '') AS last_error
		FROM touches t LEFT JOIN outbox o ON o.touch_id = t.id
		WHERE t.conversation_id IN ? AND t.direction = ? AND t.delivery_status = ? AND NOT EXISTS (
			SELECT 1 FROM touches l WHERE l.contact_id = t.contact_id AND l.direction = ? AND l.automated = FALSE
			AND l.delivery_status <> ? AND (l.occurred_at > t.occurred_at OR (l.occurred_at = t.occurred_at AND l.id > t.id)))
		ORDER BY t.occurred_at, t.id`, ids, Outbound, Failed, Outbound, Failed).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("crm: failed replies: %w", err)
	}
	for _, r := range rows { // the latest failed one of each conversation wins
		out[r.ConversationID] = FailedReply{TouchID: r.TouchID, Failure: FailureKind(r.LastError), LastError: r.LastError}
	}
	return out, nil
}

// RequeueReply puts a failed reply back in the outbox as if it were new:
// the job is due now with its attempts forgotten, the touch queued again.
// A touch that is not a failed reply with a job is ErrInvalid.
func RequeueReply(tx *gorm.DB, touchID int64, now time.Time) (OutboxJob, error) {
	var j OutboxJob
	err := tx.Where("touch_id = ?", touchID).Take(&j).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return j, Invalid("touch %d is not a reply sent through the outbox", touchID)
	}
	if err != nil {
		return j, fmt.Errorf("crm: requeue touch %d: %w", touchID, err)
	}
	if j.Status != Failed {
		return j, Invalid("the reply is %s, not failed: only a failed reply is sent again", j.Status)
	}
	res := tx.Model(&OutboxJob{}).Where("id = ? AND status = ?", j.ID, Failed).Updates(map[string]any{"status": Queued, "attempts": 0, "claims": 0,
		"next_attempt_at": now, "locked_until": nil, "last_error": "", "updated_at": now})
	if res.Error != nil {
		return j, fmt.Errorf("crm: requeue job %d: %w", j.ID, res.Error)
	}
	if res.RowsAffected == 0 {
		return j, Conflict("the reply was sent again already")
	}
	if err := tx.Model(&Touch{ID: touchID}).Update("delivery_status", Queued).Error; err != nil {
		return j, fmt.Errorf("crm: requeue touch %d: %w", touchID, err)
	}
	j.Status, j.Attempts, j.Claims, j.NextAttemptAt, j.LastError = Queued, 0, 0, now, ""
	return j, nil
}
