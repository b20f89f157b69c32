package email

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // charsets of encoded words in addresses
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"

	"github.com/switchboard/switchboard/channels"
)

// RawName is the name of the attachment that carries the original message
// of an Inbound with ParseError set.
const RawName = "message.eml"

// Limits: ingest refuses longer text, and a deeper MIME tree is an attack.
const (
	maxText       = 1 << 20
	maxDepth      = 20
	maxParts      = 500
	maxExternalID = 500
)

// Parse reads a raw RFC 5322 message. own are the mailbox's addresses (its
// address and aliases) and tell the entry point.
//
// Parse always returns an Inbound that can be ingested. When the message
// cannot be read completely (a broken header, a multipart without its
// boundary, a corrupt transfer encoding), the error says why for the log,
// the Inbound has ParseError set to what that means for a user, in plain
// English, and Meta parse_problem (MetaParseProblem) to its code, keeps whatever could be read and
// carries the raw message as the attachment RawName (message/rfc822).
//
// A message whose sender cannot be read at all (no usable From, Sender,
// Reply-To or Return-Path) has no From: it belongs to no contact, and
// ingest keeps it as unreadable mail for the owner. Its problem is
// ProblemNoSender unless the header itself is damaged (ProblemHeader).
//
// ExternalID is the Message-ID without angle brackets (a digest of it when
// it is absurdly long), empty when there is none: the caller supplies a
// fallback. At is zero when there is no readable Date; Meta date_header
// (MetaDateHeader) is the raw Date header, for the caller to check At
// against the arrival time. Kind, AccountID and Cursor are left to the
// caller.
func Parse(raw []byte, own []string) (channels.Inbound, error) {
	p := &parser{own: lowerAll(own)}
	in, err := p.parse(raw)
	if err != nil {
		// The user reads what is wrong in plain words; the caller logs err.
		if in.Meta == nil {
			in.Meta = map[string]string{}
		}
		if len(in.From) == 0 && problemOf(err) != ProblemHeader {
			// What decides this message's fate is its missing sender.
			err = &parseProblem{code: ProblemNoSender, err: fmt.Errorf("email: no sender address: %w", err)}
		}
		in.Meta[MetaParseProblem], in.ParseError = explain(err)
		in.Attachments = append(in.Attachments, channels.Attachment{
			Name: RawName, ContentType: "message/rfc822", Data: raw,
		})
	}
	if in.Meta == nil {
		in.Meta = map[string]string{}
	}
	in.Meta[channels.MetaContentHash] = contentHash(in)
	return in, err
}

// contentHash is a digest of what a message says: its sender, Date
// header, subject, text and files. Mail programs reuse Message-IDs, so the
// same id with another digest is another message (channels.Inbound
// ExternalID); the same message read again (another folder, a new
// UIDVALIDITY) has the same digest, whatever its Received lines.
func contentHash(in channels.Inbound) string {
	h := sha256.New()
	// Each field as its length, a colon, its bytes and a newline; a file's
	// bytes are written as they are, never copied into a string.
	head := func(n int) { h.Write(append(strconv.AppendInt(nil, int64(n), 10), ':')) }
	field := func(s string) { head(len(s)); io.WriteString(h, s); h.Write([]byte{'\n'}) }
	data := func(b []byte) { head(len(b)); h.Write(b); h.Write([]byte{'\n'}) }
	if len(in.From) > 0 {
		field(in.From[0].Value)
	}
	field(in.Meta[MetaDateHeader])
	field(in.Subject)
	field(in.Text)
	field(in.HTML)
	for _, a := range in.Attachments {
		if a.Name == RawName && in.ParseError != "" {
			continue // the whole message, Received lines and all
		}
		field(a.Name)
		field(a.ContentType)
		data(a.Data)
	}
	return hex.EncodeToString(h.Sum(nil))
}

type parser struct {
	own []string

	charset   string // the first charset a text part declared: for raw 8-bit headers
	text      []string
	html      string
	atts      []channels.Attachment
	parts     int
	automated bool
}

