// Package blobs keeps content-addressed files: each stored once, by the md5
// of its bytes, at storage/<c0>/<c1>/<md5>.<ext> (the layout Studio and
// Kolibri share). A local directory is the default; an S3-compatible object
// store serves several instances. gocloud.dev/blob drives both.
package blobs

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gocloud.dev/blob"
	_ "gocloud.dev/blob/fileblob" // file:// urls
	_ "gocloud.dev/blob/s3blob"   // s3:// urls
	"gocloud.dev/gcerrors"
)

// ErrNotFound is returned for a key that holds no blob.
var ErrNotFound = errors.New("blobs: not found")

// Store is a bucket of blobs.
type Store struct {
	bucket *blob.Bucket
	tmp    string // where uploads are spooled before they are stored
}

// Open opens a store: a local directory path, file:///path, or
// s3://bucket?endpoint=…&region=…&use_path_style=true (credentials from the
// usual AWS environment variables).
func Open(ctx context.Context, url string) (*Store, error) {
	if !strings.Contains(url, "://") {
		if err := os.MkdirAll(url, 0o755); err != nil {
			return nil, fmt.Errorf("blobs: %w", err)
		}
		abs, err := filepath.Abs(url)
		if err != nil {
			return nil, fmt.Errorf("blobs: %w", err)
		}
		// Temporary files go beside the blobs, so that a rename stores them;
		// no metadata sidecars: the directory is what Kolibri reads.
		url = "file://" + abs + "?create_dir=true&no_tmp_dir=true&metadata=skip"
	}
	b, err := blob.OpenBucket(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("blobs: open %s: %w", url, err)
	}
	return &Store{bucket: b, tmp: os.TempDir()}, nil
}

// Close releases the store.
func (s *Store) Close() error { return s.bucket.Close() }

// Key is where the blob with md5 checksum and extension ext is kept.
func Key(checksum, ext string) string {
	return "storage/" + checksum[:1] + "/" + checksum[1:2] + "/" + checksum + "." + ext
}

// Spooled is an upload written to a temporary file, with its md5 and size.
type Spooled struct {
	Path     string
	Checksum string
	Size     int64
}

// Remove deletes the temporary file.
func (s *Spooled) Remove() { _ = os.Remove(s.Path) }

// Spool streams r to a temporary file while computing its md5, reading at
// most limit bytes (more is an error): memory use does not grow with the
// upload.
func (s *Store) Spool(r io.Reader, limit int64) (*Spooled, error) {
	f, err := os.CreateTemp(s.tmp, "studio-upload-*")
	if err != nil {
		return nil, fmt.Errorf("blobs: spool: %w", err)
	}
	defer f.Close()
	h := md5.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(r, limit+1))
	if err == nil && n > limit {
		err = ErrTooLarge
	}
	if err == nil {
		err = f.Close()
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return nil, err
	}
	return &Spooled{Path: f.Name(), Checksum: hex.EncodeToString(h.Sum(nil)), Size: n}, nil
}

// ErrTooLarge is returned by Spool for an upload over its limit.
var ErrTooLarge = errors.New("blobs: upload too large")

// Store keeps a spooled file under key, unless a blob is there already (the
// same bytes: keys are checksums). Writers are atomic: readers never see a
// partial blob.
func (s *Store) Store(ctx context.Context, key string, sp *Spooled, contentType string) error {
	if ok, err := s.Exists(ctx, key); err != nil || ok {
		return err
	}
	return s.PutFile(ctx, key, sp.Path, contentType)
}

// PutFile keeps the file at path under key, replacing what is there.
// Writers are atomic: readers see the old blob or the new one, never a part.
func (s *Store) PutFile(ctx context.Context, key, path, contentType string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("blobs: put %s: %w", key, err)
	}
	defer f.Close()
	w, err := s.bucket.NewWriter(ctx, key, &blob.WriterOptions{ContentType: contentType})
	if err != nil {
		return fmt.Errorf("blobs: put %s: %w", key, err)
	}
	if _, err := io.Copy(w, f); err != nil {
		_ = w.Close()
		return fmt.Errorf("blobs: put %s: %w", key, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("blobs: put %s: %w", key, err)
	}
	return nil
}

