package crm_test

import (
	"errors"
	"testing"
	"time"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/crm/crmtest"
)

func TestEntryPointBindingHistory(t *testing.T) {
	db := crmtest.Open(t)
	acct := newAccount(t, db, "phone", "PBX")
	yandex, err := crm.CreateAdSource(db, "Yandex")
	if err != nil {
		t.Fatal(err)
	}
	avito, err := crm.CreateAdSource(db, "Avito")
	if err != nil {
		t.Fatal(err)
	}
	ep, err := crm.CreateEntryPoint(db, acct.ID, " +73832000000 ", false, &yandex.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ep.Address != "+73832000000" {
		t.Errorf("address = %q, want it trimmed", ep.Address)
	}
	march := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	if _, err := crm.Bind(db, ep.ID, &avito.ID, march, nil); err != nil {
		t.Fatal(err)
	}
	ep, err = crm.GetEntryPoint(db, ep.ID)
	if err != nil {
		t.Fatal(err)
	}

	name := map[int64]string{yandex.ID: "Yandex", avito.ID: "Avito"}
	tests := []struct {
		name string
		at   time.Time
		want string
	}{
		{"a touch long ago belongs to Yandex", time.Date(2001, 5, 1, 0, 0, 0, 0, time.UTC), "Yandex"},
		{"a touch on the last minute of February belongs to Yandex", time.Date(2026, 2, 28, 23, 59, 0, 0, time.UTC), "Yandex"},
		{"a touch one nanosecond before March belongs to Yandex", march.Add(-time.Nanosecond), "Yandex"},
		{"a touch at the first instant of March belongs to Avito", march, "Avito"},
		{"a touch later in March belongs to Avito", march.Add(36 * time.Hour), "Avito"},
		{"a touch in another time zone is compared as an instant", time.Date(2026, 3, 1, 6, 0, 0, 0, time.FixedZone("NOVT", 7*3600)), "Yandex"},
		{"a touch before the epoch belongs to no source", crm.Epoch.Add(-time.Hour), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			if src := ep.SourceAt(tt.at); src != nil {
				got = name[*src]
			}
			if got != tt.want {
				t.Errorf("SourceAt(%s) = %q, want %q", tt.at, got, tt.want)
			}
		})
	}

	t.Run("unbinding from April leaves the address without a source", func(t *testing.T) {
		april := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
		if _, err := crm.Bind(db, ep.ID, nil, april, nil); err != nil {
			t.Fatal(err)
		}
		ep, err := crm.GetEntryPoint(db, ep.ID)
		if err != nil {
			t.Fatal(err)
		}
		if src := ep.SourceAt(april.Add(time.Minute)); src != nil {
			t.Errorf("SourceAt(April) = %d, want none", *src)
		}
		if src := ep.SourceAt(march); src == nil || *src != avito.ID {
			t.Errorf("SourceAt(March) = %v, want Avito", src)
		}
	})

	t.Run("a second binding at the same instant is a conflict", func(t *testing.T) {
		if _, err := crm.Bind(db, ep.ID, &yandex.ID, march, nil); !errors.Is(err, crm.ErrConflict) {
			t.Errorf("err = %v, want ErrConflict", err)
		}
	})

	t.Run("binding to a missing source is not found", func(t *testing.T) {
		missing := int64(9999)
		if _, err := crm.Bind(db, ep.ID, &missing, time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), nil); !errors.Is(err, crm.ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
	})

	t.Run("the same address twice on one account is a conflict", func(t *testing.T) {
		if _, err := crm.CreateEntryPoint(db, acct.ID, "+73832000000", false, nil, nil); !errors.Is(err, crm.ErrConflict) {
			t.Errorf("err = %v, want ErrConflict", err)
		}
	})
}

func TestFindEntryPoint(t *testing.T) {
	db := crmtest.Open(t)
	acct := newAccount(t, db, "web", "Site")

	t.Run("an unknown address without create is not found", func(t *testing.T) {
		if _, err := crm.FindEntryPoint(db, acct.ID, "utm:vk", "vk", false); !errors.Is(err, crm.ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
		if _, err := crm.AdSourceByName(db, "vk", false); !errors.Is(err, crm.ErrNotFound) {
			t.Errorf("a lookup without create made source vk: err = %v", err)
		}
	})

	var first crm.EntryPoint
	t.Run("create with a source hint records the address bound to a new source", func(t *testing.T) {
		var err error
		first, err = crm.FindEntryPoint(db, acct.ID, "utm:vk", "vk", true)
		if err != nil {
			t.Fatal(err)
		}
		vk, err := crm.AdSourceByName(db, "vk", false)
		if err != nil {
			t.Fatalf("source vk was not created: %v", err)
		}
		if src := first.SourceAt(time.Now()); src == nil || *src != vk.ID {
			t.Errorf("SourceAt(now) = %v, want vk (%d)", src, vk.ID)
		}
		if !first.AutoDeal || first.AccountID != acct.ID || first.Address != "utm:vk" {
			t.Errorf("entry point = %+v", first)
		}
	})

	t.Run("finding it again returns the same entry point", func(t *testing.T) {
		again, err := crm.FindEntryPoint(db, acct.ID, "utm:vk", "vk", true)
		if err != nil {
			t.Fatal(err)
		}
		if again.ID != first.ID || len(again.Bindings) != 1 {
			t.Errorf("second find = id %d with %d bindings, want id %d with 1", again.ID, len(again.Bindings), first.ID)
		}
		all, err := crm.ListEntryPoints(db, acct.ID)
		if err != nil || len(all) != 1 {
			t.Errorf("ListEntryPoints = %d entry points, %v; want 1", len(all), err)
		}
		sources, _ := crm.ListAdSources(db)
		if len(sources) != 1 {
			t.Errorf("ad sources = %v, want only vk", sources)
		}
	})

	t.Run("a hint naming an existing source reuses it", func(t *testing.T) {
		ep, err := crm.FindEntryPoint(db, acct.ID, "utm:vk-2", "vk", true)
		if err != nil {
			t.Fatal(err)
		}
		if src := ep.SourceAt(time.Now()); src == nil || *src != *first.SourceAt(time.Now()) {
			t.Errorf("SourceAt(now) = %v, want the existing vk", src)
		}
	})

	t.Run("create without a hint records an unbound address", func(t *testing.T) {
		ep, err := crm.FindEntryPoint(db, acct.ID, "utm:unknown", "", true)
		if err != nil {
			t.Fatal(err)
		}
		if src := ep.SourceAt(time.Now()); src != nil || len(ep.Bindings) != 0 {
			t.Errorf("SourceAt(now) = %v with bindings %v, want none", src, ep.Bindings)
		}
	})
}
