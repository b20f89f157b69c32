package backup

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// writer is an archive being written: a gzipped tar whose entries are
// checksummed as they pass.
type writer struct {
	f     *os.File
	gz    *gzip.Writer
	tw    *tar.Writer
	files []File
}

func create(path string) (*writer, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	gz := gzip.NewWriter(f)
	return &writer{f: f, gz: gz, tw: tar.NewWriter(gz)}, nil
}

// add streams size bytes of r into the entry name and records its checksum.
func (w *writer) add(name string, size int64, r io.Reader) (File, error) {
	hdr := &tar.Header{Name: name, Mode: 0o600, Size: size, ModTime: time.Now().UTC(), Typeflag: tar.TypeReg, Format: tar.FormatPAX}
	if err := w.tw.WriteHeader(hdr); err != nil {
		return File{}, fmt.Errorf("backup: %s: %w", name, err)
	}
	s := newSummer(r)
	n, err := io.Copy(w.tw, s)
	if err != nil {
		return File{}, fmt.Errorf("backup: %s: %w", name, err)
	}
	if n != size {
		return File{}, fmt.Errorf("backup: %s: %d bytes, expected %d (changed while being read)", name, n, size)
	}
	f := File{Name: name, Size: n, SHA256: s.sum()}
	w.files = append(w.files, f)
	return f, nil
}

// addFile adds the file at path as the entry name.
func (w *writer) addFile(name, path string) (File, error) {
	f, err := os.Open(path)
	if err != nil {
		return File{}, fmt.Errorf("backup: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return File{}, fmt.Errorf("backup: %w", err)
	}
	return w.add(name, st.Size(), f)
}

// finish writes the manifest as the last entry, and syncs and closes the file.
func (w *writer) finish(m *Manifest) error {
	m.Files = w.files
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	hdr := &tar.Header{Name: manifestName, Mode: 0o600, Size: int64(len(b)), ModTime: time.Now().UTC(), Typeflag: tar.TypeReg}
	if err := w.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("backup: manifest: %w", err)
	}
	if _, err := w.tw.Write(b); err != nil {
		return fmt.Errorf("backup: manifest: %w", err)
	}
	err = errors.Join(w.tw.Close(), w.gz.Close(), w.f.Sync())
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("backup: write archive: %w", err)
	}
	return nil
}

// abort closes the file without finishing it.
func (w *writer) abort() { w.f.Close() }

// walk calls fn for every entry of the archive at path, in order.
func walk(path string, fn func(hdr *tar.Header, r io.Reader) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("%w: not a gzip file: %v", ErrCorrupt, err)
	}
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		if hdr.Typeflag != tar.TypeReg {
			return fmt.Errorf("%w: unexpected entry %q", ErrCorrupt, hdr.Name)
		}
		if err := fn(hdr, tr); err != nil {
			return err
		}
	}
}