func (p *parser) parse(raw []byte) (channels.Inbound, error) {
	var in channels.Inbound
	raw = mendMIME(trimLead(raw))
	br := bufio.NewReader(bytes.NewReader(raw))
	th, err := textproto.ReadHeader(br)
	if err != nil {
		// The header itself is broken: salvage what lines we can for the
		// sender, subject and Message-ID.
		h := salvageHeader(raw)
		p.headers(&in, mail.Header{Header: h})
		if _, body, ok := cutHeader(raw); ok {
			in.Text = strings.TrimSpace(clipBytes(toUTF8(body, ""), maxText))
		}
		return in, problemf(ProblemHeader, "email: message header: %w", err)
	}
	h := message.Header{Header: th}
	if _, params, cerr := h.ContentType(); cerr == nil {
		p.charset = strings.ToLower(params["charset"])
	}
	werr := p.walk(h, br, 0, nil)
	p.headers(&in, mail.Header{Header: h})
	if len(in.From) == 0 && werr == nil {
		werr = problemf(ProblemNoSender, "email: no sender address (From, Sender, Reply-To and Return-Path are missing or unreadable)")
	}

	in.Text = strings.TrimSpace(strings.Join(p.text, "\n\n"))
	in.HTML = p.html
	if in.Text == "" && in.HTML != "" {
		in.Text = htmlText(in.HTML)
	}
	if len(in.Text) > maxText {
		in.Text, in.Meta["truncated"] = clipBytes(in.Text, maxText), "text"
	}
	if len(in.HTML) > maxText {
		in.HTML, in.Meta["truncated"] = "", "html" // half an HTML document is worse than none
	}
	in.Attachments = p.atts
	in.Automated = in.Automated || p.automated
	return in, werr
}

// walk reads an entity from its header and its body as sent (transfer
// encoding and charset are undone here, forgivingly): multiparts part by
// part, leaves into text, HTML or attachments. bounds are the boundaries
// of the multiparts it is inside. A damaged part costs only itself: the
// parts after it are still read, and the first problem is returned.
func (p *parser) walk(h message.Header, body io.Reader, depth int, bounds []string) error {
	p.parts++
	if p.parts > maxParts {
		return problemf(ProblemTooMany, "email: more than %d MIME parts", maxParts)
	}
	mt, params, err := h.ContentType()
	if err != nil {
		if fixed, ok := repairContentType(h.Get("Content-Type")); ok {
			h.Set("Content-Type", fixed)
			mt, params, err = h.ContentType()
		}
	}
	if err != nil || mt == "" {
		mt, params = "text/plain", map[string]string{} // RFC 2045 section 5.2
	}
	if !strings.HasPrefix(mt, "multipart/") {
		return p.leaf(h, body, mt, params)
	}
	if mt == "multipart/report" {
		p.automated = true // RFC 3462: delivery and disposition notifications
	}
	if depth >= maxDepth {
		return problemf(ProblemTooDeep, "email: MIME parts nested deeper than %d", maxDepth)
	}
	boundary := params["boundary"]
	if boundary == "" {
		// Show the body as it is; the raw message goes along.
		b, _ := io.ReadAll(io.LimitReader(body, maxText))
		p.addText(b, params)
		return problemf(ProblemBoundary, "email: %s without a boundary", mt)
	}
	if slices.Contains(bounds, boundary) {
		// The sender reused an outer boundary: this multipart's parts are
		// read as the outer one's (mendMIME), and it holds nothing.
		return nil
	}
	mr := textproto.NewMultipartReader(body, boundary)
	alt := alternatives{on: mt == "multipart/alternative", texts: len(p.text), html: p.html}
	var first error
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return cmp.Or(first, alt.end(p))
		}
		if err != nil {
			return cmp.Or(first, alt.end(p), problemf(ProblemParts, "email: %s part %d: %w", mt, p.parts, err))
		}
		ph := message.Header{Header: part.Header}
		werr := p.walk(ph, part, depth+1, append(bounds, boundary))
		var pp *parseProblem
		if errors.As(werr, &pp) && (pp.code == ProblemTooMany || pp.code == ProblemTooDeep) {
			return werr
		}
		first = cmp.Or(first, alt.read(p, ph, werr))
	}
}

