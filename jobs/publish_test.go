package jobs_test

import (
	"context"
	"database/sql"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"studio/blobs"
	"studio/db"
	"studio/db/dbtest"
	"studio/jobs"
	"studio/models"
)

// publisher is a running River client with the standard workers.
type publisher struct {
	d     *db.DB
	store *blobs.Store
	c     *jobs.Client
}

func newPublisher(t testing.TB, d *db.DB, start bool) *publisher {
	store, err := blobs.Open(context.Background(), t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { store.Close() })
	workers, _ := jobs.Standard(d, store, jobs.Timeouts{})
	c, err := jobs.New(d, jobs.Config{Workers: workers, MaxWorkers: 2})
	require.NoError(t, err)
	p := &publisher{d: d, store: store, c: c}
	if start {
		p.start(t)
	}
	return p
}

func (p *publisher) start(t testing.TB) {
	require.NoError(t, p.c.Start(context.Background()))
	t.Cleanup(func() { _ = p.c.Stop(context.Background()) })
}

// wait returns job n's events once it reached a final state.
func (p *publisher) wait(t *testing.T, n int64) []*models.JobEvent {
	t.Helper()
	wake, stop := p.d.SubscribeJob(n)
	defer stop()
	deadline := time.After(60 * time.Second)
	for {
		evs, err := p.d.JobEvents(context.Background(), n, 0)
		require.NoError(t, err)
		if len(evs) > 0 && evs[len(evs)-1].State.Final() {
			return evs
		}
		select {
		case <-wake:
		case <-time.After(time.Second):
		case <-deadline:
			t.Fatalf("job %d did not finish: %v", n, evs)
		}
	}
}

// blob reads a stored blob into a file, for SQLite to open.
func (p *publisher) blob(t *testing.T, key string) string {
	r, err := p.store.Open(context.Background(), key)
	require.NoError(t, err, key)
	defer r.Close()
	path := filepath.Join(t.TempDir(), filepath.Base(key))
	f, err := os.Create(path)
	require.NoError(t, err)
	_, err = io.Copy(f, r)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	return path
}

func (p *publisher) exists(t *testing.T, key string) bool {
	ok, err := p.store.Exists(context.Background(), key)
	require.NoError(t, err)
	return ok
}

// publishable makes a channel with a topic, a video and an exercise with a question.
func publishable(t *testing.T, d *db.DB, u *models.User, name string) (*models.Channel, map[string]*models.ContentNode) {
	ch := dbtest.Channel(t, d, u, name)
	n := dbtest.Tree(t, d, dbtest.Node(t, d, ch.RootID), `
topic Algebra
  video Intro
  exercise Sums`)
	mastery := map[string]any{"options": map[string]any{"completion_criteria": map[string]any{
		"model": "mastery", "threshold": map[string]any{"mastery_model": "do_all"}}}}
	_, err := d.Apply(context.Background(), u, []db.Change{
		{Type: models.ChangeUpdated, Table: db.TableContentNode, Key: n["Sums"].ID, Mods: map[string]any{"extra_fields": mastery}},
		{Type: models.ChangeCreated, Table: db.TableAssessmentItem, Key: []models.ID{n["Sums"].ID, models.NewID()},
			Obj: map[string]any{"type": "single_selection", "question": "1+1?", "answers": []any{
				map[string]any{"answer": "2", "correct": true, "order": 1}, map[string]any{"answer": "3", "correct": false, "order": 2}}}},
		{Type: models.ChangeUpdated, Table: db.TableContentNode, Key: n["Algebra"].ID, Mods: map[string]any{"title": "Algebra"}},
	}, true)
	require.NoError(t, err)
	return ch, n
}

func channelNow(t *testing.T, d *db.DB, id models.ID) *models.Channel {
	got, err := d.ChannelsByID(context.Background(), nil, []models.ID{id})
	require.NoError(t, err)
	return got[id].Channel
}

