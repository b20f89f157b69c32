package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox/blobs"
)

// BlobConfig says where attachments and recordings are kept (docs/blobs.md).
type BlobConfig struct {
	Blobs    string // SWITCHBOARD_BLOBS: dir, database (postgres: the same, checked to be PostgreSQL) or s3 (default "dir")
	BlobsDir string // SWITCHBOARD_BLOBS_DIR: the dir backend's directory (default DataDir/blobs)

	S3Endpoint  string // SWITCHBOARD_S3_ENDPOINT: host[:port]; a http:// or https:// URL sets TLS by its scheme
	S3Bucket    string // SWITCHBOARD_S3_BUCKET
	S3Region    string // SWITCHBOARD_S3_REGION (default: the service's)
	S3AccessKey string // SWITCHBOARD_S3_ACCESS_KEY
	S3SecretKey string // SWITCHBOARD_S3_SECRET_KEY: environment only. Secret.
	S3TLS       bool   // SWITCHBOARD_S3_TLS: https (default true)
	S3Prefix    string // SWITCHBOARD_S3_PREFIX: object names start with it (default none)
	S3CAFile    string // SWITCHBOARD_S3_CA_FILE: PEM certificates to trust besides the system's
}

// Blob backends, as SWITCHBOARD_BLOBS names them.
const (
	blobsDir      = "dir"
	blobsDatabase = "database"
	blobsPostgres = "postgres"
	blobsS3       = "s3"
)

func (b *BlobConfig) bind(fs *flag.FlagSet) {
	fs.StringVar(&b.Blobs, "blobs", env("SWITCHBOARD_BLOBS", blobsDir), "where attachments and recordings are kept: dir, database (postgres) or s3 [SWITCHBOARD_BLOBS]")
	fs.StringVar(&b.BlobsDir, "blobs-dir", env("SWITCHBOARD_BLOBS_DIR", ""), "the dir backend's directory; default: blobs in the data directory [SWITCHBOARD_BLOBS_DIR]")
	fs.StringVar(&b.S3Endpoint, "s3-endpoint", env("SWITCHBOARD_S3_ENDPOINT", ""), "S3 endpoint, host[:port] such as storage.yandexcloud.net [SWITCHBOARD_S3_ENDPOINT]")
	fs.StringVar(&b.S3Bucket, "s3-bucket", env("SWITCHBOARD_S3_BUCKET", ""), "S3 bucket [SWITCHBOARD_S3_BUCKET]")
	fs.StringVar(&b.S3Region, "s3-region", env("SWITCHBOARD_S3_REGION", ""), "S3 region, such as ru-central1 [SWITCHBOARD_S3_REGION]")
	fs.StringVar(&b.S3AccessKey, "s3-access-key", env("SWITCHBOARD_S3_ACCESS_KEY", ""), "S3 access key id; the secret comes from SWITCHBOARD_S3_SECRET_KEY [SWITCHBOARD_S3_ACCESS_KEY]")
	b.S3SecretKey = env("SWITCHBOARD_S3_SECRET_KEY", "")
	fs.BoolVar(&b.S3TLS, "s3-tls", env("SWITCHBOARD_S3_TLS", "true") != "false", "reach S3 over https [SWITCHBOARD_S3_TLS]")
	fs.StringVar(&b.S3Prefix, "s3-prefix", env("SWITCHBOARD_S3_PREFIX", ""), "prefix of the object names, such as switchboard/ [SWITCHBOARD_S3_PREFIX]")
	fs.StringVar(&b.S3CAFile, "s3-ca-file", env("SWITCHBOARD_S3_CA_FILE", ""), "PEM file of certificates to trust for S3 besides the system's [SWITCHBOARD_S3_CA_FILE]")
}

// checkBlobs says what is wrong with the settings of the named backend.
func (c *Config) checkBlobs(kind string) error {
	switch kind {
	case "", blobsDir, blobsDatabase:
		return nil
	case blobsPostgres:
		if !crm.IsPostgres(c.DatabaseURL) {
			return errors.New("blobs: postgres keeps the blobs in PostgreSQL, but DATABASE_URL names none; set DATABASE_URL, or say database to keep them in SQLite")
		}
		return nil
	case blobsS3:
		var missing []string
		if c.S3Endpoint == "" {
			missing = append(missing, "SWITCHBOARD_S3_ENDPOINT")
		}
		if c.S3Bucket == "" {
			missing = append(missing, "SWITCHBOARD_S3_BUCKET")
		}
		if len(missing) > 0 {
			return fmt.Errorf("blobs: s3 needs %s", strings.Join(missing, " and "))
		}
		if (c.S3AccessKey == "") != (c.S3SecretKey == "") {
			return errors.New("blobs: s3 needs both SWITCHBOARD_S3_ACCESS_KEY and SWITCHBOARD_S3_SECRET_KEY, or neither (anonymous)")
		}
		if _, _, err := c.s3Endpoint(); err != nil {
			return err
		}
		return nil
	}
	return fmt.Errorf("blobs: unknown backend %q: want dir, database, postgres or s3", kind)
}

