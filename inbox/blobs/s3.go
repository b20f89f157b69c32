package blobs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/switchboard/switchboard/crm"
)

// S3Options name a bucket on an S3-compatible service.
type S3Options struct {
	Endpoint  string // host[:port], such as storage.yandexcloud.net or minio:9000
	Bucket    string
	Region    string // empty: the service's default (us-east-1 for MinIO)
	AccessKey string
	SecretKey string // secret
	TLS       bool   // https
	Prefix    string // keys are stored under it, such as "switchboard/"
	// CAFile is a PEM file of certificates to trust besides the system's,
	// for a self-hosted MinIO with its own authority.
	CAFile string
	// TempDir holds a Put's content while it is hashed (default: the
	// OS temporary directory); it needs room for the largest blob.
	TempDir string
	// PartSize is the multipart upload's part (default 16 MiB).
	PartSize uint64
}

// S3 keeps blobs as objects named prefix+key in a bucket of an
// S3-compatible service (MinIO, Yandex Object Storage, AWS), for large
// volumes shared by every replica.
//
// The key is the content's hash, known only at the end of the content, so
// Put first copies the content to a temporary file while hashing it, then
// uploads that file under its key. The other sound way, uploading under a
// temporary name and copying the object to its key, was not chosen: it
// sends every duplicate over the network and then copies it again on the
// server, leaves temporary objects behind in the bucket when a replica
// dies, and a single server-side copy stops at 5 GB. The file costs local
// disk for one blob at a time, and lets Put skip the upload of content the
// bucket holds already. minio-go uploads a file of known size part by part
// through section readers, so no part is buffered in memory.
type S3 struct {
	client   *minio.Client
	bucket   string
	prefix   string
	tempDir  string
	partSize uint64
}

// NewS3 makes the client; it does not connect (see Check).
func NewS3(o S3Options) (*S3, error) {
	if o.Endpoint == "" || o.Bucket == "" {
		return nil, errors.New("blobs: s3 needs an endpoint and a bucket")
	}
	var creds *credentials.Credentials
	if o.AccessKey != "" || o.SecretKey != "" {
		creds = credentials.NewStaticV4(o.AccessKey, o.SecretKey, "")
	}
	mo := &minio.Options{Creds: creds, Secure: o.TLS, Region: o.Region}
	if o.CAFile != "" {
		t, err := trusting(o.CAFile)
		if err != nil {
			return nil, err
		}
		mo.Transport = t
	}
	client, err := minio.New(o.Endpoint, mo)
	if err != nil {
		return nil, fmt.Errorf("blobs: s3 endpoint %q: %w", o.Endpoint, err)
	}
	prefix := strings.TrimPrefix(o.Prefix, "/")
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	if o.TempDir == "" {
		o.TempDir = os.TempDir()
	}
	if o.PartSize == 0 {
		o.PartSize = 16 << 20
	}
	return &S3{client: client, bucket: o.Bucket, prefix: prefix, tempDir: o.TempDir, partSize: o.PartSize}, nil
}

// trusting is the default transport that also trusts the CA file's
// certificates.
func trusting(caFile string) (http.RoundTripper, error) {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("blobs: s3 CA file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("blobs: s3 CA file %s holds no PEM certificate", caFile)
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return t, nil
}

// Check reports whether the bucket can be reached, for a clear error at
// start rather than at the first attachment.
func (s *S3) Check(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("blobs: s3 bucket %q at %s: %w", s.bucket, s.client.EndpointURL().Host, err)
	}
	if !ok {
		return fmt.Errorf("blobs: s3 bucket %q does not exist at %s", s.bucket, s.client.EndpointURL().Host)
	}
	return nil
}

// tempPattern names Put's temporary files in TempDir.
const tempPattern = "switchboard-blob-"

