package phone

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels"
)

// replayCallsDigest is the SHA-256 of the calls TestReplayEmitsTheSameCalls
// emits, every field of every Inbound in order (see inboundText). It was
// taken with the code of round three (commit d3fff94): a change that
// makes the adapter quicker must leave it as it is. A change of what the
// assembler emits, or of the replay, changes it: check the calls that
// differ, then write the new digest here.
const replayCallsDigest = "eb0b1070fb5cf9bd5cfd135cbac9e068b068bade79f89cbc30d432d4d3d4ec6b"

// TestReplayEmitsTheSameCalls replays 3 000 calls of BenchmarkAMI's mix
// (answered, missed, busy, queues, ring groups, transfers, outbound) with
// noise events of other channels through the AMI client's reader and the
// adapter, and compares every field of the calls emitted with the digest
// taken before the assembler was made quicker.
func TestReplayEmitsTheSameCalls(t *testing.T) {
	data, _, calls := makeReplay(60_000, 70_000)
	a, err := NewAMI(channels.Account{ID: 1, Secret: "x"}, Settings{Host: "pbx", User: "u"}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	c := newAMIClient(replayConn{bytes.NewReader(data[bytes.IndexByte(data, '\n')+1:])}, a.log, a.onEvent)
	c.readLoop()
	a.pending = a.asm.Tick(a.lastT.Add(time.Hour), a.pending)
	if len(a.pending) != calls {
		t.Fatalf("%d calls emitted, want %d", len(a.pending), calls)
	}
	h := sha256.New()
	kinds := map[string]int{}
	for _, in := range a.pending {
		h.Write([]byte(inboundText(in)))
		kinds[fmt.Sprint("outgoing=", in.Outgoing, " answered=", in.Call.Answered, " missed=", in.Call.Missed,
			" queue=", in.Call.Queue != "", " extension=", in.Call.Extension != "")]++
	}
	// The mix covers every kind of call the benchmark makes.
	if len(kinds) < 6 {
		t.Errorf("only %d kinds of calls in the replay: %v", len(kinds), kinds)

	}
	if got := hex.EncodeToString(h.Sum(nil)); got != replayCallsDigest {
		for _, in := range a.pending[:3] {
			t.Log(inboundText(in))
		}
		t.Errorf("the calls emitted changed: digest %s, want %s", got, replayCallsDigest)
	}
	if n, ch, br := a.asm.Live(); n+ch+br != 0 {
		t.Errorf("the assembler kept %d calls, %d channels, %d bridges", n, ch, br)
	}
}

// inboundText renders every field of in, and of its CallInfo, as Go
// syntax (nil and empty told apart).
func inboundText(in channels.Inbound) string {
	info := in.Call
	in.Call = nil
	if info == nil {
		return fmt.Sprintf("%#v\n", in)
	}
	return fmt.Sprintf("%#v %#v\n", in, *info)
}
