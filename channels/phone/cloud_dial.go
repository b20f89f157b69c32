package phone

import (
	"sync"
	"time"

	"github.com/switchboard/switchboard/channels"
)

// dialWait is how long a click-to-call the provider accepted may ring the
// manager before it is reported failed: a cloud PBX reports the answer only
// through its call events, and says nothing when nobody answers.
const dialWait = 2 * time.Minute

// dialNews is what a hook request says about a click-to-call in flight:
// the manager answered (Connected), or it failed.
type dialNews struct {
	key   string // the provider's key of the attempt (dialer.dialKey)
	state channels.DialState
	msg   string
}

// dialBook holds the click-to-calls in flight until their final state,
// which comes from the hook (the manager answered, the provider gave up)
// or from the timeout.
type dialBook struct {
	mu      sync.Mutex
	pending map[string]*pendingDial
	wait    time.Duration
}

type pendingDial struct {
	req      channels.DialRequest
	accepted bool
	timer    *time.Timer
}

func newDialBook(wait time.Duration) *dialBook {
	return &dialBook{pending: map[string]*pendingDial{}, wait: wait}
}

// add registers an attempt before it is sent: its events may arrive before
// the provider's answer to the request.
func (b *dialBook) add(key string, req channels.DialRequest) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if old, ok := b.pending[key]; ok {
		old.timer.Stop()
		progress(old.req, channels.DialFailed, "replaced by a newer call to the same number")
	}
	p := &pendingDial{req: req}
	p.timer = time.AfterFunc(b.wait, func() {
		b.resolve(dialNews{key: key, state: channels.DialFailed, msg: "the manager did not answer within " + b.wait.String()})
	})
	b.pending[key] = p
}

// accepted reports Ringing once the provider accepted the attempt, unless
// its final state came first.
func (b *dialBook) accepted(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if p, ok := b.pending[key]; ok && !p.accepted {
		p.accepted = true
		progress(p.req, channels.DialRinging, "")
	}
}

// resolve reports n's final state for the attempt it names, if it is in
// flight; it reports whether it was.
func (b *dialBook) resolve(n dialNews) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	p, ok := b.pending[n.key]
	if !ok {
		return false
	}
	p.timer.Stop()
	delete(b.pending, n.key)
	progress(p.req, n.state, n.msg)
	return true
}

// drop forgets an attempt the provider refused (reported by the caller).
func (b *dialBook) drop(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if p, ok := b.pending[key]; ok {
		p.timer.Stop()
		delete(b.pending, key)
	}
}
