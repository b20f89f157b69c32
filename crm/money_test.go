package crm_test

import (
	"math"
	"testing"

	"github.com/switchboard/switchboard/crm"
)

func TestFormatMinor(t *testing.T) {
	tests := []struct {
		name string
		in   int64
		want string
	}{
		{"zero has two decimals", 0, "0.00"},
		{"kopecks alone keep the leading zero", 5, "0.05"},
		{"less than a thousand has no group separator", 99999, "999.99"},
		{"thousands are grouped with a space", 166667, "1 666.67"},
		{"ninety thousand is grouped once", 9000000, "90 000.00"},
		{"millions are grouped twice", 123456789012, "1 234 567 890.12"},
		{"a negative amount keeps its sign before the groups", -166667, "-1 666.67"},
		{"a negative amount under one unit keeps its sign", -5, "-0.05"},
		{"a negative round amount is grouped", -9000000, "-90 000.00"},
		{"the largest amount is formatted", math.MaxInt64, "92 233 720 368 547 758.07"},
		{"the smallest amount is formatted", math.MinInt64, "-92 233 720 368 547 758.08"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := crm.FormatMinor(tt.in); got != tt.want {
				t.Errorf("FormatMinor(%d) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestMoneyString(t *testing.T) {
	if got := (crm.Money{Amount: 166667, Currency: "RUB"}).String(); got != "1 666.67 RUB" {
		t.Errorf("Money.String() = %q, want %q", got, "1 666.67 RUB")
	}
}

func TestValidCurrency(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"an upper-case ISO code is valid", "RUB", true},
		{"a lower-case code is not", "rub", false},
		{"two letters are not", "RU", false},
		{"four letters are not", "RUBL", false},
		{"digits are not", "643", false},
		{"Cyrillic letters are not", "РУБ", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := crm.ValidCurrency(tt.in); got != tt.want {
				t.Errorf("ValidCurrency(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}
