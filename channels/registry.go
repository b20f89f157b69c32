package channels

import (
	"encoding/json"
	"slices"
)

// Channel is what a channel package registers (one line in cmd): how to
// build an account's adapter, and the little the application must know of
// the channel without importing it.
type Channel struct {
	Kind Kind
	// New builds the adapter of an account.
	New Factory
	// HookOnly: nothing runs for an account; it receives only through its
	// webhook (POST /hooks/{kind}/{account}, served by the adapter's
	// ServeWebhook) and shows the Hook phase. The web channel.
	HookOnly bool
	// Threading, when set, makes replies threaded messages (email).
	Threading Threading
	// Check, when set, validates an account's settings as the adapter will
	// read them (unknown fields, missing required ones), so that a typo is
	// refused when the owner saves the account instead of failing for
	// ever once it runs. Its error names the field.
	Check func(settings json.RawMessage) error
}

// Threading is how a channel whose replies are threaded messages (email)
// addresses them. A chat channel has none: it has one conversation per
// account, and a reply answers the client's last message by its id.
type Threading interface {
	// MessageID is a new id for a reply written on acc, fixed when the
	// reply is queued so that a resend is the same message; the outbound
	// touch is stored under it, and a reply on another account of the
	// channel starts a new thread keyed by it.
	MessageID(acc Account) string
	// Thread sets out's subject and threading headers: the message it
	// answers (nil: none), the subject the manager typed ("" : keep the
	// thread's), and the conversation's subject.
	Thread(out *Outbound, answered *Answered, subject, convSubject string)
}

// Answered is the stored client message a reply answers.
type Answered struct {
	ExternalID string
	Subject    string
	Meta       map[string]string
}

// Registry is the channels a build speaks, by kind.
type Registry struct {
	byKind map[Kind]Channel
}

// NewRegistry registers cs; a kind registered twice keeps the last.
func NewRegistry(cs ...Channel) *Registry {
	r := &Registry{byKind: map[Kind]Channel{}}
	for _, c := range cs {
		r.byKind[c.Kind] = c
	}
	return r
}

// Get returns the registered channel of kind k.
func (r *Registry) Get(k Kind) (Channel, bool) {
	if r == nil {
		return Channel{}, false
	}
	c, ok := r.byKind[k]
	return c, ok
}

// Kinds lists the registered channels in display order.
func (r *Registry) Kinds() []Kind {
	var out []Kind
	for _, k := range Kinds {
		if _, ok := r.byKind[k]; ok {
			out = append(out, k)
		}
	}
	return slices.Clip(out)
}
