package db_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
	"studio/models"
)

// exactTexts must come back from either database exactly as written: the
// six characters \u0000 and their neighbours that bun v1.3.0's AppendJSON
// misread, other escapes' text, and characters JSON escapes.
var exactTexts = []string{`x\u0000y`, `\\u0000`, `\\\u0000`, `\u0000`, `\u00e9 \ud83d\ude00`, "é😀\u2028", `it's "q" \`, "<&>", `\`}

// captureLog sends slog's default logger to a buffer until the test ends.
func captureLog(t *testing.T) *bytes.Buffer {
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })
	return &buf
}

func TestFindingJSONTextRoundTrip(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		w := newWorld(t, d)
		list := make([]any, len(exactTexts))
		extra := map[string]any{}
		// Label ids are le-utils' own (validated), so their text is not free.
		labels := map[string]any{"d&WXdXWF.qs0Xlaxq": true}
		tags := map[string]any{}
		for i, s := range exactTexts {
			list[i] = s
			extra["k"+s] = s
			tags[s] = true
		}
		extra["list"] = list
		extra["nested"] = map[string]any{exactTexts[0]: map[string]any{"deeper": exactTexts[1]}}
		id := models.NewID()
		fields := map[string]any{"description": strings.Join(exactTexts, "|"), "author": exactTexts[1],
			"aggregator": exactTexts[2], "provider": exactTexts[3], "copyright_holder": exactTexts[4],
			"license_description": exactTexts[5], "extra_fields": extra, "thumbnail_encoding": map[string]any{"base64": exactTexts[6]},
			"categories": labels, "tags": tags}
		w.ok(create(id, w.ch.RootID, "topic", exactTexts[0], fields))

		check := func(when string) {
			n := w.node(id)
			require.Equal(t, exactTexts[0], n.Title, when)
			require.Equal(t, strings.Join(exactTexts, "|"), n.Description, when)
			require.Equal(t, []string{exactTexts[1], exactTexts[2], exactTexts[3], exactTexts[4], exactTexts[5]},
				[]string{n.Author, n.Aggregator, n.Provider, n.CopyrightHolder, n.LicenseDescription}, when)
			require.Equal(t, extra, n.ExtraFields, when)
			require.Equal(t, map[string]any{"base64": exactTexts[6]}, n.ThumbnailEncoding, when)
			require.Equal(t, labels, n.Categories, when)
			got, err := d.TagsByNode(ctx, []models.ID{id})
			require.NoError(t, err)
			var want []string
			for _, s := range exactTexts {
				want = append(want, strings.TrimSpace(s)) // tags are trimmed, by design
			}
			require.ElementsMatch(t, want, got[id], when)
		}
		check("after the create")
		w.ok(update(id, map[string]any{"role_visibility": "coach"}))
		check("after one unrelated save")
		w.ok(update(id, map[string]any{"role_visibility": "learner"}))
		check("after two unrelated saves")

		// A channel's JSON fields and text.
		defaults := map[string]any{"author": exactTexts[0], "license_description": exactTexts[1], "list": list}
		name := exactTexts[2]
		_, err := d.UpdateChannel(ctx, w.ed, w.ch.ID, db.ChannelInput{Name: &name, Description: &exactTexts[0], ContentDefaults: defaults})
		require.NoError(t, err)
		for i := range 2 {
			tagline := fmt.Sprint("save ", i)
			_, err := d.UpdateChannel(ctx, w.ed, w.ch.ID, db.ChannelInput{Tagline: &tagline})
			require.NoError(t, err)
			chs, err := d.ChannelsByID(ctx, w.ed, []models.ID{w.ch.ID})
			require.NoError(t, err)
			ch := chs[w.ch.ID]
			require.Equal(t, defaults, ch.ContentDefaults)
			require.Equal(t, name, ch.Name)
			require.Equal(t, exactTexts[0], ch.Description)
		}

		// The change log keeps the payload as sent.
		cs, err := d.ChangesSince(ctx, w.ch.ID, 0, 1000)
		require.NoError(t, err)
		found := 0
		for _, c := range cs {
			if c.Table == db.TableContentNode && c.Type == models.ChangeCreated && fmt.Sprint(c.Key) == id.String() {
				obj := c.Payload["obj"].(map[string]any)
				require.Equal(t, exactTexts[0], obj["title"])
				require.Equal(t, extra, obj["extra_fields"])
				require.Equal(t, tags, obj["tags"])
				found++
			}
		}
		require.Equal(t, 1, found)
	})
}

func TestFindingNULRefused(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		log := captureLog(t)
		w := newWorld(t, d)
		node := models.NewID()
		w.ok(create(node, w.ch.RootID, "topic", "Kept", map[string]any{"extra_fields": map[string]any{"a": "b"}}))
		before := w.node(node)
		for _, tc := range []struct {
			name   string
			change db.Change
		}{
			{"title", create(models.NewID(), w.ch.RootID, "topic", "a\x00b", nil)},
			{"description", create(models.NewID(), w.ch.RootID, "topic", "T", map[string]any{"description": "\x00"})},
			{"tag", create(models.NewID(), w.ch.RootID, "topic", "T", map[string]any{"tags": map[string]any{"a\x00": true}})},
			{"extra_fields key", create(models.NewID(), w.ch.RootID, "topic", "T", map[string]any{"extra_fields": map[string]any{"k\x00": 1}})},
			{"extra_fields value", create(models.NewID(), w.ch.RootID, "topic", "T", map[string]any{"extra_fields": map[string]any{"k": []any{"v\x00"}}})},
			{"updated title", update(node, map[string]any{"title": "\x00"})},
			{"updated extra_fields path", update(node, map[string]any{"extra_fields.k\x00": 1})},
			{"updated extra_fields value", update(node, map[string]any{"extra_fields.a": "\x00"})},
			{"removed tag", update(node, map[string]any{"tags.a\x00": nil})},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e := w.fails(tc.change)
				require.Equal(t, models.CodeBadUserInput, e.Code)
				require.Contains(t, e.Message, models.NULMessage)
				if tc.change.Type == models.ChangeCreated {
					ns, err := d.NodesByID(ctx, []models.ID{tc.change.Key.(models.ID)})
					require.NoError(t, err)
					require.Empty(t, ns, "nothing is written")
				}
			})
		}
		require.Equal(t, before, w.node(node), "the node is unchanged")
		name := "a\x00"
		_, err := d.UpdateChannel(ctx, w.ed, w.ch.ID, db.ChannelInput{Name: &name})
		require.Equal(t, models.CodeBadUserInput, models.CodeOf(err))
		_, err = d.UpdateChannel(ctx, w.ed, w.ch.ID, db.ChannelInput{ContentDefaults: map[string]any{"author": "\x00"}})
		require.Equal(t, models.CodeBadUserInput, models.CodeOf(err))
		require.Empty(t, log.String(), "no statement failed")
	})
}

func TestFindingTooManyTags(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		w := newWorld(t, d)
		tags := func(from, n int) map[string]any {
			m := map[string]any{}
			for i := from; i < from+n; i++ {
				m[fmt.Sprint("tag", i)] = true
			}
			return m
		}
		e := w.fails(create(models.NewID(), w.ch.RootID, "topic", "Many", map[string]any{"tags": tags(0, 100000)}))
		require.Equal(t, models.CodeBadUserInput, e.Code)
		require.Contains(t, e.Message, "at most 100 tags")

		full, other := models.NewID(), models.NewID()
		w.ok(create(full, w.ch.RootID, "topic", "Full", map[string]any{"tags": tags(0, models.MaxTags)}),
			create(other, w.ch.RootID, "topic", "Other", nil))
		// One more is refused, alone in its group: the other update applies.
		res := w.apply(w.ed, update(full, map[string]any{"tags.extra": true}), update(other, map[string]any{"tags.fine": true}))
		require.Len(t, res.Errors, 1)
		require.Equal(t, 0, res.Errors[0].Index)
		require.Equal(t, models.CodeBadUserInput, res.Errors[0].Code)
		require.Len(t, res.Applied, 1)
		// Swapping one for another keeps the count, and re-adding one it has is no change.
		w.ok(update(full, map[string]any{"tags.tag0": nil, "tags.new": true, "tags.tag1": true}))
		got, err := d.TagsByNode(ctx, []models.ID{full, other})
		require.NoError(t, err)
		require.Len(t, got[full], models.MaxTags)
		require.Contains(t, got[full], "new")
		require.Equal(t, []string{"fine"}, got[other])
	})
}

// TestFindingErrorDetails: a statement the database refuses reaches the
// client as a generic BAD_USER_INPUT; its text goes to the log only.
func TestFindingErrorDetails(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		log := captureLog(t)
		w := newWorld(t, d)
		id := models.NewID()
		w.ok(create(id, w.ch.RootID, "topic", "T", nil))
		// A constraint studio's checks do not foresee, with a telling message.
		if d.Kind == db.Postgres {
			_, err := d.ForTest(t).ExecContext(ctx, `CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
				BEGIN IF NEW.title = 'boom' THEN RAISE EXCEPTION 'secret detail of nodes' USING ERRCODE = '23514'; END IF; RETURN NEW; END $$`)
			require.NoError(t, err)
			_, err = d.ForTest(t).ExecContext(ctx, `CREATE TRIGGER refuse_boom BEFORE UPDATE ON content_nodes FOR EACH ROW EXECUTE FUNCTION refuse_boom()`)
			require.NoError(t, err)
		} else {
			_, err := d.ForTest(t).ExecContext(ctx, `CREATE TRIGGER refuse_boom BEFORE UPDATE ON content_nodes WHEN NEW.title = 'boom'
				BEGIN SELECT RAISE(ABORT, 'secret detail of nodes'); END`)
			require.NoError(t, err)
		}
		e := w.fails(update(id, map[string]any{"title": "boom"}))
		require.Equal(t, models.CodeBadUserInput, e.Code)
		require.NotContains(t, e.Message, "secret detail")
		require.NotContains(t, e.Message, "content_nodes")
		require.NotContains(t, e.Message, "SQLSTATE")
		require.Contains(t, log.String(), "secret detail of nodes", "the details are logged")
		require.Equal(t, "T", w.node(id).Title)
	})
}

// TestFindingRepairMigration: rows as older versions stored them (a number
// out of float64 range, SQLite's drifted NUL, PostgreSQL's altered NUL
// key) load again after the repair migration.
func TestFindingRepairMigration(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		w := newWorld(t, d)
		id := models.NewID()
		w.ok(create(id, w.ch.RootID, "topic", "Poisoned", nil))
		cast := ""
		if d.Kind == db.Postgres {
			cast = "::jsonb"
		}
		extra := `{"n":-1e400,"l":[1,2e999,{"deep":1e400}],"k\\u0000":"v","ok":1.5}`
		want := map[string]any{"n": nil, "l": []any{1.0, nil, map[string]any{"deep": nil}}, `k\u0000`: "v", "ok": 1.5}
		if d.Kind == db.SQLite {
			// bun's AppendJSON turned the text x\u0000y into x, a backslash, a NUL and y.
			extra = `{"n":-1e400,"l":[1,2e999,{"deep":1e400}],"k\\u0000":"v","ok":1.5,"s":"x\\\u0000y"}`
			want["s"] = `x\u0000y`
		}
		for _, q := range []string{
			`UPDATE channels SET content_defaults = '{"author":1e400}'` + cast + ` WHERE id = ?`,
			`UPDATE content_nodes SET extra_fields = '` + extra + `'` + cast + ` WHERE id = ?`,
			`UPDATE changes SET payload = '{"obj":{"n":1e400}}'` + cast + ` WHERE channel_id = ?`,
		} {
			arg := any(w.ch.ID)
			if strings.Contains(q, "content_nodes") {
				arg = id
			}
			_, err := d.ForTest(t).NewRaw(q, arg).Exec(ctx)
			require.NoError(t, err, q)
		}
		_, err := d.ChannelsByID(ctx, w.ed, []models.ID{w.ch.ID})
		require.Error(t, err, "the poisoned channel does not load")
		_, err = d.NodesByID(ctx, []models.ID{id})
		require.Error(t, err, "the poisoned node does not load")

		// Run the repair again, as an upgrade does.
		_, err = d.ForTest(t).NewRaw("DELETE FROM bun_migrations WHERE name = '20261204000001'").Exec(ctx)
		require.NoError(t, err)
		require.NoError(t, d.Migrate(ctx))

		chs, err := d.ChannelsByID(ctx, w.ed, []models.ID{w.ch.ID})
		require.NoError(t, err)
		require.Equal(t, map[string]any{"author": nil}, chs[w.ch.ID].ContentDefaults)
		require.Equal(t, want, w.node(id).ExtraFields)
		cs, err := d.ChangesSince(ctx, w.ch.ID, 0, 100)
		require.NoError(t, err)
		require.NotEmpty(t, cs)
		require.Equal(t, map[string]any{"obj": map[string]any{"n": nil}}, cs[0].Payload)
		// The node can be edited again, and keeps its text.
		w.ok(update(id, map[string]any{"title": "Repaired", "extra_fields.ok": 2}))
		n := w.node(id)
		require.Equal(t, "Repaired", n.Title)
		want["ok"] = 2.0
		require.Equal(t, want, n.ExtraFields)
	})
}
