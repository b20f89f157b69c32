package crm_test

import (
	"errors"
	"testing"

	"github.com/switchboard/switchboard/crm"
)

// foreignNumbers are numbers clients abroad write, with the region of the
// site or entry point they wrote them on: national forms need it, and
// international ones ("+49", "00 49") read the same in any ("8 10 49" in
// the regions that dial 8 10 abroad; in Germany it is a German number).
var foreignNumbers = []struct {
	raw, region, e164 string
}{
	{"8 029 123-45-67", "BY", "+375291234567"}, // Belarus: trunk 8, then the 0 of the operator code
	{"8 (029) 123 45 67", "BY", "+375291234567"},
	{"029 123 45 67", "BY", "+375291234567"},
	{"+375 29 123-45-67", "RU", "+375291234567"},
	{"+375 29 123-45-67", "DE", "+375291234567"},
	{"8 10 375 29 123-45-67", "RU", "+375291234567"},
	{"00 49 30 1234567", "DE", "+49301234567"}, // Germany's own way of writing abroad
	{"00 49 30 1234567", "RU", "+49301234567"}, // Russia's prefix is 8 10, yet 00 is read
	{"0049 30 1234567", "BY", "+49301234567"},
	{"030 1234567", "DE", "+49301234567"},
	{"030/1234567", "DE", "+49301234567"},
	{"8 10 49 30 1234567", "KZ", "+49301234567"},
	{"8 701 123 45 67", "KZ", "+77011234567"}, // Kazakhstan shares +7 with Russia
	{"8 701 123 45 67", "RU", "+77011234567"},
	{"0 67 123 45 67", "UA", "+380671234567"}, // Ukraine: trunk 0
	{"+380 67 123 45 67", "RU", "+380671234567"},
	{"90 123 45 67", "UZ", "+998901234567"}, // Uzbekistan: no trunk prefix
	{"+998 90 123-45-67", "RU", "+998901234567"},
	{"(201) 555-0123", "US", "+12015550123"},
	{"+1 201 555 0123", "RU", "+12015550123"},
	{"8 (383) 234-90-96", "RU", "+73832349096"},
}

func TestParsePhoneReadsForeignNumbersWithTheirRegion(t *testing.T) {
	for _, tt := range foreignNumbers {
		t.Run(tt.region+" "+tt.raw, func(t *testing.T) {
			got, err := crm.NormalizePhone(tt.raw, tt.region)
			if err != nil || got != tt.e164 {
				t.Fatalf("NormalizePhone(%q, %s) = %q, %v; want %s", tt.raw, tt.region, got, err, tt.e164)
			}
		})
	}
}

// The national forms are what the region is for: with the server's RU
// they are no number.
func TestParsePhoneRefusesForeignNationalFormsInTheWrongRegion(t *testing.T) {
	for _, raw := range []string{"8 029 123-45-67", "0 67 123 45 67", "030 1234567", "90 123 45 67"} {
		if got, err := crm.NormalizePhone(raw, "RU"); !errors.Is(err, crm.ErrInvalid) {
			t.Errorf("NormalizePhone(%q, RU) = %q, %v; want invalid", raw, got, err)
		}
	}
}

func TestCheckRegion(t *testing.T) {
	for in, want := range map[string]string{"": "", " ": "", "by": "BY", " DE ": "DE", "RU": "RU", "kz": "KZ"} {
		if got, err := crm.CheckRegion(in); err != nil || got != want {
			t.Errorf("CheckRegion(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"XX", "BLR", "Belarus", "R", "+7", "ZZ"} {
		if got, err := crm.CheckRegion(in); !errors.Is(err, crm.ErrInvalid) {
			t.Errorf("CheckRegion(%q) = %q, %v; want invalid", in, got, err)
		}
	}
}