// alternatives keeps the best of a multipart/alternative (RFC 2046
// section 5.1.4): a damaged plain text gives way to a good HTML
// alternative, as a mail program shows the one it can read.
type alternatives struct {
	on      bool
	texts   int    // p.text's length before the alternatives
	html    string // p.html before them
	textErr error  // the plain text's damage, held back
	htmlOK  bool   // an HTML alternative was read whole
}

// read notes one alternative and returns the error to report now.
func (a *alternatives) read(p *parser, h message.Header, err error) error {
	if !a.on {
		return err
	}
	mt, _, _ := h.ContentType()
	switch {
	case mt == "text/plain" && err != nil:
		a.textErr = cmp.Or(a.textErr, err)
		return nil
	case mt == "text/html" && err == nil && a.html == "" && p.html != "":
		a.htmlOK = true
	}
	return err
}

// end drops a damaged plain text when a good HTML stands for it, and
// returns the damage otherwise.
func (a *alternatives) end(p *parser) error {
	if a.textErr == nil {
		return nil
	}
	if a.htmlOK {
		p.text = p.text[:a.texts]
		return nil
	}
	return a.textErr
}

func (p *parser) leaf(h message.Header, body io.Reader, mt string, params map[string]string) error {
	disp, dparams := disposition(h)
	label := strings.ToLower(params["charset"])
	if label == "" {
		label = p.charset
	}
	name := fileName(dparams, params, label)
	cid := strings.Trim(strings.TrimSpace(h.Get("Content-Id")), "<>")

	data, rerr, derr := readBody(h.Get("Content-Transfer-Encoding"), body, strings.HasPrefix(mt, "text/"))
	if rerr != nil {
		code := ProblemEncoding
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) || strings.HasSuffix(rerr.Error(), "EOF") {
			code = ProblemParts // the message ends inside this part
		}
		rerr = problemf(code, "email: %s part: %w", mt, rerr)
	} else if derr != nil {
		rerr = problemf(ProblemEncoding, "email: %s part: %w", mt, derr)
	}
	isText := (mt == "text/plain" || mt == "text/html") && disp != "attachment" && name == ""
	if isText {
		if ch := strings.ToLower(params["charset"]); ch != "" && p.charset == "" {
			p.charset = ch
		}
		if mt == "text/html" {
			if p.html == "" {
				p.html = htmlUTF8(data, params["charset"])
			}
		} else {
			p.addText(data, params)
		}
		return rerr
	}
	if name == "" {
		name = defaultName(mt, len(p.atts)+1)
	}
	switch mt {
	case "message/delivery-status", "message/global-delivery-status", "message/disposition-notification", "message/feedback-report":
		// RFC 3464 and 6533 delivery reports, RFC 8098 read receipts,
		// RFC 5965 abuse reports, even outside a multipart/report.
		p.automated = true
	}
	p.atts = append(p.atts, channels.Attachment{
		Name:        name,
		ContentType: mt,
		ContentID:   cid,
		Inline:      disp == "inline" || (disp == "" && cid != ""),
		Data:        data,
	})
	return rerr
}

// addText appends a text/plain body, repaired to UTF-8: what is still
// invalid was not decoded by go-message (no charset, an unknown one, or a
// wrong one), so the declared charset is tried, then the message's.
func (p *parser) addText(b []byte, params map[string]string) {
	fallback := strings.ToLower(params["charset"])
	if fallback == "" {
		fallback = p.charset
	}
	s := toUTF8(b, fallback)
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\x00", "")
	if strings.TrimSpace(s) != "" {
		p.text = append(p.text, s)
	}
}

