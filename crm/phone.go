package crm

import (
	"regexp"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// MetaPhoneExt is the touch meta key of the extension dialled after the
// sender's number ("+7 383 234-90-96 доб. 123" keeps "123"): an identity
// is the number alone, so the extension lives on the touch.
const MetaPhoneExt = "phone_ext"

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
// not a valid number is ErrInvalid.
func ParsePhone(raw, region string) (e164, ext string, err error) {
	s := extWords.ReplaceAllString(strings.TrimSpace(raw), "$1 ext. $2")
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
		return "", "", Invalid("phone %q is not a valid number", raw)
	}
	return phonenumbers.Format(n, phonenumbers.E164), n.GetExtension(), nil
}

// extWords are the Russian words for an extension that libphonenumber
// does not know ("вн. 12", "внутр. 12", "внутренний 12", "добавочный 12",
// "доп. 12"; it knows "доб."),
// rewritten as "ext.".
var extWords = regexp.MustCompile(`(?i)(^|[^\p{L}])(?:внутр(?:енний)?\.?|вн\.?|добавочный|доп\.)\s*[:№#]?\s*(\d)`)
