package blobs_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"studio/blobs"
)

// EnvS3 names an S3-compatible bucket URL for the suite to run on too
// (.ci/run starts SeaweedFS and sets it).
const EnvS3 = "STUDIO_TEST_S3_URL"

// eachStore runs fn on a local directory store and, when EnvS3 is set, on
// the S3 store it names: one suite, both implementations.
func eachStore(t *testing.T, fn func(t *testing.T, s *blobs.Store)) {
	t.Run("local", func(t *testing.T) {
		s, err := blobs.Open(context.Background(), t.TempDir())
		require.NoError(t, err)
		defer s.Close()
		fn(t, s)
	})
	url := os.Getenv(EnvS3)
	t.Run("s3", func(t *testing.T) {
		if url == "" {
			t.Skip(EnvS3 + " is not set")
		}
		s, err := blobs.Open(context.Background(), url)
		require.NoError(t, err)
		defer s.Close()
		// Each run uses keys of its own, as the bucket outlives it.
		fn(t, s)
	})
}

func TestStoreSuite(t *testing.T) {
	eachStore(t, func(t *testing.T, s *blobs.Store) {
		ctx := context.Background()
		data := []byte(t.Name() + " some bytes to keep")
		sum := md5.Sum(data)
		checksum := hex.EncodeToString(sum[:])

		sp, err := s.Spool(bytes.NewReader(data), 1<<20)
		require.NoError(t, err)
		defer sp.Remove()
		require.Equal(t, checksum, sp.Checksum)
		require.EqualValues(t, len(data), sp.Size)

		key := blobs.Key(checksum, "txt")
		require.Equal(t, "storage/"+checksum[:1]+"/"+checksum[1:2]+"/"+checksum+".txt", key)
		ok, err := s.Exists(ctx, key)
		require.NoError(t, err)
		require.False(t, ok)
		require.NoError(t, s.Store(ctx, key, sp, "text/plain"))
		require.NoError(t, s.Store(ctx, key, sp, "text/plain"), "storing the same blob again is a no-op")
		ok, err = s.Exists(ctx, key)
		require.NoError(t, err)
		require.True(t, ok)

		r, err := s.Open(ctx, key)
		require.NoError(t, err)
		_, err = r.Seek(5, io.SeekStart)
		require.NoError(t, err)
		rest, err := io.ReadAll(r)
		require.NoError(t, err)
		require.NoError(t, r.Close())
		require.Equal(t, data[5:], rest)
		require.EqualValues(t, len(data), r.Size())

		var keys []string
		require.NoError(t, s.Keys(ctx, "storage/"+checksum[:1]+"/", func(k string, _ time.Time) error {
			keys = append(keys, k)
			return nil
		}))
		require.Contains(t, keys, key)

		require.NoError(t, s.Delete(ctx, key))
		require.NoError(t, s.Delete(ctx, key), "deleting a missing blob is not an error")
		_, err = s.Open(ctx, key)
		require.ErrorIs(t, err, blobs.ErrNotFound)

		_, err = s.Spool(strings.NewReader("too long"), 3)
		require.ErrorIs(t, err, blobs.ErrTooLarge)
	})
}

// TestPutVerified: a blob is kept only when its bytes are what they were
// said to be; otherwise nothing is at its key, on either store.
func TestPutVerified(t *testing.T) {
	eachStore(t, func(t *testing.T, s *blobs.Store) {
		ctx := context.Background()
		data := []byte(t.Name() + " verified bytes")
		sum := md5.Sum(data)
		checksum := hex.EncodeToString(sum[:])
		n := int64(len(data))
		var mismatch *blobs.MismatchError
		for _, c := range []struct {
			name        string
			body        []byte
			size, limit int64
			check       func(error) bool
		}{
			{"a byte changed", append([]byte{'X'}, data[1:]...), n, 1 << 20, func(err error) bool { return errors.As(err, &mismatch) && mismatch.Size == n }},
			{"short", data[:n-1], n, 1 << 20, func(err error) bool { return errors.As(err, &mismatch) && mismatch.Size == n-1 }},
			{"longer than said", append(append([]byte{}, data...), 'x'), n, 1 << 20, func(err error) bool { return errors.Is(err, blobs.ErrTooLarge) }},
			{"over the limit, its size unknown", data, -1, n - 1, func(err error) bool { return errors.Is(err, blobs.ErrTooLarge) }},
		} {
			key := blobs.Key(checksum, "txt")
			err := s.PutVerified(ctx, key, bytes.NewReader(c.body), checksum, c.size, c.limit, "text/plain")
			require.True(t, c.check(err), "%s: %v", c.name, err)
			ok, err := s.Exists(ctx, key)
			require.NoError(t, err)
			require.False(t, ok, "%s: nothing is stored", c.name)
		}
		require.Error(t, s.PutVerified(ctx, "storage/x", bytes.NewReader(data), "not-md5", n, 1<<20, "text/plain"))

		key := blobs.Key(checksum, "txt")
		require.NoError(t, s.PutVerified(ctx, key, bytes.NewReader(data), checksum, -1, 1<<20, "text/plain"))
		r, err := s.Open(ctx, key)
		require.NoError(t, err)
		got, err := io.ReadAll(r)
		require.NoError(t, err)
		require.NoError(t, r.Close())
		require.Equal(t, data, got)
		require.NoError(t, s.Delete(ctx, key))
	})
}
