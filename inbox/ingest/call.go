package ingest

import (
	"context"
	"fmt"
	"strconv"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox/realtime"
)

// loadExtensions finds the users whose extensions answered or placed the
// batch's calls.
func (st *batchState) loadExtensions(tx *gorm.DB, items []*item) error {
	var exts []string
	for _, it := range items {
		if c := it.in.Call; c != nil && c.Extension != "" {
			exts = append(exts, c.Extension)
		}
	}
	var err error
	st.exts, err = crm.UsersByExtension(tx, exts)
	return err
}

// callAuthor is the manager who answered or placed a call: the user with
// its extension, if any.
func (b *batch) callAuthor(in *channels.Inbound) *int64 {
	if in.Call == nil || in.Call.Extension == "" {
		return nil
	}
	if id, ok := b.st.exts[in.Call.Extension]; ok {
		return &id
	}
	return nil
}

// recordings queues the fetch of the new calls' recordings, and adds the
// recording that a provider reported after its call (a repeat of the call
// with only the recording new) to the stored call.
func (b *batch) recordings(stored []int) error {
	var jobs []crm.Recording
	for _, i := range stored {
		if c := b.items[i].in.Call; c != nil && c.RecordingURL != "" {
			jobs = append(jobs, crm.Recording{TouchID: b.ps[i].touch, AccountID: b.items[i].in.AccountID, URL: c.RecordingURL})
		}
	}
	if err := crm.EnqueueRecordings(b.tx, jobs); err != nil {
		return err
	}
	for i, it := range b.items {
		c := it.in.Call
		if !b.ps[i].skip || c == nil || c.RecordingURL == "" || b.out[i].TouchID == 0 {
			continue
		}
		if _, err := crm.AddRecording(b.tx, b.out[i].TouchID, c.RecordingURL); err != nil {
			return b.fail(it, err)
		}
	}
	return nil
}

// callMeta is what the timeline shows of a call.
func callMeta(m map[string]string, c *channels.CallInfo) {
	m["call_answered"] = strconv.FormatBool(c.Answered)
	m["call_duration_s"] = fmt.Sprint(int(c.Duration.Seconds()))
	m["call_ring_s"] = fmt.Sprint(int(c.Ring.Seconds()))
	set := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	if !c.Answered {
		set("call_missed", c.Missed)
	}
	set("call_extension", c.Extension)
	set("call_queue", c.Queue)
	if c.Incomplete {
		m["call_incomplete"] = "true"
	}
	if c.RecordingURL != "" {
		m[crm.MetaRecordingURL], m[crm.MetaRecordingStatus] = c.RecordingURL, crm.RecordingPending
	}
}

// lateRecording adds a recording reported after its call (Inbound with
// Call.RecordingOnly) to the stored call, in its own transaction; with no
// stored call it is refused (the provider may retry once the call is in).
func (s *Sink) lateRecording(ctx context.Context, in *channels.Inbound) channels.Result {
	var res channels.Result
	ext := cleanKey(in.ExternalID)
	err := s.rt.Change(ctx, func(tx *gorm.DB, ev *realtime.Events) error {
		found, err := crm.TouchesByExternalID(tx, in.AccountID, []string{ext})
		if err != nil {
			return err
		}
		t, ok := found[ext]
		if !ok {
			return channels.Invalid(fmt.Errorf("no call %q to add the recording to (yet)", crm.Clip(ext, 80)))
		}
		res = channels.Result{TouchID: t.ID, Duplicate: true}
		added, err := crm.AddRecording(tx, t.ID, cleanKey(in.Call.RecordingURL))
		if err != nil || !added {
			return err
		}
		conv, err := crm.GetConversation(tx, t.ConversationID)
		if err != nil {
			return err
		}
		return ev.Add(crm.EventTouchRecording, &t.ConversationID, &t.ID, map[string]any{"status": crm.RecordingPending, "assignee_id": conv.AssigneeID})
	})
	if err != nil {
		s.log.Warn("ingest: late recording refused", "account", in.AccountID, "external_id", crm.Clip(ext, 80), "err", err)
		return channels.Result{Err: err}
	}
	return res
}
