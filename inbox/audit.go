package inbox

import (
	"context"

	"github.com/switchboard/switchboard/crm"
)

// AuditTrail is a page of the audit trail, newest first.
func (a *App) AuditTrail(ctx context.Context, f crm.AuditFilter) ([]crm.AuditEntry, error) {
	es, err := crm.ListAudit(a.db.WithContext(ctx), f)
	if es == nil {
		es = []crm.AuditEntry{}
	}
	return es, err
}
