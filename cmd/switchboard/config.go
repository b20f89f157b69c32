package main

import (
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"time"
)

// Config is everything Switchboard reads from its environment, once, here.
// Flags override the environment; every option has a default that lets
// `switchboard serve` start with nothing set.
type Config struct {
	Addr          string // SWITCHBOARD_ADDR: listen address (default ":8080")
	DataDir       string // SWITCHBOARD_DATA: SQLite file, secret key file, blobs (default "./data")
	DatabaseURL   string // DATABASE_URL: PostgreSQL URL; empty means SQLite in DataDir. Secret.
	Region        string // SWITCHBOARD_REGION: default phone region (default "RU")
	Currency      string // SWITCHBOARD_CURRENCY: default currency (default "RUB")
	TimeZone      string // SWITCHBOARD_TIME_ZONE: the company's time zone, where the report's days begin (default "Europe/Moscow")
	SecretKey     string // SWITCHBOARD_SECRET_KEY: 32-byte key (hex or base64) sealing account secrets; default: generated into DataDir/secret.key. Secret.
	OwnerEmail    string // SWITCHBOARD_OWNER_EMAIL: first owner's email (default "owner@switchboard.local")
	OwnerPassword string // SWITCHBOARD_OWNER_PASSWORD: first owner's password (default: generated and logged once). Secret.
	SecureCookies bool   // SWITCHBOARD_SECURE_COOKIES: mark cookies Secure, for TLS behind a proxy (default false)
	LogLevel      string // SWITCHBOARD_LOG_LEVEL: debug, info, warn, error (default "info")
	LogFormat     string // SWITCHBOARD_LOG_FORMAT: text or json (default "text")
	RemindAfter   string // SWITCHBOARD_REMIND_AFTER: remind the manager of a touch still without a deal after this long (default "30m")
	OverdueAfter  string // SWITCHBOARD_OVERDUE_AFTER: a contact waiting for our reply longer is overdue (default "30m")
	// SWITCHBOARD_TRUSTED_PROXIES: comma-separated IPs or CIDRs of reverse
	// proxies whose X-Forwarded-For names the client (default: none).
	TrustedProxies string
	// SWITCHBOARD_METRICS_TOKEN: bearer token Prometheus sends to GET
	// /metrics; empty (the default) turns metrics off. Secret: read from
	// the environment only, never a flag (a flag shows in ps).
	MetricsToken string
	BlobConfig   // where attachments and recordings are kept (blobs.go)

	location                  *time.Location // parsed by validate
	remindAfter, overdueAfter time.Duration  // parsed by validate
	trustedProxies            []netip.Prefix // parsed by validate
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

// bind registers the shared flags on fs with defaults from the environment.
func (c *Config) bind(fs *flag.FlagSet, serve bool) {
	fs.StringVar(&c.DataDir, "data", env("SWITCHBOARD_DATA", "./data"), "data directory (SQLite file, secret key) [SWITCHBOARD_DATA]")
	fs.StringVar(&c.DatabaseURL, "database-url", env("DATABASE_URL", ""), "PostgreSQL URL; empty for SQLite in the data directory [DATABASE_URL]")
	fs.StringVar(&c.LogLevel, "log-level", env("SWITCHBOARD_LOG_LEVEL", "info"), "debug, info, warn or error [SWITCHBOARD_LOG_LEVEL]")
	fs.StringVar(&c.LogFormat, "log-format", env("SWITCHBOARD_LOG_FORMAT", "text"), "text or json [SWITCHBOARD_LOG_FORMAT]")
	fs.StringVar(&c.Region, "region", env("SWITCHBOARD_REGION", "RU"), "default phone region, ISO 3166 [SWITCHBOARD_REGION]")
	fs.StringVar(&c.Currency, "currency", env("SWITCHBOARD_CURRENCY", "RUB"), "default currency, ISO 4217 [SWITCHBOARD_CURRENCY]")
	fs.StringVar(&c.TimeZone, "time-zone", env("SWITCHBOARD_TIME_ZONE", "Europe/Moscow"), "the company's time zone, IANA name: the report counts days there [SWITCHBOARD_TIME_ZONE]")
	c.SecretKey = env("SWITCHBOARD_SECRET_KEY", "")
	c.BlobConfig.bind(fs)
	if serve {
		fs.StringVar(&c.Addr, "addr", env("SWITCHBOARD_ADDR", ":8080"), "listen address [SWITCHBOARD_ADDR]")
		fs.StringVar(&c.OwnerEmail, "owner-email", env("SWITCHBOARD_OWNER_EMAIL", "owner@switchboard.local"), "first owner's email, on an empty database [SWITCHBOARD_OWNER_EMAIL]")
		c.OwnerPassword = env("SWITCHBOARD_OWNER_PASSWORD", "")
		c.MetricsToken = strings.TrimSpace(env("SWITCHBOARD_METRICS_TOKEN", ""))
		fs.StringVar(&c.RemindAfter, "remind-after", env("SWITCHBOARD_REMIND_AFTER", "30m"), "remind the responsible manager of a touch still without a deal after this long [SWITCHBOARD_REMIND_AFTER]")
		fs.StringVar(&c.OverdueAfter, "overdue-after", env("SWITCHBOARD_OVERDUE_AFTER", "30m"), "a conversation waiting for our reply longer is overdue [SWITCHBOARD_OVERDUE_AFTER]")
		fs.StringVar(&c.TrustedProxies, "trusted-proxies", env("SWITCHBOARD_TRUSTED_PROXIES", ""), "comma-separated IPs or CIDRs of reverse proxies whose X-Forwarded-For names the client; empty trusts none [SWITCHBOARD_TRUSTED_PROXIES]")
		fs.BoolVar(&c.SecureCookies, "secure-cookies", env("SWITCHBOARD_SECURE_COOKIES", "") == "true", "mark session cookies Secure (behind TLS) [SWITCHBOARD_SECURE_COOKIES]")
	}
}

func (c *Config) validate() error {
	c.Region = strings.ToUpper(c.Region)
	c.Currency = strings.ToUpper(c.Currency)
	if len(c.Region) != 2 {
		return fmt.Errorf("region %q must be a two-letter country code such as RU", c.Region)
	}
	if len(c.Currency) != 3 {
		return fmt.Errorf("currency %q must be an ISO 4217 code such as RUB", c.Currency)
	}
	if c.TimeZone == "" {
		c.TimeZone = "Europe/Moscow"
	}
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil || c.TimeZone == "Local" {
		return fmt.Errorf("time-zone %q is not an IANA time zone such as Europe/Moscow", c.TimeZone)
	}
	c.location = loc
	for _, d := range []struct {
		name, v string
		to      *time.Duration
	}{{"remind-after", c.RemindAfter, &c.remindAfter}, {"overdue-after", c.OverdueAfter, &c.overdueAfter}} {
		if d.v == "" {
			continue // not a serve flag
		}
		v, err := time.ParseDuration(d.v)
		if err != nil || v < time.Minute {
			return fmt.Errorf("%s %q must be a duration of a minute or more, such as 30m or 2h", d.name, d.v)
		}
		*d.to = v
	}
	c.trustedProxies = nil
	for _, e := range strings.Split(c.TrustedProxies, ",") {
		if e = strings.TrimSpace(e); e == "" {
			continue
		}
		p, err := netip.ParsePrefix(e)
		if !strings.Contains(e, "/") { // one address
			var a netip.Addr
			if a, err = netip.ParseAddr(e); err == nil {
				a = a.Unmap().WithZone("")
				p = netip.PrefixFrom(a, a.BitLen())
			}
		}
		if err != nil {
			return fmt.Errorf("trusted-proxies entry %q is not an IP address or CIDR such as 10.0.0.1 or 172.16.0.0/12", e)
		}
		c.trustedProxies = append(c.trustedProxies, p.Masked())
	}
	return c.checkBlobs(c.Blobs)
}

func (c *Config) logger() *slog.Logger {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.LogLevel)); err != nil {
		lvl = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lvl}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}
