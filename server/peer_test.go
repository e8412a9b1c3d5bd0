package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"studio/blobs"
	"studio/db"
	"studio/db/dbtest"
	"studio/jobs"
	"studio/models"
	"studio/server"
)

// peerFixture is a server whose jobs run, and a user who publishes.
type peerFixture struct {
	t  *testing.T
	d  *db.DB
	a  *api
	c  *jobs.Client
	ed *models.User
}

func newPeerFixture(t *testing.T, d *db.DB) *peerFixture {
	ctx := context.Background()
	store, err := blobs.Open(ctx, t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { store.Close() })
	workers, _ := jobs.Standard(d, store, jobs.Timeouts{})
	c, err := jobs.New(d, jobs.Config{Workers: workers, MaxWorkers: 2})
	require.NoError(t, err)
	require.NoError(t, c.Start(ctx))
	t.Cleanup(func() { _ = c.Stop(context.Background()) })
	return &peerFixture{t: t, d: d, a: newAPI(t, d, server.Config{Blobs: store, Jobs: c}), c: c,
		ed: dbtest.User(t, d, "admin@example.org", true)}
}

// publish publishes channel id and waits (a minute at most) for the job.
func (f *peerFixture) publish(id models.ID) {
	f.t.Helper()
	ctx := context.Background()
	n, err := jobs.RequestPublish(ctx, f.d, f.c, f.ed, id, "", false)
	require.NoError(f.t, err)
	wake, stop := f.d.SubscribeJob(n)
	defer stop()
	deadline := time.After(time.Minute)
	for {
		evs, err := f.d.JobEvents(ctx, n, 0)
		require.NoError(f.t, err)
		if len(evs) > 0 && evs[len(evs)-1].State.Final() {
			require.Equal(f.t, models.JobCompleted, evs[len(evs)-1].State, "publish: %s", evs[len(evs)-1].Error)
			return
		}
		select {
		case <-wake:
		case <-time.After(time.Second):
		case <-deadline:
			f.t.Fatalf("publish job %d did not finish", n)
		}
	}
}

// get requests path with no credentials and decodes the JSON answer.
func (f *peerFixture) get(path string, v any) int {
	f.t.Helper()
	resp, err := http.Get(f.a.url + path)
	require.NoError(f.t, err)
	defer resp.Body.Close()
	require.Equal(f.t, "application/json", resp.Header.Get("Content-Type"), path)
	require.NoError(f.t, json.NewDecoder(resp.Body).Decode(v), path)
	return resp.StatusCode
}

func (f *peerFixture) ok(path string) any {
	f.t.Helper()
	var v any
	require.Equal(f.t, http.StatusOK, f.get(path, &v), "%s: %v", path, v)
	return v
}

// titles are the titles of a list of serialized nodes.
func titles(nodes any) []string {
	var out []string
	for _, n := range nodes.([]any) {
		out = append(out, n.(map[string]any)["title"].(string))
	}
	return out
}

