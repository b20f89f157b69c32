package api

import (
	"net/http"

	"github.com/switchboard/switchboard/crm"
)

// AuditList is a page of the audit trail, newest first.
type AuditList struct {
	Entries []crm.AuditEntry `json:"entries"`
}

// listAudit: ?actor_id= &action= &object_type= &object_id= &before_id= &limit=
func (h *api) listAudit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := crm.AuditFilter{Action: q.Get("action"), ObjectType: q.Get("object_type"), Limit: queryInt(r, "limit")}
	var err error
	for _, p := range []struct {
		name string
		to   *int64
	}{{"actor_id", &f.ActorID}, {"object_id", &f.ObjectID}, {"before_id", &f.BeforeID}} {
		if err == nil {
			*p.to, err = queryID(r, p.name)
		}
	}
	out := AuditList{Entries: []crm.AuditEntry{}}
	if err == nil {
		out.Entries, err = h.app.AuditTrail(r.Context(), f)
	}
	respond(h, w, r, out, err)
}
