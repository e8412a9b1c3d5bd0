package jobs_test

import (
	"context"
	"crypto/md5"
	"database/sql"
	"encoding/hex"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"studio/blobs"
	"studio/db"
	"studio/db/dbtest"
	"studio/jobs"
	"studio/kolibri/kolibritest"
	"studio/models"
)

// studioSide is one studio: a database, a blob store in a directory (a
// content folder: databases/, storage/), and a running River client.
type studioSide struct {
	d     *db.DB
	dir   string
	store *blobs.Store
	c     *jobs.Client
	u     *models.User
}

func newStudioSide(t *testing.T, d *db.DB, email string) *studioSide {
	t.Helper()
	dir := t.TempDir()
	store, err := blobs.Open(context.Background(), dir)
	require.NoError(t, err)
	t.Cleanup(func() { store.Close() })
	workers, _ := jobs.Standard(d, store, jobs.Timeouts{})
	c, err := jobs.New(d, jobs.Config{Workers: workers, MaxWorkers: 2})
	require.NoError(t, err)
	require.NoError(t, c.Start(context.Background()))
	t.Cleanup(func() { _ = c.Stop(context.Background()) })
	return &studioSide{d: d, dir: dir, store: store, c: c, u: dbtest.User(t, d, email, false)}
}

// wait returns job n's last event once the job is final.
func (s *studioSide) wait(t *testing.T, n int64) *models.JobEvent {
	t.Helper()
	p := &publisher{d: s.d, store: s.store, c: s.c}
	return last(p.wait(t, n))
}

func (s *studioSide) publish(t *testing.T, ch models.ID) int {
	t.Helper()
	n, err := jobs.RequestPublish(context.Background(), s.d, s.c, s.u, ch, "", false)
	require.NoError(t, err)
	ev := s.wait(t, n)
	require.Equal(t, models.JobCompleted, ev.State, ev.Error)
	return channelNow(t, s.d, ch).Version
}

// importing runs an import and waits for it.
func (s *studioSide) importing(t *testing.T, source, channel string, as *models.ID) (*models.JobEvent, int64) {
	t.Helper()
	n, err := jobs.RequestImport(context.Background(), s.d, s.c, s.u, jobs.ImportRequest{Source: source, Channel: channel, As: as, Trusted: true})
	require.NoError(t, err)
	return s.wait(t, n), n
}

// add stores data as a file of a node or question.
func (s *studioSide) add(t *testing.T, f *models.File, data []byte) string {
	t.Helper()
	ctx := context.Background()
	sum := md5.Sum(data)
	f.ID, f.Checksum, f.Size = models.NewID(), hex.EncodeToString(sum[:]), int64(len(data))
	require.NoError(t, s.d.AddFile(ctx, s.u, f, func() error {
		return s.store.Put(ctx, blobs.Key(f.Checksum, f.Extension), data, "application/octet-stream")
	}))
	return f.Checksum + "." + f.Extension
}

