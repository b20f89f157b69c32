package email

import (
	"bytes"
	"io"
	"mime"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
)

// toUTF8 returns the bytes of a text in the charset label as valid UTF-8
// (issue 15, item 4): what is valid UTF-8 stays (mail labeled
// windows-1251 by a form but written in UTF-8); UTF-8 with a few bad bytes
// keeps its good characters and shows only the bad bytes as U+FFFD; else
// a label we know decodes it, and only with no usable label is the
// charset guessed from the bytes. Labels are read as browsers read them
// (WHATWG Encoding): iso-8859-1 is windows-1252, so its € is not the
// control character U+0080; common misspellings (utf8, cp-1251, win-1251)
// are understood. us-ascii over 8-bit bytes is no usable label.
func toUTF8(b []byte, label string) string {
	cs := charsetOf(label)
	if cs.decode != nil && !cs.asciiSafe {
		// ISO-2022-JP and UTF-16 look like ASCII or nothing at all.
		if out, err := cs.decode(b); err == nil {
			return strings.ToValidUTF8(string(out), "\uFFFD")
		}
	}
	if utf8.Valid(b) {
		return string(b)
	}
	if mostlyUTF8(b) {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	if cs.decode != nil {
		if out, err := cs.decode(b); err == nil {
			return strings.ToValidUTF8(string(out), "\uFFFD")
		}
	}
	return guessCharset(b)
}

// mostlyUTF8 reports UTF-8 text with some bad bytes: its multi-byte
// characters outnumber the bad bytes twice over. Text in a single-byte
// Cyrillic or Western charset almost never forms a valid multi-byte
// sequence, so it does not pass.
func mostlyUTF8(b []byte) bool {
	good, bad := 0, 0
	for len(b) > 0 {
		if b[0] < utf8.RuneSelf {
			b = b[1:]
			continue
		}
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 {
			bad++
			b = b[1:]
			continue
		}
		good++
		b = b[n:]
	}
	return good > 0 && good > 2*bad
}

// guessCharset decodes 8-bit text that has no usable label: mostly high
// bytes is Cyrillic (lower-case letters sit at 0xE0–0xFF in windows-1251
// and at 0xC0–0xDF in KOI8-R), a few is Western European (windows-1252).
func guessCharset(b []byte) string {
	var high, lo, hi int
	for _, c := range b {
		switch {
		case c >= 0xE0:
			hi++
			high++
		case c >= 0xC0:
			lo++
			high++
		case c >= 0x80:
			high++
		}
	}
	cm := charmap.Windows1252
	if letters := countLetters(b); letters > 0 && high*3 >= letters {
		cm = charmap.Windows1251
		if lo > hi {
			cm = charmap.KOI8R
		}
	}
	out, err := cm.NewDecoder().Bytes(b)
	if err != nil {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return strings.ToValidUTF8(string(out), "\uFFFD")
}

func countLetters(b []byte) int {
	n := 0
	for _, c := range b {
		if c >= 0x80 || (c|0x20 >= 'a' && c|0x20 <= 'z') {
			n++
		}
	}
	return n
}

// windowsLabel matches the ways mailers write a Windows code page:
// cp-1251, win-1251, windows1251, cp_1252.
var windowsLabel = regexp.MustCompile(`^(?:cp|win|windows|x-cp)[-_ ]?(12[5-9][0-9]|874)$`)

// textCharset is what a charset label tells: how to decode (nil for
// UTF-8, no label or an unknown one) and whether ASCII bytes are ASCII.
type textCharset struct {
	decode    func([]byte) ([]byte, error)
	asciiSafe bool
}

// charsetOf reads a charset label.
func charsetOf(label string) textCharset {
	l := strings.ToLower(strings.Trim(strings.TrimSpace(label), `"' `))
	if m := windowsLabel.FindStringSubmatch(l); m != nil {
		l = "windows-" + m[1]
	}
	switch l {
	case "", "utf8", "utf-8", "us-ascii", "ascii":
		// us-ascii is windows-1252 to a browser, but mailers write it on
		// UTF-8 too: valid UTF-8 is kept, else the guess decides.
		return textCharset{asciiSafe: true}
	case "koi8r", "koi8_r", "koi-8r", "koi8":
		l = "koi8-r"
	case "cp-866", "cp_866":
		l = "ibm866"
	}
	if enc, err := htmlindex.Get(l); err == nil && enc != nil {
		name, _ := htmlindex.Name(enc)
		if name == "utf-8" {
			return textCharset{asciiSafe: true}
		}
		return textCharset{
			decode:    enc.NewDecoder().Bytes,
			asciiSafe: !strings.HasPrefix(name, "utf-16") && !strings.HasPrefix(name, "iso-2022") && name != "replacement",
		}
	}
	if _, err := charset.Reader(l, bytes.NewReader(nil)); err == nil {
		// A label only go-message's table knows.
		return textCharset{asciiSafe: true, decode: func(b []byte) ([]byte, error) {
			r, err := charset.Reader(l, bytes.NewReader(b))
			if err != nil {
				return nil, err
			}
			return io.ReadAll(r)
		}}
	}
	return textCharset{asciiSafe: true}
}

// wordDecoder decodes RFC 2047 encoded words with any label: an unknown
// one (x-unknown, cp-1251) is read like undeclared text rather than left
// as =?…?= for the user to see.
var wordDecoder = &mime.WordDecoder{CharsetReader: func(label string, r io.Reader) (io.Reader, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return strings.NewReader(toUTF8(b, strings.TrimPrefix(label, ownWords))), nil
}}

// builtinWords are the charsets mime.WordDecoder decodes itself, strictly:
// UTF-8 with bad bytes left in, ISO-8859-1 without windows-1252's €.
// decodeWords renames them (ownWords) so that toUTF8 reads them too.
var builtinWords = regexp.MustCompile(`(?i)=\?(utf-8|iso-8859-1|us-ascii)([*?])`)

const ownWords = "x-own-"

// decodeWords decodes the encoded words of a header value, also where
// RFC 2047 forbids them but mailers write them anyway (inside a quoted
// display name, as Outlook and Windows mailers do); a value that is not
// well formed is left as it is.
func decodeWords(s string) string {
	if !strings.Contains(s, "=?") {
		return s
	}
	dec, err := wordDecoder.DecodeHeader(s)
	if err == nil && utf8.ValidString(dec) && !strings.ContainsFunc(dec, isC1) {
		// UTF-8 words decoded as one run: a character split between two
		// words stays whole.
		return dec
	}
	if dec, err := wordDecoder.DecodeHeader(builtinWords.ReplaceAllString(s, "=?"+ownWords+"$1$2")); err == nil {
		return dec
	}
	return s
}

// isC1 reports a C1 control character: in mail, a windows-1252 character
// (€, „, “) read as ISO-8859-1.
func isC1(r rune) bool { return r >= 0x80 && r <= 0x9f }
