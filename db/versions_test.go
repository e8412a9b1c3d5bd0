package db_test

import (
	"context"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
	"studio/models"
)

// lastJob numbers the tests' publish jobs.
var lastJob atomic.Int64

// publishVersion records version n of ch as a publish job would, with
// token as the version's token, and returns the job's number.
func publishVersion(t *testing.T, d *db.DB, u *models.User, ch *models.Channel, n int, token string) int64 {
	t.Helper()
	ctx := context.Background()
	job := lastJob.Add(1)
	p := db.Published{JobID: job, ChannelID: ch.ID, UserID: &u.ID, Version: n, VersionNotes: "notes " + token,
		Snapshot: time.Now(), ResourceCount: n, KindCount: map[string]int{models.KindVideo: n}, Size: int64(10 * n),
		Languages: []string{"en"}, Token: "primarytok", VersionToken: token}
	require.NoError(t, d.MarkPublished(ctx, p))
	return job
}

// draftVersion records a draft of ch with resources resources, as a draft
// publish job would, and returns the job's number.
func draftVersion(t *testing.T, d *db.DB, u *models.User, ch *models.Channel, resources int, token string) int64 {
	t.Helper()
	ctx := context.Background()
	job := lastJob.Add(1)
	p := db.Draft{JobID: job, ChannelID: ch.ID, UserID: &u.ID, VersionNotes: "draft", ResourceCount: resources,
		KindCount: map[string]int{models.KindVideo: 1}, Size: 7, Languages: []string{"fr"}, Token: token}
	require.NoError(t, d.MarkDraft(ctx, p))
	return job
}

// TestVersionTokens: each version and the draft have a token of their own;
// with versions asked for (Kolibri's channel_versions=true), the lookup of
// one answers with that version, the channel's own tokens with the current
// one; a publish ends the draft and its token.
func TestVersionTokens(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		u := dbtest.User(t, d, "ed@example.org", false)
		ch := dbtest.Channel(t, d, u, "Versions")

		// A draft of a channel never published is looked up by its token alone.
		draftVersion(t, d, u, ch, 1, "dadadadada")
		got, err := d.LookupChannel(ctx, "dadad-adada", true)
		require.NoError(t, err)
		require.NotNil(t, got)
		require.Equal(t, 0, got.TokenVersion.Version)
		require.Empty(t, got.Versions)
		got, err = d.LookupChannel(ctx, ch.ID.String(), true)
		require.NoError(t, err)
		require.Nil(t, got, "an unpublished channel by its id")

		job1 := publishVersion(t, d, u, ch, 1, "bababababa")
		job2 := publishVersion(t, d, u, ch, 2, "bibibibibi")
		draftVersion(t, d, u, ch, 2, "dododododo")
		draftJob := draftVersion(t, d, u, ch, 3, "dududududu") // a later draft keeps the first one's token

		vs, err := d.VersionsByChannel(ctx, []models.ID{ch.ID})
		require.NoError(t, err)
		var order []int
		var tokens []string
		for _, v := range vs[ch.ID] {
			order = append(order, v.Version)
			tokens = append(tokens, *v.SecretToken)
		}
		require.Equal(t, []int{0, 2, 1}, order, "the draft, then versions newest first")
		require.Equal(t, []string{"dododododo", "bibibibibi", "bababababa"}, tokens)
		require.Equal(t, 3, vs[ch.ID][0].ResourceCount, "the draft describes the last draft")
		require.Equal(t, draftJob, vs[ch.ID][0].JobID)

		byJob, err := d.VersionsByJob(ctx, []int64{job1, job2, draftJob})
		require.NoError(t, err)
		require.Equal(t, map[int64]int{job1: 1, job2: 2}, byJob, "a draft job made no version")

		cases := []struct {
			identifier string
			versions   bool
			version    int // -1: the channel's current version; -2: not found
			notes      []int
		}{
			{"baba-babab-a", true, 1, []int{1}},
			{"BABAB-ABABA", true, 1, []int{1}},
			{"bibibibibi", true, 2, []int{1, 2}},
			{"dododododo", true, 0, []int{1, 2}},
			{"bababababa", false, -2, nil}, // older Kolibris do not ask for versions
			{"dododododo", false, -2, nil},
			{"primarytok", true, -1, []int{1, 2}},
			{"primarytok", false, -1, []int{1, 2}},
			{ch.ID.String(), true, -1, []int{1, 2}},
			{"dadadadada", true, -2, nil}, // the first draft's token ended with the publish
			{"nonexisten", true, -2, nil},
		}
		for _, c := range cases {
			got, err := d.LookupChannel(ctx, c.identifier, c.versions)
			require.NoError(t, err, c.identifier)
			if c.version == -2 {
				require.Nil(t, got, c.identifier)
				continue
			}
			require.NotNil(t, got, c.identifier)
			require.Equal(t, ch.ID, got.ID)
			var notes []int
			for _, v := range got.Versions {
				notes = append(notes, v.Version)
			}
			require.Equal(t, c.notes, notes, c.identifier)
			if c.version == -1 {
				require.Nil(t, got.TokenVersion, c.identifier)
				require.Equal(t, 2, got.Version)
				continue
			}
			require.NotNil(t, got.TokenVersion, c.identifier)
			require.Equal(t, c.version, got.TokenVersion.Version, c.identifier)
			require.Equal(t, []string{strings.ToLower(strings.ReplaceAll(c.identifier, "-", ""))}, got.Tokens)
		}

		// A publish ends the draft; the versions keep their tokens.
		publishVersion(t, d, u, ch, 3, "bobobobobo")
		got, err = d.LookupChannel(ctx, "dododododo", true)
		require.NoError(t, err)
		require.Nil(t, got, "the draft's token after a publish")
		vs, err = d.VersionsByChannel(ctx, []models.ID{ch.ID})
		require.NoError(t, err)
		require.Len(t, vs[ch.ID], 3)
		require.Equal(t, 3, vs[ch.ID][0].Version)

		// A deleted channel's versions answer no more.
		_, err = d.UpdateChannel(ctx, u, ch.ID, db.ChannelInput{Deleted: ptr(true)})
		require.NoError(t, err)
		got, err = d.LookupChannel(ctx, "bababababa", true)
		require.NoError(t, err)
		require.Nil(t, got)
	})
}

