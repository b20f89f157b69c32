package server

// Queue counters (docs/BENCHMARKS.md):
//
//	go test ./inbox/ -run '^$' -bench 'QueueCounts' -benchtime 20x
//
// BenchmarkQueueCounts counts every queue (GET /api/v1/queues/counts, which
// each screen asks again after live events) on a database of 50 000 calls
// from 30 000 numbers, a third missed, four conversations in five closed;
// its floor is the bare scan of the same table, one COUNT over conversations.

import (
	"fmt"
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
)

func queueBenchApp(b *testing.B) (*testApp, crm.User) {
	b.Helper()
	ta := newTestApp(b)
	acc := ta.account("phone", "pbx")
	mgr := ta.user("m@example.ru", crm.Manager)
	calls := benchEnvInt("SWITCHBOARD_BENCH_QUEUE_CALLS", 50000)
	n := 0
	for n < calls {
		var batch []channels.Inbound
		for i := 0; i < 500 && n < calls; i++ {
			n++
			batch = append(batch, channels.Inbound{AccountID: acc.ID, ExternalID: fmt.Sprint("c", n), Kind: channels.Call,
				At:   time.Now().Add(-time.Duration(calls-n) * time.Minute),
				From: []channels.Handle{{Kind: "phone", Value: fmt.Sprintf("+7913%07d", n%30000)}}, Call: &channels.CallInfo{Answered: n%3 != 0}})
		}
		ta.ingest(batch...)
	}
	if err := ta.db.Exec("UPDATE conversations SET status = 'closed' WHERE id % 5 <> 0").Error; err != nil {
		b.Fatal(err)
	}
	return ta, mgr
}

func BenchmarkQueueCounts(b *testing.B) {
	ta, mgr := queueBenchApp(b)
	b.Run("lead", func(b *testing.B) {
		for range b.N {
			if _, err := crm.CountQueues(ta.db, crm.User{ID: mgr.ID, Role: crm.Lead}, time.Now().Add(-30*time.Minute)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("manager", func(b *testing.B) {
		for range b.N {
			if _, err := crm.CountQueues(ta.db, mgr, time.Now().Add(-30*time.Minute)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("floor", func(b *testing.B) {
		for range b.N {
			var n int64
			if err := ta.db.Raw("SELECT COUNT(CASE WHEN status = 'open' THEN 1 END) FROM conversations").Scan(&n).Error; err != nil {
				b.Fatal(err)
			}
		}
	})
}
