package blobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Dir keeps blobs as files under a directory: ab/cdef…. It suits one node;
// replicas need a shared store (Database or S3).
type Dir struct {
	Dir string
}

// tempPrefix names the files of a Put in progress, in the directory's root.
const tempPrefix = ".put-"

// Put writes r to a temporary file while hashing it, then renames the file
// to its key: a reader never sees half a blob.
func (d Dir) Put(ctx context.Context, r io.Reader) (Info, error) {
	if err := os.MkdirAll(d.Dir, 0o750); err != nil {
		return Info{}, fmt.Errorf("blobs: %w", err)
	}
	tmp, err := os.CreateTemp(d.Dir, tempPrefix+"*")
	if err != nil {
		return Info{}, fmt.Errorf("blobs: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	h := newHasher(tmp)
	_, err = io.Copy(h, ctxReader{ctx, r})
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Info{}, fmt.Errorf("blobs: put: %w", err)
	}
	key := h.key()
	path := d.path(key)
	now := time.Now()
	if _, err := os.Stat(path); err == nil {
		// Stored already: mark it fresh, so that a sweep running now
		// does not take it from the reference about to be written.
		os.Chtimes(path, now, now)
		return Info{Key: key, Size: h.size, Modified: now}, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return Info{}, fmt.Errorf("blobs: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return Info{}, fmt.Errorf("blobs: %w", err)
	}
	return Info{Key: key, Size: h.size, Modified: now}, nil
}

// Open returns the blob's file.
func (d Dir) Open(_ context.Context, key string) (io.ReadCloser, error) {
	if !ValidKey(key) {
		return nil, notFound(key)
	}
	f, err := os.Open(d.path(key))
	if errors.Is(err, os.ErrNotExist) {
		return nil, notFound(key)
	}
	if err != nil {
		return nil, fmt.Errorf("blobs: %w", err)
	}
	return f, nil
}

// Stat describes the blob's file.
func (d Dir) Stat(_ context.Context, key string) (Info, error) {
	if !ValidKey(key) {
		return Info{}, notFound(key)
	}
	fi, err := os.Stat(d.path(key))
	if errors.Is(err, os.ErrNotExist) {
		return Info{}, notFound(key)
	}
	if err != nil {
		return Info{}, fmt.Errorf("blobs: %w", err)
	}
	return Info{Key: key, Size: fi.Size(), Modified: fi.ModTime()}, nil
}

// List walks the directory; files that are not blobs are passed over.
func (d Dir) List(ctx context.Context, fn func(Info) error) error {
	err := filepath.WalkDir(d.Dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil
			}
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if e.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(d.Dir, path)
		key := filepath.Dir(rel) + filepath.Base(rel)
		if !ValidKey(key) {
			return nil // a temporary file, or not ours
		}
		fi, err := e.Info()
		if err != nil {
			return nil // gone meanwhile
		}
		return fn(Info{Key: key, Size: fi.Size(), Modified: fi.ModTime()})
	})
	if err != nil {
		return fmt.Errorf("blobs: list %s: %w", d.Dir, err)
	}
	return nil
}

// Delete removes the blob's file.
func (d Dir) Delete(_ context.Context, key string) error {
	if !ValidKey(key) {
		return nil
	}
	if err := os.Remove(d.path(key)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("blobs: %w", err)
	}
	return nil
}

// dropTemp removes the temporary files of Puts interrupted before
// `before` (older versions left them beside the blob, hence the walk).
func (d Dir) dropTemp(ctx context.Context, before time.Time) error {
	err := filepath.WalkDir(d.Dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || ctx.Err() != nil {
			return ctx.Err()
		}
		if e.IsDir() || !strings.HasPrefix(e.Name(), tempPrefix) {
			return nil
		}
		if fi, err := e.Info(); err == nil && fi.ModTime().Before(before) {
			os.Remove(path)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("blobs: %w", err)
	}
	return nil
}

func (d Dir) path(key string) string { return filepath.Join(d.Dir, key[:2], key[2:]) }
