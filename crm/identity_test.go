package crm_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/crm"
)

func TestNormalizePhone(t *testing.T) {
	const novosibirsk = "+73832349096"
	tests := []struct {
		name string
		raw  string
		want string
	}{
		{"a Russian trunk-prefix number with brackets and dashes is E.164", "8 (383) 234-90-96", novosibirsk},
		{"an international number with spaces is E.164", "+7 383 234 90 96", novosibirsk},
		{"a number with the country code but no plus is E.164", "73832349096", novosibirsk},
		{"a mobile number with the trunk prefix and dashes is E.164", "8-913-123-45-67", "+79131234567"},
		{"surrounding spaces are ignored", "  +7 (913) 123-45-67\t", "+79131234567"},
		{"a foreign number keeps its own country code", "+1 415 555 2671", "+14155552671"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := crm.NormalizePhone(tt.raw, "RU")
			if err != nil {
				t.Fatalf("NormalizePhone(%q) error: %v", tt.raw, err)
			}
			if got != tt.want {
				t.Errorf("NormalizePhone(%q) = %q, want %q", tt.raw, got, tt.want)
			}
		})
	}
}

func TestNormalizePhoneRejectsGarbage(t *testing.T) {
	tests := []struct {
		name string
		raw  string
	}{
		{"a local number without the area code is rejected", "2349096"},
		{"two digits are rejected", "12"},
		{"letters are rejected", "abc"},
		{"a country code with a zero tail is rejected", "+7 000"},
		{"an empty string is rejected", ""},
		{"an unassigned country code is rejected", "+999 123 456 789"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := crm.NormalizePhone(tt.raw, "RU")
			if !errors.Is(err, crm.ErrInvalid) {
				t.Fatalf("NormalizePhone(%q) = %q, %v; want ErrInvalid", tt.raw, got, err)
			}
			if got != "" {
				t.Errorf("NormalizePhone(%q) returned %q alongside the error", tt.raw, got)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name string
		kind string
		raw  string
		want crm.Key
	}{
		{"a phone is E.164 with region RU", "phone", "8 (383) 234-90-96", crm.Key{Kind: crm.PhoneID, Value: "+73832349096"}},
		{"an email is trimmed and lower-cased", "email", "  Ivan.Petrov@Example.COM ", crm.Key{Kind: crm.EmailID, Value: "ivan.petrov@example.com"}},
		{"an email with a display name keeps only the address", "email", "Ivan <IVAN@example.com>", crm.Key{Kind: crm.EmailID, Value: "ivan@example.com"}},
		{"a telegram id is a decimal number", "telegram", "123456789", crm.Key{Kind: crm.TelegramID, Value: "123456789"}},
		{"a telegram id loses leading zeros and spaces", "telegram", " 00042 ", crm.Key{Kind: crm.TelegramID, Value: "42"}},
		{"a WhatsApp user JID is kept", "whatsapp", "79131234567@s.whatsapp.net", crm.Key{Kind: crm.WhatsAppID, Value: "79131234567@s.whatsapp.net"}},
		{"a WhatsApp JID with a device suffix loses the device", "whatsapp", "79131234567:12@s.whatsapp.net", crm.Key{Kind: crm.WhatsAppID, Value: "79131234567@s.whatsapp.net"}},
		{"a legacy c.us WhatsApp JID becomes s.whatsapp.net", "whatsapp", "79131234567@c.us", crm.Key{Kind: crm.WhatsAppID, Value: "79131234567@s.whatsapp.net"}},
		{"a bare phone number is a WhatsApp JID", "whatsapp", "+7 913 123-45-67", crm.Key{Kind: crm.WhatsAppID, Value: "79131234567@s.whatsapp.net"}},
		{"a WhatsApp LID is kept", "whatsapp", "123456789012345@lid", crm.Key{Kind: crm.WhatsAppID, Value: "123456789012345@lid"}},
		{"a WhatsApp LID with a device suffix loses the device", "whatsapp", "123456789012345:3@lid", crm.Key{Kind: crm.WhatsAppID, Value: "123456789012345@lid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind := tt.kind
			got, err := crm.Normalize(kind, tt.raw, "RU")
			if err != nil {
				t.Fatalf("Normalize(%q, %q) error: %v", kind, tt.raw, err)
			}
			if got != tt.want {
				t.Errorf("Normalize(%q, %q) = %v, want %v", kind, tt.raw, got, tt.want)
			}
		})
	}
}

func TestNormalizeRejects(t *testing.T) {
	tests := []struct {
		name string
		kind string
		raw  string
	}{
		{"a phone without enough digits is rejected", "phone", "2349096"},
		{"a phone of letters is rejected", "phone", "abc"},
		{"a phone of a bare country code is rejected", "phone", "+7 000"},
		{"text that is not an email is rejected", "email", "not an email"},
		{"an email without a domain is rejected", "email", "ivan@"},
		{"an empty email is rejected", "email", "   "},
		{"a zero telegram id is rejected", "telegram", "0"},
		{"a negative telegram id is rejected", "telegram", "-5"},
		{"a telegram username is rejected", "telegram", "@ivan"},
		{"a fractional telegram id is rejected", "telegram", "1.5"},
		{"a WhatsApp group JID is rejected", "whatsapp", "120363025246125888@g.us"},
		{"a WhatsApp group JID of the old form is rejected", "whatsapp", "79131234567-1600000000@g.us"},
		{"a WhatsApp broadcast JID is rejected", "whatsapp", "status@broadcast"},
		{"a WhatsApp JID without a valid number is rejected", "whatsapp", "12@s.whatsapp.net"},
		{"a WhatsApp LID of letters is rejected", "whatsapp", "abc@lid"},
		{"an empty WhatsApp LID is rejected", "whatsapp", "@lid"},
		{"an unknown kind is rejected", "fax", "+73832349096"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := crm.Normalize(tt.kind, tt.raw, "RU")
			if !errors.Is(err, crm.ErrInvalid) {
				t.Fatalf("Normalize(%q, %q) = %v, %v; want ErrInvalid", tt.kind, tt.raw, got, err)
			}
		})
	}
}

func TestRelated(t *testing.T) {
	tests := []struct {
		name string
		kind string
		raw  string
		want []crm.Key
	}{
		{"a WhatsApp JID implies the phone of the same person", "whatsapp", "79131234567@s.whatsapp.net", []crm.Key{{Kind: crm.PhoneID, Value: "+79131234567"}}},
		{"a WhatsApp JID with a device implies the same phone", "whatsapp", "79131234567:12@s.whatsapp.net", []crm.Key{{Kind: crm.PhoneID, Value: "+79131234567"}}},
		{"a WhatsApp LID implies no phone", "whatsapp", "123456789012345@lid", nil},
		{"a phone implies nothing else", "phone", "+79131234567", nil},
		{"an email implies nothing else", "email", "a@b.ru", nil},
		{"a telegram id implies nothing else", "telegram", "42", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := crm.Normalize(tt.kind, tt.raw, "RU")
			if err != nil {
				t.Fatal(err)
			}
			got := crm.Related(k)
			if len(got) != len(tt.want) {
				t.Fatalf("Related(%v) = %v, want %v", k, got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("Related(%v) = %v, want %v", k, got, tt.want)
				}
			}
		})
	}
}

