// Package blobs stores the bytes of attachments and recordings by their
// SHA-256, so the same file sent twice is stored once. Three backends keep
// them: a local directory (Dir, the default for one node), the database
// (Database: replicas on one PostgreSQL share it) and S3-compatible object
// storage (S3: MinIO, Yandex Object Storage, AWS). Every backend streams:
// Put hashes while it writes to a temporary place and then commits under
// the key, and Open reads as the caller does, so a 100 MB recording is
// never held in memory.
package blobs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"time"

	"github.com/switchboard/switchboard/crm"
)

// Store keeps blobs by key: the hex SHA-256 of the content.
type Store interface {
	// Put reads r to its end and stores the content under its key; the
	// same content put again is stored once. A read error from r stores
	// nothing.
	Put(ctx context.Context, r io.Reader) (Info, error)
	// Open streams a blob; an unknown or malformed key is crm.NotFound.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// Stat describes a blob; an unknown or malformed key is crm.NotFound.
	Stat(ctx context.Context, key string) (Info, error)
	// List calls fn for every stored blob, in no particular order, and
	// stops at fn's first error. fn may Delete the blob it is given.
	List(ctx context.Context, fn func(Info) error) error
	// Delete removes a blob; a missing one is no error.
	Delete(ctx context.Context, key string) error
}

// Info describes a stored blob.
type Info struct {
	Key      string
	Size     int64
	Modified time.Time // written, or (Dir, Database) last put again
}

// PutBytes stores data and returns its key: for callers that hold a small
// file in memory anyway (a reply's attachment, a parsed email's part).
func PutBytes(ctx context.Context, s Store, data []byte) (string, error) {
	info, err := s.Put(ctx, bytes.NewReader(data))
	return info.Key, err
}

// Key returns the key of data.
func Key(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// ValidKey reports whether key looks like a key: 64 lowercase hex digits.
func ValidKey(key string) bool {
	if len(key) != 64 {
		return false
	}
	for _, c := range key {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func notFound(key string) error { return crm.NotFound("blob", key) }

// hasher counts and hashes what passes through it on the way to w.
type hasher struct {
	w    io.Writer
	h    hash.Hash
	size int64
}

func newHasher(w io.Writer) *hasher { return &hasher{w: w, h: sha256.New()} }

func (h *hasher) Write(p []byte) (int, error) {
	n, err := h.w.Write(p)
	h.h.Write(p[:n])
	h.size += int64(n)
	return n, err
}

func (h *hasher) key() string { return hex.EncodeToString(h.h.Sum(nil)) }

// ctxReader stops a long copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
