package blobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/crm"
)

// ChunkSize is how many bytes one row of blob_chunks holds by default.
const ChunkSize = 1 << 20

// Database keeps blobs in the application's database (tables blobs and
// blob_chunks, migration 12): replicas on one PostgreSQL share them with
// no other service to run, as Zammad keeps attachments in its database.
// It works on SQLite too, for one node. A blob is written in chunks, each
// its own statement, so neither Put nor Open holds more than one chunk.
type Database struct {
	DB        *gorm.DB
	ChunkSize int // default ChunkSize
}

// Put writes r in chunks under an upload row whose key is still NULL,
// then names the row by the content's hash; when that content is stored
// already, the upload is dropped instead.
func (d Database) Put(ctx context.Context, r io.Reader) (Info, error) {
	db := d.DB.WithContext(ctx)
	var id int64
	if err := db.Raw(`INSERT INTO blobs (size, created_at) VALUES (0, ?) RETURNING id`, time.Now().UTC()).Row().Scan(&id); err != nil {
		return Info{}, fmt.Errorf("blobs: start upload: %w", err)
	}
	info, err := d.write(ctx, id, r)
	if err != nil {
		d.drop(context.WithoutCancel(ctx), id)
		return Info{}, err
	}
	return info, nil
}

// write stores r's chunks under the upload row id and commits it.
func (d Database) write(ctx context.Context, id int64, r io.Reader) (Info, error) {
	db := d.DB.WithContext(ctx)
	size := d.ChunkSize
	if size <= 0 {
		size = ChunkSize
	}
	buf := make([]byte, size)
	h := newHasher(io.Discard)
	for seq := 0; ; seq++ {
		n, rerr := io.ReadFull(r, buf)
		if n > 0 {
			h.Write(buf[:n])
			if err := db.Exec(`INSERT INTO blob_chunks (blob_id, seq, bytes) VALUES (?, ?, ?)`, id, seq, buf[:n]).Error; err != nil {
				return Info{}, fmt.Errorf("blobs: write chunk: %w", err)
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return Info{}, fmt.Errorf("blobs: put: %w", rerr)
		}
	}
	key, now := h.key(), time.Now().UTC()
	info := Info{Key: key, Size: h.size, Modified: now}
	// Stored already (the common case for a duplicate, and the way out
	// when another replica committed the same content a moment ago).
	exists := func() (bool, error) {
		res := db.Exec(`UPDATE blobs SET created_at = ? WHERE sha256 = ?`, now, key)
		return res.RowsAffected > 0, res.Error
	}
	if ok, err := exists(); err != nil || ok {
		if err == nil {
			d.drop(ctx, id)
		}
		return info, wrap(err)
	}
	err := db.Exec(`UPDATE blobs SET sha256 = ?, size = ?, created_at = ? WHERE id = ?`, key, h.size, now, id).Error
	if err != nil {
		if ok, _ := exists(); ok {
			d.drop(ctx, id)
			return info, nil
		}
		return Info{}, fmt.Errorf("blobs: commit %s: %w", key, err)
	}
	return info, nil
}

func wrap(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("blobs: %w", err)
}

// drop removes an upload row and its chunks.
func (d Database) drop(ctx context.Context, id int64) error {
	return wrap(d.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(`DELETE FROM blob_chunks WHERE blob_id = ?`, id).Error; err != nil {
			return err
		}
		return tx.Exec(`DELETE FROM blobs WHERE id = ?`, id).Error
	}))
}

type blobRow struct {
	ID        int64
	SHA256    string `gorm:"column:sha256"`
	Size      int64
	CreatedAt time.Time
}

func (b blobRow) info() Info { return Info{Key: b.SHA256, Size: b.Size, Modified: b.CreatedAt} }

func (d Database) row(ctx context.Context, key string) (blobRow, error) {
	if !ValidKey(key) {
		return blobRow{}, notFound(key)
	}
	var rows []blobRow
	if err := d.DB.WithContext(ctx).Raw(`SELECT id, sha256, size, created_at FROM blobs WHERE sha256 = ?`, key).Scan(&rows).Error; err != nil {
		return blobRow{}, wrap(err)
	}
	if len(rows) == 0 {
		return blobRow{}, notFound(key)
	}
	return rows[0], nil
}

// Stat reads the blob's row.
func (d Database) Stat(ctx context.Context, key string) (Info, error) {
	b, err := d.row(ctx, key)
	return b.info(), err
}

// Open returns a reader that fetches one chunk at a time.
func (d Database) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	b, err := d.row(ctx, key)
	if err != nil {
		return nil, err
	}
	return &chunkReader{db: d.DB.WithContext(ctx), id: b.ID, left: b.Size}, nil
}

type chunkReader struct {
	db   *gorm.DB
	id   int64
	seq  int
	buf  []byte
	left int64 // bytes not yet fetched
}

func (c *chunkReader) Read(p []byte) (int, error) {
	for len(c.buf) == 0 {
		if c.left <= 0 {
			return 0, io.EOF
		}
		var b []byte
		err := c.db.Raw(`SELECT bytes FROM blob_chunks WHERE blob_id = ? AND seq = ?`, c.id, c.seq).Row().Scan(&b)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, fmt.Errorf("blobs: chunk %d of blob %d is missing: %w", c.seq, c.id, io.ErrUnexpectedEOF)
		}
		if err != nil {
			return 0, fmt.Errorf("blobs: read chunk: %w", err)
		}
		c.buf, c.left = b, c.left-int64(len(b))
		c.seq++
	}
	n := copy(p, c.buf)
	c.buf = c.buf[n:]
	return n, nil
}

func (c *chunkReader) Close() error { c.buf, c.left = nil, 0; return nil }

// listPage is how many rows one List query reads.
const listPage = 1000

// List pages through the committed blobs by key.
func (d Database) List(ctx context.Context, fn func(Info) error) error {
	after := ""
	for {
		var rows []blobRow
		err := d.DB.WithContext(ctx).Raw(`SELECT id, sha256, size, created_at FROM blobs
			WHERE sha256 IS NOT NULL AND sha256 > ? ORDER BY sha256 LIMIT ?`, after, listPage).Scan(&rows).Error
		if err != nil {
			return fmt.Errorf("blobs: list: %w", err)
		}
		for _, r := range rows {
			if err := fn(r.info()); err != nil {
				return err
			}
		}
		if len(rows) < listPage {
			return nil
		}
		after = rows[len(rows)-1].SHA256
	}
}

// Delete removes the blob's row and chunks.
func (d Database) Delete(ctx context.Context, key string) error {
	b, err := d.row(ctx, key)
	if errors.Is(err, crm.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return d.drop(ctx, b.ID)
}

// dropTemp removes the uploads interrupted before `before`.
func (d Database) dropTemp(ctx context.Context, before time.Time) error {
	var ids []int64
	if err := d.DB.WithContext(ctx).Raw(`SELECT id FROM blobs WHERE sha256 IS NULL AND created_at < ?`, before.UTC()).Scan(&ids).Error; err != nil {
		return wrap(err)
	}
	for _, id := range ids {
		if err := d.drop(ctx, id); err != nil {
			return err
		}
	}
	return nil
}
