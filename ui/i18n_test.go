package ui

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// dictDir holds one module per language: `export default { "key": value, … };`
// where a value is a string or an object of plural forms ({ one: "…", other: "…" }).
const dictDir = "app/i18n"

// reference is the language t() falls back to; every other one is checked against it.
const reference = "en"

// TestDictionariesHaveTheSameKeys fails when a key is in one language and not
// in another, when a translation is empty, when a key is plural in one
// language only, when a plural lacks "other", or when the {placeholders}
// differ.
func TestDictionariesHaveTheSameKeys(t *testing.T) {
	dicts := loadDictionaries(t)
	ref, ok := dicts[reference]
	if !ok {
		t.Fatalf("no %s/%s.js", dictDir, reference)
	}
	if len(dicts) < 2 {
		t.Fatalf("only %d dictionary in %s; want one per language", len(dicts), dictDir)
	}
	if len(ref) == 0 {
		t.Fatalf("%s.js has no keys", reference)
	}
	for lang, d := range dicts {
		for _, key := range sortedKeys(d) {
			for form, s := range d[key].forms {
				if strings.TrimSpace(s) == "" {
					t.Errorf("%s.js:%d: %q%s is empty", lang, d[key].line, key, formName(d[key], form))
				}
			}
			if d[key].plural {
				if _, ok := d[key].forms["other"]; !ok {
					t.Errorf("%s.js:%d: %q has no \"other\" plural form (t() falls back to it)", lang, d[key].line, key)
				}
				for form := range d[key].forms {
					if !pluralCategories[form] {
						t.Errorf("%s.js:%d: %q has plural form %q; Intl.PluralRules knows zero, one, two, few, many, other", lang, d[key].line, key, form)
					}
				}
			}
		}
		if lang == reference {
			continue
		}
		for _, key := range sortedKeys(ref) {
			if _, ok := d[key]; !ok {
				t.Errorf("%s.js has no %q (%s.js:%d)", lang, key, reference, ref[key].line)
			}
		}
		for _, key := range sortedKeys(d) {
			r, ok := ref[key]
			if !ok {
				t.Errorf("%s.js has no %q (%s.js:%d)", reference, key, lang, d[key].line)
				continue
			}
			v := d[key]
			if v.plural != r.plural {
				t.Errorf("%q is plural in one language only (%s.js:%d, %s.js:%d)", key, reference, r.line, lang, v.line)
			}
			if a, b := placeholders(r), placeholders(v); !slices.Equal(a, b) {
				t.Errorf("%q: placeholders %v in %s.js:%d but %v in %s.js:%d", key, a, reference, r.line, b, lang, v.line)
			}
		}
	}
}

// TestParseDictionary checks that the parser reads what the dictionaries may
// hold and refuses what it cannot read, so that a missing key is never
// hidden by a misread file.
func TestParseDictionary(t *testing.T) {
	d, err := parseDictionary(`// a comment
/* another */
export default {
  "a": "A {n}",
  "b.c": 'it\'s "fine" \u00e9\n',
  d: { one: "{n} one", other: "{n} many", },
  "e": {
    one: "x",
    other: "y",
  }, // trailing
};
`)
	if err != nil {
		t.Fatal(err)
	}
	if got := sortedKeys(d); !slices.Equal(got, []string{"a", "b.c", "d", "e"}) {
		t.Fatalf("keys %v", got)
	}
	if got := d["b.c"].forms[""]; got != "it's \"fine\" é\n" {
		t.Errorf("b.c = %q", got)
	}
	if !d["e"].plural || d["e"].forms["other"] != "y" || d["e"].line != 7 {
		t.Errorf("e = %+v", d["e"])
	}
	for _, bad := range []string{
		``,
		`export default {};`,
		`const x = { "a": "b" };`,
		`export default { "a": "b", "a": "c" };`,
		"export default { \"a\": `tpl` };",
		`export default { "a": "b" + "c" };`,
		`export default { "a": "b" }; export const x = 1;`,
		`export default { "a": { one: { x: "y" } } };`,
		`export default { "a": "b"`,
		`export default { "a": "unterminated };`,
	} {
		if _, err := parseDictionary(bad); err == nil {
			t.Errorf("parsed %q without an error", bad)
		}
	}
}

