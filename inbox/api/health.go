package api

import (
	"context"
	"net/http"
	"time"
)

// Health is the reply of /healthz and /readyz.
type Health struct {
	Status   string `json:"status"`
	Database string `json:"database,omitempty"`
}

func (h *api) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, Health{Status: "ok"})
}

func (h *api) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := h.app.Ping(ctx); err != nil {
		h.log.Error("readyz: database unreachable", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, ErrorBody{ErrorDetail{Code: "unavailable", Message: "database unreachable"}})
		return
	}
	writeJSON(w, http.StatusOK, Health{Status: "ready", Database: h.app.Database()})
}