// richChannel makes a channel with what a publish writes and an import must
// read back: topics, a video with a subtitle and a thumbnail, a document, an
// audio file, an exercise with four kinds of question and images, tags,
// prerequisites, labels, several languages, a coach resource, completion
// criteria, and a channel thumbnail.
func richChannel(t *testing.T, s *studioSide) (*models.Channel, map[string]*models.ContentNode) {
	t.Helper()
	ctx := context.Background()
	d, u := s.d, s.u
	ch := dbtest.Channel(t, d, u, "Rich")
	n := dbtest.Tree(t, d, dbtest.Node(t, d, ch.RootID), `
topic Watch
  video Clip
  document Notes
  audio Song
topic Practice
  exercise Quiz`)
	for _, name := range []string{"Clip", "Notes", "Song"} { // the fixture's fake files are not stored
		_, err := d.ForTest(t).NewDelete().Model((*models.File)(nil)).Where("node_id = ?", n[name].ID).Exec(ctx)
		require.NoError(t, err)
	}
	mastery := map[string]any{"randomize": false, "options": map[string]any{"completion_criteria": map[string]any{
		"model": "mastery", "threshold": map[string]any{"mastery_model": "m_of_n", "m": 2, "n": 3}}}}
	timed := map[string]any{"options": map[string]any{"completion_criteria": map[string]any{"model": "time", "threshold": 40}}}
	items := []models.ID{models.NewID(), models.NewID(), models.NewID(), models.NewID()}
	img := func(data string) []byte { return []byte("PNG " + data) }
	imgA, imgB := img("a"), img("b")
	sumOf := func(b []byte) string { s := md5.Sum(b); return hex.EncodeToString(s[:]) }
	raw := `{"question":{"content":"Look: ![](${☣ CONTENTSTORAGE}/` + sumOf(imgB) + `.png)\n\n[[☃ expression 1]]","images":{},` +
		`"widgets":{"expression 1":{"type":"expression","options":{"answerForms":[{"value":"x+1","form":true}]}}}},` +
		`"answerArea":{"calculator":false},"itemDataVersion":{"major":0,"minor":1},"hints":[]}`
	changes := []db.Change{
		{Type: models.ChangeUpdated, Table: db.TableContentNode, Key: n["Watch"].ID, Mods: map[string]any{"title": "Watch", "language": "zul",
			"grade_levels": map[string]any{"wnarlxKo": true}, "categories": map[string]any{"d&WXdXWF.qs0Xlaxq": true}}},
		{Type: models.ChangeUpdated, Table: db.TableContentNode, Key: n["Practice"].ID, Mods: map[string]any{"title": "Practice", "description": "Try these"}},
		{Type: models.ChangeUpdated, Table: db.TableContentNode, Key: n["Clip"].ID, Mods: map[string]any{"language": "und", "extra_fields": timed,
			"learning_activities": map[string]any{"UD5UGM0z": true, "3dSeJhqs": true}, "tags.motion": true, "tags.light": true, "author": "Ann"}},
		{Type: models.ChangeUpdated, Table: db.TableContentNode, Key: n["Notes"].ID, Mods: map[string]any{"role_visibility": "coach",
			"license": "Special Permissions", "license_description": "Ask first", "language": "sr-LATN", "tags.reading": true}},
		{Type: models.ChangeUpdated, Table: db.TableContentNode, Key: n["Song"].ID, Mods: map[string]any{"language": "en"}},
		{Type: models.ChangeUpdated, Table: db.TableContentNode, Key: n["Quiz"].ID, Mods: map[string]any{"extra_fields": mastery,
			"language": "sr-LATN", "tags.motion": true, "accessibility_labels": map[string]any{"uF4CI2wP": true}}},
		{Type: models.ChangeCreated, Table: db.TableAssessmentItem, Key: []models.ID{n["Quiz"].ID, items[0]}, Obj: map[string]any{
			"type": "single_selection", "order": 1, "randomize": true,
			"question": "Which is prime? ![a prime](${☣ CONTENTSTORAGE}/" + sumOf(imgA) + ".png =120x80) $$x^2$$",
			"answers":  []any{map[string]any{"answer": "4", "correct": false, "order": 1}, map[string]any{"answer": "7", "correct": true, "order": 2}},
			"hints":    []any{map[string]any{"hint": "Two divisors", "order": 1}}}},
		{Type: models.ChangeCreated, Table: db.TableAssessmentItem, Key: []models.ID{n["Quiz"].ID, items[1]}, Obj: map[string]any{
			"type": "multiple_selection", "order": 2, "question": "Which are even?",
			"answers": []any{map[string]any{"answer": "2", "correct": true, "order": 1}, map[string]any{"answer": "3", "correct": false, "order": 2},
				map[string]any{"answer": "8", "correct": true, "order": 3}}}},
		{Type: models.ChangeCreated, Table: db.TableAssessmentItem, Key: []models.ID{n["Quiz"].ID, items[2]}, Obj: map[string]any{
			"type": "input_question", "order": 3, "question": "6 × 7?",
			"answers": []any{map[string]any{"answer": "42", "correct": true, "order": 1}, map[string]any{"answer": "1/2", "correct": true, "order": 2}}}},
		{Type: models.ChangeCreated, Table: db.TableAssessmentItem, Key: []models.ID{n["Quiz"].ID, items[3]}, Obj: map[string]any{
			"type": "perseus_question", "order": 4, "raw_data": raw}},
		{Type: models.ChangeCreated, Table: db.TablePrerequisite, Key: []models.ID{n["Quiz"].ID, n["Clip"].ID}},
		{Type: models.ChangeCreated, Table: db.TablePrerequisite, Key: []models.ID{n["Quiz"].ID, n["Notes"].ID}},
	}
	_, err := d.Apply(ctx, u, changes, true)
	require.NoError(t, err)
	three := 3
	s.add(t, &models.File{NodeID: &n["Clip"].ID, PresetID: "high_res_video", Extension: "mp4", Duration: &three}, []byte("a video"))
	s.add(t, &models.File{NodeID: &n["Clip"].ID, PresetID: "video_subtitle", Extension: "vtt", LanguageCode: "sr-LATN"}, []byte("WEBVTT\n"))
	s.add(t, &models.File{NodeID: &n["Clip"].ID, PresetID: "video_thumbnail", Extension: "png"}, img("thumb"))
	s.add(t, &models.File{NodeID: &n["Notes"].ID, PresetID: "document", Extension: "pdf"}, []byte("%PDF a page"))
	s.add(t, &models.File{NodeID: &n["Song"].ID, PresetID: "audio", Extension: "mp3", Duration: &three}, []byte("ID3 a song"))
	got, err := d.AssessmentItemsByNode(ctx, []models.ID{n["Quiz"].ID})
	require.NoError(t, err)
	require.Len(t, got[n["Quiz"].ID], 4)
	s.add(t, &models.File{AssessmentItemID: &got[n["Quiz"].ID][0].ID, PresetID: "exercise_image", Extension: "png"}, imgA)
	s.add(t, &models.File{AssessmentItemID: &got[n["Quiz"].ID][3].ID, PresetID: "exercise_image", Extension: "png"}, imgB)
	// No mutation sets a channel's thumbnail encoding yet; a publish writes it.
	_, err = d.ForTest(t).NewUpdate().Model(&models.Channel{ID: ch.ID, ThumbnailEncoding: map[string]any{"base64": "data:image/png;base64,iVBORw0KGgo="}}).
		Column("thumbnail_encoding").WherePK().Exec(ctx)
	require.NoError(t, err)
	for _, name := range []string{"Clip", "Notes", "Song", "Quiz", "Watch", "Practice"} {
		require.True(t, dbtest.Node(t, d, n[name].ID).Complete, "%s is complete", name)
	}
	return channelNow(t, d, ch.ID), n
}

