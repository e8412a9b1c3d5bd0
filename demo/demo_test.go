package demo_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"image/png"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"studio/blobs"
	"studio/db"
	"studio/db/dbtest"
	"studio/demo"
	"studio/jobs"
	"studio/models"
)

// TestDemo: the demo loads once, complete, with its files stored by their
// md5, and publishes as it is.
func TestDemo(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		store, err := blobs.Open(ctx, t.TempDir())
		require.NoError(t, err)
		t.Cleanup(func() { store.Close() })
		admin := dbtest.User(t, d, "admin@localhost", true)
		owner, err := demo.FirstAdmin(ctx, d)
		require.NoError(t, err)
		require.Equal(t, admin.ID, owner.ID)

		ch, created, err := demo.Load(ctx, d, store, owner)
		require.NoError(t, err)
		require.True(t, created)
		require.Equal(t, demo.Name, ch.Name)
		again, created, err := demo.Load(ctx, d, store, owner)
		require.NoError(t, err)
		require.False(t, created, "a second start adds no second demo")
		require.Equal(t, ch.ID, again.ID)
		n, err := d.ForTest(t).NewSelect().Model((*models.Channel)(nil)).Where("c.name = ?", demo.Name).Count(ctx)
		require.NoError(t, err)
		require.EqualValues(t, 1, n)

		tree, err := d.LoadTree(ctx, ch.RootID)
		require.NoError(t, err)
		kinds := map[string]int{}
		for _, n := range tree.Nodes {
			require.True(t, n.Complete, "%s %q is complete", n.Kind, n.Title)
			kinds[n.Kind]++
		}
		require.Equal(t, map[string]int{"topic": 4, "video": 1, "audio": 1, "document": 1, "exercise": 1}, kinds, "the root and three topics")

		// Files: stored under their md5, which is the md5 of their bytes.
		presets := map[string]bool{}
		for _, fs := range tree.Files {
			for _, f := range fs {
				presets[f.PresetID] = true
				r, err := store.Open(ctx, blobs.Key(f.Checksum, f.Extension))
				require.NoError(t, err, f.OriginalFilename)
				data, err := io.ReadAll(r)
				r.Close()
				require.NoError(t, err)
				sum := md5.Sum(data)
				require.Equal(t, f.Checksum, hex.EncodeToString(sum[:]), f.OriginalFilename)
				require.Equal(t, int64(len(data)), f.Size)
			}
		}
		require.Equal(t, map[string]bool{"high_res_video": true, "video_thumbnail": true, "audio": true, "document": true}, presets)

		// The exercise: three kinds of question, do_all.
		var exercise *models.ContentNode
		for _, n := range tree.Nodes {
			if n.Kind == models.KindExercise {
				exercise = n
			}
		}
		mastery, ok := models.MasteryOf(exercise.ExtraFields)
		require.True(t, ok)
		require.Equal(t, "do_all", mastery)
		var types []string
		for _, it := range tree.Items[exercise.ID] {
			types = append(types, it.Type)
		}
		require.ElementsMatch(t, []string{"single_selection", "multiple_selection", "input_question"}, types)
		require.Len(t, tree.Prerequisites, 1)

		// It publishes, as a server publishes.
		workers, _ := jobs.Standard(d, store, jobs.Timeouts{})
		c, err := jobs.New(d, jobs.Config{Workers: workers, MaxWorkers: 2})
		require.NoError(t, err)
		require.NoError(t, c.Start(ctx))
		t.Cleanup(func() { _ = c.Stop(context.Background()) })
		job, err := jobs.RequestPublish(ctx, d, c, owner, ch.ID, "The demo", false)
		require.NoError(t, err)
		done := waitJob(t, d, job)
		require.Equal(t, models.JobCompleted, done.State, "error: %s", done.Error)
		got, err := d.ChannelsByID(ctx, nil, []models.ID{ch.ID})
		require.NoError(t, err)
		require.Equal(t, 1, got[ch.ID].Version)
		require.Equal(t, 4, got[ch.ID].TotalResourceCount)
		ok, err = store.Exists(ctx, jobs.DatabaseKey(ch.ID, "1"))
		require.NoError(t, err)
		require.True(t, ok, "the content database is stored")
	})
}

// waitJob returns job n's last event once it reached a final state.
func waitJob(t *testing.T, d *db.DB, n int64) *models.JobEvent {
	t.Helper()
	wake, stop := d.SubscribeJob(n)
	defer stop()
	deadline := time.After(60 * time.Second)
	for {
		evs, err := d.JobEvents(context.Background(), n, 0)
		require.NoError(t, err)
		if len(evs) > 0 && evs[len(evs)-1].State.Final() {
			return evs[len(evs)-1]
		}
		select {
		case <-wake:
		case <-time.After(time.Second):
		case <-deadline:
			t.Fatalf("job %d did not finish", n)
		}
	}
}

// TestDemoNoAdmin: without an admin, the error says how to make one.
func TestDemoNoAdmin(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		dbtest.User(t, d, "ed@example.org", false)
		_, err := demo.FirstAdmin(ctx, d)
		require.Equal(t, models.CodeNotFound, models.CodeOf(err))
		require.Contains(t, err.Error(), "studio user create")
		first := dbtest.User(t, d, "first@example.org", true)
		dbtest.User(t, d, "second@example.org", true)
		u, err := demo.FirstAdmin(ctx, d)
		require.NoError(t, err)
		require.Equal(t, first.ID, u.ID)
	})
}

// TestDemoFiles checks the files' structure; `ffprobe` and `pdfinfo` read
// them as a 3-second H.264 video, a 2-second MP3 and a one-page PDF.
func TestDemoFiles(t *testing.T) {
	// MP4: top-level boxes that add up to the file, ftyp, moov then mdat.
	video := demo.Video()
	var boxes []string
	for rest := video; len(rest) > 0; {
		require.GreaterOrEqual(t, len(rest), 8)
		size := int(binary.BigEndian.Uint32(rest))
		require.LessOrEqual(t, size, len(rest))
		boxes = append(boxes, string(rest[4:8]))
		rest = rest[size:]
	}
	require.Equal(t, []string{"ftyp", "moov", "mdat"}, boxes)
	require.Contains(t, string(video), "avcC")

	// MP3: whole frames, each with its sync word.
	audio := demo.Audio()
	require.Zero(t, len(audio)%144)
	require.GreaterOrEqual(t, len(audio)/144*1152, demo.AudioSeconds*32000)
	for i := 0; i < len(audio); i += 144 {
		require.Equal(t, []byte{0xFF, 0xFB}, audio[i:i+2])
	}

	// PDF: startxref points at the cross-reference table.
	pdf := demo.PDF("Title (with parentheses)", []string{`a \ b`})
	i := bytes.LastIndex(pdf, []byte("startxref\n"))
	require.Positive(t, i)
	end := bytes.IndexByte(pdf[i+10:], '\n')
	off, err := strconv.Atoi(string(pdf[i+10 : i+10+end]))
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(pdf[off:], []byte("xref\n")))
	require.Contains(t, string(pdf), `(Title \(with parentheses\))`)

	// PNG: decodes, 16:9.
	img, err := png.Decode(bytes.NewReader(demo.Thumbnail()))
	require.NoError(t, err)
	require.Equal(t, 160, img.Bounds().Dx())
	require.Equal(t, 90, img.Bounds().Dy())
}
