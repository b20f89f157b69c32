package ingest

import (
	"context"
	"errors"
	"time"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
)

// Results of an inbound event, as the metrics count them.
const (
	resultStored    = "stored"
	resultDuplicate = "duplicate"
	resultRejected  = "rejected" // invalid as it is: the sender is told
	resultFailed    = "failed"   // not stored: the adapter retries
)

// measure tells the meter how a batch went: its time, and each event's
// result by its account's channel. Cursor-only events are not counted.
func (s *Sink) measure(ctx context.Context, batch []channels.Inbound, res []channels.Result, start time.Time) {
	if s.opts.Meter == nil {
		return
	}
	s.opts.Meter.IngestBatch(time.Since(start))
	type key struct{ channel, result string }
	counts := map[key]int{}
	chans := s.channelsOf(ctx, batch)
	for i := range batch {
		if cursorOnly(&batch[i]) {
			continue
		}
		r := res[i]
		result := resultStored
		switch {
		case r.Err != nil && errors.Is(r.Err, crm.ErrInvalid):
			result = resultRejected
		case r.Err != nil:
			result = resultFailed
		case r.Duplicate:
			result = resultDuplicate
		}
		counts[key{chans[batch[i].AccountID], result}]++
	}
	for k, n := range counts {
		s.opts.Meter.Ingested(k.channel, k.result, n)
	}
}

// channelsOf is the channel of each account in the batch; an unknown
// account maps to "unknown". An account's channel never changes, so each
// is read once (s.chans).
func (s *Sink) channelsOf(ctx context.Context, batch []channels.Inbound) map[int64]string {
	out := map[int64]string{}
	var list []int64
	for i := range batch {
		id := batch[i].AccountID
		if _, seen := out[id]; seen {
			continue
		}
		if c, ok := s.chans.Load(id); ok {
			out[id] = c.(string)
			continue
		}
		out[id] = "unknown"
		list = append(list, id)
	}
	if len(list) == 0 {
		return out
	}
	var accs []crm.Account
	if err := s.db.WithContext(context.WithoutCancel(ctx)).Select("id", "channel").Where("id IN ?", list).Find(&accs).Error; err != nil {
		return out
	}
	for _, a := range accs {
		out[a.ID] = a.Channel
		s.chans.Store(a.ID, a.Channel)
	}
	return out
}
