package blobs

import (
	"context"
	"errors"
	"fmt"

	"github.com/switchboard/switchboard/crm"
)

// CopyCounts is what Copy did.
type CopyCounts struct {
	Copied  int   // blobs written to the destination
	Present int   // blobs the destination had already (skipped)
	Failed  int   // blobs that could not be copied
	Bytes   int64 // bytes copied
}

// Copy copies every blob of from that to lacks, one stream at a time, and
// checks that each arrives under the key it left with. It is idempotent
// and resumable: a second run skips what the first copied. A blob that
// fails is reported to failed (when not nil) and the copy goes on; the
// error then says how many failed. Copy removes nothing from from.
func Copy(ctx context.Context, from, to Store, failed func(key string, err error)) (CopyCounts, error) {
	var c CopyCounts
	err := from.List(ctx, func(info Info) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if _, err := to.Stat(ctx, info.Key); err == nil {
			c.Present++
			return nil
		} else if !errors.Is(err, crm.ErrNotFound) {
			return err // the destination does not answer: stop
		}
		n, err := copyOne(ctx, from, to, info.Key)
		if err != nil {
			c.Failed++
			if failed != nil {
				failed(info.Key, err)
			}
			return nil
		}
		c.Copied++
		c.Bytes += n
		return nil
	})
	if err != nil {
		return c, fmt.Errorf("blobs: copy: %w", err)
	}
	if c.Failed > 0 {
		return c, fmt.Errorf("blobs: copy: %d blobs failed", c.Failed)
	}
	return c, nil
}

func copyOne(ctx context.Context, from, to Store, key string) (int64, error) {
	rc, err := from.Open(ctx, key)
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	info, err := to.Put(ctx, rc)
	if err != nil {
		return 0, err
	}
	if info.Key != key {
		// The source held other bytes than its key says. What was written
		// is a valid blob under its own key, which nothing references:
		// the sweep takes it.
		return 0, fmt.Errorf("blob %s reads back as %s: the source copy is damaged", key, info.Key)
	}
	return info.Size, nil
}