// externalID is a Message-ID fit for a touch's external id: ingest caps
// its length, so an absurd one is replaced by its digest.
// maxParents bounds Inbound.Parents: the nearest messages of a long thread
// are enough to find it.
const maxParents = 20

// fileName is an attachment's name: Content-Disposition filename (RFC 2231
// continuations and charsets decoded by mime), else Content-Type name;
// raw 8-bit names are read in the part's or the message's charset, and
// RFC 2047 encoded words are decoded since mail clients use them there.
// Directory parts are dropped.
func fileName(dparams, params map[string]string, label string) string {
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	if name == "" {
		return ""
	}
	name = decodeWords(toUTF8([]byte(name), label))
	name = strings.ReplaceAll(name, "\\", "/")
	name = strings.TrimSpace(path.Base(name))
	if name == "." || name == "/" {
		return ""
	}
	return name
}

// disposition reads Content-Disposition forgivingly: unquoted values with
// spaces or raw 8-bit bytes are quoted first (a file named
// filename=ciële prijzen.txt stays a file instead of joining the text),
// and when a part has the header twice, a file name in either makes it an
// attachment, else it is inline.
func disposition(h message.Header) (string, map[string]string) {
	values := h.Values("Content-Disposition")
	disp, params := "", map[string]string{}
	for _, v := range values {
		d, ps, err := mime.ParseMediaType(v)
		if err != nil {
			if fixed, ok := repairContentType(v); ok {
				d, ps, _ = mime.ParseMediaType(fixed)
			} else {
				d, _, _ = strings.Cut(v, ";")
			}
		}
		if disp == "" {
			disp = strings.ToLower(strings.TrimSpace(d))
		}
		for k, pv := range ps {
			if params[k] == "" {
				params[k] = pv
			}
		}
	}
	if len(values) > 1 {
		disp = "inline"
		if params["filename"] != "" {
			disp = "attachment"
		}
	}
	return disp, params
}

// defaultName names an unnamed part by its type.
func defaultName(mt string, n int) string {
	switch mt {
	case "message/rfc822":
		return "message-" + strconv.Itoa(n) + ".eml"
	case "message/delivery-status":
		return "delivery-status.txt"
	case "message/disposition-notification":
		return "disposition-notification.txt"
	case "text/rfc822-headers":
		return "headers.txt"
	}
	ext := ""
	if exts, _ := mime.ExtensionsByType(mt); len(exts) > 0 {
		ext = exts[0]
	}
	switch mt {
	case "image/jpeg":
		ext = ".jpg"
	case "text/plain":
		ext = ".txt"
	case "text/html":
		ext = ".html"
	}
	if ext == "" {
		ext = ".bin"
	}
	return "part-" + strconv.Itoa(n) + ext
}

// salvageHeader reads "Key: value" lines up to the first blank line,
// skipping lines that are not header fields, for a message whose header
// the strict reader refused.
func salvageHeader(raw []byte) message.Header {
	var h textproto.Header
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var key, val string
	flush := func() {
		if key != "" {
			h.Add(key, strings.TrimSpace(val))
		}
		key, val = "", ""
	}
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" {
			break
		}
		if (line[0] == ' ' || line[0] == '\t') && key != "" {
			val += " " + strings.TrimSpace(line)
			continue
		}
		flush()
		k, v, ok := strings.Cut(line, ":")
		if ok && k != "" && !strings.ContainsAny(k, " \t") {
			key, val = k, v
		}
	}
	flush()
	return message.Header{Header: h}
}

// cutHeader splits a raw message at the blank line after its header.
func cutHeader(raw []byte) (header, body []byte, ok bool) {
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
		return raw[:i], raw[i+4:], true
	}
	if i := bytes.Index(raw, []byte("\n\n")); i >= 0 {
		return raw[:i], raw[i+2:], true
	}
	return raw, nil, false
}
