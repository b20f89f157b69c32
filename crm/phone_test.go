package crm_test

import (
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
