package web

import (
	"errors"
	"strings"
	"testing"
)

// A form's country may be a code or a name, as site builders send it; what
// is no country is refused naming the field.
func TestCountry(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"  ", ""},
		{"BY", "BY"},
		{"by", "BY"},
		{" de ", "DE"},
		{"BLR", "BY"},
		{"deu", "DE"},
		{"Belarus", "BY"},
		{"Беларусь", "BY"},
		{"germany", "DE"},
		{"Германия", "DE"},
		{"Kazakhstan", "KZ"},
		{"Казахстан", "KZ"},
		{"Ukraine", "UA"},
		{"Uzbekistan", "UZ"},
		{"United States", "US"},
		{"Россия", "RU"},
	} {
		got, err := Country(c.in)
		if err != nil || got != c.want {
			t.Errorf("Country(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, in := range []string{"XX", "Narnia", "EU", "+375", "Belarus 29", "AQ"} {
		got, err := Country(in)
		if !errors.Is(err, &Error{Code: CodeInvalid}) || !strings.Contains(err.Error(), "country") {
			t.Errorf("Country(%q) = %q, %v; want an invalid-country error", in, got, err)
		}
	}
}

// A submission whose country is no country is refused with 422, naming
// the field, before anything is stored.
func TestReadRefusesAnUnknownCountry(t *testing.T) {
	now := testNow()
	body := []byte(`{"submission_id":"s-1","phone":"8 029 123-45-67","country":"Narnia"}`)
	_, err := Read(request(body, testSecret, now), testSecret, now)
	var we *Error
	if !errors.As(err, &we) || we.Status != 422 || we.Code != CodeInvalid || !strings.Contains(we.Message, `country "Narnia"`) {
		t.Fatalf("Read: %v, want 422 naming the country", err)
	}
	long := []byte(`{"submission_id":"s-2","phone":"8 029 123-45-67","country":"` + strings.Repeat("z", 101) + `"}`)
	if _, err := Read(request(long, testSecret, now), testSecret, now); !errors.As(err, &we) || !strings.Contains(we.Message, "country is 101 characters") {
		t.Fatalf("Read of a 101-character country: %v", err)
	}
}
