package db_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
	"studio/models"
)

// TestUploadURLs: a URL is usable once, before it expires; a store that
// fails leaves it usable; records past UploadKeep go when the next is made.
func TestUploadURLs(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		u := dbtest.User(t, d, "chef@example.org", false)
		at := time.Now()
		f := db.NewUpload{Checksum: "0123456789abcdef0123456789abcdef", Extension: "pdf", Size: 10}
		token, err := d.CreateUploadURL(ctx, u, f, at, time.Hour)
		require.NoError(t, err)

		up, err := d.UploadURLByToken(ctx, token, at)
		require.NoError(t, err)
		require.Equal(t, f.Checksum, up.Checksum)
		require.Equal(t, u.ID, up.UserID)
		_, err = d.UploadURLByToken(ctx, token, at.Add(time.Hour))
		require.Equal(t, models.CodeNotFound, models.CodeOf(err), "expired")
		_, err = d.UploadURLByToken(ctx, "no such token", at)
		require.Equal(t, models.CodeNotFound, models.CodeOf(err))

		failed := errors.New("the store is down")
		err = d.UseUploadURL(ctx, token, at, func(context.Context, *db.UploadURL) error { return failed })
		require.ErrorIs(t, err, failed)
		_, err = d.UploadURLByToken(ctx, token, at)
		require.NoError(t, err, "a failed store leaves the URL usable")

		stored := 0
		store := func(_ context.Context, up *db.UploadURL) error {
			require.Equal(t, f.Checksum, up.Checksum)
			stored++
			return nil
		}
		require.Equal(t, models.CodeNotFound, models.CodeOf(d.UseUploadURL(ctx, token, at.Add(2*time.Hour), store)), "expired when the PUT began")
		require.NoError(t, d.UseUploadURL(ctx, token, at, store))
		require.Equal(t, models.CodeConflict, models.CodeOf(d.UseUploadURL(ctx, token, at, store)))
		_, err = d.UploadURLByToken(ctx, token, at)
		require.Equal(t, models.CodeConflict, models.CodeOf(err))
		require.Equal(t, 1, stored)

		// Anonymous callers get no URL; old records go.
		_, err = d.CreateUploadURL(ctx, nil, f, at, time.Hour)
		require.Equal(t, models.CodeUnauthenticated, models.CodeOf(err))
		_, err = d.CreateUploadURL(ctx, u, db.NewUpload{Checksum: "fedcba9876543210fedcba9876543210", Extension: "pdf", Size: 1},
			at.Add(db.UploadKeep+time.Minute), time.Hour)
		require.NoError(t, err)
		n, err := d.ForTest(t).NewSelect().TableExpr("upload_urls").Count(ctx)
		require.NoError(t, err)
		require.EqualValues(t, 1, n, "the first record is past UploadKeep")
	})
}
