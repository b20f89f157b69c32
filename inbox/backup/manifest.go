package backup

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"time"
)

// Format is the version of the archive layout this package writes and reads.
const Format = 1

// Names of the archive's entries.
const (
	manifestName = "manifest.json"
	sqliteName   = "database.sqlite" // the VACUUM INTO copy
	pgdumpName   = "database.pgdump" // pg_dump -Fc
	secretName   = "secret.key"      // DataDir/secret.key, when the key lives there
	blobsPrefix  = "blobs/"          // blobs/<sha256>, the dir backend's blobs
	manifestNote = "switchboard backup archive; see docs/backup.md"
)

// Blob backends, as the manifest names them.
const (
	BlobsDir      = "dir"      // local files: in the archive
	BlobsDatabase = "database" // in the database: in its copy or dump
	BlobsS3       = "s3"       // in the bucket: not in the archive
)

// Manifest describes an archive: what wrote it, from what schema, how
// many rows each table had in the copy, and every entry's checksum. It is
// the archive's last entry.
type Manifest struct {
	Note          string           `json:"note"`
	Format        int              `json:"format"`
	Version       string           `json:"switchboard_version"`
	CreatedAt     time.Time        `json:"created_at"`
	Dialect       string           `json:"dialect"` // sqlite or postgres
	SchemaVersion int              `json:"schema_version"`
	Tables        map[string]int64 `json:"tables"` // rows per table in the copy
	Blobs         BlobSummary      `json:"blobs"`
	SecretKey     string           `json:"secret_key"` // included, environment or absent
	Files         []File           `json:"files"`      // every entry but the manifest
}

// BlobSummary says where the blobs were and how many the archive holds.
type BlobSummary struct {
	Backend   string `json:"backend"`
	InArchive bool   `json:"in_archive"`
	Count     int64  `json:"count"`
	Bytes     int64  `json:"bytes"`
	Note      string `json:"note,omitempty"`
}

// File is one entry of the archive.
type File struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// summer hashes and counts what is read through it.
type summer struct {
	r    io.Reader
	h    hash.Hash
	size int64
}

func newSummer(r io.Reader) *summer { return &summer{r: r, h: sha256.New()} }

func (s *summer) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.h.Write(p[:n])
	s.size += int64(n)
	return n, err
}

func (s *summer) sum() string { return hex.EncodeToString(s.h.Sum(nil)) }
