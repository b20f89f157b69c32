package email

import (
	"bytes"
	"mime"
	"regexp"
	"slices"
	"strings"
)

// mendMIME repairs the structure of a message before it is read, the way
// mail programs forgive it (issue 15, items 2 and 3), and returns raw
// itself when there is nothing to repair:
//
//   - a header parameter folded onto a line without leading white space
//     (Content-Type: application/pdf;⏎name="a.pdf") is folded properly,
//     instead of losing the part;
//   - a header followed by its text with no blank line between gets the
//     blank line, when no header field follows the first line that is not
//     one (a junk line between header fields stays for the lenient header
//     reader);
//   - a multipart inside a multipart with the same boundary: every part
//     is read as the outer one's, so the closing delimiters before the
//     last one are dropped (the inner multipart is then empty, and walk
//     skips it).
func mendMIME(raw []byte) []byte {
	type edit struct {
		from, to int    // the bytes of raw replaced
		with     []byte // by these
	}
	var edits []edit
	declared := map[string]int{}
	closes := map[string][]edit{} // boundary → its closing lines
	line := func(at int) []byte {
		if i := bytes.IndexByte(raw[at:], '\n'); i >= 0 {
			return raw[at : at+i+1]
		}
		return raw[at:]
	}
	pos, inHeader := 0, true
	for pos < len(raw) {
		if inHeader {
			var block [][]byte
			end := pos
			for end < len(raw) {
				l := line(end)
				if blankLine(l) || (len(block) > 0 && delimiterOf(l, declared) != "") {
					break
				}
				block = append(block, l)
				end += len(l)
			}
			if fixed, ok := mendHeader(block); ok {
				edits = append(edits, edit{pos, end, bytes.Join(fixed, nil)})
				block = fixed
			}
			if b := boundaryOf(block); b != "" {
				declared[b]++
			}
			pos, inHeader = end, false
			continue
		}
		l := line(pos)
		if delimiterOf(l, declared) != "" {
			inHeader = true
		} else if b := closeOf(l, declared); b != "" {
			closes[b] = append(closes[b], edit{from: pos, to: pos + len(l)})
		}
		pos += len(l)
	}
	for b, n := range declared {
		if n > 1 && len(closes[b]) > 1 {
			edits = append(edits, closes[b][:len(closes[b])-1]...)
		}
	}
	if len(edits) == 0 {
		return raw
	}
	slices.SortFunc(edits, func(a, b edit) int { return a.from - b.from })
	var buf bytes.Buffer
	buf.Grow(len(raw) + 16)
	at := 0
	for _, e := range edits {
		buf.Write(raw[at:e.from])
		buf.Write(e.with)
		at = e.to
	}
	buf.Write(raw[at:])
	return buf.Bytes()
}

// headerField is the start of a header field: a printable ASCII name and
// a colon (RFC 5322 section 2.2).
var headerField = regexp.MustCompile(`^[!-9;-~]+[ \t]*:`)

// paramLine is a MIME parameter that lost its folding white space.
var paramLine = regexp.MustCompile(`^[A-Za-z0-9*_.-]+[ \t]*=`)

// mendHeader repairs one header block (the lines up to a blank line, a
// delimiter or the end): see mendMIME. It reports whether it changed it.
func mendHeader(block [][]byte) ([][]byte, bool) {
	for k, line := range block {
		if isFieldLine(line) || line[0] == ' ' || line[0] == '\t' {
			continue
		}
		if k > 0 && paramLine.Match(bytes.TrimSpace(line)) && (bytes.HasSuffix(bytes.TrimRight(block[k-1], " \t\r\n"), []byte(";")) || mimeParamField(block[:k])) {
			fixed := append([][]byte{}, block...)
			fixed[k] = append([]byte("\t"), line...)
			rest, _ := mendHeader(fixed)
			return rest, true
		}
		if k == 0 {
			return block, false // not a header at all: leave it to the reader
		}
		for _, later := range block[k+1:] {
			if isFieldLine(later) {
				return block, false // junk between header fields
			}
		}
		nl := []byte("\r\n")
		if !bytes.HasSuffix(block[k-1], nl) {
			nl = []byte("\n")
		}
		fixed := append(append(append([][]byte{}, block[:k]...), nl), block[k:]...)
		return fixed, true
	}
	return block, false
}

func isFieldLine(line []byte) bool { return headerField.Match(line) }

// mimeParamField reports whether the last field of a header block takes
// parameters (Content-Type, Content-Disposition).
func mimeParamField(block [][]byte) bool {
	for k := len(block) - 1; k >= 0; k-- {
		if isFieldLine(block[k]) {
			name := strings.ToLower(string(block[k][:bytes.IndexByte(block[k], ':')]))
			return name == "content-type" || name == "content-disposition"
		}
	}
	return false
}

// boundaryOf is the boundary a header block declares, if any.
func boundaryOf(block [][]byte) string {
	field := "" // the Content-Type field, unfolded
	for _, line := range block {
		s := strings.TrimRight(string(line), "\r\n")
		switch {
		case isFieldLine(line) && field != "":
			return boundaryParam(field)
		case isFieldLine(line) && strings.HasPrefix(strings.ToLower(s), "content-type"):
			field = s
		case field != "" && s != "" && (s[0] == ' ' || s[0] == '\t'):
			field += " " + strings.TrimSpace(s)
		}
	}
	return boundaryParam(field)
}

func boundaryParam(field string) string {
	_, v, ok := strings.Cut(field, ":")
	if !ok {
		return ""
	}
	_, params, err := mime.ParseMediaType(v)
	if err != nil {
		fixed, ok := repairContentType(v)
		if !ok {
			return ""
		}
		_, params, _ = mime.ParseMediaType(fixed)
	}
	return params["boundary"]
}

// delimiterOf is the declared boundary a line opens a part with, if any.
func delimiterOf(line []byte, declared map[string]int) string {
	if !bytes.HasPrefix(line, []byte("--")) {
		return ""
	}
	s := strings.TrimRight(string(line), " \t\r\n")
	if b, ok := strings.CutPrefix(s, "--"); ok && declared[b] > 0 {
		return b
	}
	return ""
}

// closeOf is the declared boundary a line closes, if any.
func closeOf(line []byte, declared map[string]int) string {
	if !bytes.HasPrefix(line, []byte("--")) {
		return ""
	}
	s := strings.TrimRight(string(line), " \t\r\n")
	if b, ok := strings.CutPrefix(s, "--"); ok {
		if b, ok = strings.CutSuffix(b, "--"); ok && declared[b] > 0 {
			return b
		}
	}
	return ""
}

func blankLine(line []byte) bool { return len(bytes.TrimRight(line, "\r\n")) == 0 }
