package blobs

import (
	"context"
	"time"
)

// sweepBatch is how many keys one referenced call gets.
const sweepBatch = 500

// tempDropper is a Store that keeps the leftovers of interrupted Puts
// somewhere List does not show (a temporary file, an upload row).
type tempDropper interface {
	dropTemp(ctx context.Context, before time.Time) error
}

// Sweep drops what nothing references any more: a file written for a
// reply that was then refused, or whose touch is gone. It removes the
// blobs written before `before` for which referenced reports false, and
// the leftovers of Puts interrupted before then, and returns how many
// blobs it removed. referenced gets keys in batches and says which are
// still in use. It works on every backend, through List and Delete.
func Sweep(ctx context.Context, s Store, before time.Time, referenced func(keys []string) (map[string]bool, error)) (int, error) {
	if td, ok := s.(tempDropper); ok {
		if err := td.dropTemp(ctx, before); err != nil {
			return 0, err
		}
	}
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
			if keep[k] {
				continue
			}
			// Put again since it was listed: a reference is on its way.
			if info, err := s.Stat(ctx, k); err != nil || !info.Modified.Before(before) {
				continue
			}
			if err := s.Delete(ctx, k); err != nil {
				return err
			}
			removed++
		}
		batch = batch[:0]
		return nil
	}
	err := s.List(ctx, func(info Info) error {
		if !info.Modified.Before(before) {
			return nil
		}
		batch = append(batch, info.Key)
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
