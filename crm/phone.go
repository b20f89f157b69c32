package crm

import (
	"regexp"
	"strings"
	"unicode"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/unicode/norm"
)

// MetaPhoneExt is the touch meta key of the extension dialled after the
// sender's number ("+7 383 234-90-96 доб. 123" keeps "123"): an identity
// is the number alone, so the extension lives on the touch.
const MetaPhoneExt = "phone_ext"

// MetaPhoneUnread is the touch meta key of a phone number the sender
// wrote that could be read in no region (a secondary handle, or a form's
// phone next to a usable email): the touch keeps it as written, for a
// manager to see and call.
const MetaPhoneUnread = "phone_unread"

// NormalizePhone parses a phone number in any common format and returns
// E.164, or ErrInvalid for anything that is not a valid number. An
// extension is dropped: ParsePhone returns it.
func NormalizePhone(raw, region string) (string, error) {
	e164, _, err := ParsePhone(raw, region)
	return e164, err
}

// ParsePhone parses a phone number as people write it, region being the
// default country, and returns it in E.164 with the extension after it
// (digits only, "" if none): "+7 383 234-90-96 доб. 123", "вн. 12",
// "ext. 89", ";ext=123" and "x123" all name extensions. Anything that is
// not a valid number is ErrInvalid. What people paste around a number is
// dropped first (see cleanPhone).
func ParsePhone(raw, region string) (e164, ext string, err error) {
	s := cleanPhone(raw)
	digits := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	// "73832349096" is how many systems write a Russian number: country
	// code without the plus. Try it as international first.
	if digits >= 11 && !strings.HasPrefix(s, "+") && !strings.HasPrefix(s, "8") {
		if n, err := phonenumbers.Parse("+"+s, region); err == nil && phonenumbers.IsValidNumber(n) {
			return phonenumbers.Format(n, phonenumbers.E164), n.GetExtension(), nil
		}
	}
	n, err := phonenumbers.Parse(s, region)
	if err != nil || !phonenumbers.IsValidNumber(n) {
		// "00 49 …" is international in most of Europe and "8 10 49 …"
		// in Russia and its neighbours, whatever the region says: a
		// client abroad writes their own country's way.
		intl := intlPrefix.ReplaceAllString(s, "+")
		if intl == s {
			return "", "", Invalid("phone %q is not a valid number", raw)
		}
		if n, err = phonenumbers.Parse(intl, region); err != nil || !phonenumbers.IsValidNumber(n) {
			return "", "", Invalid("phone %q is not a valid number", raw)
		}
	}
	return phonenumbers.Format(n, phonenumbers.E164), n.GetExtension(), nil
}

// intlPrefix is an international call prefix a number starts with: "00"
// (most of the world) or "8 10" (Russia, Belarus, Kazakhstan …).
var intlPrefix = regexp.MustCompile(`^[\s(]*(?:0[\s-]*0|8[\s()-]*1[\s-]*0)[\s)-]*`)

// CheckRegion returns region as a phone region: an ISO 3166 alpha-2 code
// libphonenumber has a numbering plan for, upper-cased ("by" is "BY"), or
// "" for none (the default applies). Anything else is ErrInvalid.
func CheckRegion(region string) (string, error) {
	r := strings.ToUpper(strings.TrimSpace(region))
	if r == "" {
		return "", nil
	}
	if len(r) != 2 || phonenumbers.GetCountryCodeForRegion(r) == 0 {
		return "", Invalid("region %q is not a two-letter country code with a phone numbering plan, such as RU, BY or DE", region)
	}
	return r, nil
}

// extWords are the Russian words for an extension that libphonenumber
// does not know ("вн. 12", "внутр. 12", "внутренний 12", "добавочный 12",
// "доп. 12"; it knows "доб."),
// rewritten as "ext.".
var extWords = regexp.MustCompile(`(?i)(^|[^\p{L}])(?:внутр(?:енний)?\.?|вн\.?|добавочный|доп\.)\s*[:№#]?\s*(\d)`)

// cleanPhone turns a number as pasted into what libphonenumber reads:
// full-width and other compatibility digits become ASCII (NFKC), bidi and
// other invisible format marks go (a number copied from an RTL message
// carries U+200E/U+200F, U+202A–U+202E or U+2066–U+2069), a WhatsApp
// JID's "@s.whatsapp.net" and device suffix go, Russian extension words
// become "ext.", and a name in parentheses or words after the number go:
// "+7 913 123-45-67 (Иван)", "8 913 123 45 67 Иван, менеджер".
func cleanPhone(raw string) string {
	s := strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, norm.NFKC.String(raw))
	s = strings.TrimSpace(s)
	for _, suffix := range []string{"@s.whatsapp.net", "@c.us"} {
		if user, ok := strings.CutSuffix(s, suffix); ok {
			user, _, _ = strings.Cut(user, ":")
			s = user
		}
	}
	s = extWords.ReplaceAllString(s, "$1 ext. $2")
	s = namedParens.ReplaceAllString(s, " ")
	if first := strings.IndexFunc(s, unicode.IsDigit); first >= 0 {
		for _, w := range letters.FindAllStringIndex(s, -1) {
			if w[0] > first && !extKeywords[strings.ToLower(s[w[0]:w[1]])] {
				s = s[:w[0]]
				break
			}
		}
	}
	// What separated the number from the words ("…-67, Иван"); trailing
	// spaces also make libphonenumber miss an extension.
	return strings.TrimRightFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

var (
	// namedParens is a parenthesized name (letters, no digits):
	// "(Иван)", "(офис)".
	namedParens = regexp.MustCompile(`\([^()\d]*\pL[^()\d]*\)`)
	letters     = regexp.MustCompile(`\pL+`)
	// extKeywords may follow the number: libphonenumber reads them as
	// the start of an extension.
	extKeywords = map[string]bool{"ext": true, "extn": true, "extension": true, "x": true, "доб": true}
)
