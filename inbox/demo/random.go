package demo

// Randomness and the clock of the simulated business.

import (
	"encoding/hex"
	"time"
)

func (g *demoGen) chance(p float64) bool { return g.r.Float64() < p }
func (g *demoGen) between(a, b int) int  { return a + g.r.IntN(b-a+1) }
func (g *demoGen) pick(list []string) string {
	return list[g.r.IntN(len(list))]
}
func (g *demoGen) mins(a, b int) time.Duration {
	return time.Duration(g.between(a*60, b*60)) * time.Second
}
func (g *demoGen) hours(a, b float64) time.Duration {
	return time.Duration((a + g.r.Float64()*(b-a)) * float64(time.Hour))
}
func (g *demoGen) days(a, b int) time.Duration {
	return time.Duration(g.between(a*24*60, b*24*60)) * time.Minute
}
func (g *demoGen) weighted(w ...int) int {
	total := 0
	for _, x := range w {
		total += x
	}
	n := g.r.IntN(total)
	for i, x := range w {
		if n < x {
			return i
		}
		n -= x
	}
	return len(w) - 1
}
func (g *demoGen) hex(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.r.UintN(256))
	}
	return hex.EncodeToString(b)
}

// dayStart is midnight in Novosibirsk of the day holding t.
func (g *demoGen) dayStart(t time.Time) time.Time {
	l := t.In(g.loc)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, g.loc)
}

// work moves t into the sales team's hours: Monday to Saturday, 9:00 to
// 19:00 in Novosibirsk.
func (g *demoGen) work(t time.Time) time.Time {
	for range 10 {
		l := t.In(g.loc)
		day := g.dayStart(t)
		switch {
		case l.Weekday() == time.Sunday:
			t = day.Add(24*time.Hour + 9*time.Hour + g.mins(0, 50))
		case l.Hour() < 9:
			t = day.Add(9*time.Hour + g.mins(0, 50))
		case l.Hour() >= 19:
			t = day.Add(24*time.Hour + 9*time.Hour + g.mins(0, 50))
		default:
			return t
		}
	}
	return t
}

// awake moves t into a client's waking hours, 8:00 to 22:30.
func (g *demoGen) awake(t time.Time) time.Time {
	l := t.In(g.loc)
	day := g.dayStart(t)
	switch {
	case l.Hour() < 8:
		return day.Add(8*time.Hour + g.mins(0, 180))
	case l.Hour()*60+l.Minute() > 22*60+30:
		return day.Add(24*time.Hour + 8*time.Hour + g.mins(0, 180))
	}
	return t
}

// working reports whether t is in the team's hours.
func (g *demoGen) working(t time.Time) bool {
	l := t.In(g.loc)
	return l.Weekday() != time.Sunday && l.Hour() >= 9 && l.Hour() < 19
}
