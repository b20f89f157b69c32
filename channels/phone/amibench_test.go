package phone

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels/phone/amitest"

	"github.com/switchboard/switchboard/channels"
)

// benchEvents is how many AMI events BenchmarkAMI replays.
const benchEvents = 1_000_000

var bench struct {
	once   sync.Once
	data   []byte
	events int
	calls  int
}

// benchCall writes call i of the benchmark's mix, starting at the
// script's clock: 40 % answered by an extension, 10 % missed (no answer),
// 10 % busy, 10 % answered by a queue agent through Local channels, 10 %
// abandoned in a queue, 10 % ring groups, 10 % blind transfers, with every
// 20th call outbound instead and every 25th an attended transfer.
func benchCall(s *amitest.Script, i int) {
	b1, b2 := fmt.Sprintf("b%d-1", i), fmt.Sprintf("b%d-2", i)
	sec := func(n int) time.Duration { return time.Duration(n) * time.Second }
	talk := sec(20 + i%90)
	switch {
	case i%20 == 19:
		x := s.NewChan(s.SeqName("PJSIP", "101"), "101", "Ext 101", "from-internal", "89131234567", nil)
		tr := s.NewChan(s.SeqName("PJSIP", "sipnet"), "73832349096", "", "from-internal", "89131234567", x)
		s.Dial(x, tr, "89131234567@sipnet")
		s.At(sec(5)).Answer(x, tr, b1)
		s.At(talk).Leave(b1, tr, x)
		s.Hangup(tr, x)
		return
	case i%25 == 24:
		in := s.TrunkIn(caller, "Ivan Petrov", did)
		x1 := s.At(sec(1)).Ext(in, "101")
		s.At(sec(4)).Answer(in, x1, b1)
		x1b := s.At(sec(10)).NewChan(s.SeqName("PJSIP", "101"), "101", "Ext 101", "from-internal", "102", nil)
		x2 := s.Ext(x1b, "102")
		s.At(sec(5)).Answer(x1b, x2, b2)
		s.At(sec(5)).Ev("AttendedTransfer", amitest.Cat(amitest.Cat(amitest.Cat(x1.Snap("OrigTransferer"), x1b.Snap("SecondTransferer")...),
			in.Snap("Transferee")...), "Result: Success", "DestType: Bridge", "DestBridgeUniqueid: "+b2)...)
		s.Leave(b1, x1, in)
		s.Leave(b2, x1b)
		s.Hangup(x1, x1b)
		s.Enter(b2, in)
		s.At(talk).Leave(b2, in, x2)
		s.Hangup(x2, in)
		return
	}
	in := s.TrunkIn(fmt.Sprintf("7913%07d", i%10_000_000), "Caller", did)
	switch i % 10 {
	case 0, 1, 2, 3:
		x := s.At(sec(1)).Ext(in, "101")
		s.At(sec(4)).Answer(in, x, b1)
		s.At(talk).Leave(b1, x, in)
		s.Hangup(x, in)
	case 4, 5:
		x := s.At(sec(1)).Ext(in, "102")
		st := "NOANSWER"
		if i%10 == 5 {
			st = "BUSY"
		}
		s.At(sec(15)).DialEnd(in, x, st)
		s.Hangup(x)
		s.At(sec(2)).Hangup(in)
	case 6, 7:
		s.QueueJoin(in, "400")
		l1, l2 := s.At(sec(2)).Local(in, "103", "from-queue")
		x := s.Ext(l2, "103")
		if i%10 == 7 {
			s.At(sec(12)).QueueAbandon(in, "400", 14)
			s.DialEnd(in, l1, "CANCEL")
			s.DialEnd(l2, x, "CANCEL")
			s.Hangup(x, l2, l1, in)
			return
		}
		s.At(sec(6)).Answer(l2, x, b2)
		s.DialEnd(in, l1, "ANSWER")
		s.AgentConnect(in, l1, "400", "Local/103@from-queue/n", "Anna", 8, 6)
		s.Enter(b1, in, l1)
		s.At(talk).Leave(b1, in, l1)
		s.Leave(b2, x, l2)
		s.Hangup(in, l1, l2, x)
	case 8:
		x1, x2, x3 := s.Ext(in, "101"), s.Ext(in, "102"), s.Ext(in, "103")
		s.At(sec(6)).Answer(in, x2, b1)
		s.DialEnd(in, x1, "CANCEL")
		s.DialEnd(in, x3, "CANCEL")
		s.Hangup(x1, x3)
		s.At(talk).Leave(b1, x2, in)
		s.Hangup(x2, in)
	case 9:
		x1 := s.At(sec(1)).Ext(in, "101")
		s.At(sec(4)).Answer(in, x1, b1)
		s.At(sec(30)).Ev("BlindTransfer", amitest.Cat(amitest.Cat(x1.Snap("Transferer"), in.Snap("Transferee")...), "Result: Success", "Extension: 102")...)
		s.Leave(b1, x1, in)
		s.Hangup(x1)
		x2 := s.Ext(in, "102")
		s.At(sec(3)).Answer(in, x2, b2)
		s.At(talk).Leave(b2, x2, in)
		s.Hangup(x2, in)
	}
}

