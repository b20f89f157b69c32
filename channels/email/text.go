package email

import (
	"bytes"
	"mime"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// htmlUTF8 returns an HTML body as UTF-8, honoring a <meta charset> when
// the MIME header named none.
func htmlUTF8(b []byte, declared string) string {
	if declared == "" {
		declared = metaCharset(b)
	}
	return toUTF8(b, declared)
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
// Text (previews and search): tags dropped with the spaces between words
// kept (`<b>This</b> is` stays two words), blocks on their own lines,
// list items as "- item", a link's address after its text when the text
// is not the address.
func htmlText(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var sb strings.Builder
	skip := 0
	var href, linkText string
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return tidyLines(sb.String())
		case html.TextToken:
			if skip == 0 {
				t := string(z.Text())
				writeWords(&sb, t)
				linkText += t
			}
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			tn, hasAttr := z.TagName()
			a := atom.Lookup(tn)
			switch a {
			case atom.Script, atom.Style, atom.Head, atom.Title:
				if tt == html.StartTagToken {
					skip++
				} else if tt == html.EndTagToken && skip > 0 {
					skip--
				}
			case atom.A:
				if tt == html.StartTagToken {
					href, linkText = linkHref(z, hasAttr), ""
				} else if tt == html.EndTagToken && href != "" {
					if strings.TrimSpace(linkText) != href && strings.TrimPrefix(href, "mailto:") != strings.TrimSpace(linkText) {
						sb.WriteString(" <" + href + ">")
					}
					href = ""
				}
			case atom.Li:
				if tt == html.StartTagToken {
					lineBreak(&sb)
					sb.WriteString("- ")
				}
			case atom.Br:
				sb.WriteByte('\n')
			case atom.Div, atom.Tr:
				lineBreak(&sb) // a line (Gmail writes each line as a div)
			case atom.P, atom.Ul, atom.Ol, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Blockquote, atom.Table, atom.Hr:
				lineBreak(&sb) // a paragraph: a blank line around it
				sb.WriteByte('\n')
			case atom.Td, atom.Th:
				sb.WriteByte(' ')
			}
		}
	}
}

// writeWords adds a text token's words, keeping a space where the token
// began or ended with one, so words on either side of a tag stay apart.
func writeWords(sb *strings.Builder, t string) {
	if t == "" {
		return
	}
	if isSpace(t[0]) {
		sb.WriteByte(' ')
	}
	sb.WriteString(strings.Join(strings.Fields(t), " "))
	if len(strings.TrimSpace(t)) > 0 && isSpace(t[len(t)-1]) {
		sb.WriteByte(' ')
	}
}

// lineBreak ends the line being written, once.
func lineBreak(sb *strings.Builder) {
	if t := sb.String(); t != "" && !strings.HasSuffix(strings.TrimRight(t, " "), "\n") {
		sb.WriteByte('\n')
	}
}

func isSpace(b byte) bool { return b == ' ' || b == '\n' || b == '\t' || b == '\r' }

// linkHref is the http(s) or mailto address of the link tag being read.
func linkHref(z *html.Tokenizer, hasAttr bool) string {
	for hasAttr {
		var k, v []byte
		k, v, hasAttr = z.TagAttr()
		if string(k) == "href" {
			h := strings.TrimSpace(string(v))
			if strings.HasPrefix(h, "http://") || strings.HasPrefix(h, "https://") || strings.HasPrefix(h, "mailto:") {
				return h
			}
		}
	}
	return ""
}

func tidyLines(s string) string {
	lines := strings.Split(s, "\n")
	out := lines[:0]
	blank := true
	for _, l := range lines {
		l = strings.Join(strings.Fields(l), " ")
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

func collapseSpace(s string) string {
	if !strings.ContainsAny(s, "\r\n\t") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
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
