package ingest

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
)

// regions are the phone regions a batch's accounts and entry points set,
// looked up once per batch: a client's number written the national way
// ("8 029 123-45-67") is read with the most specific one.
type regions struct {
	def      string              // the server's SWITCHBOARD_REGION
	accounts map[int64]string    // account → its region, where set
	eps      map[touchKey]string // (account, address) → the entry point's region, where set
}

// loadRegions reads the regions of the batch's accounts and of their entry
// points that set one (few: most follow their account).
func (s *Sink) loadRegions(ctx context.Context, batch []channels.Inbound) (regions, error) {
	r := regions{def: s.opts.Region, accounts: map[int64]string{}, eps: map[touchKey]string{}}
	var ids []int64
	for i := range batch {
		if id := batch[i].AccountID; id > 0 && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return r, nil
	}
	db := s.db.WithContext(ctx)
	var accs []crm.Account
	if err := db.Select("id", "region").Where("id IN ? AND region <> ''", ids).Find(&accs).Error; err != nil {
		return r, fmt.Errorf("ingest: account regions: %w", err)
	}
	for _, a := range accs {
		r.accounts[a.ID] = a.Region
	}
	var eps []crm.EntryPoint
	if err := db.Select("account_id", "address", "region").Where("account_id IN ? AND region <> ''", ids).Find(&eps).Error; err != nil {
		return r, fmt.Errorf("ingest: entry point regions: %w", err)
	}
	for _, e := range eps {
		r.eps[touchKey{e.AccountID, e.Address}] = e.Region
	}
	return r, nil
}

// account is the region of an account's own addresses (a called tracking
// number): its region, else the server's.
func (r regions) account(id int64) string {
	if reg := r.accounts[id]; reg != "" {
		return reg
	}
	return r.def
}

// regionOf is the region that reads the sender's phones, the most specific
// first: what the sender said (a web form's country), the entry point's,
// the account's, the server's. The entry point must be in its stored form
// (a called number in E.164). A region the sender gave that has no
// numbering plan is ignored with a warning.
func (s *Sink) regionOf(r regions, in *channels.Inbound) string {
	if in.Region != "" {
		reg, err := crm.CheckRegion(in.Region)
		if err == nil {
			return reg
		}
		s.log.Warn("ingest: sender's region ignored", "account", in.AccountID, "external_id", crm.Clip(in.ExternalID, 80), "err", err)
	}
	if reg := r.eps[touchKey{in.AccountID, strings.TrimSpace(in.EntryPoint)}]; reg != "" {
		return reg
	}
	return r.account(in.AccountID)
}