// benchData generates the replay once (see makeReplay).
func benchData() ([]byte, int, int) {
	bench.once.Do(func() {
		bench.data, bench.events, bench.calls = makeReplay(benchEvents*85/100, benchEvents)
	})
	return bench.data, bench.events, bench.calls
}

// makeReplay generates a replay of calls (benchCall) starting every 1.2 s
// (about 80 in progress at any time) until they made callEvents events,
// then noise events for other channels up to events in all, everything
// ordered by time as a PBX would send it, after the banner. It returns
// the bytes, the events and the calls.
func makeReplay(callEvents, events int) ([]byte, int, int) {
	type ev struct {
		at    int64
		block string
	}
	var evs []ev
	s := amitest.NewScript()
	start := amitest.T0
	calls := 0
	for len(evs) < callEvents {
		s.Now = start
		benchCall(s, calls)
		for j, b := range s.Blocks {
			evs = append(evs, ev{s.Stamps[j], b})
		}
		s.Take()
		calls++
		start = start.Add(1200 * time.Millisecond)
	}
	end := start.Sub(amitest.T0)
	for i := 0; len(evs) < events; i++ {
		s.Now = amitest.T0.Add(time.Duration(int64(end) * int64(i%9973) / 9973))
		s.Noise(i)
		evs = append(evs, ev{s.Stamps[0], s.Blocks[0]})
		s.Take()
	}
	slices.SortStableFunc(evs, func(a, b ev) int { return int(a.at - b.at) })
	var buf bytes.Buffer
	buf.WriteString("Asterisk Call Manager/9.0.0\r\n")
	for _, e := range evs {
		for l := range bytes.SplitSeq([]byte(e.block), []byte("\n")) {
			buf.Write(l)
			buf.WriteString("\r\n")
		}
		buf.WriteString("\r\n")
	}
	return buf.Bytes(), len(evs), calls
}

// floorSplit reads data and splits it into events, nothing more.
func floorSplit(data []byte) int {
	r := bufio.NewReaderSize(bytes.NewReader(data), maxLine)
	n, lines := 0, 0
	for {
		l, err := r.ReadSlice('\n')
		if err != nil {
			return n
		}
		for len(l) > 0 && (l[len(l)-1] == '\n' || l[len(l)-1] == '\r' || l[len(l)-1] == ' ') {
			l = l[:len(l)-1]
		}
		if len(l) == 0 {
			if lines > 0 {
				n++
			}
			lines = 0
			continue
		}
		lines++
	}
}

// report gives events/s by the wall clock and by the CPU time used.
func report(b *testing.B, events int, cpu time.Duration) {
	n := float64(events) * float64(b.N)
	b.ReportMetric(n/b.Elapsed().Seconds(), "events/s")
	if cpu > 0 {
		b.ReportMetric(n/cpu.Seconds(), "events/cpu-s")
	}
}

type replayConn struct{ io.Reader }

func (replayConn) Write(p []byte) (int, error) { return len(p), nil }
func (replayConn) Close() error                { return nil }

