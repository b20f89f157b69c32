// Package telegramtest is a fake Telegram Bot API for tests: an
// httptest.Server that answers like https://api.telegram.org for one bot
// token — getMe, getUpdates (long polling; an offset confirms and deletes
// the updates below it, as Telegram does), setWebhook, deleteWebhook,
// getFile, file downloads at /file/bot<token>/<path>, and sendMessage,
// sendPhoto, sendDocument — and records what it was asked. Requests must
// be multipart/form-data, as github.com/go-telegram/bot sends them.
package telegramtest

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// BotID and BotUsername are what getMe answers.
const (
	BotID       = 7000000001
	BotUsername = "switchboard_test_bot"
)

// Server is the fake Bot API. URL goes into the account's server_url.
type Server struct {
	URL   string
	Token string

	srv    *httptest.Server
	closed chan struct{}

	mu       sync.Mutex
	updates  []update // not yet confirmed, ascending
	wake     chan struct{}
	files    map[string]file // by file_id
	offsets  []int64
	calls    map[string]int
	requests []Request
	failures map[string][]failure
	webhook  Request
	nextMsg  int
}

// Request is one call of a method as the server parsed it.
type Request struct {
	Method string
	Fields map[string]string
	Files  map[string]Upload
}

// Upload is a file sent in a multipart request.
type Upload struct {
	Name string
	Data []byte
}

type update struct {
	id  int64
	raw json.RawMessage
}

type file struct {
	path string
	data []byte
}

type failure struct {
	code        int
	description string
	retryAfter  int
}

// NewServer starts a fake Bot API for token; it stops when t ends.
func NewServer(t testing.TB, token string) *Server {
	s := &Server{
		Token:    token,
		closed:   make(chan struct{}),
		wake:     make(chan struct{}),
		files:    map[string]file{},
		calls:    map[string]int{},
		failures: map[string][]failure{},
		nextMsg:  1000,
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	t.Cleanup(func() {
		close(s.closed) // ends waiting long polls
		s.srv.Close()
	})
	return s
}

// Push queues updates (raw JSON, each with its update_id) for getUpdates.
func (s *Server) Push(raws ...[]byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, raw := range raws {
		var u struct {
			UpdateID int64 `json:"update_id"`
		}
		if err := json.Unmarshal(raw, &u); err != nil || u.UpdateID == 0 {
			return fmt.Errorf("telegramtest: push: not an update with update_id: %s", raw)
		}
		s.updates = append(s.updates, update{u.UpdateID, json.RawMessage(raw)})
	}
	slices.SortFunc(s.updates, func(a, b update) int { return cmp.Compare(a.id, b.id) })
	close(s.wake)
	s.wake = make(chan struct{})
	return nil
}

// AddFile makes a file downloadable: getFile(id) answers path, and
// /file/bot<token>/<path> serves data.
func (s *Server) AddFile(id, path string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[id] = file{path, data}
}

// Fail makes the next call of method answer with a Bot API error: HTTP
// status and error_code code, description, and parameters.retry_after
// when retryAfter > 0. Failures queue up in order.
func (s *Server) Fail(method string, code int, description string, retryAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[method] = append(s.failures[method], failure{code, description, retryAfter})
}

// Offsets returns the offset of every getUpdates call so far.
func (s *Server) Offsets() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.offsets)
}

// Calls returns how many times method was called (failures included).
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// Requests returns the calls of the send methods (sendMessage, sendPhoto,
// sendDocument) that succeeded, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Webhook returns the last setWebhook call's fields.
func (s *Server) Webhook() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.webhook.Fields
}

// Pending returns the ids of the updates not yet confirmed.
func (s *Server) Pending() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []int64
	for _, u := range s.updates {
		ids = append(ids, u.id)
	}
	return ids
}

