package ingest

import (
	"fmt"
	"strconv"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
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
