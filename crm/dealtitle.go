package crm

import (
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// dealTitleMax is how long a title made from a touch may be, in runes.
const dealTitleMax = 80

// replyPrefix matches what mail programs put before a subject they
// answer or forward (Re:, Fwd:, AW:, Ответ:, Пересл: …), repeated.
var replyPrefix = regexp.MustCompile(`(?i)^\s*((re|fwd?|aw|wg|sv|tr|отв|ответ|пересл|пересылка)\s*(\[\d+\])?\s*:\s*)+`)

// DealTitle is a title for a deal opened by a touch, in the client's own
// words, in no one language: an email's subject (without Re:/Fwd:), the
// page a web form was sent from (host and path), or the first line of a
// message. A call, or a touch with none of these, gets fallback (the
// contact's name or number); the deal's channel and date show beside it.
func DealTitle(channel, subject, text, pageURL, fallback string) string {
	var title string
	switch channel {
	case "email":
		title = replyPrefix.ReplaceAllString(subject, "")
	case "web":
		if u, err := url.Parse(strings.TrimSpace(pageURL)); err == nil && u.Host != "" {
			title = strings.TrimPrefix(u.Host, "www.") + strings.TrimRight(u.Path, "/")
		}
	}
	if strings.TrimSpace(title) == "" && channel != "phone" && !strings.HasPrefix(strings.TrimSpace(text), "/start") {
		title, _, _ = strings.Cut(strings.TrimSpace(text), "\n")
	}
	if title = strings.Join(strings.Fields(title), " "); title == "" {
		title = readablePhone(strings.TrimSpace(fallback))
	}
	return clipWords(title, dealTitleMax)
}

// clipWords shortens s to at most n runes, at a word boundary when there
// is one in the second half, with an ellipsis.
func clipWords(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)[:n-1]
	cut := string(r)
	if i := strings.LastIndex(cut, " "); i > len(cut)/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,.;:—-") + "…"
}

// readablePhone writes a phone number as people read it ("+7 961 832-40-11");
// anything else comes back as it is.
func readablePhone(s string) string {
	if s == "" || strings.Trim(s, "+0123456789 ()-") != "" {
		return s
	}
	if n, err := phonenumbers.Parse("+"+strings.TrimLeft(s, "+"), ""); err == nil && phonenumbers.IsValidNumber(n) {
		return phonenumbers.Format(n, phonenumbers.INTERNATIONAL)
	}
	return s
}
