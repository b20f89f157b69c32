package crm

import (
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// SpendDay is one day of a source's spend, optionally for one campaign
// ("" is the source as a whole). A day is a calendar date (stored at UTC
// midnight); the report reads days in the company's time zone as dates, so
// a day's spend is never split between two report days.
type SpendDay struct {
	ID         int64     `json:"id"`
	AdSourceID int64     `json:"ad_source_id"`
	Campaign   string    `json:"campaign"`
	Day        time.Time `json:"day"`
	Amount     int64     `json:"amount"`
	Currency   string    `json:"currency"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// MaxSpendDays is the longest period one spend entry may cover.
const MaxSpendDays = 3660

// Date is the calendar date of t (in t's location) at UTC midnight: the
// form days are stored in.
func Date(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// SpreadSpend spreads amount evenly over the days from..to (inclusive):
// each day gets amount / days, and the first amount % days days one minor
// unit more, so that the days sum exactly to the amount.
func SpreadSpend(source int64, campaign string, from, to time.Time, amount int64, currency string) []SpendDay {
	from, to = Date(from), Date(to)
	n := int64(to.Sub(from).Hours()/24) + 1
	if n <= 0 {
		return nil
	}
	out := make([]SpendDay, 0, n)
	for i := int64(0); i < n; i++ {
		a := amount / n
		if i < amount%n {
			a++
		}
		out = append(out, SpendDay{AdSourceID: source, Campaign: campaign, Day: from.AddDate(0, 0, int(i)), Amount: a, Currency: currency})
	}
	return out
}

// SetSpendDays stores days, each replacing what its source, campaign and
// day had (never adding to it).
func SetSpendDays(tx *gorm.DB, days []SpendDay) error {
	now := time.Now().UTC().Truncate(time.Microsecond)
	const per = 200
	for start := 0; start < len(days); start += per {
		chunk := days[start:min(start+per, len(days))]
		var b strings.Builder
		args := make([]any, 0, 6*len(chunk))
		b.WriteString("INSERT INTO spend_days (ad_source_id, campaign, day, amount, currency, updated_at) VALUES ")
		for i, d := range chunk {
			if d.Amount < 0 {
				return Invalid("spend amount must not be negative")
			}
			if !ValidCurrency(d.Currency) {
				return Invalid("currency %q is not an ISO 4217 code", d.Currency)
			}
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?, ?)")
			args = append(args, d.AdSourceID, strings.TrimSpace(d.Campaign), Date(d.Day), d.Amount, d.Currency, now)
		}
		b.WriteString(" ON CONFLICT (ad_source_id, campaign, day) DO UPDATE SET amount = excluded.amount, currency = excluded.currency, updated_at = excluded.updated_at")
		if err := tx.Exec(b.String(), args...).Error; err != nil {
			return fmt.Errorf("crm: set spend days: %w", err)
		}
	}
	return nil
}

// SpendFilter selects spend days: of one source (0: all), from..to
// inclusive (zero: open).
type SpendFilter struct {
	AdSourceID int64
	From, To   time.Time
}

// ListSpendDays returns spend days by day, source and campaign.
func ListSpendDays(tx *gorm.DB, f SpendFilter) ([]SpendDay, error) {
	db := tx.Model(&SpendDay{})
	if f.AdSourceID != 0 {
		db = db.Where("ad_source_id = ?", f.AdSourceID)
	}
	if !f.From.IsZero() {
		db = db.Where("day >= ?", Date(f.From))
	}
	if !f.To.IsZero() {
		db = db.Where("day <= ?", Date(f.To))
	}
	out := []SpendDay{}
	if err := db.Order("day, ad_source_id, campaign").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("crm: list spend days: %w", err)
	}
	return out, nil
}
