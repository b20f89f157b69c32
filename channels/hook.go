package channels

import (
	"encoding/json"
	"net/http"
)

// HookError is the body of a refused webhook request: the API's one error
// shape, {"error":{"code":…,"message":…}}, so a sender reads every refusal
// alike.
type HookError struct {
	Error HookErrorDetail `json:"error"`
}

// HookErrorDetail is a stable code and a message for people.
type HookErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// WriteHookError refuses a webhook request with status and the error shape.
func WriteHookError(w http.ResponseWriter, status int, code, msg string) {
	WriteHookJSON(w, status, HookError{HookErrorDetail{Code: code, Message: msg}})
}

// WriteHookJSON answers a webhook request with v as JSON.
func WriteHookJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// HookPath is the part of a hook request's path after
// /hooks/{channel}/{account}/ ("" for the hook itself): a cloud PBX posts
// each kind of event to its own path under the URL it was given.
func HookPath(r *http.Request) string { return r.PathValue("rest") }

// PlainHook reports whether r is a POST to the hook itself; otherwise it
// refuses r (405 for another method, 404 for a path under the hook) and
// reports false. For channels whose hook takes nothing else.
func PlainHook(w http.ResponseWriter, r *http.Request) bool {
	switch {
	case HookPath(r) != "":
		WriteHookError(w, http.StatusNotFound, "not_found", "no such hook "+r.URL.Path)
		return false
	case r.Method != http.MethodPost:
		w.Header().Set("Allow", http.MethodPost)
		WriteHookError(w, http.StatusMethodNotAllowed, "method_not_allowed", "a hook takes POST, not "+r.Method)
		return false
	}
	return true
}
