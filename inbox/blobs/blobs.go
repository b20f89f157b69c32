// Package blobs stores the bytes of attachments and recordings by their
// SHA-256, so the same file sent twice is stored once.
package blobs

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/switchboard/switchboard/crm"
)

// Store keeps blobs by key (the hex SHA-256 of the content).
type Store interface {
	Put(data []byte) (key string, err error)
	Open(key string) (io.ReadCloser, error)
}

// Dir keeps blobs as files under a directory: ab/cdef….
type Dir struct {
	Dir string
}

// Put writes data (atomically: temp file, then rename) and returns its key.
func (d Dir) Put(data []byte) (string, error) {
	sum := sha256.Sum256(data)
	key := hex.EncodeToString(sum[:])
	path := d.path(key)
	if _, err := os.Stat(path); err == nil {
		return key, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return "", fmt.Errorf("blobs: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".put-*")
	if err != nil {
		return "", fmt.Errorf("blobs: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return "", fmt.Errorf("blobs: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("blobs: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("blobs: %w", err)
	}
	return key, nil
}

// Open returns the blob's content.
func (d Dir) Open(key string) (io.ReadCloser, error) {
	if len(key) != 64 {
		return nil, crm.NotFound("blob", key)
	}
	if _, err := hex.DecodeString(key); err != nil {
		return nil, crm.NotFound("blob", key)
	}
	f, err := os.Open(d.path(key))
	if errors.Is(err, os.ErrNotExist) {
		return nil, crm.NotFound("blob", key)
	}
	return f, err
}

func (d Dir) path(key string) string { return filepath.Join(d.Dir, key[:2], key[2:]) }
