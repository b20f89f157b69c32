package inbox

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/switchboard/switchboard/crm"
)

// Spend CSV, as exported from Yandex Direct or a spreadsheet:
//
//	date,source,campaign,amount[,currency]
//
// separated by ";" or "," (the first line decides), an optional header
// line, dates as 2026-03-01 or 01.03.2026, amounts in major units with a
// decimal point or a Russian decimal comma and any spaces between groups
// ("1 234,56" is 123456 kopecks). In a ","-separated file an unquoted
// decimal comma splits the amount in two fields; a line whose fifth field
// is one or two digits is read that way.

// LineError is what is wrong with one line of an import: Code says what
// (for the UI to say in its language), Value is the field at fault (or the
// number of fields, or the two currencies), Message says it in English.
type LineError struct {
	Line    int    `json:"line"`
	Code    string `json:"code"`
	Value   string `json:"value,omitempty"`
	Message string `json:"message"`
}

// Line error codes.
const (
	errCSV           = "csv"            // not CSV at all
	errTooMany       = "too_many_lines" // past maxSpendLines
	errEmptyFile     = "empty_file"     // no spend lines
	errFields        = "fields"         // not 4 or 5 fields
	errDate          = "date"           // not a date
	errSourceEmpty   = "source_empty"   // no source name
	errAmount        = "amount"         // not an amount
	errNegative      = "amount_negative"
	errDecimals      = "amount_decimals" // more than two decimals
	errTooLarge      = "amount_too_large"
	errCurrency      = "currency"       // not an ISO 4217 code
	errUnknownSource = "unknown_source" // no such source (and none to be created)
	errTwoCurrencies = "two_currencies" // one day, source and campaign in two currencies
)

// lineError is a LineError without its line.
func lineError(code, value, format string, a ...any) *LineError {
	return &LineError{Code: code, Value: value, Message: fmt.Sprintf(format, a...)}
}

// amountError is what is wrong with an amount.
type amountError struct{ code, msg string }

func (e amountError) Error() string { return e.msg }

func (e LineError) String() string { return fmt.Sprintf("line %d: %s", e.Line, e.Message) }

// spendLine is one good line of a spend CSV.
type spendLine struct {
	line     int
	day      time.Time
	source   string
	campaign string
	amount   int64
	currency string
}

// maxSpendLines bounds one import.
const maxSpendLines = 100000

// parseSpendCSV reads a spend CSV; every bad line gets an error.
func parseSpendCSV(text, currency string) ([]spendLine, []LineError) {
	text = strings.TrimPrefix(text, "\ufeff")
	first := strings.SplitN(strings.TrimLeft(text, "\r\n"), "\n", 2)[0]
	r := csv.NewReader(strings.NewReader(text))
	r.Comma = ','
	if strings.Contains(first, ";") {
		r.Comma = ';'
	}
	r.FieldsPerRecord, r.LazyQuotes, r.TrimLeadingSpace = -1, true, true
	var out []spendLine
	var errs []LineError
	seen := 0
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			errs = append(errs, LineError{Line: line, Code: errCSV, Message: "not CSV: " + err.Error()})
			if _, ok := err.(*csv.ParseError); ok {
				continue
			}
			break
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if seen++; seen == 1 && isHeader(rec) {
			continue
		}
		if seen > maxSpendLines {
			errs = append(errs, LineError{Line: line, Code: errTooMany, Value: fmt.Sprint(maxSpendLines), Message: fmt.Sprintf("a file has at most %d lines", maxSpendLines)})
			break
		}
		sl, e := spendRecord(rec, r.Comma, currency)
		if e != nil {
			e.Line = line
			errs = append(errs, *e)
			continue
		}
		sl.line = line
		out = append(out, sl)
	}
	if len(out) == 0 && len(errs) == 0 {
		errs = append(errs, LineError{Line: 1, Code: errEmptyFile, Message: "the file has no spend lines (date,source,campaign,amount[,currency])"})
	}
	return out, errs
}