// WaitOffset waits until a getUpdates call came with an offset of at
// least off, that is, everything below off was confirmed. A zero timeout
// is 10 seconds.
func (s *Server) WaitOffset(t testing.TB, off int64, timeout time.Duration) {
	t.Helper()
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	deadline := time.Now().Add(timeout)
	for {
		s.mu.Lock()
		seen := slices.ContainsFunc(s.offsets, func(o int64) bool { return o >= off })
		s.mu.Unlock()
		if seen {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("telegramtest: no getUpdates with offset >= %d within %s; offsets seen: %v", off, timeout, s.Offsets())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/file/bot"); ok {
		s.download(w, rest)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot")
	token, method, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 {
		apiError(w, http.StatusNotFound, "Not Found", 0)
		return
	}
	if token != s.Token {
		apiError(w, http.StatusUnauthorized, "Unauthorized", 0)
		return
	}
	req, err := parse(r, method)
	if err != nil {
		apiError(w, http.StatusBadRequest, "Bad Request: "+err.Error(), 0)
		return
	}
	s.mu.Lock()
	s.calls[method]++
	if q := s.failures[method]; len(q) > 0 {
		f := q[0]
		s.failures[method] = q[1:]
		s.mu.Unlock()
		apiError(w, f.code, f.description, f.retryAfter)
		return
	}
	s.mu.Unlock()

	switch method {
	case "getMe":
		answer(w, map[string]any{"id": BotID, "is_bot": true, "first_name": "Switchboard", "username": BotUsername})
	case "deleteWebhook":
		answer(w, true)
	case "setWebhook":
		s.mu.Lock()
		s.webhook = req
		s.mu.Unlock()
		answer(w, true)
	case "getUpdates":
		s.getUpdates(w, r, req)
	case "getFile":
		s.mu.Lock()
		f, found := s.files[req.Fields["file_id"]]
		s.mu.Unlock()
		if !found {
			apiError(w, http.StatusBadRequest, "Bad Request: invalid file_id", 0)
			return
		}
		answer(w, map[string]any{"file_id": req.Fields["file_id"], "file_unique_id": "u" + req.Fields["file_id"], "file_size": len(f.data), "file_path": f.path})
	case "sendMessage", "sendPhoto", "sendDocument":
		chat, err := strconv.ParseInt(req.Fields["chat_id"], 10, 64)
		if err != nil {
			apiError(w, http.StatusBadRequest, "Bad Request: chat not found", 0)
			return
		}
		s.mu.Lock()
		s.nextMsg++
		id := s.nextMsg
		s.requests = append(s.requests, req)
		s.mu.Unlock()
		msg := map[string]any{"message_id": id, "date": time.Now().Unix(),
			"from":    map[string]any{"id": BotID, "is_bot": true, "first_name": "Switchboard", "username": BotUsername},
			"chat":    map[string]any{"id": chat, "type": "private"},
			"text":    req.Fields["text"],
			"caption": req.Fields["caption"]}
		answer(w, msg)
	default:
		apiError(w, http.StatusNotFound, "Not Found", 0)
	}
}

// getUpdates answers like Telegram: an offset confirms (deletes) every
// update below it; the pending ones from offset on are returned at once,
// or the call waits up to timeout seconds for one to be pushed.
func (s *Server) getUpdates(w http.ResponseWriter, r *http.Request, req Request) {
	offset, _ := strconv.ParseInt(req.Fields["offset"], 10, 64)
	timeout, _ := strconv.Atoi(req.Fields["timeout"])
	limit, _ := strconv.Atoi(req.Fields["limit"])
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	s.mu.Lock()
	s.offsets = append(s.offsets, offset)
	s.mu.Unlock()
	deadline := time.NewTimer(time.Duration(timeout) * time.Second)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		if offset > 0 {
			s.updates = slices.DeleteFunc(s.updates, func(u update) bool { return u.id < offset })
		}
		var out []json.RawMessage
		for _, u := range s.updates {
			if len(out) < limit {
				out = append(out, u.raw)
			}
		}
		wake := s.wake
		s.mu.Unlock()
		if len(out) > 0 {
			answer(w, out)
			return
		}
		select {
		case <-wake:
		case <-deadline.C:
			answer(w, []json.RawMessage{})
			return
		case <-r.Context().Done():
			return
		case <-s.closed:
			return
		}
	}
}

func (s *Server) download(w http.ResponseWriter, rest string) {
	token, path, _ := strings.Cut(rest, "/")
	if token != s.Token {
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.files {
		if f.path == path {
			w.Header().Set("Content-Length", strconv.Itoa(len(f.data)))
			w.Write(f.data)
			return
		}
	}
	http.NotFound(w, nil)
}

// parse reads a multipart/form-data request (an empty body is a call
// without parameters).
func parse(r *http.Request, method string) (Request, error) {
	req := Request{Method: method, Fields: map[string]string{}, Files: map[string]Upload{}}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return req, err
	}
	if len(body) == 0 {
		return req, nil
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "multipart/form-data" {
		return req, fmt.Errorf("content type %q is not multipart/form-data", r.Header.Get("Content-Type"))
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		return req, err
	}
	for k, v := range r.MultipartForm.Value {
		req.Fields[k] = v[0]
	}
	for k, fhs := range r.MultipartForm.File {
		f, err := fhs[0].Open()
		if err != nil {
			return req, err
		}
		data, err := io.ReadAll(f)
		f.Close()
		if err != nil {
			return req, err
		}
		req.Files[k] = Upload{Name: fhs[0].Filename, Data: data}
	}
	return req, nil
}

func answer(w http.ResponseWriter, result any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"ok": true, "result": result})
}

func apiError(w http.ResponseWriter, code int, description string, retryAfter int) {
	body := map[string]any{"ok": false, "error_code": code, "description": description}
	if retryAfter > 0 {
		body["parameters"] = map[string]any{"retry_after": retryAfter}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(body)
}
