package email

import (
	"crypto/sha256"
	"encoding/hex"
	netmail "net/mail"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/mail"

	"github.com/switchboard/switchboard/channels"
)

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
	if raw := strings.TrimSpace(h.Get("Date")); raw != "" {
		in.Meta[MetaDateHeader] = clipBytes(toUTF8([]byte(raw), p.charset), 200)
		if t, err := h.Date(); err == nil && !t.IsZero() && t.Year() > 1970 {
			in.At = t
		}
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

	in.Automated = automated(h, in.From, in.Subject)

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

// text1 decodes an unstructured header field to UTF-8: raw 8-bit bytes
// with the message's charset, then RFC 2047 encoded words with theirs.
func (p *parser) text1(h mail.Header, key string) string {
	v := decodeWords(toUTF8([]byte(h.Get(key)), p.charset))
	return strings.TrimSpace(collapseSpace(v))
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
			a.Name = strings.TrimSpace(decodeWords(toUTF8([]byte(a.Name), p.charset)))
			out = append(out, a)
		}
		if len(out) > 0 {
			return out
		}
	}
	var out []*mail.Address
	for _, item := range strings.Split(v, ",") {
		if a := looseAddress(item); a != nil {
			a.Name = strings.Trim(strings.TrimSpace(a.Name), `"'`)
			a.Name = strings.TrimSpace(decodeWords(toUTF8([]byte(a.Name), p.charset)))
			out = append(out, a)
		}
	}
	return out
}

// looseAddress finds an address in "Name <addr>", "<addr>" or "addr", and,
// as mail programs do, in "Name addr" and "Name <addr" (brackets missing
// or unclosed): the last word that is an address, the words before it
// being the name.
func looseAddress(s string) *mail.Address {
	s = strings.TrimSpace(s)
	name, addr := "", s
	if i := strings.LastIndexByte(s, '<'); i >= 0 {
		if j := strings.IndexByte(s[i:], '>'); j > 0 {
			name, addr = strings.TrimSpace(s[:i]), s[i+1:i+j]
		}
	}
	addr = strings.Trim(strings.TrimSpace(addr), "<>\"'")
	if validAddress(addr) {
		return &mail.Address{Name: name, Address: addr}
	}
	words := strings.Fields(s)
	for i := len(words) - 1; i >= 0; i-- {
		if w := strings.Trim(words[i], "<>\"'()[]"); validAddress(w) {
			return &mail.Address{Name: strings.Join(words[:i], " "), Address: w}
		}
	}
	return nil
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
// Auto-Submitted, X-Autoreply, X-Autorespond, Apple's X-Apple-Action:
// VACATION, an "Auto reply:", "Out of Office" or «Автоответ» subject),
// bulk and list mail (Precedence, List-Id), bounces (a null Return-Path,
// X-Failed-Recipients, a mailer-daemon or postmaster sender) and mail from
// addresses nobody reads (noreply, do-not-reply). Reports (RFC 6522
// multipart/report: DSN, MDN, ARF) are detected while walking the body.
func automated(h mail.Header, from []channels.Handle, subject string) bool {
	if v := strings.ToLower(strings.TrimSpace(h.Get("Auto-Submitted"))); v != "" && !strings.HasPrefix(v, "no") {
		return true
	}
	switch strings.ToLower(strings.TrimSpace(h.Get("Precedence"))) {
	case "bulk", "junk", "list", "auto_reply":
		return true
	}
	for _, k := range []string{"List-Id", "X-Autoreply", "X-Autorespond", "X-Autoresponse", "X-Failed-Recipients"} {
		if h.Has(k) {
			return true
		}
	}
	if strings.EqualFold(strings.TrimSpace(h.Get("X-Apple-Action")), "vacation") {
		return true
	}
	for _, rp := range h.Values("Return-Path") {
		if strings.TrimSpace(rp) == "<>" {
			return true
		}
	}
	return len(from) > 0 && robotSender(from[0].Value) || robotSubject(subject)
}

// robotSender reports an address no person reads: the mail system's own
// (RFC 5321 postmaster, mailer-daemon) and the noreply kind.
func robotSender(addr string) bool {
	local, _, _ := strings.Cut(strings.ToLower(addr), "@")
	local, _, _ = strings.Cut(local, "+")
	if local == "mailer-daemon" || local == "postmaster" {
		return true
	}
	squeezed := strings.NewReplacer("-", "", "_", "", ".", "").Replace(local)
	return strings.HasPrefix(squeezed, "noreply") || strings.HasPrefix(squeezed, "donotreply")
}

// robotSubjects start the subjects of auto-replies and bounces whose
// headers say nothing (Outlook, Exchange and Russian mail services).
var robotSubjects = []string{
	"auto reply", "auto-reply", "autoreply", "automatic reply", "auto response", "autoresponse",
	"out of office", "out of the office", "ooo:",
	"автоответ", "автоматический ответ", "нет на месте",
	"undeliverable:", "undelivered mail", "delivery status notification", "mail delivery failed",
	"returned mail:", "delivery failure", "недоставленное сообщение", "не удается доставить",
}

func robotSubject(subject string) bool {
	s := strings.ToLower(strings.TrimSpace(subject))
	for _, p := range robotSubjects {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
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

func lowerAll(ss []string) []string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		if s = strings.ToLower(strings.TrimSpace(s)); s != "" {
			out = append(out, s)
		}
	}
	return out
}