// BenchmarkAMI replays 1 000 000 AMI events (about 50 000 calls) through
// (a) a floor that only splits the bytes into events and (b) the
// adapter's own path: the client's reader and the assembler, up to the
// finished calls handed to ingest. (b) runs two ways: "sink", as the
// adapter runs, its own deliverLoop handing the finished calls to a sink
// that counts them and drops them; and "queued", as the first three
// rounds measured it, every finished call left queued in a.pending until
// the end of the replay (the adapter never lets them pile up so). Both
// check the calls delivered and report events/s, the assembler's state
// after the run (0 calls, 0 channels) and the heap kept.
func BenchmarkAMI(b *testing.B) {
	data, events, calls := benchData()
	b.Logf("replay: %d events, %d calls, %d MB", events, calls, len(data)>>20)
	b.Run("floor", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		cpu := cpuTime()
		for b.Loop() {
			if n := floorSplit(data); n != events {
				b.Fatalf("split %d events, want %d", n, events)
			}
		}
		report(b, events, cpuTime()-cpu)
	})
	b.Run("client+assembler", func(b *testing.B) {
		b.Run("sink", func(b *testing.B) { benchAdapter(b, data, events, calls, replayToSink) })
		b.Run("queued", func(b *testing.B) { benchAdapter(b, data, events, calls, replayQueued) })
	})
}

// benchAdapter times replay of data (after its banner) through a new
// adapter, checks the calls delivered, and reports the assembler's state
// and the heap kept after the run.
func benchAdapter(b *testing.B, data []byte, events, calls int, replay func(*AMI, []byte) int) {
	b.SetBytes(int64(len(data)))
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	before := ms.HeapAlloc
	var a *AMI
	cpu := cpuTime()
	for b.Loop() {
		a, _ = NewAMI(channels.Account{ID: 1, Secret: "x"}, Settings{Host: "pbx", User: "u"}, slog.New(slog.DiscardHandler))
		if n := replay(a, data[bytes.IndexByte(data, '\n')+1:]); n != calls {
			b.Fatalf("%d calls delivered, want %d", n, calls)
		}
	}
	report(b, events, cpuTime()-cpu)
	liveCalls, liveChans, liveBridges := a.asm.Live()
	b.ReportMetric(float64(liveCalls), "live-calls")
	b.ReportMetric(float64(liveChans), "live-channels")
	b.ReportMetric(float64(liveBridges), "live-bridges")
	runtime.GC()
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(int64(ms.HeapAlloc)-int64(before))/1024, "heap-kept-KiB")
	if liveCalls+liveChans+liveBridges != 0 {
		b.Errorf("the assembler kept %d calls, %d channels, %d bridges after every call ended", liveCalls, liveChans, liveBridges)
	}
}

// replayQueued reads body through the client into a, every finished call
// left queued in a.pending, and returns how many were queued.
func replayQueued(a *AMI, body []byte) int {
	c := newAMIClient(replayConn{bytes.NewReader(body)}, a.log, a.onEvent)
	c.readLoop()
	a.pending = a.asm.Tick(a.lastT.Add(time.Hour), a.pending)
	n := len(a.pending)
	a.pending = nil
	return n
}

// countSink counts the calls handed to it and drops them.
type countSink struct {
	mu sync.Mutex
	n  int
}

func (s *countSink) Ingest(ctx context.Context, batch []channels.Inbound) ([]channels.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n += len(batch)
	return nil, nil
}

// replayToSink reads body through the client into a while a's own
// deliverLoop hands the finished calls to a counting sink, as Run does;
// it returns how many calls the sink received.
func replayToSink(a *AMI, body []byte) int {
	sink := &countSink{}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.deliverLoop(ctx, sink)
	}()
	c := newAMIClient(replayConn{bytes.NewReader(body)}, a.log, a.onEvent)
	c.readLoop()
	a.mu.Lock()
	a.pending = a.asm.Tick(a.lastT.Add(time.Hour), a.pending) // the last calls' grace
	a.mu.Unlock()
	stop() // deliverLoop hands what is left to the sink and returns
	<-done
	sink.mu.Lock()
	defer sink.mu.Unlock()
	return sink.n
}
