package report

import "testing"

func TestPerUnitRoundsHalfUpToTheMinorUnit(t *testing.T) {
	for _, c := range []struct{ money, n, want int64 }{
		{9000000, 54, 166667}, {9000000, 12, 750000}, {100, 3, 33}, {200, 3, 67}, {5, 2, 3}, {3, 2, 2}, {1, 3, 0}, {0, 5, 0}, {-5, 2, -3},
	} {
		if got := perUnit(c.money, c.n); got == nil || *got != c.want {
			t.Errorf("perUnit(%d, %d) = %v, want %d", c.money, c.n, got, c.want)
		}
	}
	if perUnit(100, 0) != nil {
		t.Error("perUnit(100, 0) is not null")
	}
}

func TestARowWithNoDenominatorsHasNulls(t *testing.T) {
	zero := int64(0)
	r := Row{Spend: &zero}
	r.finish()
	if r.CPL != nil || r.CAC != nil || r.ROMI != nil || r.ConvLeadDeal != nil || r.ConvDealWon != nil || r.Profit == nil || *r.Profit != 0 {
		t.Errorf("%+v", r)
	}
	r = Row{Revenue: 5} // by channel: no spend of its own
	r.finish()
	if r.Profit != nil || r.CPL != nil || r.ROMI != nil {
		t.Errorf("a row without spend: %+v", r)
	}
}
