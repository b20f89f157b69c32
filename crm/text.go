package crm

import (
	"strings"
	"unicode/utf8"
)

// PreviewLen is how many characters of a touch a conversation's list line shows.
const PreviewLen = 200

// Clip shortens s to at most n runes, never splitting a character, and
// marks the cut with an ellipsis.
func Clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

// FirstNonEmpty is the first of ss that is not blank, trimmed.
func FirstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return ""
}

// Preview is a conversation's list line for a touch: the first non-blank
// of parts (text, subject, kind), clipped to PreviewLen.
func Preview(parts ...string) string { return Clip(FirstNonEmpty(parts...), PreviewLen) }

// StripNUL removes NUL characters, which PostgreSQL text cannot hold.
func StripNUL(s string) string { return strings.ReplaceAll(s, "\x00", "") }

// KeyStrings are keys as "kind:value", for audit rows and logs.
func KeyStrings(keys []Key) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.String()
	}
	return out
}
