package api

import (
	"net/http"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox"
)

// listAudit: ?actor_id= &action= &object_type= &object_id= &from= &to=
// (days) &before_id= &limit=
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
	var out inbox.AuditPage
	if err == nil {
		out, err = h.app.AuditTrail(r.Context(), inbox.AuditRequest{AuditFilter: f, FromDay: q.Get("from"), ToDay: q.Get("to")})
	}
	respond(h, w, r, out, err)
}
