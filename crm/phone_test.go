package crm_test

import (
	"errors"
	"testing"

	"github.com/switchboard/switchboard/crm"
)

// TestParsePhoneKeepsTheExtension: an extension however it is written is
// kept apart from the number, which is the same E.164 as without it.
func TestParsePhoneKeepsTheExtension(t *testing.T) {
	const office = "+73832349096"
	tests := []struct {
		raw, e164, ext string
	}{
		{"+7 383 234-90-96 доб. 123", office, "123"},
		{"8 (383) 234-90-96, доб 45", office, "45"},
		{"+7 383 234-90-96 добавочный 7", office, "7"},
		{"+7 383 234-90-96 вн. 12", office, "12"},
		{"8 383 234 90 96 вн.12", office, "12"},
		{"+7 (383) 234-90-96, внутр. 305", office, "305"},
		{"+7 383 234-90-96 Вн 9", office, "9"},
		{"+7 383 234-90-96 доп. 31", office, "31"},
		{"+7 383 234-90-96 ext. 89", office, "89"},
		{"+7 383 234-90-96 EXT 89", office, "89"},
		{"+73832349096;ext=123", office, "123"},
		{"tel:+7-383-234-90-96;ext=5501", office, "5501"},
		{"+7 383 234 90 96 x123", office, "123"},
		{"73832349096 x77", office, "77"},
		{"+1 650 253 0000 ext. 4521", "+16502530000", "4521"},
		{"+7 383 234-90-96", office, ""},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			e164, ext, err := crm.ParsePhone(tt.raw, "RU")
			if err != nil {
				t.Fatalf("ParsePhone(%q): %v", tt.raw, err)
			}
			if e164 != tt.e164 || ext != tt.ext {
				t.Errorf("ParsePhone(%q) = %q, ext %q; want %q, ext %q", tt.raw, e164, ext, tt.e164, tt.ext)
			}
			if n, err := crm.NormalizePhone(tt.raw, "RU"); err != nil || n != tt.e164 {
				t.Errorf("NormalizePhone(%q) = %q, %v; want %q (the identity is the number alone)", tt.raw, n, err, tt.e164)
			}
		})
	}
}

// TestNormalizePhoneReadsNumbersAsPasted: valid numbers as people paste
// them — with a name, in full-width digits, wrapped in bidi marks, as a
// WhatsApp JID — are the same identity as the plain number.
func TestNormalizePhoneReadsNumbersAsPasted(t *testing.T) {
	const mobile, office = "+79131234567", "+73832349096"
	tests := []struct {
		class, raw, want, ext string
	}{
		{"trailing name", "+7 913 123-45-67 (Иван)", mobile, ""},
		{"trailing name", "8 (913) 123-45-67 (Иван Петров, прораб)", mobile, ""},
		{"trailing name", "+7 913 123 45 67 Иван", mobile, ""},
		{"trailing name", "89131234567 - Ольга, менеджер", mobile, ""},
		{"trailing name", "+7 913 123-45-67, Иван (звонить после 18)", mobile, ""},
		{"trailing name", "+7 383 234-90-96 доб. 123 (Сергей)", office, "123"},
		{"trailing name", "+1 415 555 2671 John", "+14155552671", ""},
		{"leading name", "Иван: +7 913 123-45-67", mobile, ""},
		{"full-width", "＋７ ９１３ １２３-４５-６７", mobile, ""},
		{"full-width", "８ （９１３） １２３－４５－６７", mobile, ""},
		{"full-width", "７９１３１２３４５６７", mobile, ""},
		{"full-width", "+7\u00a0913\u00a0123\u201145\u201167", mobile, ""},
		{"bidi marks", "\u200e+7 913 123-45-67\u200f", mobile, ""},
		{"bidi marks", "\u202a+7 (383) 234-90-96\u202c", office, ""},
		{"bidi marks", "\u2066+7 913 123 45 67\u2069", mobile, ""},
		{"bidi marks", "\u202b8 913 123-45-67\u202c", mobile, ""},
		{"bidi marks", "+7\u200e 913\u200e 123\u200e 45 67\ufeff", mobile, ""},
		{"bidi marks", "\u202e+7 913 123-45-67\u202d \u2067x12\u2069", mobile, "12"},
		{"whatsapp suffix", "79131234567@s.whatsapp.net", mobile, ""},
		{"whatsapp suffix", "+79131234567@s.whatsapp.net", mobile, ""},
		{"whatsapp suffix", "79131234567:12@s.whatsapp.net", mobile, ""},
		{"whatsapp suffix", "73832349096@c.us", office, ""},
	}
	for _, tt := range tests {
		t.Run(tt.class+"/"+tt.raw, func(t *testing.T) {
			got, ext, err := crm.ParsePhone(tt.raw, "RU")
			if err != nil || got != tt.want || ext != tt.ext {
				t.Errorf("ParsePhone(%q) = %q, ext %q, %v; want %q, ext %q", tt.raw, got, ext, err, tt.want, tt.ext)
			}
			k, err := crm.Normalize("phone", tt.raw, "RU")
			if err != nil || k.Value != tt.want {
				t.Errorf("Normalize(phone, %q) = %v, %v; want %q", tt.raw, k, err, tt.want)
			}
		})
	}
}

// TestNormalizePhoneStillRefusesNonNumbers: cleaning does not turn words
// or fragments into numbers.
func TestNormalizePhoneStillRefusesNonNumbers(t *testing.T) {
	for _, raw := range []string{
		"Иван", "(Иван)", "\u200e\u200f", "＋", "@s.whatsapp.net", "913 (Иван) 123",
		"позвоните мне", "2349096 (офис)", "12@s.whatsapp.net", "x123", "доб. 123",
	} {
		if got, err := crm.NormalizePhone(raw, "RU"); !errors.Is(err, crm.ErrInvalid) {
			t.Errorf("NormalizePhone(%q) = %q, %v; want ErrInvalid", raw, got, err)
		}
	}
}