// MismatchError is PutVerified's refusal of bytes that are not what they
// were said to be: Size bytes with md5 Checksum. Nothing was stored.
type MismatchError struct {
	Size     int64
	Checksum string
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("blobs: %d bytes with md5 %s, not what was expected", e.Size, e.Checksum)
}

// PutVerified streams r into key and keeps it only if it is size bytes
// (size < 0: any length up to limit) with md5 checksum; otherwise the write
// is aborted, and readers never see a part. Longer than limit (or size) is
// ErrTooLarge, other differences a *MismatchError. Unlike Spool and Store,
// nothing is written twice: an import stores thousands of files this way.
func (s *Store) PutVerified(ctx context.Context, key string, r io.Reader, checksum string, size, limit int64, contentType string) error {
	if want, err := hex.DecodeString(checksum); err != nil || len(want) != md5.Size {
		return fmt.Errorf("blobs: put %s: %q is not an md5 checksum", key, checksum)
	}
	if size >= 0 {
		limit = size
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The md5 is checked here, once, rather than also by the bucket
	// (WriterOptions.ContentMD5 would hash every byte a second time).
	w, err := s.bucket.NewWriter(ctx, key, &blob.WriterOptions{ContentType: contentType})
	if err != nil {
		return fmt.Errorf("blobs: put %s: %w", key, err)
	}
	h := md5.New()
	n, err := io.Copy(w, io.TeeReader(io.LimitReader(r, limit+1), h))
	switch got := hex.EncodeToString(h.Sum(nil)); {
	case err != nil:
		err = fmt.Errorf("blobs: put %s: %w", key, err)
	case n > limit:
		err = ErrTooLarge
	case (size >= 0 && n != size) || got != checksum:
		err = &MismatchError{Size: n, Checksum: got}
	}
	if err != nil {
		cancel() // aborts the write: Close discards it
		_ = w.Close()
		return err
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("blobs: put %s: %w", key, err)
	}
	return nil
}

// Put keeps bytes under key (small blobs made by the server itself).
func (s *Store) Put(ctx context.Context, key string, data []byte, contentType string) error {
	return s.bucket.WriteAll(ctx, key, data, &blob.WriterOptions{ContentType: contentType})
}

// Copy copies the blob under from to key to, replacing what is there.
func (s *Store) Copy(ctx context.Context, from, to string) error {
	if err := s.bucket.Copy(ctx, to, from, nil); err != nil {
		return fmt.Errorf("blobs: copy %s to %s: %w", from, to, err)
	}
	return nil
}

// Exists says whether a blob is kept under key.
func (s *Store) Exists(ctx context.Context, key string) (bool, error) {
	ok, err := s.bucket.Exists(ctx, key)
	if err != nil {
		return false, fmt.Errorf("blobs: %s: %w", key, err)
	}
	return ok, nil
}

// Written says when the blob under key was last written, or ErrNotFound.
func (s *Store) Written(ctx context.Context, key string) (time.Time, error) {
	a, err := s.bucket.Attributes(ctx, key)
	if gcerrors.Code(err) == gcerrors.NotFound {
		return time.Time{}, ErrNotFound
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("blobs: %s: %w", key, err)
	}
	return a.ModTime, nil
}

// Open returns a reader of the blob under key; it seeks, for byte ranges.
func (s *Store) Open(ctx context.Context, key string) (*blob.Reader, error) {
	r, err := s.bucket.NewReader(ctx, key, nil)
	if gcerrors.Code(err) == gcerrors.NotFound {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("blobs: open %s: %w", key, err)
	}
	return r, nil
}

// Delete removes the blob under key; a missing blob is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	err := s.bucket.Delete(ctx, key)
	if err != nil && gcerrors.Code(err) != gcerrors.NotFound {
		return fmt.Errorf("blobs: delete %s: %w", key, err)
	}
	return nil
}

// Keys calls fn with every key under prefix and when its blob was written.
func (s *Store) Keys(ctx context.Context, prefix string, fn func(key string, written time.Time) error) error {
	it := s.bucket.List(&blob.ListOptions{Prefix: prefix})
	for {
		obj, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("blobs: list: %w", err)
		}
		if !obj.IsDir {
			if err := fn(obj.Key, obj.ModTime); err != nil {
				return err
			}
		}
	}
}
