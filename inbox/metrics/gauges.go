package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"

	"github.com/switchboard/switchboard/crm"
)

// scrapeTimeout bounds the queries one scrape makes.
const scrapeTimeout = 5 * time.Second

var (
	outboxJobsDesc = prometheus.NewDesc("switchboard_outbox_queued_jobs",
		"Replies waiting in the outbox (queued or being sent), by channel.", []string{"channel"}, nil)
	outboxAgeDesc = prometheus.NewDesc("switchboard_outbox_oldest_job_age_seconds",
		"Age of the oldest reply waiting in the outbox, by channel; 0 when none waits.", []string{"channel"}, nil)
	backupDesc = prometheus.NewDesc("switchboard_last_backup_timestamp_seconds",
		"When the newest recorded backup finished, Unix time; absent when none is recorded.", nil, nil)
	accountsDesc = prometheus.NewDesc("switchboard_accounts",
		"Channel accounts by channel and phase (live, failing, standby, hook, pairing, stopped …) as this replica sees them.", []string{"channel", "phase"}, nil)
	scrapeErrDesc = prometheus.NewDesc("switchboard_metrics_scrape_errors",
		"1 when a database read of this scrape failed (its series are missing), by source.", []string{"source"}, nil)
)

// storeCollector reads the outbox backlog and the last backup from the
// database at scrape time.
type storeCollector struct {
	db *gorm.DB
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- outboxJobsDesc
	ch <- outboxAgeDesc
	ch <- backupDesc
	ch <- scrapeErrDesc
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	tx := c.db.WithContext(ctx)
	now := time.Now()
	backlog, err := crm.OutboxBacklog(tx)
	ch <- failed("outbox", err)
	for _, b := range backlog {
		ch <- prometheus.MustNewConstMetric(outboxJobsDesc, prometheus.GaugeValue, float64(b.Jobs), label(b.Channel))
		age := 0.0
		if !b.Oldest.IsZero() {
			age = max(now.Sub(b.Oldest).Seconds(), 0)
		}
		ch <- prometheus.MustNewConstMetric(outboxAgeDesc, prometheus.GaugeValue, age, label(b.Channel))
	}
	at, ok, err := crm.LastBackup(tx)
	ch <- failed("backups", err)
	if ok {
		ch <- prometheus.MustNewConstMetric(backupDesc, prometheus.GaugeValue, float64(at.UnixNano())/1e9)
	}
}

// failed is the scrape-error gauge of a source.
func failed(source string, err error) prometheus.Metric {
	v := 0.0
	if err != nil {
		v = 1
	}
	return prometheus.MustNewConstMetric(scrapeErrDesc, prometheus.GaugeValue, v, source)
}

// Accounts is what the metrics read of the account supervisor: how many
// accounts stand in each phase, keyed by [channel, phase].
type Accounts interface {
	Phases(ctx context.Context) (map[[2]string]int, error)
}

// accountsCollector reads the supervisor's account phases at scrape time.
type accountsCollector struct {
	accts Accounts
}

func (c accountsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- accountsDesc }

func (c accountsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	phases, err := c.accts.Phases(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(accountsDesc, err)
		return
	}
	for k, n := range phases {
		ch <- prometheus.MustNewConstMetric(accountsDesc, prometheus.GaugeValue, float64(n), label(k[0]), label(k[1]))
	}
}

// WatchAccounts adds the accounts-by-phase gauge, read from accts at
// scrape time. It is separate from New because the supervisor is built
// after the ingest sink that New's counters serve.
func (m *Metrics) WatchAccounts(accts Accounts) {
	m.Registry.MustRegister(accountsCollector{accts: accts})
}