// contentServer serves dir as a server's /content/, with Kolibri's lookup
// answering 404 as Kolibri's does for a channel it does not list.
func contentServer(t *testing.T, dir string, wrap func(http.Handler) http.Handler) *httptest.Server {
	t.Helper()
	h := http.StripPrefix("/content/", http.FileServer(http.Dir(dir)))
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// TestImportRoundTrip publishes a channel, imports it into another studio
// from the content folder and from a server, publishes the import, and
// compares the two content databases table by table: ids and all.
func TestImportRoundTrip(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		a := newStudioSide(t, d, "a@example.org")
		ch, n := richChannel(t, a)
		require.Equal(t, 1, a.publish(t, ch.ID))
		published := filepath.Join(a.dir, "databases", ch.ID.String()+"-1.sqlite3")
		srv := contentServer(t, a.dir, nil)

		for _, source := range []string{a.dir, srv.URL} {
			name := "directory"
			if strings.HasPrefix(source, "http") {
				name = "server"
			}
			t.Run(name, func(t *testing.T) {
				b := newStudioSide(t, dbtest.Open(t, d.Kind), "b@example.org")
				ev, job := b.importing(t, source, ch.ID.String(), nil)
				require.Equal(t, models.JobCompleted, ev.State, ev.Error)
				got := channelNow(t, b.d, ch.ID)
				require.Equal(t, "Rich", got.Name)
				require.Equal(t, "en", got.LanguageCode)
				require.Equal(t, 1, got.Version, "the import takes the source's version")
				require.Equal(t, ch.ThumbnailEncoding, got.ThumbnailEncoding)
				rec, err := b.d.ImportByJob(ctx, job)
				require.NoError(t, err)
				require.Equal(t, ch.ID, rec.SourceChannelID)
				require.Equal(t, 1, *rec.SourceVersion)
				require.NotNil(t, rec.FinishedAt)
				require.Nil(t, rec.Changes, "a first import")
				require.Empty(t, rec.Warnings)
				if name == "server" {
					require.Equal(t, srv.URL+"/", rec.Source)
				}

				// Editable as it was made: questions of their types, with
				// their images; nodes that name where they came from.
				tree, err := b.d.LoadTree(ctx, got.RootID)
				require.NoError(t, err)
				byNode := map[models.ID]*models.ContentNode{}
				for _, x := range tree.Nodes {
					byNode[x.NodeID] = x
				}
				quiz := byNode[n["Quiz"].NodeID]
				require.NotNil(t, quiz)
				require.True(t, quiz.Complete)
				require.Equal(t, ch.ID, *quiz.OriginalChannelID)
				require.Equal(t, quiz.NodeID, *quiz.SourceNodeID)
				var types []string
				for _, it := range tree.Items[quiz.ID] {
					types = append(types, it.Type)
				}
				require.Equal(t, []string{"single_selection", "multiple_selection", "input_question", "perseus_question"}, types)
				require.Contains(t, tree.Items[quiz.ID][0].Question, "${☣ CONTENTSTORAGE}/")
				require.Contains(t, tree.Items[quiz.ID][3].RawData, "${☣ CONTENTSTORAGE}/")
				require.Equal(t, []string{"light", "motion"}, tree.Tags[byNode[n["Clip"].NodeID].ID])
				require.Len(t, tree.Prerequisites, 2)
				require.Equal(t, models.RoleCoach, byNode[n["Notes"].NodeID].RoleVisibility)
				dbtest.CheckTree(t, b.d)

				require.Equal(t, 2, b.publish(t, ch.ID), "the next publish is the source's next version")
				republished := filepath.Join(b.dir, "databases", ch.ID.String()+"-2.sqlite3")
				diffs, err := kolibritest.Compare(ctx, published, republished)
				require.NoError(t, err)
				require.Empty(t, diffs, "the republished channel differs from the published one")
			})
		}
	})
}