// TestPeerBrowsing publishes a channel and reads it through
// /api/public/v2/ as a Kolibri that browses this server as a peer does: the
// channel, a topic's children (listed, paged and as a tree), a resource, and
// a resource's import metadata.
func TestPeerBrowsing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newPeerFixture(t, d)
		ch := dbtest.Channel(t, d, f.ed, "Peer maths")
		root := dbtest.Node(t, d, ch.RootID)
		var geometry strings.Builder
		geometry.WriteString("topic Geometry\n")
		for i := range 13 {
			fmt.Fprintf(&geometry, "  video Shape %02d\n", i)
		}
		n := dbtest.Tree(t, d, root, "topic Algebra\n  video Intro\n  document Notes\n"+geometry.String()+"video Welcome")
		f.publish(ch.ID)
		rootID, algebra, intro := root.NodeID.String(), n["Algebra"].NodeID.String(), n["Intro"].NodeID.String()
		v2 := "/api/public/v2/"

		// The channel, by id, with and without the slash Kolibri's router adds.
		for _, path := range []string{"channel/" + ch.ID.String(), "channel/" + ch.ID.String() + "/", "channel/" + ch.ID.String() + "?public=false"} {
			c := f.ok(v2 + path).(map[string]any)
			require.Equal(t, ch.ID.String(), c["id"])
			require.Equal(t, "Peer maths", c["name"])
			require.Equal(t, rootID, c["root"], "the root is the root's Kolibri id")
			require.EqualValues(t, 1, c["version"])
			require.EqualValues(t, 16, c["total_resource_count"])
			require.Equal(t, true, c["available"])
			require.Equal(t, "en", c["lang_code"])
			require.Equal(t, false, c["public"])
			require.NotNil(t, c["last_published"])
		}
		// Private channels are browsed by id only, as they are imported.
		require.Equal(t, []any{}, f.ok(v2+"channel/"))

		// A topic's children: the root's, then Algebra's, in order.
		top := f.ok(v2 + "contentnode/?parent=" + rootID)
		require.Equal(t, []string{"Algebra", "Geometry", "Welcome"}, titles(top))
		alg := top.([]any)[0].(map[string]any)
		require.Equal(t, algebra, alg["id"])
		require.Equal(t, rootID, alg["parent"])
		require.Equal(t, "topic", alg["kind"])
		require.Equal(t, false, alg["is_leaf"])
		require.EqualValues(t, 2, alg["on_device_resources"], "the resources beneath")
		require.Equal(t, []any{map[string]any{"id": rootID, "title": "Peer maths"}}, alg["ancestors"])
		kids := f.ok(v2 + "contentnode/?parent=" + algebra)
		require.Equal(t, []string{"Intro", "Notes"}, titles(kids))

		// A resource's metadata, as Kolibri shows it before importing.
		res := f.ok(v2 + "contentnode/" + intro + "/").(map[string]any)
		require.Equal(t, "Intro", res["title"])
		require.Equal(t, "video", res["kind"])
		require.Equal(t, true, res["is_leaf"])
		require.Equal(t, "CC BY", res["license_name"])
		require.Equal(t, "Test", res["license_owner"])
		require.Equal(t, ch.ID.String(), res["channel_id"])
		require.Equal(t, n["Intro"].ContentID.String(), res["content_id"])
		require.Len(t, res["ancestors"], 2)
		files := res["files"].([]any)
		require.Len(t, files, 1)
		file := files[0].(map[string]any)
		require.Equal(t, "high_res_video", file["preset"])
		require.Equal(t, "mp4", file["extension"])
		sum := file["checksum"].(string)
		require.Equal(t, f.a.url+"/content/storage/"+sum[:1]+"/"+sum[1:2]+"/"+sum+".mp4", file["storage_url"])
		for _, k := range []string{"tags", "learning_activities", "categories", "grade_levels", "resource_types", "accessibility_labels", "learner_needs"} {
			require.Equal(t, []any{}, res[k], k)
		}
		require.Contains(t, res, "assessmentmetadata")
		require.Contains(t, res, "options")

		// ids=, and other filters Kolibri sends.
		require.Equal(t, []string{"Intro", "Welcome"}, titles(f.ok(v2+"contentnode/?ids="+intro+","+n["Welcome"].NodeID.String())))
		require.Equal(t, []string{"Notes"}, titles(f.ok(v2+"contentnode/?channel_id="+ch.ID.String()+"&kind=document")))
		require.Equal(t, []string{"Intro", "Notes"}, titles(f.ok(v2+"contentnode/?descendant_of="+algebra)))
		require.Equal(t, []string{"Notes"}, titles(f.ok(v2+"contentnode/?channel_id="+ch.ID.String()+"&keywords=note")))
		require.Len(t, f.ok(v2+"contentnode/?channel_id="+ch.ID.String()+"&kind=content"), 16)

		// Paged with max_results: the pages follow one another.
		var paged []string
		next := url.Values{"parent": {n["Geometry"].NodeID.String()}, "max_results": {"5"}}
		for pages := 0; ; pages++ {
			require.Less(t, pages, 5, "13 children in pages of 5")
			p := f.ok(v2 + "contentnode/?" + next.Encode()).(map[string]any)
			require.LessOrEqual(t, len(p["results"].([]any)), 5)
			paged = append(paged, titles(p["results"])...)
			require.Contains(t, p["labels"], "languages")
			if p["more"] == nil {
				break
			}
			next = url.Values{}
			for k, v := range p["more"].(map[string]any) {
				next.Set(k, fmt.Sprint(v))
			}
		}
		require.Len(t, paged, 13)
		require.Equal(t, "Shape 00", paged[0])
		require.Equal(t, "Shape 12", paged[12])

		// The tree: children, and a page of each child's children.
		tree := f.ok(v2 + "contentnode_tree/" + rootID + "/").(map[string]any)
		require.Equal(t, rootID, tree["id"])
		children := tree["children"].(map[string]any)
		require.Equal(t, []string{"Algebra", "Geometry", "Welcome"}, titles(children["results"]))
		require.Nil(t, children["more"])
		geo := children["results"].([]any)[1].(map[string]any)["children"].(map[string]any)
		require.Len(t, geo["results"], 12, "a page of grandchildren")
		more := geo["more"].(map[string]any)
		require.Equal(t, n["Geometry"].NodeID.String(), more["id"])
		params := url.Values{}
		for k, v := range more["params"].(map[string]any) {
			params.Set(k, fmt.Sprint(v))
		}
		require.Equal(t, "1", params.Get("depth"))
		rest := f.ok(v2 + "contentnode_tree/" + n["Geometry"].NodeID.String() + "/?" + params.Encode()).(map[string]any)
		require.Equal(t, []string{"Shape 12"}, titles(rest["children"].(map[string]any)["results"]))

		// Import metadata: the resource, its ancestors and what they use,
		// table by table, as Kolibri's importmetadata gives them.
		meta := f.ok(v2 + "importmetadata/" + intro + "/").(map[string]any)
		require.Equal(t, "5", meta["schema_version"])
		var ids []string
		for _, row := range meta["content_contentnode"].([]any) {
			ids = append(ids, row.(map[string]any)["id"].(string))
			require.IsType(t, true, row.(map[string]any)["available"], "booleans are booleans")
		}
		require.Equal(t, []string{rootID, algebra, intro}, ids)
		require.Len(t, meta["content_file"], 1)
		require.Len(t, meta["content_localfile"], 1)
		require.Equal(t, sum, meta["content_localfile"].([]any)[0].(map[string]any)["id"])
		require.Equal(t, ch.ID.String(), meta["content_channelmetadata"].([]any)[0].(map[string]any)["id"])
		for _, table := range []string{"content_contentnode_tags", "content_assessmentmetadata", "content_contenttag",
			"content_language", "content_contentnode_has_prerequisite", "content_contentnode_related"} {
			require.Contains(t, meta, table)
		}
		// With descendants, paged as Kolibri asks (max_results=10).
		var all []string
		q := "descendants=true&max_results=10"
		for pages := 0; ; pages++ {
			require.Less(t, pages, 4)
			p := f.ok(v2 + "importmetadata/" + rootID + "/?" + q).(map[string]any)
			for _, row := range p["results"].(map[string]any)["content_contentnode"].([]any) {
				all = append(all, row.(map[string]any)["title"].(string))
			}
			if p["more"] == nil {
				break
			}
			vals := url.Values{}
			for k, v := range p["more"].(map[string]any) {
				vals.Set(k, fmt.Sprint(v))
			}
			q = vals.Encode()
		}
		require.Len(t, all, 19, "every node once")
		require.Equal(t, "Peer maths", all[0])

		// HEAD, as every Kolibri endpoint answers it.
		resp, err := http.Head(f.a.url + v2 + "channel/" + ch.ID.String() + "/")
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)

		// What is not there, or not asked right.
		var e any
		for _, path := range []string{"channel/" + models.NewID().String() + "/", "channel/nope/",
			"contentnode/" + models.NewID().String() + "/", "contentnode_tree/" + models.NewID().String() + "/",
			"importmetadata/" + models.NewID().String() + "/"} {
			require.Equal(t, http.StatusNotFound, f.get(v2+path, &e), path)
		}
		for _, path := range []string{"contentnode/", "contentnode/?kind=video", "contentnode/?parent=nope",
			"contentnode_tree/nope/", "contentnode_tree/" + rootID + "/?depth=3", "importmetadata/nope/",
			"importmetadata/" + intro + "/?schema_version=6"} {
			require.Equal(t, http.StatusBadRequest, f.get(v2+path, &e), path)
		}
		require.Equal(t, []any{}, f.ok(v2+"contentnode/?parent="+models.NewID().String()))

		// A new version is what is answered once published; a deleted
		// channel is gone.
		_, err = d.Apply(context.Background(), f.ed, []db.Change{{Type: models.ChangeUpdated, Table: db.TableContentNode,
			Key: n["Intro"].ID, Mods: map[string]any{"title": "Introduction"}}}, true)
		require.NoError(t, err)
		require.Equal(t, "Intro", f.ok(v2 + "contentnode/" + intro + "/").(map[string]any)["title"], "until it is published")
		f.publish(ch.ID)
		require.Equal(t, "Introduction", f.ok(v2 + "contentnode/" + intro + "/").(map[string]any)["title"])
		require.EqualValues(t, 2, f.ok(v2 + "channel/" + ch.ID.String()).(map[string]any)["version"])

		public := true
		_, err = d.UpdateChannel(context.Background(), f.ed, ch.ID, db.ChannelInput{Public: &public})
		require.NoError(t, err)
		listed := f.ok(v2 + "channel/?available=true").([]any)
		require.Len(t, listed, 1)
		require.Equal(t, rootID, listed[0].(map[string]any)["root"])

		_, err = d.DeleteChannel(context.Background(), f.ed, ch.ID)
		require.NoError(t, err)
		for _, path := range []string{"channel/" + ch.ID.String() + "/", "contentnode/" + intro + "/", "contentnode/?parent=" + algebra} {
			var v any
			status := f.get(v2+path, &v)
			if status == http.StatusOK {
				require.Equal(t, []any{}, v, path)
			} else {
				require.Equal(t, http.StatusNotFound, status, path)
			}
		}
		require.Equal(t, []any{}, f.ok(v2+"channel/"))
	})
}

