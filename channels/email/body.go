package email

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"mime/quotedprintable"
	"strings"
)

// readBody reads a part's body and undoes its transfer encoding
// (decodeTransfer); readErr is the message's fault (cut off), decodeErr
// the encoding's. A file in base64 is decoded as it is read, so a large
// attachment is not held twice.
func readBody(cte string, body io.Reader, text bool) (data []byte, readErr, decodeErr error) {
	if !text && strings.EqualFold(strings.TrimSpace(cte), "base64") {
		f := &base64Filter{r: body}
		data, decodeErr = io.ReadAll(base64.NewDecoder(base64.RawStdEncoding, f))
		if f.err != nil {
			return data, f.err, nil
		}
		if decodeErr == nil && f.stray {
			decodeErr = errBase64
		}
		return data, nil, decodeErr
	}
	raw, readErr := io.ReadAll(body)
	data, decodeErr = decodeTransfer(cte, raw, text)
	return data, readErr, decodeErr
}

// base64Filter passes on only base64 characters, without padding (so
// that chunks padded in the middle still decode); it notes stray
// characters and keeps the reader's own error apart from decoding's.
type base64Filter struct {
	r     io.Reader
	stray bool
	err   error
}

func (f *base64Filter) Read(p []byte) (int, error) {
	for {
		n, err := f.r.Read(p)
		k := 0
		for _, c := range p[:n] {
			switch {
			case c == '=' || c == '\r' || c == '\n' || c == ' ' || c == '\t':
			case isBase64Byte(c):
				p[k] = c
				k++
			default:
				f.stray = true
			}
		}
		if err != nil && err != io.EOF {
			f.err = err
		}
		if k > 0 || err != nil {
			return k, err
		}
	}
}

// decodeTransfer undoes a part's Content-Transfer-Encoding (RFC 2045
// section 6) the way mail programs do, keeping whatever can be read:
//
//   - base64 over text that is not base64 at all (a mailer labeled plain
//     text base64) is the text itself, not junk decoded from it;
//   - base64 with stray characters loses only them (the error says so);
//   - quoted-printable with a bad escape keeps the escape as written;
//   - an unknown encoding is read as it is.
func decodeTransfer(cte string, b []byte, text bool) ([]byte, error) {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		if text && !looksBase64(b) {
			return b, nil
		}
		return decodeBase64(b)
	case "quoted-printable":
		out, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(b)))
		if err != nil {
			return looseQP(b), nil
		}
		return out, nil
	}
	return b, nil
}

func isBase64Byte(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '='
}

// looksBase64 reports whether a body is base64, perhaps with a few stray
// characters; prose has spaces between words or 8-bit letters, which
// base64 never has.
func looksBase64(b []byte) bool {
	total, bad := 0, 0
	for _, line := range bytes.Split(b, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if bytes.ContainsAny(line, " \t") {
			return false
		}
		for _, c := range line {
			if c >= 0x80 {
				return false
			}
			if !isBase64Byte(c) {
				bad++
			}
			total++
		}
	}
	return bad*10 <= total
}

// errBase64 says a base64 body had characters that are not base64.
var errBase64 = errors.New("illegal base64 data: characters that are not base64 were skipped")

// decodeBase64 decodes base64 skipping line breaks and stray characters,
// with or without padding.
func decodeBase64(b []byte) ([]byte, error) {
	clean := make([]byte, 0, len(b))
	stray := false
	for _, c := range b {
		switch {
		case c == '=' || c == '\r' || c == '\n' || c == ' ' || c == '\t':
		case isBase64Byte(c):
			clean = append(clean, c)
		default:
			stray = true
		}
	}
	if len(clean)%4 == 1 {
		clean, stray = clean[:len(clean)-1], true
	}
	out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
	n, err := base64.RawStdEncoding.Decode(out, clean)
	out = out[:n]
	if err != nil {
		return out, err
	}
	if stray {
		return out, errBase64
	}
	return out, nil
}

// looseQP decodes quoted-printable keeping a malformed escape as written.
func looseQP(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '=' {
			out = append(out, c)
			continue
		}
		switch {
		case i+2 < len(b) && b[i+1] == '\r' && b[i+2] == '\n':
			i += 2 // soft line break
		case i+1 < len(b) && b[i+1] == '\n':
			i++
		case i+2 < len(b) && unhex(b[i+1]) >= 0 && unhex(b[i+2]) >= 0:
			out = append(out, byte(unhex(b[i+1])<<4|unhex(b[i+2])))
			i += 2
		default:
			out = append(out, c)
		}
	}
	return out
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'F':
		return int(c - 'A' + 10)
	case c >= 'a' && c <= 'f':
		return int(c - 'a' + 10)
	}
	return -1
}