// TestImportUpstreamChanges imports a channel, then a newer version of it
// as the next version of the import: it is staged, and the job says what
// changed upstream.
func TestImportUpstreamChanges(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		a := newStudioSide(t, d, "a@example.org")
		ch, n := richChannel(t, a)
		a.publish(t, ch.ID)
		b := newStudioSide(t, dbtest.Open(t, d.Kind), "b@example.org")
		ev, _ := b.importing(t, a.dir, ch.ID.String(), nil)
		require.Equal(t, models.JobCompleted, ev.State, ev.Error)
		main := channelNow(t, b.d, ch.ID).RootID

		// Upstream: one renamed, one removed, one added.
		_, err := a.d.Apply(ctx, a.u, []db.Change{
			{Type: models.ChangeUpdated, Table: db.TableContentNode, Key: n["Notes"].ID, Mods: map[string]any{"title": "Notes, revised"}},
			{Type: models.ChangeDeleted, Table: db.TableContentNode, Key: n["Song"].ID},
		}, true)
		require.NoError(t, err)
		dbtest.Tree(t, a.d, dbtest.Node(t, a.d, n["Watch"].ID), "document Added")
		added := channelNow(t, a.d, ch.ID)
		tree, err := a.d.LoadTree(ctx, added.RootID)
		require.NoError(t, err)
		for _, x := range tree.Nodes {
			if x.Title == "Added" {
				a.add(t, &models.File{NodeID: &x.ID, PresetID: "document", Extension: "pdf"}, []byte("%PDF added"))
			}
		}
		require.Equal(t, 2, a.publish(t, ch.ID))

		ev, job := b.importing(t, a.dir, ch.ID.String(), &ch.ID)
		require.Equal(t, models.JobCompleted, ev.State, ev.Error)
		rec, err := b.d.ImportByJob(ctx, job)
		require.NoError(t, err)
		require.True(t, rec.Staged)
		require.Equal(t, &models.UpstreamChanges{PreviousVersion: 1, Added: 1, Removed: 1, Changed: 1, Unchanged: 5}, rec.Changes)
		now := channelNow(t, b.d, ch.ID)
		require.Equal(t, main, now.RootID, "the main tree stays until the staged one is deployed")
		require.NotNil(t, now.StagingRootID)
		require.Equal(t, 1, now.Version, "a staged import leaves the version alone")
		dbtest.CheckTree(t, b.d)
	})
}

