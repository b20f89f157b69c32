package blobs

import (
	"context"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Sweeper is a Store that can drop what nothing references any more: a
// file written for a reply that was then refused, or whose touch is gone.
type Sweeper interface {
	// Sweep removes the blobs written before `before` for which
	// referenced reports false, and returns how many it removed.
	// referenced gets keys in batches and says which are still in use.
	Sweep(ctx context.Context, before time.Time, referenced func(keys []string) (map[string]bool, error)) (int, error)
}

// sweepBatch is how many keys one referenced call gets.
const sweepBatch = 500

// Sweep implements Sweeper for a directory; leftover temporary files of
// an interrupted Put go too.
func (d Dir) Sweep(ctx context.Context, before time.Time, referenced func([]string) (map[string]bool, error)) (int, error) {
	removed := 0
	var batch []string
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		keep, err := referenced(batch)
		if err != nil {
			return err
		}
		for _, k := range batch {
			if !keep[k] {
				if err := os.Remove(d.path(k)); err != nil && !errors.Is(err, os.ErrNotExist) {
					return err
				}
				removed++
			}
		}
		batch = batch[:0]
		return nil
	}
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
		info, err := e.Info()
		if err != nil || !info.ModTime().Before(before) {
			return nil
		}
		rel, _ := filepath.Rel(d.Dir, path)
		key := filepath.Dir(rel) + filepath.Base(rel)
		if len(e.Name()) > 5 && e.Name()[:5] == ".put-" {
			os.Remove(path) // an interrupted Put
			return nil
		}
		if _, err := hex.DecodeString(key); err != nil || len(key) != 64 {
			return nil // not ours
		}
		batch = append(batch, key)
		if len(batch) == sweepBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	return removed, err
}