// s3Endpoint splits a URL endpoint into host and TLS.
func (c *Config) s3Endpoint() (string, bool, error) {
	e := c.S3Endpoint
	if !strings.Contains(e, "://") {
		return strings.TrimSuffix(e, "/"), c.S3TLS, nil
	}
	u, err := url.Parse(e)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Trim(u.Path, "/") != "" {
		return "", false, fmt.Errorf("blobs: SWITCHBOARD_S3_ENDPOINT %q: want host[:port] or http(s)://host[:port] without a path (the bucket is SWITCHBOARD_S3_BUCKET)", e)
	}
	return u.Host, u.Scheme == "https", nil
}

// blobStore opens the named backend; db is the application's database,
// needed by the database backend only. An S3 bucket is checked to answer.
func (c *Config) blobStore(ctx context.Context, kind string, db *gorm.DB) (blobs.Store, error) {
	if err := c.checkBlobs(kind); err != nil {
		return nil, err
	}
	switch kind {
	case blobsDatabase, blobsPostgres:
		if db == nil {
			return nil, errors.New("blobs: the database backend needs the database")
		}
		return blobs.Database{DB: db}, nil
	case blobsS3:
		host, tls, _ := c.s3Endpoint()
		s, err := blobs.NewS3(blobs.S3Options{
			Endpoint: host, TLS: tls, Bucket: c.S3Bucket, Region: c.S3Region, Prefix: c.S3Prefix,
			AccessKey: c.S3AccessKey, SecretKey: c.S3SecretKey, CAFile: c.S3CAFile,
		})
		if err != nil {
			return nil, err
		}
		cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		if err := s.Check(cctx); err != nil {
			return nil, err
		}
		return s, nil
	}
	dir := c.BlobsDir
	if dir == "" {
		dir = filepath.Join(c.DataDir, "blobs")
	}
	return blobs.Dir{Dir: dir}, nil
}

const blobsMigrateSummary = `Copies every blob (attachment and recording) from one backend to another:
dir, database (postgres) or s3, each with its settings from the usual flags and
environment (SWITCHBOARD_BLOBS_DIR, DATABASE_URL, SWITCHBOARD_S3_…). Blobs are
streamed one at a time and checked against their key on arrival. It is safe to
run again, and to interrupt: what the destination has is skipped. Nothing is
deleted from the source. Afterwards, set SWITCHBOARD_BLOBS to the destination
and restart the replicas; run it once more then, for what arrived meanwhile.`

// blobsMigrate is "switchboard blobs migrate --from X --to Y".
func blobsMigrate(ctx context.Context, args []string) error {
	var cfg Config
	fs := flags("blobs migrate", blobsMigrateSummary, &cfg, false)
	from := fs.String("from", "", "the backend to copy from: dir, database, postgres or s3 (required)")
	to := fs.String("to", "", "the backend to copy to: dir, database, postgres or s3 (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *from == "" || *to == "" {
		return errors.New("blobs migrate: --from and --to are required")
	}
	same := *from == *to || (isDatabaseBlobs(*from) && isDatabaseBlobs(*to))
	if same {
		return fmt.Errorf("blobs migrate: --from and --to name the same backend (%s)", *from)
	}
	for _, k := range []string{*from, *to} {
		if err := cfg.checkBlobs(k); err != nil {
			return fmt.Errorf("blobs migrate: %w", err)
		}
	}
	var db *gorm.DB
	if isDatabaseBlobs(*from) || isDatabaseBlobs(*to) {
		var err error
		if db, err = open(ctx, &cfg, cfg.logger()); err != nil {
			return err
		}
		defer closeDB(db)
	}
	src, err := cfg.blobStore(ctx, *from, db)
	if err != nil {
		return fmt.Errorf("blobs migrate: from %s: %w", *from, err)
	}
	dst, err := cfg.blobStore(ctx, *to, db)
	if err != nil {
		return fmt.Errorf("blobs migrate: to %s: %w", *to, err)
	}
	c, err := blobs.Copy(ctx, src, dst, func(key string, err error) {
		fmt.Fprintf(os.Stderr, "blob %s: %v\n", key, err)
	})
	fmt.Printf("blobs from %s to %s: %d copied (%d MiB), %d already there, %d failed\n",
		*from, *to, c.Copied, c.Bytes>>20, c.Present, c.Failed)
	if err != nil {
		return fmt.Errorf("blobs migrate: %w (run it again to retry)", err)
	}
	return nil
}

func isDatabaseBlobs(kind string) bool { return kind == blobsDatabase || kind == blobsPostgres }
