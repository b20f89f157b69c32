//go:build !amd64

package phone

func classify(b []byte, nl, colon []uint64) { classifyGo(b, nl, colon) }
