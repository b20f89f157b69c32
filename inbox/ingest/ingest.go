// Package ingest is the Sink every channel adapter hands what it reads to:
// each inbound event becomes one touch, tied to a contact (identity →
// contact), an entry point and its ad source, a conversation, and by the
// deal-link rules a deal — in one transaction per batch, with the
// account's cursor and the events for the screens.
package ingest

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/microcosm-cc/bluemonday"
	"gorm.io/gorm"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox/blobs"
	"github.com/switchboard/switchboard/inbox/realtime"
)

// Options are ingest's settings, read once in cmd.
type Options struct {
	Region   string // default phone region, "RU"
	Currency string // currency of the deals ingest opens, "RUB"
	// MaxAttachment is the largest attachment stored, in bytes; default 25 MiB.
	MaxAttachment int64
	// Meter is told what each batch did (package metrics); nil: nobody.
	Meter Meter
}

// Meter counts what ingest does, by channel: the metrics.
type Meter interface {
	Ingested(channel, result string, n int)
	IngestBatch(d time.Duration)
}

// Sink stores what adapters read (channels.Sink).
type Sink struct {
	db    *gorm.DB
	log   *slog.Logger
	rt    *realtime.Publisher
	blobs blobs.Store
	opts  Options
	html  *bluemonday.Policy
	chans sync.Map // account id → channel, for the meter
}

// New returns the sink writing through rt's transactions.
func New(db *gorm.DB, log *slog.Logger, rt *realtime.Publisher, store blobs.Store, opts Options) *Sink {
	if opts.Region == "" {
		opts.Region = "RU"
	}
	if opts.Currency == "" {
		opts.Currency = "RUB"
	}
	if opts.MaxAttachment == 0 {
		opts.MaxAttachment = 25 << 20
	}
	return &Sink{db: db, log: log, rt: rt, blobs: store, opts: opts, html: emailPolicy()}
}

// emailPolicy is what survives of an email's HTML: formatting, links,
// tables and images; never scripts, handlers, forms or styles that can
// reach out. Links open outside the sandboxed frame.
func emailPolicy() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.AllowAttrs("style").Globally() // inline styles are how email is formatted
	p.AllowStyles("color", "background-color", "font-weight", "font-style", "font-size", "text-align", "text-decoration", "margin", "padding", "border", "width").Globally()
	p.AllowAttrs("bgcolor", "align", "valign", "width", "height", "cellpadding", "cellspacing", "border").Globally()
	p.AllowURLSchemes("http", "https", "mailto", "tel", "cid")
	p.AddTargetBlankToFullyQualifiedLinks(true)
	return p
}

// Ingest stores a batch (see ingest, sink.go). An event refused as it is
// (crm.ErrInvalid) is marked channels.ErrInvalid in its Result, so the
// adapter tells its sender rather than asking for a retry.
func (s *Sink) Ingest(ctx context.Context, batch []channels.Inbound) ([]channels.Result, error) {
	start := time.Now()
	res, err := s.ingest(ctx, batch)
	s.measure(ctx, batch, res, start)
	for i := range res {
		if res[i].Err != nil && errors.Is(res[i].Err, crm.ErrInvalid) {
			res[i].Err = channels.Invalid(res[i].Err)
		}
	}
	return res, err
}
