package api

import (
	"bytes"
	"encoding/json"
	"net/url"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/switchboard/switchboard/crm"
)

// Text from outside is cleaned once, here at the edge, for every field of
// every request: invalid UTF-8 becomes U+FFFD, NUL and the other control
// characters (but tab and line breaks) are dropped — PostgreSQL text cannot
// hold NUL, and none of them means anything in a name or a message — and
// every field has a length limit, refused with 422 naming the field.

// maxField is the limit of a text field not in longFields, in characters.
const maxField = 1000

// longFields are the fields (by JSON name) that hold more than a line.
var longFields = map[string]int{
	"text":      100_000, // a reply
	"html":      500_000,
	"note":      10_000,
	"signature": 5_000,
	"comment":   10_000,
}

// cleanText cleans the strings of a decoded request in place and checks
// their lengths.
func cleanText(v any) error {
	return cleanValue(reflect.ValueOf(v), "")
}

func cleanValue(v reflect.Value, field string) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return cleanValue(v.Elem(), field)
	case reflect.String:
		s := cleanString(v.String())
		limit := maxField
		if n, ok := longFields[field]; ok {
			limit = n
		}
		if utf8.RuneCountInString(s) > limit {
			return crm.Invalid("%s is longer than %d characters", fieldName(field), limit)
		}
		if v.CanSet() && s != v.String() {
			v.SetString(s)
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name := f.Name
			if tag, _, _ := strings.Cut(f.Tag.Get("json"), ","); tag == "-" {
				continue
			} else if tag != "" {
				name = tag
			} else if f.Anonymous {
				name = field
			}
			if err := cleanValue(v.Field(i), name); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type() == reflect.TypeFor[json.RawMessage]() {
			if bytes.Contains(v.Bytes(), []byte(`\u0000`)) {
				return crm.Invalid("%s contains a NUL character", fieldName(field))
			}
			return nil
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return nil // bytes (a file's content), not text
		}
		for i := 0; i < v.Len(); i++ {
			if err := cleanValue(v.Index(i), field); err != nil {
				return err
			}
		}
	case reflect.Map:
		if v.Type().Elem().Kind() != reflect.String {
			return nil
		}
		for _, k := range v.MapKeys() {
			s := v.MapIndex(k).String()
			if c := cleanString(s); c != s {
				v.SetMapIndex(k, reflect.ValueOf(c).Convert(v.Type().Elem()))
			}
			if utf8.RuneCountInString(s) > maxField {
				return crm.Invalid("%s is longer than %d characters", fieldName(field), maxField)
			}
		}
	}
	return nil
}

func fieldName(f string) string {
	if f == "" {
		return "the value"
	}
	return f
}

// cleanString drops NUL and the control characters other than tab and
// line breaks, and replaces invalid UTF-8.
func cleanString(s string) string {
	clean := utf8.ValidString(s)
	for i := 0; clean && i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
			clean = false
		}
	}
	if clean {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

// cleanQuery cleans a request's query parameters the same way (a search
// term with NUL in it is a 500 on PostgreSQL otherwise).
func cleanQuery(u *url.URL) {
	if u.RawQuery == "" {
		return
	}
	q := u.Query()
	changed := false
	for k, vs := range q {
		for i, s := range vs {
			if c := cleanString(s); c != s {
				vs[i], changed = c, true
			}
		}
		q[k] = vs
	}
	if changed {
		u.RawQuery = q.Encode()
	}
}
