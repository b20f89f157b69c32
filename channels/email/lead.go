package email

import (
	"bytes"
	"mime"
	"strings"
)

// trimLead drops what comes before the first header line in mail found in
// the wild: a UTF-8 byte order mark, blank lines, indentation, and an mbox
// "From " separator line (RFC 4155) left by an export. Any of them makes
// the first line no header, and the whole message unreadable.
func trimLead(raw []byte) []byte {
	raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
	for {
		raw = bytes.TrimLeft(raw, " \t\r\n")
		if !bytes.HasPrefix(raw, []byte("From ")) {
			return raw
		}
		i := bytes.IndexByte(raw, '\n')
		if i < 0 {
			return raw
		}
		raw = raw[i+1:]
	}
}

// repairContentType quotes the parameter values that need quotes and
// lack them, as Outlook writes boundary=----=_NextPart_000_0001_01DA….
// It reports whether the result parses.
func repairContentType(v string) (string, bool) {
	parts := strings.Split(v, ";")
	for i := 1; i < len(parts); i++ {
		k, val, ok := strings.Cut(parts[i], "=")
		val = strings.TrimSpace(val)
		if !ok || val == "" || strings.HasPrefix(val, `"`) {
			continue
		}
		parts[i] = k + `="` + strings.ReplaceAll(val, `"`, `\"`) + `"`
	}
	fixed := strings.Join(parts, ";")
	_, _, err := mime.ParseMediaType(fixed)
	return fixed, err == nil
}
