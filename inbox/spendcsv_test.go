package inbox

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseAmountReadsWhatSpreadsheetsWrite(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		err  string
	}{
		{"90000", 9000000, ""},
		{"1 234,56", 123456, ""},
		{"1\u00a0234,56", 123456, ""},
		{"1\u202f234,5", 123450, ""},
		{"1,234.56", 123456, ""},
		{"1.234,56", 123456, ""},
		{"1.234.567", 123456700, ""},
		{"0,07", 7, ""},
		{",5", 50, ""},
		{"1 666,67 ₽", 166667, ""},
		{"500 руб.", 50000, ""},
		{"1,234", 0, "more than two digits"},
		{"12,", 0, "not an amount"},
		{"-5", 0, "negative"},
		{"abc", 0, "not an amount"},
		{"", 0, "not an amount"},
		{"99999999999999999999", 0, "too large"},
	} {
		got, err := parseAmount(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("parseAmount(%q) = %d, %v; want an error saying %q", c.in, got, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("parseAmount(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
}

func TestParseSpendCSVReportsEveryBadLine(t *testing.T) {
	for _, c := range []struct {
		name, csv string
		lines     []string // day/source/campaign/amount/currency
		errs      []string
	}{
		{"semicolons with a header and a Russian decimal comma",
			"\ufeffДата;Источник;Кампания;Сумма\n2026-03-01;Яндекс Директ;поиск;1 234,56\n\n02.03.2026;Авито;;10;usd\n",
			[]string{"2026-03-01/Яндекс Директ/поиск/123456/RUB", "2026-03-02/Авито//1000/USD"}, nil},
		{"commas with a decimal comma left unquoted",
			"2026-03-01,Yandex,search,1234,56\n2026-03-02,Yandex,search,\"2 000,5\",RUB\n",
			[]string{"2026-03-01/Yandex/search/123456/RUB", "2026-03-02/Yandex/search/200050/RUB"}, nil},
		{"bad lines, each named",
			"date,source,campaign,amount\n2026-02-30,A,,1\n2026-03-01,,,1\n2026-03-01,A,,x\n2026-03-01,A\n2026-03-01,A,,1,rubles\n2026-03-02,A,,5\n",
			[]string{"2026-03-02/A//500/RUB"},
			[]string{"line 2: date", "line 3: the source is empty", "line 4: amount", "line 5: want 4 or 5 fields", "line 6: currency"}},
		{"nothing but a header", "date;source;campaign;amount\n", nil, []string{"line 1: the file has no spend lines"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, errs := parseSpendCSV(c.csv, "RUB")
			var lines, msgs []string
			for _, l := range got {
				lines = append(lines, fmt.Sprintf("%s/%s/%s/%d/%s", l.day.Format("2006-01-02"), l.source, l.campaign, l.amount, l.currency))
			}
			for _, e := range errs {
				msgs = append(msgs, e.String())
			}
			if fmt.Sprint(lines) != fmt.Sprint(c.lines) {
				t.Errorf("lines %v, want %v", lines, c.lines)
			}
			if len(msgs) != len(c.errs) {
				t.Fatalf("errors %q, want %d", msgs, len(c.errs))
			}
			for i := range msgs {
				if !strings.HasPrefix(msgs[i], c.errs[i]) {
					t.Errorf("error %q, want it to start %q", msgs[i], c.errs[i])
				}
			}
		})
	}
}
