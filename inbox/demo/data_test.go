package demo

import (
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestDemoDataLoads(t *testing.T) {
	if _, err := loadDemoData(); err != nil {
		t.Fatal(err)
	}
}

// TestDemoDataPlaceholders checks that every {placeholder} in demodata is
// one the code fills there: a misspelt one would reach the screens as is.
func TestDemoDataPlaceholders(t *testing.T) {
	d, err := loadDemoData()
	if err != nil {
		t.Fatal(err)
	}
	fills := map[string][]string{ // by path, as json names; list items share their list's path
		"company.spend_note":          {"note", "n", "period"},
		"kitchen.title":               {"kind", "metres", "facade"},
		"dialogue.saw_ad.male":        {"where"},
		"dialogue.saw_ad.female":      {"where"},
		"dialogue.recommended":        {"friend"},
		"dialogue.in_complex":         {"complex"},
		"dialogue.questions":          {"what", "metres", "facade", "layout", "top", "in_complex"},
		"dialogue.first_answers":      {"first", "manager", "company", "what", "metres", "facade", "from"},
		"dialogue.details":            {"length", "width", "budget", "facade", "top"},
		"dialogue.measure_offers":     {"day", "from", "to", "hour"},
		"dialogue.measure_replies":    {"street", "house", "flat"},
		"dialogue.proposals":          {"amount", "days"},
		"dialogue.proposal_talk":      {"budget", "cheaper", "district"},
		"dialogue.form_messages":      {"what", "metres", "budget", "complex"},
		"dialogue.first_subjects":     {"metres"},
		"dialogue.complex_subject":    {"complex"},
		"dialogue.signature":          {"first"},
		"dialogue.calls.answered":     {"duration"},
		"dialogue.win.invite":         {"day"},
		"dialogue.win.paid_answer":    {"when"},
		"dialogue.second_deal.ask":    {"what", "metres"},
		"dialogue.second_deal.title":  {"title", "metres"},
		"dialogue.second_deal.answer": {"what"},
		"dialogue.return.again_title": {"title"},
		"mail.signature":              {"first", "last", "company"},
	}
	placeholder := regexp.MustCompile(`\{[a-z_]+\}`)
	seen := 0
	var walk func(path string, v reflect.Value)
	walk = func(path string, v reflect.Value) {
		switch v.Kind() {
		case reflect.String:
			seen++
			for _, ph := range placeholder.FindAllString(v.String(), -1) {
				if !slices.Contains(fills[path], strings.Trim(ph, "{}")) {
					t.Errorf("%s: %q has %s, which the code does not fill there", path, v.String(), ph)
				}
			}
		case reflect.Struct:
			for i := range v.NumField() {
				f := v.Type().Field(i)
				if !f.IsExported() {
					continue
				}
				name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				if name == "" {
					name = strings.ToLower(f.Name)
				}
				walk(strings.TrimPrefix(path+"."+name, "."), v.Field(i))
			}
		case reflect.Slice, reflect.Array:
			if v.Type().Elem().Kind() == reflect.Uint8 {
				return // json.RawMessage
			}
			for i := range v.Len() {
				walk(path, v.Index(i))
			}
		case reflect.Map:
			for _, k := range v.MapKeys() {
				walk(path+"."+k.String(), v.MapIndex(k))
			}
		}
	}
	walk("", reflect.ValueOf(*d))
	if seen < 500 {
		t.Errorf("walked %d texts; the walk misses some", seen)
	}
}
