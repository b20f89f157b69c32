// Package metrics is Switchboard's Prometheus instrumentation: one
// registry per application (never the global default, so tests with
// several apps do not collide), the counters the services bump through the
// small interfaces they declare (ingest's Meter, the dispatcher's Meter,
// the API's Meter), the gauges read at scrape time (outbox backlog,
// accounts by phase, WebSocket clients, database pool, last backup), and
// the token-protected GET /metrics handler.
//
// Labels are low-cardinality by construction: channel kinds, account
// phases, route patterns, status codes and outcomes. No contact, message
// or account name, address or id is ever a label value.
package metrics

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"gorm.io/gorm"
)

// Hub is what the metrics read of the realtime hub.
type Hub interface {
	Clients() int   // WebSocket clients now
	Dropped() int64 // slow clients dropped since start
}

// Metrics holds an application's registry and the series it writes.
type Metrics struct {
	// Registry is this application's; Handler serves it.
	Registry *prometheus.Registry

	touches      *prometheus.CounterVec
	ingestBatch  prometheus.Histogram
	sendAttempts *prometheus.CounterVec
	sendFailures *prometheus.CounterVec
	requests     *prometheus.CounterVec
	latency      *prometheus.HistogramVec
}

// New returns the metrics of the application over db (its pool, outbox
// and backups) and hub, with the Go runtime and process collectors.
func New(db *gorm.DB, hub Hub) *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry()}
	m.touches = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "switchboard_touches_ingested_total",
		Help: "Inbound events handed to ingest, by channel and result: stored, duplicate (delivered before), rejected (invalid), failed (not stored).",
	}, []string{"channel", "result"})
	m.ingestBatch = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "switchboard_ingest_batch_duration_seconds",
		Help:    "Time to ingest one batch of inbound events, validation to commit.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	})
	m.sendAttempts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "switchboard_send_attempts_total",
		Help: "Replies the outbox dispatcher tried to send, by channel.",
	}, []string{"channel"})
	m.sendFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "switchboard_send_failures_total",
		Help: "Send attempts that failed, by channel and outcome: retry (will be tried again) or failed (given up).",
	}, []string{"channel", "outcome"})
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "switchboard_http_requests_total",
		Help: "HTTP requests by route pattern (method and path template) and status code.",
	}, []string{"route", "code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "switchboard_http_request_duration_seconds",
		Help:    "HTTP request latency by route pattern.",
		Buckets: prometheus.DefBuckets,
	}, []string{"route"})
	m.Registry.MustRegister(m.touches, m.ingestBatch, m.sendAttempts, m.sendFailures, m.requests, m.latency,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "switchboard_websocket_clients",
			Help: "WebSocket clients connected to this replica.",
		}, func() float64 { return float64(hub.Clients()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "switchboard_websocket_dropped_clients_total",
			Help: "WebSocket clients dropped because they read events too slowly.",
		}, func() float64 { return float64(hub.Dropped()) }),
		&storeCollector{db: db},
	)
	if sqlDB, err := db.DB(); err == nil {
		m.Registry.MustRegister(collectors.NewDBStatsCollector(sqlDB, "switchboard"))
	}
	return m
}

// Ingested counts n inbound events of a channel with one result.
func (m *Metrics) Ingested(channel, result string, n int) {
	m.touches.WithLabelValues(label(channel), result).Add(float64(n))
}

// IngestBatch records how long a batch took.
func (m *Metrics) IngestBatch(d time.Duration) { m.ingestBatch.Observe(d.Seconds()) }

// SendAttempt counts one send of a reply on a channel; a failed one is
// counted as a failure too, final when the reply is given up.
func (m *Metrics) SendAttempt(channel string, err error, final bool) {
	channel = label(channel)
	m.sendAttempts.WithLabelValues(channel).Inc()
	if err == nil {
		return
	}
	outcome := "retry"
	if final {
		outcome = "failed"
	}
	m.sendFailures.WithLabelValues(channel, outcome).Inc()
}

// Request records one HTTP request by its route pattern ("GET
// /api/v1/conversations/{id}", never the raw path; empty when no route
// matched).
func (m *Metrics) Request(route string, status int, d time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route).Observe(d.Seconds())
}

// label keeps a label value a short identifier (a channel kind).
func label(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// Handler serves the registry in the Prometheus text format to requests
// with "Authorization: Bearer <token>". With an empty token metrics are
// off and the handler answers 404, so /metrics never falls through to the
// UI's pages.
func (m *Metrics) Handler(token string) http.Handler {
	serve := promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry, ErrorHandling: promhttp.ContinueOnError})
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-store")
		if token == "" {
			http.Error(w, "metrics are off (set SWITCHBOARD_METRICS_TOKEN to turn them on)", http.StatusNotFound)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "metrics take GET", http.StatusMethodNotAllowed)
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		sum := sha256.Sum256([]byte(strings.TrimSpace(got)))
		// Hashes of equal length: the comparison takes the same time
		// whatever was sent.
		if subtle.ConstantTimeCompare(sum[:], want[:]) != 1 || !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "metrics need Authorization: Bearer <SWITCHBOARD_METRICS_TOKEN>", http.StatusUnauthorized)
			return
		}
		serve.ServeHTTP(w, r)
	})
}