// TestImportRefused: what cannot be imported is refused when it is asked,
// with a code, and nothing is queued.
func TestImportRefused(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := newStudioSide(t, d, "ed@example.org")
		other := dbtest.User(t, d, "other@example.org", false)
		theirs := dbtest.Channel(t, d, other, "Theirs")
		mine := dbtest.Channel(t, d, s.u, "Mine")
		src, err := kolibritest.Write(ctx, t.TempDir(), kolibritest.Options{Topics: 1, Leaves: 1})
		require.NoError(t, err)
		srv := contentServer(t, src.Dir, nil)
		for _, tc := range []struct {
			name            string
			u               *models.User
			source, channel string
			as              *models.ID
			trusted         bool
			code            models.Code
			message         string
		}{
			{"anonymous", nil, srv.URL, src.ID.String(), nil, true, models.CodeUnauthenticated, "sign in"},
			{"ftp", s.u, "ftp://example.org/", src.ID.String(), nil, true, models.CodeBadUserInput, "only http and https"},
			{"file URL", s.u, "file:///etc/", src.ID.String(), nil, true, models.CodeBadUserInput, "only http and https"},
			{"credentials", s.u, "http://me:secret@example.org/", src.ID.String(), nil, true, models.CodeBadUserInput, "password"},
			{"a directory, not trusted", s.u, src.Dir, src.ID.String(), nil, false, models.CodeBadUserInput, "admins only"},
			{"not a content folder", s.u, t.TempDir(), src.ID.String(), nil, true, models.CodeBadUserInput, "no databases folder"},
			{"loopback, not trusted", s.u, srv.URL, src.ID.String(), nil, false, models.CodeBadUserInput, "not a public one"},
			{"not an id or token", s.u, srv.URL, "what?", nil, true, models.CodeBadUserInput, "neither a channel id"},
			{"unknown token", s.u, srv.URL, "abcde-fghij", nil, true, models.CodeNotFound, "no channel by the token"},
			{"a taken id", s.u, srv.URL, theirs.ID.String(), nil, true, models.CodeConflict, "cannot edit it"},
			{"an id of mine", s.u, srv.URL, mine.ID.String(), nil, true, models.CodeConflict, "as: " + mine.ID.String()},
			{"as a channel I cannot edit", s.u, srv.URL, src.ID.String(), &theirs.ID, true, models.CodeNotFound, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := jobs.RequestImport(ctx, d, s.c, tc.u, jobs.ImportRequest{Source: tc.source, Channel: tc.channel, As: tc.as, Trusted: tc.trusted})
				require.Equal(t, tc.code, models.CodeOf(err), "%v", err)
				require.Contains(t, err.Error(), tc.message)
			})
		}
		n, err := d.ForTest(t).NewSelect().TableExpr("river_job").Where("kind = ?", jobs.KindImport).Count(ctx)
		require.NoError(t, err)
		require.Zero(t, n, "nothing was queued")
		_, err = channelOrNil(t, d, src.ID)
		require.NoError(t, err)
	})
}

func channelOrNil(t *testing.T, d *db.DB, id models.ID) (*models.Channel, error) {
	got, err := d.ChannelsByID(context.Background(), nil, []models.ID{id})
	require.Nil(t, got[id].Channel, "no channel was made")
	return nil, err
}

