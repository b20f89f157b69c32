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
	netmail "net/mail"
	"path"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/charset"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/text/encoding/charmap"

	"github.com/switchboard/switchboard/channels"
)

// UnknownSender is the sender handle of a message whose sender could not
// be read at all (no usable From, Sender, Reply-To or Return-Path). The
// .invalid top-level domain is reserved (RFC 2606), so it is never a real
// person; all such messages land on one contact the owner can clean up.
const UnknownSender = "unknown-sender@invalid"

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
// boundary, a corrupt transfer encoding), the error says why, the Inbound
// has ParseError set to its text, keeps whatever could be read (a sender
// if any header parsed, else UnknownSender) and carries the raw message as
// the attachment RawName (message/rfc822).
//
// ExternalID is the Message-ID without angle brackets (a digest of it when
// it is absurdly long), empty when there is none: the caller supplies a
// fallback. At is zero when there is no readable Date. Kind, AccountID and
// Cursor are left to the caller.
func Parse(raw []byte, own []string) (channels.Inbound, error) {
	p := &parser{own: lowerAll(own)}
	in, err := p.parse(raw)
	if err != nil {
		in.ParseError = err.Error()
		in.Attachments = append(in.Attachments, channels.Attachment{
			Name: RawName, ContentType: "message/rfc822", Data: raw,
		})
	}
	if len(in.From) == 0 {
		in.From = []channels.Handle{{Kind: "email", Value: UnknownSender}}
	}
	return in, err
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
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil && e == nil {
		// The header itself is broken: salvage what lines we can for the
		// sender, subject and Message-ID.
		h := salvageHeader(raw)
		p.headers(&in, mail.Header{Header: h})
		if _, body, ok := cutHeader(raw); ok {
			in.Text = strings.TrimSpace(clipBytes(toUTF8(body, ""), maxText))
		}
		return in, fmt.Errorf("email: message header: %w", err)
	}
	if _, params, cerr := e.Header.ContentType(); cerr == nil {
		p.charset = strings.ToLower(params["charset"])
	}
	werr := p.walk(e, 0)
	p.headers(&in, mail.Header{Header: e.Header})
	if len(in.From) == 0 && werr == nil {
		werr = errors.New("email: no sender address (From, Sender, Reply-To and Return-Path are missing or unreadable)")
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

// headers fills what comes from the top-level header.
func (p *parser) headers(in *channels.Inbound, h mail.Header) {
	in.Kind = channels.Mail
	in.Meta = map[string]string{}

	// Sender: From, else the headers that usually stand in for it.
	for _, k := range []string{"From", "Sender", "Reply-To", "Return-Path"} {
		if addrs := p.addresses(h, k); len(addrs) > 0 {
			in.From = []channels.Handle{{Kind: "email", Value: addrs[0].Address}}
			in.Name = addrs[0].Name
			if in.Name == addrs[0].Address {
				in.Name = ""
			}
			break
		}
	}
	in.Subject = p.text1(h, "Subject")
	if t, err := h.Date(); err == nil && !t.IsZero() && t.Year() > 1970 {
		in.At = t
	}

	msgID := msgIDs(h.Get("Message-Id"))
	inReplyTo := msgIDs(h.Get("In-Reply-To"))
	refs := msgIDs(h.Get("References"))
	if len(msgID) > 0 {
		in.ExternalID = externalID(msgID[0])
		in.Meta["message_id"] = msgID[0]
	}
	if len(inReplyTo) > 0 {
		in.Meta["in_reply_to"] = inReplyTo[0]
	}
	if len(refs) > 0 {
		in.Meta["references"] = strings.Join(refs, " ")
	}
	seen := map[string]bool{in.ExternalID: true}
	for _, id := range append(slices.Clone(inReplyTo), reversed(refs)...) {
		if id = externalID(id); !seen[id] && len(in.Parents) < maxParents {
			seen[id] = true
			in.Parents = append(in.Parents, id)
		}
	}
	switch {
	case len(refs) > 0:
		in.ThreadKey = externalID(refs[0])
	case len(inReplyTo) > 0:
		in.ThreadKey = externalID(inReplyTo[0])
	default:
		in.ThreadKey = in.ExternalID
	}

	to, cc := p.addresses(h, "To"), p.addresses(h, "Cc")
	if len(to) > 0 {
		in.Meta["to"] = formatList(to)
	}
	if len(cc) > 0 {
		in.Meta["cc"] = formatList(cc)
	}
	var rcpts []string
	for _, a := range append(to, cc...) {
		rcpts = append(rcpts, a.Address)
	}
	for _, k := range []string{"Delivered-To", "X-Original-To"} {
		for _, v := range h.Values(k) {
			if a := looseAddress(v); a != nil {
				rcpts = append(rcpts, a.Address)
			}
		}
	}
	in.EntryPoint = entryPoint(rcpts, p.own)

	in.Automated = automated(h, in.From)

	// Sent by the mailbox itself (a reply written in a mail program, in
	// the Sent folder or a copy to self): an outgoing message to its first
	// recipient that is not the mailbox. With none it stays from the
	// mailbox, and the adapter skips it.
	if len(in.From) > 0 && p.isOwn(in.From[0].Value) {
		for _, a := range append(to, cc...) {
			if !p.isOwn(a.Address) {
				// Automated stays: our own vacation reply is recorded, and
				// answers nothing.
				in.Outgoing, in.EntryPoint = true, ""
				in.From = []channels.Handle{{Kind: "email", Value: a.Address}}
				if in.Name = a.Name; in.Name == a.Address {
					in.Name = ""
				}
				break
			}
		}
	}
}

// isOwn reports whether addr is one of the mailbox's addresses or a
// plus-alias of one.
func (p *parser) isOwn(addr string) bool {
	addr = strings.ToLower(addr)
	if local, domain, ok := strings.Cut(addr, "@"); ok {
		if base, _, plus := strings.Cut(local, "+"); plus {
			addr = base + "@" + domain
		}
	}
	return slices.Contains(p.own, addr)
}

// walk reads an entity: multiparts part by part, leaves into text, HTML or
// attachments.
func (p *parser) walk(e *message.Entity, depth int) error {
	p.parts++
	if p.parts > maxParts {
		return fmt.Errorf("email: more than %d MIME parts", maxParts)
	}
	mt, params, err := e.Header.ContentType()
	if err != nil || mt == "" {
		mt, params = "text/plain", map[string]string{} // RFC 2045 section 5.2
	}
	if strings.HasPrefix(mt, "multipart/") {
		if mt == "multipart/report" {
			p.automated = true // RFC 3462: delivery and disposition notifications
		}
		if depth >= maxDepth {
			return fmt.Errorf("email: MIME parts nested deeper than %d", maxDepth)
		}
		if params["boundary"] == "" {
			// Show the body as it is; the raw message goes along.
			b, _ := io.ReadAll(io.LimitReader(e.Body, maxText))
			p.addText(b, params)
			return fmt.Errorf("email: %s without a boundary", mt)
		}
		mr := e.MultipartReader()
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				return nil
			}
			if err != nil && part == nil {
				return fmt.Errorf("email: %s part %d: %w", mt, p.parts, err)
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
		rerr = fmt.Errorf("email: %s part: %w", mt, rerr)
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
	if mt == "message/delivery-status" || mt == "message/disposition-notification" {
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

// toUTF8 returns b as valid UTF-8. go-message has already decoded a
// declared charset it knows; what is left invalid here is undeclared or
// mislabeled 8-bit text, decoded with the fallback charset when it is a
// known one, else guessed: mostly high bytes is Cyrillic (lower-case
// letters sit at 0xE0–0xFF in windows-1251 and at 0xC0–0xDF in KOI8-R),
// a few is Western European (windows-1252).
func toUTF8(b []byte, fallback string) string {
	if utf8.Valid(b) {
		return string(b)
	}
	if fallback != "" && fallback != "utf-8" && fallback != "us-ascii" {
		if r, err := charset.Reader(fallback, bytes.NewReader(b)); err == nil {
			if out, err := io.ReadAll(r); err == nil && utf8.Valid(out) {
				return string(out)
			}
		}
	}
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
	return string(out)
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

// htmlUTF8 returns an HTML body as UTF-8, honoring a <meta charset> when
// the MIME header named none.
func htmlUTF8(b []byte, declared string) string {
	if utf8.Valid(b) {
		return string(b)
	}
	fallback := ""
	if declared == "" {
		fallback = metaCharset(b)
	}
	return toUTF8(b, fallback)
}

// metaCharset finds <meta charset="…"> or <meta http-equiv content="…;
// charset=…"> in the first kilobytes of an HTML document.
func metaCharset(b []byte) string {
	if len(b) > 4096 {
		b = b[:4096]
	}
	z := html.NewTokenizer(bytes.NewReader(b))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return ""
		case html.StartTagToken, html.SelfClosingTagToken:
			tn, hasAttr := z.TagName()
			if atom.Lookup(tn) != atom.Meta || !hasAttr {
				continue
			}
			for {
				k, v, more := z.TagAttr()
				switch strings.ToLower(string(k)) {
				case "charset":
					return strings.ToLower(strings.TrimSpace(string(v)))
				case "content":
					if _, params, err := mime.ParseMediaType(string(v)); err == nil && params["charset"] != "" {
						return strings.ToLower(params["charset"])
					}
				}
				if !more {
					break
				}
			}
		}
	}
}

// htmlText is the visible text of an HTML body, for an HTML-only mail's
// Text (previews and search): tags dropped, blocks on their own lines.
func htmlText(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var sb strings.Builder
	skip := 0
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return tidyLines(sb.String())
		case html.TextToken:
			if skip == 0 {
				sb.WriteString(strings.Join(strings.Fields(string(z.Text())), " "))
				if t := z.Text(); len(t) > 0 && (t[len(t)-1] == ' ' || t[len(t)-1] == '\n') {
					sb.WriteByte(' ')
				}
			}
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			tn, _ := z.TagName()
			a := atom.Lookup(tn)
			switch a {
			case atom.Script, atom.Style, atom.Head, atom.Title:
				if tt == html.StartTagToken {
					skip++
				} else if tt == html.EndTagToken && skip > 0 {
					skip--
				}
			case atom.Br, atom.P, atom.Div, atom.Tr, atom.Li, atom.H1, atom.H2, atom.H3, atom.H4, atom.Blockquote, atom.Table:
				sb.WriteByte('\n')
			case atom.Td, atom.Th:
				sb.WriteByte(' ')
			}
		}
	}
}

func tidyLines(s string) string {
	lines := strings.Split(s, "\n")
	out := lines[:0]
	blank := true
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" {
			if !blank {
				out = append(out, "")
			}
			blank = true
			continue
		}
		out = append(out, l)
		blank = false
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

// text1 decodes an unstructured header field (RFC 2047 encoded words) to
// UTF-8, repairing raw 8-bit bytes with the message's charset.
func (p *parser) text1(h mail.Header, key string) string {
	v, err := h.Text(key)
	if err != nil {
		v = h.Get(key)
	}
	return strings.TrimSpace(collapseSpace(toUTF8([]byte(v), p.charset)))
}

// addresses parses an address list, falling back to a lenient reading of
// each comma-separated item when the strict parser gives up (raw 8-bit
// names, unquoted dots, missing brackets).
func (p *parser) addresses(h mail.Header, key string) []*mail.Address {
	v := h.Get(key)
	if strings.TrimSpace(v) == "" {
		return nil
	}
	if list, err := h.AddressList(key); err == nil {
		var out []*mail.Address
		for _, a := range list {
			if a.Address == "" || !validAddress(a.Address) {
				continue
			}
			a.Name = strings.TrimSpace(toUTF8([]byte(a.Name), p.charset))
			out = append(out, a)
		}
		if len(out) > 0 {
			return out
		}
	}
	var out []*mail.Address
	for _, item := range strings.Split(v, ",") {
		if a := looseAddress(item); a != nil {
			a.Name = toUTF8([]byte(a.Name), p.charset)
			if dec, err := (&mime.WordDecoder{CharsetReader: charset.Reader}).DecodeHeader(a.Name); err == nil {
				a.Name = dec
			}
			a.Name = strings.Trim(strings.TrimSpace(a.Name), `"'`)
			out = append(out, a)
		}
	}
	return out
}

// looseAddress finds an address in "Name <addr>", "<addr>" or "addr".
func looseAddress(s string) *mail.Address {
	s = strings.TrimSpace(s)
	name, addr := "", s
	if i := strings.LastIndexByte(s, '<'); i >= 0 {
		if j := strings.IndexByte(s[i:], '>'); j > 0 {
			name, addr = strings.TrimSpace(s[:i]), s[i+1:i+j]
		}
	}
	addr = strings.Trim(strings.TrimSpace(addr), "<>\"'")
	if !validAddress(addr) {
		return nil
	}
	return &mail.Address{Name: name, Address: addr}
}

// validAddress says whether ingest will accept addr as an email handle.
func validAddress(addr string) bool {
	if len(addr) > 254 || strings.Count(addr, "@") != 1 || strings.ContainsAny(addr, " \t\r\n<>,;\"") {
		return false
	}
	a, err := netmail.ParseAddress(addr)
	return err == nil && strings.EqualFold(a.Address, addr)
}

// msgIDs reads a list of message identifiers (Message-ID, In-Reply-To,
// References) without angle brackets. Real mail has IDs with spaces,
// without brackets and with comments, so this is lenient: bracketed IDs if
// there are any, else the whitespace-separated words.
func msgIDs(v string) []string {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	add := func(id string) {
		id = strings.TrimSpace(id)
		if id != "" && !seen[id] && utf8.ValidString(id) {
			seen[id] = true
			out = append(out, id)
		}
	}
	rest := v
	for {
		i := strings.IndexByte(rest, '<')
		if i < 0 {
			break
		}
		j := strings.IndexByte(rest[i:], '>')
		if j < 0 {
			break
		}
		add(strings.Join(strings.Fields(rest[i+1:i+j]), ""))
		rest = rest[i+j+1:]
	}
	if len(out) == 0 {
		for _, f := range strings.Fields(v) {
			if strings.Contains(f, "@") {
				add(strings.Trim(f, "<>"))
			}
		}
	}
	return out
}

// externalID is a Message-ID fit for a touch's external id: ingest caps
// its length, so an absurd one is replaced by its digest.
// maxParents bounds Inbound.Parents: the nearest messages of a long thread
// are enough to find it.
const maxParents = 20

// reversed returns ids from the last to the first.
func reversed(ids []string) []string {
	out := slices.Clone(ids)
	slices.Reverse(out)
	return out
}

func externalID(id string) string {
	if len(id) <= maxExternalID {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// entryPoint is the first recipient that is one of own or a plus-alias of
// one (sales+yandex@company.ru for sales@company.ru), lower-cased; a
// plus-alias wins over the plain address since it says more about where
// the mail came from. With no such recipient (Bcc, mailing lists) it is
// the mailbox's own address.
func entryPoint(rcpts []string, own []string) string {
	exact := ""
	for _, r := range rcpts {
		r = strings.ToLower(strings.TrimSpace(r))
		for _, o := range own {
			if r == o {
				if exact == "" {
					exact = r
				}
				continue
			}
			local, domain, ok := strings.Cut(r, "@")
			olocal, odomain, _ := strings.Cut(o, "@")
			if base, tag, plus := strings.Cut(local, "+"); ok && plus && tag != "" && base == olocal && domain == odomain {
				return r
			}
		}
	}
	if exact != "" {
		return exact
	}
	if len(own) > 0 {
		return own[0]
	}
	return ""
}

// automated reports mail no person wrote: auto-replies (RFC 3834
// Auto-Submitted, X-Autoreply, X-Autorespond), bulk and list mail
// (Precedence, List-Id), bounces (a null Return-Path, a mailer-daemon
// sender). multipart/report is detected while walking the body.
func automated(h mail.Header, from []channels.Handle) bool {
	if v := strings.ToLower(strings.TrimSpace(h.Get("Auto-Submitted"))); v != "" && !strings.HasPrefix(v, "no") {
		return true
	}
	switch strings.ToLower(strings.TrimSpace(h.Get("Precedence"))) {
	case "bulk", "junk", "list", "auto_reply":
		return true
	}
	if h.Has("List-Id") || h.Has("X-Autoreply") || h.Has("X-Autorespond") || h.Has("X-Autoresponse") {
		return true
	}
	for _, rp := range h.Values("Return-Path") {
		if strings.TrimSpace(rp) == "<>" {
			return true
		}
	}
	if len(from) > 0 {
		local, _, _ := strings.Cut(strings.ToLower(from[0].Value), "@")
		if local == "mailer-daemon" || local == "postmaster" {
			return true
		}
	}
	return false
}

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

func formatList(l []*mail.Address) string {
	s := make([]string, len(l))
	for i, a := range l {
		if a.Name != "" {
			s[i] = a.Name + " <" + a.Address + ">"
		} else {
			s[i] = a.Address
		}
	}
	return strings.Join(s, ", ")
}

func collapseSpace(s string) string {
	if !strings.ContainsAny(s, "\r\n\t") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

func lowerAll(ss []string) []string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		if s = strings.ToLower(strings.TrimSpace(s)); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// clipBytes cuts s to at most n bytes at a character boundary.
func clipBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