func TestPublish(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		u := dbtest.User(t, d, "ed@example.org", false)
		ch, n := publishable(t, d, u, "Maths")
		p := newPublisher(t, d, false)

		// One publish per channel: a second request while the first is
		// pending gets the same job.
		first, err := jobs.RequestPublish(ctx, d, p.c, u, ch.ID, "The first", false)
		require.NoError(t, err)
		again, err := jobs.RequestPublish(ctx, d, p.c, u, ch.ID, "", false)
		require.NoError(t, err)
		require.Equal(t, first, again)
		p.start(t)
		evs := p.wait(t, first)
		done := evs[len(evs)-1]
		require.Equal(t, models.JobCompleted, done.State, "error: %s", done.Error)
		require.Equal(t, models.JobQueued, evs[0].State)
		for i := 1; i < len(evs); i++ {
			require.GreaterOrEqual(t, evs[i].Progress, evs[i-1].Progress, "progress goes forward")
		}

		got := channelNow(t, d, ch.ID)
		require.Equal(t, 1, got.Version)
		require.NotNil(t, got.LastPublished)
		require.Equal(t, 2, got.TotalResourceCount)
		require.Equal(t, []string{"en"}, got.IncludedLanguages)
		require.Positive(t, got.PublishedSize)
		require.Len(t, got.PublishedKindCount, 3)
		token, err := d.PrimaryToken(ctx, ch.ID)
		require.NoError(t, err)
		require.Regexp(t, `^[a-z]{5}-[a-z]{5}$`, *token)
		found, err := d.LookupPublished(ctx, *token)
		require.NoError(t, err)
		require.Equal(t, ch.ID, found.ID)

		// The database, versioned and not, is whole and checked.
		require.True(t, p.exists(t, jobs.DatabaseKey(ch.ID, "")))
		path := p.blob(t, jobs.DatabaseKey(ch.ID, "1"))
		out, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
		require.NoError(t, err)
		defer out.Close()
		var check string
		require.NoError(t, out.QueryRow("PRAGMA integrity_check").Scan(&check))
		require.Equal(t, "ok", check)
		var version, nodes int
		require.NoError(t, out.QueryRow("SELECT version FROM content_channelmetadata").Scan(&version))
		require.Equal(t, 1, version)
		require.NoError(t, out.QueryRow("SELECT count(*) FROM content_contentnode").Scan(&nodes))
		require.Equal(t, 4, nodes)
		var preset, archive string
		require.NoError(t, out.QueryRow(`SELECT f.preset, f.local_file_id FROM content_file f
			JOIN content_contentnode n ON n.id = f.contentnode_id WHERE n.kind = 'exercise'`).Scan(&preset, &archive))
		require.Equal(t, "exercise", preset)
		require.True(t, p.exists(t, blobs.Key(archive, "perseus")), "the exercise's archive is stored")

		// Nodes are published and unchanged; the exercise keeps its archive.
		sums := dbtest.Node(t, d, n["Sums"].ID)
		require.True(t, sums.Published)
		require.False(t, sums.Changed)
		files, err := d.FilesByNode(ctx, []models.ID{sums.ID})
		require.NoError(t, err)
		require.Len(t, files[sums.ID], 1)
		require.Equal(t, archive, files[sums.ID][0].Checksum)
		changes, err := d.ChangesSince(ctx, ch.ID, 0, 1000)
		require.NoError(t, err)
		require.Equal(t, models.ChangePublished, changes[len(changes)-1].Type)

		// Publishing again makes version 2; an unchanged exercise keeps its file.
		second, err := jobs.RequestPublish(ctx, d, p.c, u, ch.ID, "", false)
		require.NoError(t, err)
		require.NotEqual(t, first, second)
		require.Equal(t, models.JobCompleted, last(p.wait(t, second)).State)
		require.Equal(t, 2, channelNow(t, d, ch.ID).Version)
		again2, err := d.FilesByNode(ctx, []models.ID{sums.ID})
		require.NoError(t, err)
		require.Equal(t, files[sums.ID][0].ID, again2[sums.ID][0].ID)

		// A draft writes -next and leaves the version alone.
		draft, err := jobs.RequestPublish(ctx, d, p.c, u, ch.ID, "", true)
		require.NoError(t, err)
		require.Equal(t, models.JobCompleted, last(p.wait(t, draft)).State)
		require.True(t, p.exists(t, jobs.DatabaseKey(ch.ID, "next")))
		require.Equal(t, 2, channelNow(t, d, ch.ID).Version)

		got2, err := jobs.Get(ctx, d, p.c, []int64{first, draft})
		require.NoError(t, err)
		require.Equal(t, 100, got2[first].Progress)
		require.Equal(t, 1, *got2[first].Version)
		require.True(t, got2[draft].Draft)
		require.Nil(t, got2[draft].Version)
	})
}

func last(evs []*models.JobEvent) *models.JobEvent { return evs[len(evs)-1] }

// TestPublishRefused: what cannot be published is refused before anything
// is queued, with a code and a reason.
func TestPublishRefused(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		ed := dbtest.User(t, d, "ed@example.org", false)
		other := dbtest.User(t, d, "other@example.org", false)
		ch, _ := publishable(t, d, ed, "Maths")
		empty := dbtest.Channel(t, d, ed, "Empty")
		p := newPublisher(t, d, false)

		noLang := ""
		_, err := d.UpdateChannel(ctx, ed, empty.ID, db.ChannelInput{Language: &noLang})
		require.NoError(t, err)
		for _, tc := range []struct {
			name    string
			u       *models.User
			channel models.ID
			notes   string
			code    models.Code
		}{
			{"anonymous", nil, ch.ID, "", models.CodeUnauthenticated},
			{"not a member", other, ch.ID, "", models.CodeNotFound},
			{"no such channel", ed, models.NewID(), "", models.CodeNotFound},
			{"no language", ed, empty.ID, "", models.CodeBadUserInput},
			{"notes too long", ed, ch.ID, string(make([]byte, 10001)), models.CodeBadUserInput},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := jobs.RequestPublish(ctx, d, p.c, tc.u, tc.channel, tc.notes, false)
				require.Equal(t, tc.code, models.CodeOf(err), "%v", err)
			})
		}
		lang := "en"
		_, err = d.UpdateChannel(ctx, ed, empty.ID, db.ChannelInput{Language: &lang})
		require.NoError(t, err)
		_, err = jobs.RequestPublish(ctx, d, p.c, ed, empty.ID, "", false)
		require.Equal(t, models.CodeBadUserInput, models.CodeOf(err), "nothing to publish")
		require.Contains(t, err.Error(), "nothing to publish")

		n, err := d.ForTest(t).NewSelect().TableExpr("river_job").Count(ctx)
		require.NoError(t, err)
		require.Zero(t, n, "nothing was queued")
	})
}
