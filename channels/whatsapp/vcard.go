package whatsapp

import "strings"

// vcardPhone is a TEL of a vCard: the number as written, and the WhatsApp
// id WhatsApp adds to it (waid=79131234567) when the number has WhatsApp.
type vcardPhone struct {
	number string
	waid   string
}

// parseVCard reads the name (FN) and phone numbers (TEL) of a vCard as
// WhatsApp shares it (RFC 6350, with item1. groups and waid parameters).
// Malformed lines are skipped.
func parseVCard(card string) (name string, phones []vcardPhone) {
	card = strings.ReplaceAll(card, "\r\n", "\n")
	card = strings.ReplaceAll(card, "\n ", "") // folded lines
	for _, line := range strings.Split(card, "\n") {
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		if _, k, grouped := strings.Cut(key, "."); grouped {
			key = k // item1.TEL
		}
		params := strings.Split(key, ";")
		switch strings.ToUpper(params[0]) {
		case "FN":
			name = strings.TrimSpace(value)
		case "TEL":
			p := vcardPhone{number: strings.TrimSpace(value)}
			for _, prm := range params[1:] {
				if k, v, ok := strings.Cut(prm, "="); ok && strings.EqualFold(k, "waid") {
					p.waid = digits(v)
				}
			}
			if p.number == "" && p.waid != "" {
				p.number = "+" + p.waid
			}
			if digits(p.number) != "" {
				phones = append(phones, p)
			}
		}
	}
	return name, phones
}