func TestNormalizeAll(t *testing.T) {
	t.Run("related keys are added and duplicates removed in order", func(t *testing.T) {
		got, err := crm.NormalizeAll([]crm.RawHandle{
			{Kind: "whatsapp", Value: "79131234567:3@s.whatsapp.net"},
			{Kind: "phone", Value: "8-913-123-45-67"}, // same as the JID's phone
			{Kind: "email", Value: "A@B.RU"},
			{Kind: "email", Value: "a@b.ru"},
			{Kind: "phone", Value: "8 (383) 234-90-96"},
		}, "RU")
		if err != nil {
			t.Fatal(err)
		}
		want := []crm.Key{
			{Kind: crm.WhatsAppID, Value: "79131234567@s.whatsapp.net"},
			{Kind: crm.PhoneID, Value: "+79131234567"},
			{Kind: crm.EmailID, Value: "a@b.ru"},
			{Kind: crm.PhoneID, Value: "+73832349096"},
		}
		if len(got) != len(want) {
			t.Fatalf("NormalizeAll = %v, want %v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("NormalizeAll = %v, want %v", got, want)
			}
		}
	})
	t.Run("one bad handle fails the whole list", func(t *testing.T) {
		got, err := crm.NormalizeAll([]crm.RawHandle{
			{Kind: "phone", Value: "+73832349096"},
			{Kind: "email", Value: "not an email"},
		}, "RU")
		if !errors.Is(err, crm.ErrInvalid) {
			t.Fatalf("err = %v, want ErrInvalid", err)
		}
		if got != nil {
			t.Errorf("keys = %v, want none with the error", got)
		}
		if !strings.Contains(err.Error(), "not an email") {
			t.Errorf("error %q does not name the bad handle", err)
		}
	})
}