// TestImportFails: a source that serves something wrong fails the job with
// a message that says what, and fetches nothing from elsewhere.
func TestImportFails(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := newStudioSide(t, d, "ed@example.org")
		fresh := func() *kolibritest.Channel {
			src, err := kolibritest.Write(ctx, t.TempDir(), kolibritest.Options{Topics: 2, Leaves: 3})
			require.NoError(t, err)
			return src
		}
		elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			t.Errorf("a request went to another host: %s", r.URL)
		}))
		t.Cleanup(elsewhere.Close)

		t.Run("older schema", func(t *testing.T) {
			src := fresh()
			old, err := sql.Open("sqlite", "file:"+src.Path)
			require.NoError(t, err)
			for _, col := range []string{"grade_levels", "resource_types", "learning_activities", "accessibility_labels", "categories", "learner_needs", "duration"} {
				_, err := old.Exec("ALTER TABLE content_contentnode DROP COLUMN " + col)
				require.NoError(t, err)
			}
			require.NoError(t, old.Close())
			ev, _ := s.importing(t, src.Dir, src.ID.String(), nil)
			require.Equal(t, models.JobFailed, ev.State)
			require.Contains(t, ev.Error, `content schema "4" (Kolibri 0.14)`)
		})
		t.Run("bad md5", func(t *testing.T) {
			src := fresh()
			name := src.Files[2]
			path := filepath.Join(src.Dir, "storage", name[:1], name[1:2], name)
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			data[0] ^= 1
			require.NoError(t, os.WriteFile(path, data, 0o644))
			ev, _ := s.importing(t, contentServer(t, src.Dir, nil).URL, src.ID.String(), nil)
			require.Equal(t, models.JobFailed, ev.State)
			require.Contains(t, ev.Error, "the source's copy is damaged")
			ok, err := s.store.Exists(ctx, blobs.Key(strings.TrimSuffix(name, ".pdf"), "pdf"))
			require.NoError(t, err)
			require.False(t, ok, "a file whose md5 is wrong is not stored")
		})
		t.Run("redirect to another host", func(t *testing.T) {
			src := fresh()
			srv := contentServer(t, src.Dir, func(h http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if strings.HasPrefix(r.URL.Path, "/content/storage/") {
						http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusFound)
						return
					}
					h.ServeHTTP(w, r)
				})
			})
			ev, _ := s.importing(t, srv.URL, src.ID.String(), nil)
			require.Equal(t, models.JobFailed, ev.State)
			require.Contains(t, ev.Error, "a redirect to another host")
		})
		t.Run("redirect on the same host", func(t *testing.T) {
			src := fresh()
			srv := contentServer(t, src.Dir, func(h http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if p, ok := strings.CutPrefix(r.URL.Path, "/old/"); ok {
						http.Redirect(w, r, "/"+p, http.StatusMovedPermanently)
						return
					}
					h.ServeHTTP(w, r)
				})
			})
			ev, _ := s.importing(t, srv.URL+"/old/", src.ID.String(), nil)
			require.Equal(t, models.JobCompleted, ev.State, ev.Error)
		})
		t.Run("missing file", func(t *testing.T) {
			src := fresh()
			name := src.Files[0]
			require.NoError(t, os.Remove(filepath.Join(src.Dir, "storage", name[:1], name[1:2], name)))
			ev, job := s.importing(t, contentServer(t, src.Dir, nil).URL, src.ID.String(), nil)
			require.Equal(t, models.JobCompleted, ev.State, ev.Error)
			rec, err := d.ImportByJob(ctx, job)
			require.NoError(t, err)
			require.Len(t, rec.Warnings, 1)
			require.Contains(t, rec.Warnings[0], name+" is not at the source: left out")
		})
		t.Run("no such channel", func(t *testing.T) {
			src := fresh()
			id := models.NewID()
			ev, _ := s.importing(t, contentServer(t, src.Dir, nil).URL, id.String(), nil)
			require.Equal(t, models.JobFailed, ev.State)
			require.Contains(t, ev.Error, "no content database of channel "+id.String())
		})
		t.Run("another channel's database", func(t *testing.T) {
			src, other := fresh(), fresh()
			require.NoError(t, os.Rename(other.Path, filepath.Join(src.Dir, "databases", models.NewID().String()+".sqlite3")))
			wrong := filepath.Join(src.Dir, "databases", other.ID.String()+".sqlite3")
			data, err := os.ReadFile(src.Path)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(wrong, data, 0o644))
			ev, _ := s.importing(t, src.Dir, other.ID.String(), nil)
			require.Equal(t, models.JobFailed, ev.State)
			require.Contains(t, ev.Error, "holds channel "+src.ID.String())
		})
		t.Run("not a database", func(t *testing.T) {
			src := fresh()
			require.NoError(t, os.WriteFile(src.Path, []byte("<html>not found</html>"), 0o644))
			ev, _ := s.importing(t, src.Dir, src.ID.String(), nil)
			require.Equal(t, models.JobFailed, ev.State)
			require.Contains(t, ev.Error, "not a Kolibri content database")
		})
	})
}

