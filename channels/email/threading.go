package email

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/switchboard/switchboard/channels"
)

// Channel registers email: IMAP in, SMTP out, replies threaded by
// Message-ID (RFC 5322 In-Reply-To and References).
func Channel() channels.Channel {
	return channels.Channel{Kind: channels.Email, New: New, Threading: threading{}, Check: func(raw json.RawMessage) error {
		_, err := ParseSettings(raw)
		return err
	}}
}

// threading addresses replies as messages of the client's thread.
type threading struct{}

// MessageID is a new Message-ID on the account's domain.
func (threading) MessageID(acc channels.Account) string {
	var s struct {
		Address string `json:"address"`
	}
	json.Unmarshal(acc.Settings, &s)
	domain := "switchboard.local"
	if _, d, ok := strings.Cut(s.Address, "@"); ok && d != "" {
		domain = d
	}
	b := make([]byte, 12)
	rand.Read(b)
	return "sb." + hex.EncodeToString(b) + "@" + domain
}

// Thread puts the reply under the message it answers (In-Reply-To, and
// References extended by it) and gives it the thread's subject with "Re: ".
func (threading) Thread(ob *channels.Outbound, answered *channels.Answered, subject, convSubject string) {
	ob.Subject = strings.TrimSpace(subject)
	if answered != nil {
		parent := answered.Meta["message_id"]
		if parent == "" && answered.ExternalID != "" && !strings.HasPrefix(answered.ExternalID, "imap:") {
			parent = answered.ExternalID
		}
		if parent != "" {
			ob.InReplyTo = parent
			ob.References = append(strings.Fields(answered.Meta["references"]), parent)
		}
		if ob.Subject == "" {
			ob.Subject = answered.Subject
		}
	}
	if ob.Subject == "" {
		ob.Subject = convSubject
	}
	if ob.Subject != "" && !strings.HasPrefix(strings.ToLower(ob.Subject), "re:") {
		ob.Subject = "Re: " + ob.Subject
	}
}