func TestSearchTerm(t *testing.T) {
	tests := []struct {
		name string
		q    string
		want string
	}{
		{"a phone in national format becomes its E.164 digits", "8 (383) 234-90-96", "73832349096"},
		{"a phone in international format becomes its E.164 digits", "+7 383 234 90 96", "73832349096"},
		{"partial digits with separators become bare digits", "234-90", "23490"},
		{"an email is lower-cased", "  IVAN@Example.COM ", "ivan@example.com"},
		{"a Latin name is lower-cased", "Ivan Petrov", "ivan petrov"},
		{"a Cyrillic name is lower-cased", "ИВАН Петров", "иван петров"},
		{"two digits stay text", "12", "12"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := crm.SearchTerm(tt.q, "RU"); got != tt.want {
				t.Errorf("SearchTerm(%q) = %q, want %q", tt.q, got, tt.want)
			}
		})
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"8 (383) 234-90-96", "+7 383 234 90 96", "73832349096", "8-913-123-45-67",
		"2349096", "12", "abc", "+7 000", "a@b.ru", "not an email", "42", "-1",
		"79131234567@s.whatsapp.net", "79131234567:12@s.whatsapp.net", "1203630@g.us",
		"+", "@", ":@", "++7", "８９１３１２３４５６７", "+7\x00913",
		"+7 913 123-45-67 (Иван)", "\u200e+7 913 123-45-67\u200f", "＋７ ９１３ １２３-４５-６７", "+7 383 234-90-96 доб. 123 (Сергей)",
		"8 383 234 90 96 вн.12", "+73832349096;ext=123", "79131234567:12@s.whatsapp.net", "Иван: 8 913 123 45 67, менеджер",
	} {
		f.Add(s)
	}
	isDigits := func(s string) bool {
		if s == "" {
			return false
		}
		for _, r := range s {
			if r < '0' || r > '9' {
				return false
			}
		}
		return true
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, kind := range []string{"phone", "email", "telegram", "whatsapp"} {
			k, err := crm.Normalize(kind, raw, "RU")
			if err != nil {
				if !errors.Is(err, crm.ErrInvalid) {
					t.Fatalf("Normalize(%q, %q) error %v is not ErrInvalid", kind, raw, err)
				}
				continue
			}
			if string(k.Kind) != kind {
				t.Fatalf("Normalize(%q, %q) kind = %q", kind, raw, k.Kind)
			}
			switch k.Kind {
			case crm.PhoneID:
				if !strings.HasPrefix(k.Value, "+") || !isDigits(k.Value[1:]) {
					t.Fatalf("Normalize(phone, %q) = %q, not E.164", raw, k.Value)
				}
			case crm.WhatsAppID:
				user, ok := strings.CutSuffix(k.Value, "@s.whatsapp.net")
				if !ok || !isDigits(user) {
					t.Fatalf("Normalize(whatsapp, %q) = %q, not a user JID", raw, k.Value)
				}
				for _, r := range crm.Related(k) {
					if r.Value != "+"+user {
						t.Fatalf("Related(%v) = %v", k, r)
					}
				}
			case crm.TelegramID:
				if !isDigits(k.Value) || k.Value[0] == '0' {
					t.Fatalf("Normalize(telegram, %q) = %q", raw, k.Value)
				}
			case crm.EmailID:
				if k.Value != strings.ToLower(k.Value) || !strings.Contains(k.Value, "@") {
					t.Fatalf("Normalize(email, %q) = %q", raw, k.Value)
				}
			}
			again, err := crm.Normalize(kind, k.Value, "RU")
			if kind != "email" && (err != nil || again != k) {
				t.Fatalf("Normalize is not idempotent: %q → %v → %v, %v", raw, k, again, err)
			}
		}
		if p, err := crm.NormalizePhone(raw, "RU"); err == nil {
			if !strings.HasPrefix(p, "+") || !isDigits(p[1:]) {
				t.Fatalf("NormalizePhone(%q) = %q, not E.164", raw, p)
			}
		}
		if p, ext, err := crm.ParsePhone(raw, "RU"); err == nil {
			if n, _ := crm.NormalizePhone(raw, "RU"); n != p {
				t.Fatalf("ParsePhone(%q) = %q but NormalizePhone = %q", raw, p, n)
			}
			if ext != "" && !isDigits(ext) {
				t.Fatalf("ParsePhone(%q) extension %q is not digits", raw, ext)
			}
		}
		_ = crm.SearchTerm(raw, "RU")
	})
}