// TestImportResumes stops an import's worker mid-way (its context
// cancelled, as a server's shutdown does; cmd/studio's test kills the
// process) and lets River retry it on a fresh client: no file stored before
// the stop is fetched again, nor the content database, and the import
// completes with every node.
func TestImportResumes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		src, err := kolibritest.Write(ctx, t.TempDir(), kolibritest.Options{Topics: 4, Leaves: 30})
		require.NoError(t, err)
		store, err := blobs.Open(ctx, t.TempDir())
		require.NoError(t, err)
		defer store.Close()
		client := func() *jobs.Client {
			workers := river.NewWorkers()
			river.AddWorker(workers, &jobs.Import{DB: d, Blobs: store, Fetchers: 2})
			c, err := jobs.New(d, jobs.Config{Workers: workers, MaxWorkers: 1})
			require.NoError(t, err)
			require.NoError(t, c.Start(ctx))
			return c
		}
		first := client()
		var mu sync.Mutex
		requests := map[string]int{}
		stopped := make(chan struct{})
		var once sync.Once
		srv := contentServer(t, src.Dir, func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				requests[r.URL.Path]++
				n := len(requests)
				mu.Unlock()
				if n >= 40 {
					once.Do(func() { go func() { _ = first.StopAndCancel(ctx); close(stopped) }() }) // the worker dies here
				}
				h.ServeHTTP(w, r)
			})
		})
		u := dbtest.User(t, d, "ed@example.org", true)
		n, err := jobs.RequestImport(ctx, d, first, u, jobs.ImportRequest{Source: srv.URL, Channel: src.ID.String()})
		require.NoError(t, err)
		select {
		case <-stopped:
		case <-time.After(time.Minute):
			t.Fatal("the import did not reach its 40th request")
		}
		mu.Lock()
		before := maps.Clone(requests)
		mu.Unlock()
		storedBefore := map[string]bool{}
		stored := 0
		for _, name := range src.Files {
			ok, err := store.Exists(ctx, blobs.Key(name[:32], "pdf"))
			require.NoError(t, err)
			storedBefore[name] = ok
			if ok {
				stored++
			}
		}
		require.Positive(t, stored, "files were stored before the stop")
		require.Less(t, stored, len(src.Files), "the stop came before the end")

		second := client()
		t.Cleanup(func() { _ = second.Stop(ctx) })
		p := &publisher{d: d, store: store, c: second}
		ev := last(p.wait(t, n))
		require.Equal(t, models.JobCompleted, ev.State, ev.Error)
		mu.Lock()
		defer mu.Unlock()
		for _, name := range src.Files {
			path := "/content/storage/" + name[:1] + "/" + name[1:2] + "/" + name
			if storedBefore[name] {
				require.Equal(t, before[path], requests[path], "%s was fetched again", name)
			} else {
				require.LessOrEqual(t, requests[path]-before[path], 1, "%s", name)
			}
		}
		require.Equal(t, 1, requests["/content/databases/"+src.ID.String()+".sqlite3"], "the content database is fetched once")
		evs, err := d.JobEvents(ctx, n, 0)
		require.NoError(t, err)
		retried := slices.ContainsFunc(evs, func(e *models.JobEvent) bool { return e.State == models.JobRetrying })
		require.True(t, retried, "the stopped attempt is recorded, and a second one completed the job")
		ch := channelNow(t, d, src.ID)
		tree, err := d.LoadTree(ctx, ch.RootID)
		require.NoError(t, err)
		require.Len(t, tree.Nodes, src.Nodes)
		dbtest.CheckTree(t, d)
		t.Logf("stored before the stop: %d of %d files", stored, len(src.Files))
	})
}
