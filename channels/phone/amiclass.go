package phone

import (
	"encoding/binary"
	"math/bits"
)

// The reader finds line endings and colons in bitmaps of its buffer, one
// bit per byte, made 64 bytes at a time (classify: SSE2 on amd64, the
// portable classifyGo elsewhere) instead of looking for both bytes in
// every line: most lines of a channel snapshot are 15 to 40 bytes, and a
// search started per line pays its setup every time.
//
// From the colons, lines: a line starts at the beginning of the buffer
// (the reader's buffer always begins at the start of a line) and after
// each '\n'. Adding a line's start bit to a word that has ones for every
// byte that is neither ':' nor '\n' carries through the line's bytes up
// to its first colon or its line ending, and sets that bit: so the sum,
// masked with the colons, has the first colon of each line, and masked
// with the line endings, the ends of lines that have no colon (and of
// empty ones). A carry out of one word goes into the next.

// lineState carries what one block of bitmaps leaves to the next: whether
// its last byte ended a line, and the addition's carry.
type lineState struct{ start, carry uint64 }

// lines turns colon, whose blocks classify made with nl, into the first
// colon of each line, and sets noColon's bits at the ends of lines with no
// colon, from the state st the blocks before left; it returns the state
// after them.
func lines(nl, colon, noColon []uint64, st lineState) lineState {
	for k, n := range nl {
		c := colon[k]
		sum, carry := bits.Add64(n<<1|st.start, ^(c | n), st.carry)
		colon[k], noColon[k] = sum&c, sum&n
		st = lineState{n >> 63, carry}
	}
	return st
}

// classifyGo sets, for each 64-byte block k of b (len(b) a multiple of
// 64), bit j of nl[k] when b[64k+j] is '\n', and of colon[k] when it is
// ':'.
func classifyGo(b []byte, nl, colon []uint64) {
	for k := 0; k+64 <= len(b); k += 64 {
		var n, c uint64
		for j := 0; j < 64; j += 8 {
			x := binary.LittleEndian.Uint64(b[k+j:])
			n |= packHighs(exactZero(x^(ones*'\n'))) << j
			c |= packHighs(exactZero(x^(ones*':'))) << j
		}
		nl[k>>6], colon[k>>6] = n, c
	}
}

// exactZero has the high bit set in each zero byte of x, and only there.
func exactZero(x uint64) uint64 {
	const lows = ^uint64(highs)
	return ^((x&lows + lows) | x | lows)
}

// packHighs gathers the high bit of each byte of y (the rest zero) into
// the low eight bits, byte i's in bit i.
func packHighs(y uint64) uint64 { return (y >> 7) * 0x0102040810204080 >> 56 }
