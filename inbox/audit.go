package inbox

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/crm"
)

// AuditPage is a page of the audit trail, newest first, with what the
// screen needs to say each entry in words: the names of the objects the
// entries and their data name ("deal:838" → its title, "stage:3" → its
// name, "contact:12", "ad_source:2", "entry_point:5", "account:1") and,
// for touches and conversations, the conversation to open
// ("touch:77" → 31).
type AuditPage struct {
	Entries       []crm.AuditEntry  `json:"entries"`
	Names         map[string]string `json:"names"`
	Conversations map[string]int64  `json:"conversations"`
}

// AuditRequest filters the trail: crm.AuditFilter with the period as days
// (YYYY-MM-DD) in the company's time zone, both included.
type AuditRequest struct {
	crm.AuditFilter
	FromDay, ToDay string
}

// AuditTrail is a page of the audit trail, newest first (owner only: the
// route says so).
func (a *App) AuditTrail(ctx context.Context, r AuditRequest) (AuditPage, error) {
	out := AuditPage{Entries: []crm.AuditEntry{}, Names: map[string]string{}, Conversations: map[string]int64{}}
	f := r.AuditFilter
	for _, d := range []struct {
		name, val string
		at        *time.Time
		next      bool
	}{{"from", r.FromDay, &f.From, false}, {"to", r.ToDay, &f.To, true}} {
		if d.val == "" {
			continue
		}
		day, err := parseDay(d.val)
		if err != nil {
			return out, crm.Invalid("%s: %q is not a date (YYYY-MM-DD)", d.name, d.val)
		}
		*d.at = time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, a.opts.TimeZone)
		if d.next {
			*d.at = d.at.AddDate(0, 0, 1)
		}
	}
	tx := a.db.WithContext(ctx)
	es, err := crm.ListAudit(tx, f)
	if err != nil {
		return out, err
	}
	if es != nil {
		out.Entries = es
	}
	return out, auditNames(tx, es, &out)
}

// auditRefs are the data keys that name objects, by object type.
var auditRefs = map[string][]string{
	"deal":      {"deal_id", "previous_deal_id"},
	"contact":   {"contact_id", "survivor_id", "merged_id"},
	"stage":     {"stage_id", "previous_stage_id"},
	"ad_source": {"ad_source_id"},
	"account":   {"account_id"},
	"touch":     {"touch_id"},
}

// auditNames fills the names of what entries name.
func auditNames(tx *gorm.DB, es []crm.AuditEntry, out *AuditPage) error {
	ids := map[string]map[int64]bool{}
	add := func(typ string, id int64) {
		if id <= 0 {
			return
		}
		if ids[typ] == nil {
			ids[typ] = map[int64]bool{}
		}
		ids[typ][id] = true
	}
	for _, e := range es {
		add(e.ObjectType, e.ObjectID)
		var data map[string]any
		if json.Unmarshal(e.Data, &data) != nil {
			continue
		}
		for typ, keys := range auditRefs {
			for _, k := range keys {
				if v, ok := data[k].(float64); ok {
					add(typ, int64(v))
				}
			}
		}
	}
	for _, q := range []struct {
		typ, table, name string
	}{
		{"deal", "deals", "title"}, {"contact", "contacts", "name"}, {"stage", "pipeline_stages", "name"},
		{"ad_source", "ad_sources", "name"}, {"account", "accounts", "name"}, {"entry_point", "entry_points", "address"},
	} {
		if err := namesOf(tx, q.table, q.name, q.typ, ids[q.typ], out.Names); err != nil {
			return err
		}
	}
	return convNames(tx, ids, out)
}

func keysOf(m map[int64]bool) []int64 {
	out := make([]int64, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	return out
}

// namesOf reads one name column of the rows ids of table into names.
func namesOf(tx *gorm.DB, table, col, typ string, ids map[int64]bool, names map[string]string) error {
	if len(ids) == 0 {
		return nil
	}
	var rows []struct {
		ID   int64
		Name string
	}
	if err := tx.Table(table).Select("id, "+col+" AS name").Where("id IN ?", keysOf(ids)).Scan(&rows).Error; err != nil {
		return fmt.Errorf("audit names of %s: %w", table, err)
	}
	for _, r := range rows {
		names[fmt.Sprintf("%s:%d", typ, r.ID)] = r.Name
	}
	return nil
}

// convNames gives touches and conversations their contact's name and the
// conversation to open.
func convNames(tx *gorm.DB, ids map[string]map[int64]bool, out *AuditPage) error {
	for _, q := range []struct{ typ, sql string }{
		{"touch", "SELECT t.id, t.conversation_id AS conv, COALESCE(c.name, '') AS name FROM touches t LEFT JOIN contacts c ON c.id = t.contact_id WHERE t.id IN ?"},
		{"conversation", "SELECT v.id, v.id AS conv, COALESCE(c.name, '') AS name FROM conversations v LEFT JOIN contacts c ON c.id = v.contact_id WHERE v.id IN ?"},
	} {
		if len(ids[q.typ]) == 0 {
			continue
		}
		var rows []struct {
			ID, Conv int64
			Name     string
		}
		if err := tx.Raw(q.sql, keysOf(ids[q.typ])).Scan(&rows).Error; err != nil {
			return fmt.Errorf("audit names of %ss: %w", q.typ, err)
		}
		for _, r := range rows {
			k := fmt.Sprintf("%s:%d", q.typ, r.ID)
			out.Names[k], out.Conversations[k] = r.Name, r.Conv
		}
	}
	return nil
}
