package crm

import (
	"fmt"
	"strconv"
	"strings"
)

// Money is an amount in integer minor units (kopecks, cents) of a currency.
// Never a float.
type Money struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

// String formats as "1 666.67 RUB".
func (m Money) String() string {
	return FormatMinor(m.Amount) + " " + m.Currency
}

// FormatMinor formats minor units as major units with two decimals and
// thin groups: 166667 → "1 666.67".
func FormatMinor(v int64) string {
	neg := v < 0
	u := uint64(v)
	if neg {
		u = -u // two's complement: also right for math.MinInt64
	}
	whole, frac := u/100, u%100
	s := strconv.FormatUint(whole, 10)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	out := fmt.Sprintf("%s.%02d", b.String(), frac)
	if neg {
		out = "-" + out
	}
	return out
}

// ValidCurrency reports whether c looks like an ISO 4217 code.
func ValidCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for _, r := range c {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}