var pluralCategories = map[string]bool{"zero": true, "one": true, "two": true, "few": true, "many": true, "other": true}

// entry is one key's value: a string (forms[""]) or plural forms.
type entry struct {
	line   int
	plural bool
	forms  map[string]string
}

func formName(e entry, form string) string {
	if !e.plural {
		return ""
	}
	return " (" + form + ")"
}

var placeholder = regexp.MustCompile(`\{(\w+)\}`)

// placeholders lists the {names} a value uses in any of its forms.
func placeholders(e entry) []string {
	var names []string
	for _, s := range e.forms {
		for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
			names = append(names, m[1])
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

func sortedKeys(d map[string]entry) []string {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// loadDictionaries parses every dictionary in the embedded UI, by language.
func loadDictionaries(t *testing.T) map[string]map[string]entry {
	t.Helper()
	files, err := fs.Glob(FS(), dictDir+"/*.js")
	if err != nil {
		t.Fatal(err)
	}
	dicts := map[string]map[string]entry{}
	for _, f := range files {
		b, err := fs.ReadFile(FS(), f)
		if err != nil {
			t.Fatal(err)
		}
		d, err := parseDictionary(string(b))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		dicts[strings.TrimSuffix(path.Base(f), ".js")] = d
	}
	return dicts
}

// parseDictionary reads `export default { key: value, … };`, where a key is a
// quoted string or a name and a value is a quoted string or an object of
// plural forms whose values are quoted strings. Comments may be anywhere.
// Anything else (a template literal, concatenation, a second export, a
// repeated key) is an error rather than a guess.
func parseDictionary(src string) (map[string]entry, error) {
	p := &dictParser{src: src, line: 1}
	for _, word := range []string{"export", "default"} {
		if tok := p.next(); tok.kind != tokName || tok.text != word {
			return nil, p.errorf(tok, "want %q", word)
		}
	}
	if tok := p.next(); tok.kind != '{' {
		return nil, p.errorf(tok, "want {")
	}
	d, err := readObject(p, func(key string, line int) (entry, error) {
		tok := p.next()
		switch tok.kind {
		case tokString:
			return entry{line: line, forms: map[string]string{"": tok.text}}, nil
		case '{':
			forms, err := readObject(p, func(string, int) (string, error) {
				v := p.next()
				if v.kind != tokString {
					return "", p.errorf(v, "want a quoted string as a plural form of %q", key)
				}
				return v.text, nil
			})
			if err != nil {
				return entry{}, err
			}
			return entry{line: line, plural: true, forms: forms}, nil
		}
		return entry{}, p.errorf(tok, "want a quoted string or plural forms as the value of %q", key)
	})
	if err != nil {
		return nil, err
	}
	if len(d) == 0 {
		return nil, fmt.Errorf("no keys")
	}
	tok := p.next()
	if tok.kind == ';' {
		tok = p.next()
	}
	if tok.kind != tokEOF {
		return nil, p.errorf(tok, "want the end of the file after the dictionary")
	}
	return d, nil
}

// readObject reads the rest of `{ key: value, … }` after its opening brace
// (a trailing comma allowed), with value reading each value.
func readObject[V any](p *dictParser, value func(key string, line int) (V, error)) (map[string]V, error) {
	m := map[string]V{}
	for {
		tok := p.next()
		if tok.kind == '}' {
			return m, nil
		}
		if tok.kind != tokString && tok.kind != tokName {
			return nil, p.errorf(tok, "want a key or }")
		}
		key, line := tok.text, tok.line
		if _, dup := m[key]; dup {
			return nil, p.errorf(tok, "%q again", key)
		}
		if c := p.next(); c.kind != ':' {
			return nil, p.errorf(c, "want : after %q", key)
		}
		v, err := value(key, line)
		if err != nil {
			return nil, err
		}
		m[key] = v
		switch c := p.next(); c.kind {
		case ',':
		case '}':
			return m, nil
		default:
			return nil, p.errorf(c, "want , or } after the value of %q", key)
		}
	}
}

// Token kinds besides the punctuation { } : , ; which stand for themselves.
const (
	tokEOF    = -1
	tokString = -2
	tokName   = -3
	tokBad    = -4
)

type token struct {
	kind int
	text string
	line int
}

// dictParser splits the source into tokens, skipping space and comments.
type dictParser struct {
	src  string
	pos  int
	line int
}

func (p *dictParser) errorf(tok token, format string, args ...any) error {
	what := strconv.Quote(tok.text)
	switch tok.kind {
	case tokEOF:
		what = "the end of the file"
	case tokBad:
		what = tok.text
	}
	return fmt.Errorf("line %d: %s, found %s", tok.line, fmt.Sprintf(format, args...), what)
}

func (p *dictParser) next() token {
	p.skip()
	start := p.line
	if p.pos >= len(p.src) {
		return token{kind: tokEOF, line: start}
	}
	c := p.src[p.pos]
	switch {
	case strings.IndexByte("{}:,;", c) >= 0:
		p.pos++
		return token{kind: int(c), text: string(c), line: start}
	case c == '"' || c == '\'':
		s, err := p.quoted(c)
		if err != nil {
			return token{kind: tokBad, text: err.Error(), line: start}
		}
		return token{kind: tokString, text: s, line: start}
	case c == '_' || c == '$' || c < utf8.RuneSelf && unicode.IsLetter(rune(c)):
		end := p.pos
		for end < len(p.src) && (p.src[end] == '_' || p.src[end] == '$' || p.src[end] < utf8.RuneSelf &&
			(unicode.IsLetter(rune(p.src[end])) || unicode.IsDigit(rune(p.src[end])))) {
			end++
		}
		name := p.src[p.pos:end]
		p.pos = end
		return token{kind: tokName, text: name, line: start}
	}
	r, _ := utf8.DecodeRuneInString(p.src[p.pos:])
	p.pos = len(p.src) // nothing after this is read
	return token{kind: tokBad, text: strconv.QuoteRune(r), line: start}
}

// skip passes space, newlines (counting them) and comments.
func (p *dictParser) skip() {
	for p.pos < len(p.src) {
		switch {
		case p.src[p.pos] == '\n':
			p.line++
			p.pos++
		case p.src[p.pos] == ' ' || p.src[p.pos] == '\t' || p.src[p.pos] == '\r':
			p.pos++
		case strings.HasPrefix(p.src[p.pos:], "//"):
			for p.pos < len(p.src) && p.src[p.pos] != '\n' {
				p.pos++
			}
		case strings.HasPrefix(p.src[p.pos:], "/*"):
			end := strings.Index(p.src[p.pos+2:], "*/")
			if end < 0 {
				end = len(p.src) - p.pos - 4 // unterminated: runs to the end
			}
			comment := p.src[p.pos : p.pos+2+end+2]
			p.line += strings.Count(comment, "\n")
			p.pos += len(comment)
		default:
			return
		}
	}
}

// quoted reads a JavaScript string literal in quote q, decoding its escapes.
func (p *dictParser) quoted(q byte) (string, error) {
	var b strings.Builder
	i := p.pos + 1
	for i < len(p.src) {
		c := p.src[i]
		switch {
		case c == q:
			p.pos = i + 1
			return b.String(), nil
		case c == '\n':
			return "", fmt.Errorf("a string left open at the end of the line")
		case c != '\\':
			b.WriteByte(c)
			i++
			continue
		}
		if i+1 >= len(p.src) {
			break
		}
		e := p.src[i+1]
		i += 2
		switch e {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case '\\', '"', '\'':
			b.WriteByte(e)
		case 'u':
			hex := ""
			if strings.HasPrefix(p.src[i:], "{") {
				end := strings.IndexByte(p.src[i:], '}')
				if end < 0 {
					return "", fmt.Errorf("a bad \\u{…} escape")
				}
				hex, i = p.src[i+1:i+end], i+end+1
			} else if i+4 <= len(p.src) {
				hex, i = p.src[i:i+4], i+4
			}
			r, err := strconv.ParseUint(hex, 16, 32)
			if err != nil || !utf8.ValidRune(rune(r)) {
				return "", fmt.Errorf("a bad \\u escape %q", hex)
			}
			b.WriteRune(rune(r))
		default:
			return "", fmt.Errorf("an escape \\%c this test does not read; write the character itself", e)
		}
	}
	return "", fmt.Errorf("a string left open at the end of the file")
}
