package phone

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/switchboard/switchboard/channels"
)

// Bounds of what a cloud adapter remembers between requests. Memory is
// only a help: a call whose early events were forgotten (a restart, an
// eviction) is still stored from its final event, with less detail.
const (
	maxSeen    = 20000            // verified requests remembered for replay detection
	maxCalls   = 10000            // calls in progress, and recently stored calls
	callMemory = 12 * time.Hour   // how long a call in progress is remembered
	doneMemory = 24 * time.Hour   // how long a stored call is remembered (late recordings)
	rawLimit   = 16               // raw requests kept per call
	futureSkew = 5 * time.Minute  // how far ahead of our clock a signed time may be
	eventAge   = 1 * time.Hour    // how old a provider's signed event time may be
	tzSlack    = 14 * time.Hour   // a time without zone may be off by a whole zone
	echoLimit  = 256              // longest zd_echo value answered
	maxIDLen   = 200              // longest provider call id accepted
	maxNumLen  = 64               // longest phone number or extension accepted
	maxURLLen  = 4096             // longest recording URL accepted
	maxSkewGen = 5 * time.Minute  // the generic hook's timestamp skew, as the web channel's
	seenGen    = 2*maxSkewGen + 1 // a generic request replays while its timestamp passes
)

// rawRequest is one request of a call as it arrived, kept in
// Inbound.Meta["raw"] (a JSON array) so that a corrected mapper can
// replay it.
type rawRequest struct {
	Path        string `json:"path"`
	ContentType string `json:"content_type"`
	Body        string `json:"body"`
}

// seenSet remembers verified requests until they expire, bounded: the
// oldest are forgotten first.
type seenSet struct {
	mu    sync.Mutex
	until map[string]time.Time
	order []string
	max   int
}

func newSeenSet(max int) *seenSet {
	return &seenSet{until: map[string]time.Time{}, max: max}
}

// claim records key for ttl and reports whether it was new (or expired).
func (s *seenSet) claim(key string, now time.Time, ttl time.Duration) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.until[key]; ok && now.Before(t) {
		return false
	}
	if _, ok := s.until[key]; !ok {
		s.order = append(s.order, key)
	}
	s.until[key] = now.Add(ttl)
	for len(s.until) > s.max && len(s.order) > 0 {
		delete(s.until, s.order[0])
		s.order = s.order[1:]
	}
	if len(s.order) > 2*s.max { // keys forgotten by forget still queue
		s.compact()
	}
	return true
}

// forget drops key: the request it names was not stored, so its retry must
// pass.
func (s *seenSet) forget(key string) {
	s.mu.Lock()
	delete(s.until, key)
	s.mu.Unlock()
}

func (s *seenSet) compact() {
	kept := s.order[:0]
	for _, k := range s.order {
		if _, ok := s.until[k]; ok {
			kept = append(kept, k)
		}
	}
	s.order = kept
}

// partial is what the early events of a call in progress said.
type partial struct {
	From, To   string // caller and called number as on the wire
	Extension  string
	Queue      string
	Outgoing   bool
	Started    time.Time
	Answered   time.Time
	Raw        []rawRequest
	rememberAt time.Time
}

// doneCall is what a stored call's late recording needs to be stored.
type doneCall struct {
	From       []channels.Handle
	EntryPoint string
	Outgoing   bool
	until      time.Time
}

// memory holds calls in progress and recently stored calls, by
// ExternalID.
type memory struct {
	mu    sync.Mutex
	calls map[string]*partial
	done  map[string]doneCall
	order []string
	max   int
	ttl   time.Duration
}

func newMemory(max int, ttl time.Duration) *memory {
	return &memory{calls: map[string]*partial{}, done: map[string]doneCall{}, max: max, ttl: ttl}
}

// note adds an early event to the call id: update fills what it says, and
// q's raw request is kept.
func (m *memory) note(id string, q *hookRequest, update func(p *partial)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.calls[id]
	if !ok || q.now.Sub(p.rememberAt) > m.ttl {
		p = &partial{}
		m.calls[id] = p
		m.order = append(m.order, id)
	}
	p.rememberAt = q.now
	update(p)
	if len(p.Raw) < rawLimit {
		p.Raw = append(p.Raw, q.raw())
	}
	m.evict()
}

// peek returns a copy of what is known of call id (zero when nothing).
func (m *memory) peek(id string, now time.Time) partial {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.calls[id]
	if !ok || now.Sub(p.rememberAt) > m.ttl {
		return partial{}
	}
	c := *p
	c.Raw = append([]rawRequest(nil), p.Raw...)
	return c
}

// finished forgets the call in progress that in stored, and remembers who
// it was with for a recording reported later.
func (m *memory) finished(in *channels.Inbound, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.calls, in.ExternalID)
	if len(in.From) == 0 {
		return
	}
	if _, ok := m.done[in.ExternalID]; !ok {
		m.order = append(m.order, in.ExternalID)
	}
	m.done[in.ExternalID] = doneCall{From: in.From, EntryPoint: in.EntryPoint, Outgoing: in.Outgoing, until: now.Add(doneMemory)}
	m.evict()
}

// forget drops what is known of call id in progress (an internal call).
func (m *memory) forget(id string) {
	m.mu.Lock()
	delete(m.calls, id)
	m.mu.Unlock()
}

// stored returns who a recently stored call was with.
func (m *memory) stored(id string, now time.Time) (doneCall, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.done[id]
	if !ok || now.After(d.until) {
		return doneCall{}, false
	}
	return d, true
}

// evict forgets the oldest entries past max.
func (m *memory) evict() {
	for len(m.calls)+len(m.done) > m.max && len(m.order) > 0 {
		id := m.order[0]
		m.order = m.order[1:]
		delete(m.calls, id)
		delete(m.done, id)
	}
	if len(m.order) > 4*m.max {
		kept := m.order[:0]
		seen := map[string]bool{}
		for _, id := range m.order {
			_, a := m.calls[id]
			_, b := m.done[id]
			if (a || b) && !seen[id] {
				kept = append(kept, id)
				seen[id] = true
			}
		}
		m.order = kept
	}
}

// setRaw puts the call's raw requests into in.Meta["raw"].
func setRaw(in *channels.Inbound, raw []rawRequest) {
	b, err := json.Marshal(raw)
	if err != nil {
		return // strings only: cannot fail
	}
	if in.Meta == nil {
		in.Meta = map[string]string{}
	}
	in.Meta["raw"] = string(b)
}
