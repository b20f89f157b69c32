package phone

// classify is classifyGo (which says what it does) in SSE2, which every
// amd64 has: four 16-byte compares per byte looked for, their masks
// joined into a word (amiclass_amd64.s).
func classify(b []byte, nl, colon []uint64) {
	n := len(b) >> 6
	if n == 0 {
		return
	}
	_, _ = nl[n-1], colon[n-1] // the assembly checks no bounds
	classifySSE2(b[:n<<6], nl, colon)
}

//go:noescape
func classifySSE2(b []byte, nl, colon []uint64)
