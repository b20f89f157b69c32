package email

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"path"
	"strconv"
	"strings"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/charset"
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
	field := func(s string) { fmt.Fprintf(h, "%d:%s\n", len(s), s) }
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
		field(string(a.Data))
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
	raw = trimLead(raw)
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil && e == nil {
		// The header itself is broken: salvage what lines we can for the
		// sender, subject and Message-ID.
		h := salvageHeader(raw)
		p.headers(&in, mail.Header{Header: h})
		if _, body, ok := cutHeader(raw); ok {
			in.Text = strings.TrimSpace(clipBytes(toUTF8(body, ""), maxText))
		}
		return in, problemf(ProblemHeader, "email: message header: %w", err)
	}
	if _, params, cerr := e.Header.ContentType(); cerr == nil {
		p.charset = strings.ToLower(params["charset"])
	}
	werr := p.walk(e, 0)
	p.headers(&in, mail.Header{Header: e.Header})
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

// walk reads an entity: multiparts part by part, leaves into text, HTML or
// attachments.
func (p *parser) walk(e *message.Entity, depth int) error {
	p.parts++
	if p.parts > maxParts {
		return problemf(ProblemTooMany, "email: more than %d MIME parts", maxParts)
	}
	mt, params, err := e.Header.ContentType()
	if err != nil {
		e, mt, params, err = repaired(e)
	}
	if err != nil || mt == "" {
		mt, params = "text/plain", map[string]string{} // RFC 2045 section 5.2
	}
	if strings.HasPrefix(mt, "multipart/") {
		if mt == "multipart/report" {
			p.automated = true // RFC 3462: delivery and disposition notifications
		}
		if depth >= maxDepth {
			return problemf(ProblemTooDeep, "email: MIME parts nested deeper than %d", maxDepth)
		}
		if params["boundary"] == "" {
			// Show the body as it is; the raw message goes along.
			b, _ := io.ReadAll(io.LimitReader(e.Body, maxText))
			p.addText(b, params)
			return problemf(ProblemBoundary, "email: %s without a boundary", mt)
		}
		mr := e.MultipartReader()
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				return nil
			}
			if err != nil && part == nil {
				return problemf(ProblemParts, "email: %s part %d: %w", mt, p.parts, err)
			}
			// An unknown charset or transfer encoding still gives a part
			// that reads raw; leaf handling repairs its text.
			if werr := p.walk(part, depth+1); werr != nil {
				return werr
			}
		}
	}
	return p.leaf(e, mt, params)
}

func (p *parser) leaf(e *message.Entity, mt string, params map[string]string) error {
	disp, dparams, _ := e.Header.ContentDisposition()
	disp = strings.ToLower(disp)
	name := fileName(e.Header, dparams, params)
	cid := strings.Trim(strings.TrimSpace(e.Header.Get("Content-Id")), "<>")

	body, rerr := io.ReadAll(e.Body)
	if rerr != nil {
		code := ProblemEncoding
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) || strings.HasSuffix(rerr.Error(), "EOF") {
			code = ProblemParts // the message ends inside this part
		}
		rerr = problemf(code, "email: %s part: %w", mt, rerr)
	}

	isText := (mt == "text/plain" || mt == "text/html") && disp != "attachment" && name == ""
	if isText {
		if ch := strings.ToLower(params["charset"]); ch != "" && p.charset == "" {
			p.charset = ch
		}
		if mt == "text/html" {
			if p.html == "" {
				p.html = htmlUTF8(body, params["charset"])
			}
		} else {
			p.addText(body, params)
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
		Data:        body,
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
// continuations and charsets decoded by mime), else Content-Type name; RFC
// 2047 encoded words are decoded too since mail clients use them there.
// Directory parts are dropped.
func fileName(h message.Header, dparams, params map[string]string) string {
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	if name == "" {
		return ""
	}
	if dec, err := (&mime.WordDecoder{CharsetReader: charset.Reader}).DecodeHeader(name); err == nil {
		name = dec
	}
	name = toUTF8([]byte(name), "")
	name = strings.ReplaceAll(name, "\\", "/")
	name = strings.TrimSpace(path.Base(name))
	if name == "." || name == "/" {
		return ""
	}
	return name
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

// repaired reads an entity again after repairing its Content-Type (see
// repairContentType); it returns e as it was when that does not help.
func repaired(e *message.Entity) (*message.Entity, string, map[string]string, error) {
	fixed, ok := repairContentType(e.Header.Get("Content-Type"))
	if ok {
		h := e.Header.Copy()
		h.Set("Content-Type", fixed)
		h.Del("Content-Transfer-Encoding") // the body is decoded already
		if ne, err := message.New(h, e.Body); err == nil {
			mt, params, err := ne.Header.ContentType()
			return ne, mt, params, err
		}
	}
	mt, params, err := e.Header.ContentType()
	return e, mt, params, err
}