// Put hashes r into a temporary file, then uploads the file under its key
// unless the bucket has that key already.
func (s *S3) Put(ctx context.Context, r io.Reader) (Info, error) {
	tmp, err := os.CreateTemp(s.tempDir, tempPattern+"*")
	if err != nil {
		return Info{}, fmt.Errorf("blobs: %w", err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	h := newHasher(tmp)
	if _, err := io.Copy(h, ctxReader{ctx, r}); err != nil {
		return Info{}, fmt.Errorf("blobs: put: %w", err)
	}
	key := h.key()
	if info, err := s.Stat(ctx, key); err == nil {
		return s.refresh(ctx, info), nil
	} else if !isNotFound(err) {
		return Info{}, err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return Info{}, fmt.Errorf("blobs: %w", err)
	}
	_, err = s.client.PutObject(ctx, s.bucket, s.prefix+key, tmp, h.size, minio.PutObjectOptions{
		ContentType: "application/octet-stream", PartSize: s.partSize,
	})
	if err != nil {
		return Info{}, fmt.Errorf("blobs: upload %s: %w", key, err)
	}
	return Info{Key: key, Size: h.size, Modified: time.Now()}, nil
}

// refreshAfter is the age past which a blob put again gets a new time.
const refreshAfter = time.Hour

// refresh gives an old object that is put again a new modification time
// (a copy onto itself, on the server), so that a sweep running now does
// not take it from the reference about to be written. Should the copy
// fail, the blob is there all the same: Put still succeeds.
func (s *S3) refresh(ctx context.Context, info Info) Info {
	if time.Since(info.Modified) < refreshAfter {
		return info
	}
	name := s.prefix + info.Key
	_, err := s.client.CopyObject(ctx,
		minio.CopyDestOptions{Bucket: s.bucket, Object: name, ReplaceMetadata: true, UserMetadata: map[string]string{"Put-Again": time.Now().UTC().Format(time.RFC3339)}},
		minio.CopySrcOptions{Bucket: s.bucket, Object: name})
	if err == nil {
		info.Modified = time.Now()
	}
	return info
}

// Open streams the object.
func (s *S3) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if !ValidKey(key) {
		return nil, notFound(key)
	}
	obj, err := s.client.GetObject(ctx, s.bucket, s.prefix+key, minio.GetObjectOptions{})
	if err != nil {
		return nil, s.err(key, err)
	}
	if _, err := obj.Stat(); err != nil { // the request is made here
		obj.Close()
		return nil, s.err(key, err)
	}
	return obj, nil
}

// Stat asks for the object's metadata.
func (s *S3) Stat(ctx context.Context, key string) (Info, error) {
	if !ValidKey(key) {
		return Info{}, notFound(key)
	}
	oi, err := s.client.StatObject(ctx, s.bucket, s.prefix+key, minio.StatObjectOptions{})
	if err != nil {
		return Info{}, s.err(key, err)
	}
	return Info{Key: key, Size: oi.Size, Modified: oi.LastModified}, nil
}

// List lists the objects under the prefix.
func (s *S3) List(ctx context.Context, fn func(Info) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the listing when fn stops it early
	for oi := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix, Recursive: true}) {
		if oi.Err != nil {
			return fmt.Errorf("blobs: list bucket %q: %w", s.bucket, oi.Err)
		}
		key := strings.TrimPrefix(oi.Key, s.prefix)
		if !ValidKey(key) {
			continue // not ours
		}
		if err := fn(Info{Key: key, Size: oi.Size, Modified: oi.LastModified}); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// Delete removes the object.
func (s *S3) Delete(ctx context.Context, key string) error {
	if !ValidKey(key) {
		return nil
	}
	if err := s.client.RemoveObject(ctx, s.bucket, s.prefix+key, minio.RemoveObjectOptions{}); err != nil && !isNotFound(s.err(key, err)) {
		return fmt.Errorf("blobs: delete %s: %w", key, err)
	}
	return nil
}

// dropTemp removes the temporary files of Puts interrupted before `before`.
func (s *S3) dropTemp(_ context.Context, before time.Time) error {
	old, _ := filepath.Glob(filepath.Join(s.tempDir, tempPattern+"*"))
	for _, p := range old {
		if fi, err := os.Stat(p); err == nil && fi.ModTime().Before(before) {
			os.Remove(p)
		}
	}
	return nil
}

func (s *S3) err(key string, err error) error {
	switch minio.ToErrorResponse(err).Code {
	case minio.NoSuchKey, "NotFound":
		return notFound(key)
	}
	return fmt.Errorf("blobs: s3 %s: %w", key, err)
}

func isNotFound(err error) bool { return errors.Is(err, crm.ErrNotFound) }
