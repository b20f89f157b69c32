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