// TestPeerDatabasesBounded browses more channels than the server keeps
// open: every one answers, at most four local copies are open at a time
// (counted as this process's file descriptors), and none is left on disk.
func TestPeerDatabasesBounded(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newPeerFixture(t, d)
		var chs []*models.Channel
		for i := range 6 {
			ch := dbtest.Channel(t, d, f.ed, fmt.Sprintf("Channel %d", i))
			dbtest.Tree(t, d, dbtest.Node(t, d, ch.RootID), "video Only")
			f.publish(ch.ID)
			chs = append(chs, ch)
		}
		if _, err := os.Stat("/proc/self/fd"); err != nil {
			t.Skip("needs /proc/self/fd to count open files")
		}
		// copies counts the channels' copies open, and checks none is on disk.
		copies := func() int {
			fds, err := os.ReadDir("/proc/self/fd")
			require.NoError(t, err)
			open := map[string]bool{}
			for _, fd := range fds {
				target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
				if err != nil {
					continue // closed meanwhile
				}
				for _, ch := range chs {
					if strings.Contains(target, "studio-peer-"+ch.ID.String()) {
						open[ch.ID.String()] = true
					}
				}
			}
			for _, ch := range chs {
				left, err := filepath.Glob(filepath.Join(os.TempDir(), "studio-peer-"+ch.ID.String()+"-*"))
				require.NoError(t, err)
				require.Empty(t, left, "copies are unlinked once open")
			}
			return len(open)
		}
		for round := range 2 {
			for i, ch := range chs {
				c := f.ok("/api/public/v2/channel/" + ch.ID.String() + "/").(map[string]any)
				require.Equal(t, fmt.Sprintf("Channel %d", i), c["name"], "round %d", round)
				require.LessOrEqual(t, copies(), 4)
			}
		}
		require.Equal(t, 4, copies())
	})
}
