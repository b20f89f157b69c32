package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox"
)

var (
	errCSRF     = errors.New("csrf token")
	errBadJSON  = errors.New("bad request body")
	errBadQuery = errors.New("bad query parameter")
	errTooLarge = errors.New("request body too large")
	errMethod   = errors.New("method not allowed")
)

// ErrorBody is the one error shape of the API.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail says what went wrong: a stable code and a message for people.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// writeError is the only writer of API errors: it maps the error kind to a
// status and code, and logs server errors with the request.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	status, code := http.StatusInternalServerError, "internal"
	msg := err.Error()
	switch {
	case errors.Is(err, inbox.ErrUnauthorized):
		status, code = http.StatusUnauthorized, "unauthorized"
	case errors.Is(err, inbox.ErrBadLogin):
		status, code = http.StatusUnauthorized, "bad_login"
	case errors.Is(err, inbox.ErrRateLimited):
		status, code = http.StatusTooManyRequests, "rate_limited"
		retry := time.Minute
		if rl, ok := errors.AsType[*inbox.RateLimited](err); ok {
			retry = rl.Wait
		}
		w.Header().Set("Retry-After", strconv.FormatInt(int64((retry+time.Second-1)/time.Second), 10))
	case errors.Is(err, errCSRF):
		status, code = http.StatusForbidden, "csrf"
	case errors.Is(err, crm.ErrForbidden):
		status, code = http.StatusForbidden, "forbidden"
	case errors.Is(err, crm.ErrNotFound):
		status, code = http.StatusNotFound, "not_found"
	case errors.Is(err, inbox.ErrNoDialer):
		status, code = http.StatusConflict, "no_dialer"
	case errors.Is(err, crm.ErrConflict):
		status, code = http.StatusConflict, "conflict"
	case errors.Is(err, crm.ErrInvalid):
		status, code = http.StatusUnprocessableEntity, "invalid"
	case errors.Is(err, errBadJSON), errors.Is(err, errBadQuery):
		status, code = http.StatusBadRequest, "bad_request"
	case errors.Is(err, errTooLarge):
		status, code = http.StatusRequestEntityTooLarge, "too_large"
	case errors.Is(err, errMethod):
		status, code = http.StatusMethodNotAllowed, "method_not_allowed"
	}
	if status >= 500 {
		log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		msg = "internal error; it has been logged"
	} else if strings.HasPrefix(r.URL.Path, "/hooks/") || (status != http.StatusNotFound && status != http.StatusUnauthorized) {
		log.Info("request refused", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	} else {
		log.Debug("request refused", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	writeJSON(w, status, ErrorBody{ErrorDetail{Code: code, Message: msg}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	enc.Encode(v)
}

// decode reads a JSON request body into v.
func decode(r *http.Request, v any) error { return decodeN(r, v, maxJSONBody) }

// decodeN is decode with a body limit of max bytes.
func decodeN(r *http.Request, v any, max int64) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		return fmt.Errorf("%w: %v", errBadJSON, err)
	}
	if int64(len(body)) > max {
		return fmt.Errorf("%w: over %d bytes", errTooLarge, max)
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", errBadJSON, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: data after the JSON value", errBadJSON)
	}
	return cleanText(v)
}

// pathID reads a numeric path value.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%w: %s %q is not an id", crm.ErrNotFound, name, r.PathValue(name))
	}
	return id, nil
}

func queryInt(r *http.Request, name string) int {
	n, _ := strconv.Atoi(r.URL.Query().Get(name))
	return n
}

// queryID reads an optional id parameter: 0 when absent, errBadQuery when
// it is not a positive number.
func queryID(r *http.Request, name string) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%w: %s %q is not an id", errBadQuery, name, v)
	}
	return id, nil
}
