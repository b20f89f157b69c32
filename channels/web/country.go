package web

import (
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// maxCountryLen is the longest country a submission may name, in
// characters ("Saint Vincent and the Grenadines" fits well).
const maxCountryLen = 100

// Country reads a submission's country as the phone region that reads its
// phone: an ISO 3166 alpha-2 code ("BY", "by"), an alpha-3 code ("BLR"),
// or the country's name in English or Russian ("Belarus", "Беларусь"),
// any case; "" is none. A country libphonenumber has no numbering plan
// for, or no country at all, is an *Error with CodeInvalid naming the
// field: the site owner learns while wiring the form, not from a lead
// whose number was read as Russian.
func Country(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if len(s) <= 3 {
		if r, err := language.ParseRegion(s); err == nil && r.IsCountry() && phonenumbers.GetCountryCodeForRegion(r.String()) != 0 {
			return r.String(), nil
		}
	}
	if code, ok := countryNames()[foldName(s)]; ok {
		return code, nil
	}
	return "", invalid(`country ` + quote(s) + ` is not a country with phone numbers: send its ISO 3166 code, such as "BY" or "DE" (or its name in English or Russian)`)
}

// countryNames maps the English and Russian names of every country
// libphonenumber knows, folded, to its code.
var countryNames = sync.OnceValue(func() map[string]string {
	m := map[string]string{}
	for code := range phonenumbers.GetSupportedRegions() {
		r, err := language.ParseRegion(code)
		if err != nil {
			continue
		}
		for _, d := range []*display.Dictionary{display.English, display.Russian} {
			if name := d.Regions().Name(r); name != "" {
				m[foldName(name)] = code
			}
		}
	}
	return m
})

// foldName is a country name compared without case, ё or extra spaces.
func foldName(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(strings.ToLower(s), "ё", "е")), " ")
}

// quote clips what a sender wrote before it goes into an error message.
func quote(s string) string {
	if r := []rune(s); len(r) > 40 {
		s = string(r[:40]) + "…"
	}
	return `"` + strings.ToValidUTF8(s, "?") + `"`
}