// TestDraftGrants: a grant lets one client fetch a channel's draft for its
// time, while the channel has a draft and is not deleted.
func TestDraftGrants(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		u := dbtest.User(t, d, "ed@example.org", false)
		ch := dbtest.Channel(t, d, u, "Draft")
		at := time.Now().UTC()
		granted := func(client string, when time.Time) bool {
			t.Helper()
			ok, err := d.DraftGranted(ctx, ch.ID, client, when)
			require.NoError(t, err)
			return ok
		}

		require.NoError(t, d.GrantDraft(ctx, ch.ID, "192.0.2.1", at, time.Hour))
		require.False(t, granted("192.0.2.1", at), "no draft yet")
		draftVersion(t, d, u, ch, 1, "dadadadada")
		require.True(t, granted("192.0.2.1", at))
		require.True(t, granted("192.0.2.1", at.Add(59*time.Minute)))
		require.False(t, granted("192.0.2.1", at.Add(time.Hour)), "expired")
		require.False(t, granted("192.0.2.2", at), "another client")

		// A new lookup renews the grant.
		require.NoError(t, d.GrantDraft(ctx, ch.ID, "192.0.2.1", at.Add(30*time.Minute), time.Hour))
		require.True(t, granted("192.0.2.1", at.Add(89*time.Minute)))

		// A publish ends the draft and its grants.
		publishVersion(t, d, u, ch, 1, "bababababa")
		require.False(t, granted("192.0.2.1", at))
		draftVersion(t, d, u, ch, 2, "dododododo")
		require.False(t, granted("192.0.2.1", at), "a new draft needs a new lookup")

		require.NoError(t, d.GrantDraft(ctx, ch.ID, "192.0.2.1", at, time.Hour))
		require.True(t, granted("192.0.2.1", at))
		_, err := d.UpdateChannel(ctx, u, ch.ID, db.ChannelInput{Deleted: ptr(true)})
		require.NoError(t, err)
		require.False(t, granted("192.0.2.1", at), "a deleted channel's draft")
	})
}

// TestVersionTokensMigration: the migration gives versions published
// before it a proquint token each.
func TestVersionTokensMigration(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		u := dbtest.User(t, d, "ed@example.org", false)
		for _, name := range []string{"One", "Two"} {
			ch := dbtest.Channel(t, d, u, name)
			for n := 1; n <= 20; n++ {
				publishVersion(t, d, u, ch, n, name+string(rune('a'+n)))
			}
		}
		_, err := d.ForTest(t).NewUpdate().Model((*models.ChannelVersion)(nil)).Set("token = NULL").Where("true").Exec(ctx)
		require.NoError(t, err)

		sql, err := os.ReadFile("migrations/" + string(d.Kind) + "/20261204000003_version_tokens.tx.up.sql")
		require.NoError(t, err)
		var updates int
		for _, stmt := range strings.Split(string(sql), ";") {
			if i := strings.Index(stmt, "UPDATE channel_versions SET token"); i >= 0 {
				_, err := d.ForTest(t).ExecContext(ctx, stmt[i:])
				require.NoError(t, err)
				updates++
			}
		}
		require.Equal(t, 2, updates)

		var tokens []string
		require.NoError(t, d.ForTest(t).NewSelect().Model((*models.ChannelVersion)(nil)).Column("token").Scan(ctx, &tokens))
		require.Len(t, tokens, 40)
		proquint := regexp.MustCompile(`^([bdfghjklmnprstvz][aiou][bdfghjklmnprstvz][aiou][bdfghjklmnprstvz]){2}$`)
		seen := map[string]bool{}
		for _, tok := range tokens {
			require.Regexp(t, proquint, tok)
			require.False(t, seen[tok], "token %s twice", tok)
			seen[tok] = true
		}
	})
}
