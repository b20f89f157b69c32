// Package blobstest runs an S3 server inside a test (gofakes3 on
// httptest, in memory, on 127.0.0.1), for the blob store's S3 backend.
package blobstest

import (
	"encoding/pem"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/switchboard/switchboard/inbox/blobs"
)

// S3 starts a fake S3 server with an empty bucket and returns the options
// that reach it, over TLS with the server's certificate in CAFile (as in
// production; over plain HTTP minio-go signs each chunk of a multipart
// upload, and gofakes3 v1.2.0 stores those signatures in the parts). The server stops when the test ends.
func S3(t testing.TB) blobs.S3Options { return S3Clock(t, nil) }

// S3Clock is S3 with the clock that dates the objects (nil: the real one).
func S3Clock(t testing.TB, clock gofakes3.TimeSource) blobs.S3Options {
	t.Helper()
	var opts []s3mem.Option
	var fopts []gofakes3.Option
	if clock != nil { // both date objects; no skew check against a moved clock
		opts = append(opts, s3mem.WithTimeSource(clock))
		fopts = append(fopts, gofakes3.WithTimeSource(clock), gofakes3.WithTimeSkewLimit(0))
	}
	backend := s3mem.New(opts...)
	if err := backend.CreateBucket("switchboard"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(gofakes3.New(backend, fopts...).Server())
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(ca, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	return blobs.S3Options{
		Endpoint: strings.TrimPrefix(srv.URL, "https://"), Bucket: "switchboard", Region: "us-east-1",
		AccessKey: "test", SecretKey: "test-secret", Prefix: "blobs", TLS: true, CAFile: ca, TempDir: dir,
	}
}