// isHeader reports whether a first line names the columns instead of
// holding a date.
func isHeader(rec []string) bool {
	if _, err := parseDay(rec[0]); err == nil {
		return false
	}
	return strings.IndexFunc(rec[0], unicode.IsLetter) >= 0
}

// spendRecord reads one line, or says what is wrong with it.
func spendRecord(rec []string, comma rune, currency string) (sl spendLine, e *LineError) {
	for i := range rec {
		rec[i] = strings.TrimSpace(rec[i])
	}
	if comma == ',' && (len(rec) == 5 || len(rec) == 6) && len(rec[4]) <= 2 && isDigits(rec[4]) {
		rec = append(append(rec[:3:3], rec[3]+","+rec[4]), rec[5:]...)
	}
	if len(rec) < 4 || len(rec) > 5 {
		return sl, lineError(errFields, fmt.Sprint(len(rec)), "want 4 or 5 fields (date, source, campaign, amount[, currency]), got %d", len(rec))
	}
	day, err := parseDay(rec[0])
	if err != nil {
		return sl, lineError(errDate, rec[0], "date %q is not a date like 2026-03-01 or 01.03.2026", rec[0])
	}
	if rec[1] == "" {
		return sl, lineError(errSourceEmpty, "", "the source is empty")
	}
	amount, err := parseAmount(rec[3])
	if err != nil {
		code := errAmount
		if ae, ok := err.(amountError); ok {
			code = ae.code
		}
		return sl, lineError(code, rec[3], "amount %q: %v", rec[3], err)
	}
	cur := currency
	if len(rec) == 5 && rec[4] != "" {
		cur = strings.ToUpper(rec[4])
		if cur == "RUR" || cur == "РУБ" || cur == "₽" {
			cur = "RUB"
		}
		if !crm.ValidCurrency(cur) {
			return sl, lineError(errCurrency, rec[4], "currency %q is not an ISO 4217 code such as RUB", rec[4])
		}
	}
	return spendLine{day: day, source: rec[1], campaign: crm.Clip(rec[2], 200), amount: amount, currency: cur}, nil
}

func parseDay(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.DateOnly, "02.01.2006", "2.1.2006"} {
		if d, err := time.Parse(layout, s); err == nil {
			return d, nil
		}
	}
	return time.Time{}, fmt.Errorf("bad date %q", s)
}

func isDigits(s string) bool {
	return s != "" && strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) < 0
}

// parseAmount reads major units into minor units (two digits) with integer
// arithmetic: "90000", "1 234,56", "1,234.56", "1.234,5".
func parseAmount(s string) (int64, error) {
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '\'' || r == '₽' {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSuffix(strings.TrimSuffix(strings.ToLower(s), "руб."), "руб")
	if s == "" {
		return 0, amountError{errAmount, "not an amount like 90000 or 1 234,56 (empty)"}
	}
	if strings.HasPrefix(s, "-") {
		return 0, amountError{errNegative, "must not be negative"}
	}
	// The decimal separator is the last of "." and "," when both occur, or
	// the only one when it occurs once; the other (or a repeated one)
	// separates groups.
	dec := -1
	if i, j := strings.LastIndexByte(s, '.'), strings.LastIndexByte(s, ','); i >= 0 && j >= 0 {
		dec = max(i, j)
	} else if k := max(i, j); k >= 0 && strings.Count(s, s[k:k+1]) == 1 {
		dec = k
	}
	whole, frac := s, ""
	if dec >= 0 {
		whole, frac = s[:dec], s[dec+1:]
	}
	whole = strings.NewReplacer(".", "", ",", "").Replace(whole)
	if whole == "" {
		whole = "0"
	}
	if !isDigits(whole) || (frac != "" && !isDigits(frac)) || (dec >= 0 && frac == "") {
		return 0, amountError{errAmount, "not an amount like 90000 or 1 234,56"}
	}
	if len(frac) > 2 {
		return 0, amountError{errDecimals, "more than two digits after the decimal separator"}
	}
	n, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || n > 1<<53/100 {
		return 0, amountError{errTooLarge, "too large"}
	}
	f, _ := strconv.ParseInt((frac + "00")[:2], 10, 64)
	return n*100 + f, nil
}
