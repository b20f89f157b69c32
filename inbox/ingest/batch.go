package ingest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox/realtime"
)

// ingest stores a batch of inbound events: each becomes one touch, tied to
// a contact, an entry point and its ad source, a conversation and, by the
// deal-link rules, a deal. The whole batch is one transaction with the
// account cursor; an event delivered before is reported as a duplicate and
// stores nothing. An event that fails validation gets its error in its
// Result and is logged; the rest of the batch is stored. Events are
// published to the hub after commit. The returned error is set only when
// nothing could be stored (the database is down, ctx ended).
func (s *Sink) ingest(ctx context.Context, batch []channels.Inbound) ([]channels.Result, error) {
	results := make([]channels.Result, len(batch))
	items := make([]*item, 0, len(batch))
	cursors := map[int64]string{}
	regs, err := s.loadRegions(ctx, batch)
	if err != nil {
		for i := range results {
			results[i].Err = err
		}
		s.log.Error("ingest: not stored", "size", len(batch), "err", err)
		return results, err
	}
	for i := range batch {
		in := &batch[i]
		if in.Cursor != "" {
			cursors[in.AccountID] = in.Cursor
		}
		if cursorOnly(in) {
			continue // stored with the batch's cursor
		}
		if in.Call != nil && in.Call.RecordingOnly {
			results[i] = s.lateRecording(ctx, in)
			continue
		}
		var it *item
		var err error
		if unreadable(in) {
			it, err = s.prepareUnreadable(ctx, in)
		} else {
			it, err = s.prepare(ctx, in, regs)
		}
		if err != nil {
			results[i].Err = err
			s.log.Warn("ingest: rejected", "account", in.AccountID, "external_id", crm.Clip(in.ExternalID, 80), "err", err)
			continue
		}
		it.idx = i
		items = append(items, it)
	}
	if err := s.checkAccounts(ctx, items, results); err != nil {
		return results, err
	}
	live := items[:0]
	for _, it := range items {
		if results[it.idx].Err == nil {
			live = append(live, it)
		}
	}
	err = s.ingestTx(ctx, live, cursors, results)
	switch {
	case err != nil && len(live) > 1 && ctx.Err() == nil:
		s.log.Warn("ingest: batch failed, retrying one by one", "size", len(live), "err", err)
		err = s.oneByOne(ctx, live, results)
	case err != nil:
		for _, it := range live {
			results[it.idx].Err = err
		}
		s.log.Error("ingest: not stored", "size", len(live), "err", err)
	}
	return results, err
}

// oneByOne stores items one transaction each, after their batch failed:
// one bad event must not cost the batch. An account's cursor does not
// pass an event that could not be stored. It returns an error only when
// none was stored.
func (s *Sink) oneByOne(ctx context.Context, items []*item, results []channels.Result) error {
	stored := 0
	var lastErr error
	failed := map[int64]bool{} // accounts whose cursor must not pass a lost event
	for _, it := range items {
		cur := cursorOf(it)
		if failed[it.in.AccountID] {
			cur = nil
		}
		if err := s.ingestTx(ctx, []*item{it}, cur, results); err != nil {
			failed[it.in.AccountID] = true
			results[it.idx].Err = err
			lastErr = err
			s.log.Error("ingest: event not stored", "account", it.in.AccountID, "external_id", crm.Clip(it.in.ExternalID, 80), "err", err)
			continue
		}
		stored++
	}
	if stored == 0 {
		return lastErr
	}
	return nil
}

func cursorOf(it *item) map[int64]string {
	if it.in.Cursor == "" {
		return nil
	}
	return map[int64]string{it.in.AccountID: it.in.Cursor}
}

// ingestTx stores items in one transaction, retrying when a concurrent
// writer created the same contact or touch first. The touches' events are
// the transaction's last statement and reach the hub after commit.
func (s *Sink) ingestTx(ctx context.Context, items []*item, cursors map[int64]string, results []channels.Result) error {
	if len(items) == 0 && len(cursors) == 0 {
		return nil
	}
	var (
		out []channels.Result
		err error
	)
	for attempt := 0; ; attempt++ {
		out = make([]channels.Result, len(items))
		err = s.rt.Transact(ctx, func(tx *gorm.DB, pub *realtime.Publication) error {
			var evs []crm.Event
			if err := s.storeAll(tx, items, out, &evs); err != nil {
				return err
			}
			for acc, c := range cursors {
				if err := crm.SetCursor(tx, acc, c); err != nil {
					return fmt.Errorf("cursor: %w", err)
				}
			}
			return s.rt.Write(tx, evs, pub)
		})
		if err == nil || attempt >= 5 || !retryable(err) || ctx.Err() != nil {
			break
		}
		s.log.Debug("ingest: retrying after a concurrent write", "attempt", attempt+1, "err", err)
		time.Sleep(time.Duration(attempt+1) * 5 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	for i, it := range items {
		results[it.idx] = out[i]
	}
	return nil
}

// storeAll stores items in tx, the unreadable mail apart from the touches,
// filling out (parallel to items) and the touches' events.
func (s *Sink) storeAll(tx *gorm.DB, items []*item, out []channels.Result, evs *[]crm.Event) error {
	var touches, mail []*item
	var ti, mi []int
	for i, it := range items {
		if it.mail != nil {
			mail, mi = append(mail, it), append(mi, i)
		} else {
			touches, ti = append(touches, it), append(ti, i)
		}
	}
	if len(touches) > 0 {
		res, e, err := s.store(tx, touches)
		if err != nil {
			return err
		}
		for j, i := range ti {
			out[i] = res[j]
		}
		*evs = e
	}
	res := make([]channels.Result, len(mail))
	if err := keepUnreadable(tx, mail, res); err != nil {
		return err
	}
	for j, i := range mi {
		out[i] = res[j]
	}
	return nil
}

// retryable reports errors a retry of the whole transaction resolves: a
// unique key taken by a concurrent ingest, a serialization failure or
// deadlock, a busy SQLite.
func retryable(err error) bool {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "SQLSTATE 40001") || strings.Contains(s, "SQLSTATE 40P01") ||
		strings.Contains(s, "database is locked") || strings.Contains(s, "SQLITE_BUSY")
}
