package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/crm/crmtest"
	"github.com/switchboard/switchboard/inbox/blobs"
	"github.com/switchboard/switchboard/inbox/blobs/blobstest"
)

// s3Env points the S3 settings at a fake S3 server and returns its options.
func s3Env(t *testing.T) blobs.S3Options {
	o := blobstest.S3(t)
	for k, v := range map[string]string{
		"SWITCHBOARD_S3_ENDPOINT": "https://" + o.Endpoint, "SWITCHBOARD_S3_BUCKET": o.Bucket, "SWITCHBOARD_S3_REGION": o.Region,
		"SWITCHBOARD_S3_ACCESS_KEY": o.AccessKey, "SWITCHBOARD_S3_SECRET_KEY": o.SecretKey,
		"SWITCHBOARD_S3_PREFIX": o.Prefix, "SWITCHBOARD_S3_CA_FILE": o.CAFile,
	} {
		t.Setenv(k, v)
	}
	return o
}

// dirBlobs fills the default blob directory of the data dir.
func dirBlobs(t *testing.T, dataDir string) map[string][]byte {
	t.Helper()
	dir := blobs.Dir{Dir: dataDir + "/blobs"}
	out := map[string][]byte{}
	for _, data := range [][]byte{[]byte("%PDF-1.4 price list"), bytes.Repeat([]byte("RIFF call recording "), 300000)} {
		key, err := blobs.PutBytes(context.Background(), dir, data)
		if err != nil {
			t.Fatal(err)
		}
		out[key] = data
	}
	return out
}

func checkHas(t *testing.T, s blobs.Store, want map[string][]byte) {
	t.Helper()
	for key, data := range want {
		rc, err := s.Open(context.Background(), key)
		if err != nil {
			t.Fatalf("%s…: %v", key[:8], err)
		}
		var got bytes.Buffer
		got.ReadFrom(rc)
		rc.Close()
		if !bytes.Equal(got.Bytes(), data) {
			t.Fatalf("%s…: %d bytes, want %d", key[:8], got.Len(), len(data))
		}
	}
}

func TestBlobsMigrateCopiesTheDirectoryToS3AndCanRunAgain(t *testing.T) {
	want := dirBlobs(t, dataEnv(t))
	o := s3Env(t)
	for range 2 { // the second run finds everything there
		if err := run(context.Background(), []string{"blobs", "migrate", "--from", "dir", "--to", "s3"}); err != nil {
			t.Fatal(err)
		}
	}
	s, err := blobs.NewS3(o)
	if err != nil {
		t.Fatal(err)
	}
	checkHas(t, s, want)
}

func TestBlobsMigrateCopiesTheDirectoryIntoTheDatabase(t *testing.T) {
	data := dataEnv(t)
	want := dirBlobs(t, data)
	to := "database"
	if crmtest.Postgres() {
		to = "postgres"
	}
	if err := run(context.Background(), []string{"blobs", "migrate", "--from", "dir", "--to", to}); err != nil {
		t.Fatal(err)
	}
	var cfg Config
	flags("test", "", &cfg, false).Parse(nil)
	db, err := crm.Open(cfg.DatabaseURL, data)
	if err != nil {
		t.Fatal(err)
	}
	defer closeDB(db)
	checkHas(t, blobs.Database{DB: db}, want)
	// And back, into an empty directory elsewhere.
	t.Setenv("SWITCHBOARD_BLOBS_DIR", t.TempDir())
	if err := run(context.Background(), []string{"blobs", "migrate", "--from", to, "--to", "dir"}); err != nil {
		t.Fatal(err)
	}
	flags("test", "", &cfg, false).Parse(nil)
	checkHas(t, blobs.Dir{Dir: cfg.BlobsDir}, want)
}

func TestBadBlobSettingsAreRefusedAtStart(t *testing.T) {
	dataEnv(t)
	for _, c := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"an unknown backend", map[string]string{"SWITCHBOARD_BLOBS": "nfs"}, []string{"serve"}, `unknown backend "nfs"`},
		{"s3 without a bucket", map[string]string{"SWITCHBOARD_BLOBS": "s3", "SWITCHBOARD_S3_ENDPOINT": "storage.yandexcloud.net"}, []string{"serve"}, "s3 needs SWITCHBOARD_S3_BUCKET"},
		{"s3 with a key and no secret", map[string]string{"SWITCHBOARD_BLOBS": "s3", "SWITCHBOARD_S3_ENDPOINT": "minio:9000", "SWITCHBOARD_S3_BUCKET": "b", "SWITCHBOARD_S3_ACCESS_KEY": "k"}, []string{"serve"}, "or neither"},
		{"an endpoint with a path", map[string]string{"SWITCHBOARD_BLOBS": "s3", "SWITCHBOARD_S3_ENDPOINT": "https://minio:9000/bucket", "SWITCHBOARD_S3_BUCKET": "b"}, []string{"serve"}, "without a path"},
		{"postgres on SQLite", map[string]string{"SWITCHBOARD_BLOBS": "postgres", "DATABASE_URL": ""}, []string{"serve"}, "DATABASE_URL names none"},
		{"a migration without a destination", nil, []string{"blobs", "migrate", "--from", "dir"}, "--from and --to are required"},
		{"a migration onto itself", nil, []string{"blobs", "migrate", "--from", "database", "--to", "postgres"}, "the same backend"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			err := run(context.Background(), c.args)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to say %q", err, c.want)
			}
		})
	}
}

// A bucket that is not there stops the start with its name, instead of
// failing at the first attachment.
func TestAMissingBucketIsNamedAtStart(t *testing.T) {
	dataEnv(t)
	s3Env(t)
	t.Setenv("SWITCHBOARD_S3_BUCKET", "no-such-bucket")
	var cfg Config
	flags("test", "", &cfg, false).Parse(nil)
	_, err := cfg.blobStore(context.Background(), "s3", nil)
	if err == nil || !strings.Contains(err.Error(), `"no-such-bucket" does not exist`) {
		t.Fatalf("err = %v", err)
	}
}
