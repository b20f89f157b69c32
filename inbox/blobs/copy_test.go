package blobs_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/switchboard/switchboard/inbox/blobs"
)

// Copy moves every blob between any two backends, streaming, and a second
// run finds everything there: the migrate command's engine.
func TestCopyBetweenBackends(t *testing.T) {
	ctx := context.Background()
	for _, from := range backends(t) {
		for _, to := range backends(t) {
			if from.name == to.name {
				continue
			}
			t.Run(from.name+" to "+to.name, func(t *testing.T) {
				src, dst := from.store(t), to.store(t)
				want := map[string][]byte{}
				for _, data := range [][]byte{[]byte("a price list"), {}, bytes.Repeat([]byte("call recording "), 200000)} {
					key, err := blobs.PutBytes(ctx, src, data)
					if err != nil {
						t.Fatal(err)
					}
					want[key] = data
				}
				if _, err := blobs.PutBytes(ctx, dst, []byte("a price list")); err != nil {
					t.Fatal(err)
				}
				c, err := blobs.Copy(ctx, src, dst, nil)
				if err != nil || c.Copied != 2 || c.Present != 1 || c.Failed != 0 || c.Bytes != 3000000 {
					t.Fatalf("copy: %+v, %v", c, err)
				}
				for key, data := range want {
					if got := readAll(t, dst, key); !bytes.Equal(got, data) {
						t.Errorf("%s: %d bytes at the destination, want %d", key[:8], len(got), len(data))
					}
				}
				c, err = blobs.Copy(ctx, src, dst, nil)
				if err != nil || c.Copied != 0 || c.Present != 3 {
					t.Fatalf("second copy: %+v, %v; want everything present", c, err)
				}
			})
		}
	}
}

// A damaged source file is reported and copied under no false key.
func TestCopyReportsADamagedBlob(t *testing.T) {
	ctx := context.Background()
	src, dst := blobs.Dir{Dir: t.TempDir()}, blobs.Dir{Dir: t.TempDir()}
	good, _ := blobs.PutBytes(ctx, src, []byte("fine"))
	bad, _ := blobs.PutBytes(ctx, src, []byte("will rot"))
	if err := os.WriteFile(filepath.Join(src.Dir, bad[:2], bad[2:]), []byte("rotted"), 0o600); err != nil {
		t.Fatal(err)
	}
	var reported []string
	c, err := blobs.Copy(ctx, src, dst, func(key string, err error) { reported = append(reported, key) })
	if err == nil || c.Copied != 1 || c.Failed != 1 || len(reported) != 1 || reported[0] != bad {
		t.Fatalf("copy: %+v, %v, reported %v", c, err, reported)
	}
	if _, err := dst.Stat(ctx, bad); err == nil {
		t.Fatal("the damaged blob arrived under its old key")
	}
	if _, err := dst.Stat(ctx, good); err != nil {
		t.Fatal(err)
	}
}
