package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"studio/demo"
)

// TestKolibriPeerBrowsing has a real Kolibri browse a published channel on
// studio without importing it: studio is added to Kolibri as a network
// location, then Kolibri's own /api/content/…?baseurl=<studio> proxies
// (which call studio's /api/public/v2/) must show the channel, a topic's
// children, the tree, and a resource's metadata.
func TestKolibriPeerBrowsing(t *testing.T) {
	kolibri := kolibriExecutable(t)

	// Kolibri migrates a fresh home for a minute while studio publishes.
	k := startKolibri(t, kolibri)

	p := startStudio(t, buildStudio(t))
	require.NotEmpty(t, p.token, "the first start prints the first admin's token")
	api := newClient(t, p.base, p.token)

	// A channel: a topic with two documents.
	const channelName = "Kolibri peer test"
	var created struct {
		CreateChannel struct {
			ID   string
			Root struct{ ID, NodeID string }
		}
	}
	api.do(`mutation($in: CreateChannelInput!) { createChannel(input: $in) { id root { id nodeId } } }`,
		map[string]any{"in": map[string]any{"name": channelName, "description": "Browsed by TestKolibriPeerBrowsing", "language": "en"}}, &created)
	channelID, root := created.CreateChannel.ID, created.CreateChannel.Root
	var topics struct{ CreateContentNodes []kolibriNode }
	api.do(`mutation($in: [CreateContentNodeInput!]!) { createContentNodes(input: $in) { `+kolibriNodeFields+` } }`,
		map[string]any{"in": []any{map[string]any{"parentId": root.ID, "kind": "topic", "title": "Reading"}}}, &topics)
	topic := topics.CreateContentNodes[0]
	doc := func(title string) map[string]any {
		return map[string]any{"parentId": topic.ID, "kind": "document", "title": title, "license": "CC BY",
			"copyrightHolder": "Learning Equality", "author": "TestKolibriPeerBrowsing", "description": "About " + title}
	}
	var docs struct{ CreateContentNodes []kolibriNode }
	api.do(`mutation($in: [CreateContentNodeInput!]!) { createContentNodes(input: $in) { `+kolibriNodeFields+` } }`,
		map[string]any{"in": []any{doc("First page"), doc("Second page")}}, &docs)
	require.Len(t, docs.CreateContentNodes, 2)
	first, second := docs.CreateContentNodes[0], docs.CreateContentNodes[1]
	firstSum := api.upload("first.pdf", demo.PDF("First page", []string{"Browsed, not imported."}), map[string]any{"preset": "document", "nodeId": first.ID})
	api.upload("second.pdf", demo.PDF("Second page", []string{"Also browsed."}), map[string]any{"preset": "document", "nodeId": second.ID})

	var pub struct{ PublishChannel struct{ ID string } }
	api.do(`mutation($c: ID!) { publishChannel(channelId: $c) { id } }`, map[string]any{"c": channelID}, &pub)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var j struct{ Job *struct{ State string } }
		api.do(`query($id: ID!) { job(id: $id) { state } }`, map[string]any{"id": pub.PublishChannel.ID}, &j)
		require.NotNil(t, j.Job)
		if j.Job.State == "COMPLETED" {
			break
		}
		require.NotContains(t, []string{"FAILED", "CANCELLED"}, j.Job.State)
		require.True(t, time.Now().Before(deadline), "publish still %s after 2 minutes", j.Job.State)
		time.Sleep(200 * time.Millisecond)
	}

	// Studio as a network location: Kolibri checks /api/public/info and
	// keeps the base URL it found. An unprovisioned device lets anyone add
	// one; the /api/content/ proxies need no login either.
	k.waitUp(t)
	var loc struct {
		BaseURL     string `json:"base_url"`
		Application string
	}
	status := k.request(t, http.MethodPost, "/api/discovery/staticnetworklocation/",
		map[string]any{"base_url": p.base + "/", "nickname": "studio"}, &loc)
	require.Equal(t, http.StatusCreated, status, "adding studio as a network location")
	require.Equal(t, "studio", loc.Application)
	base := url.QueryEscape(loc.BaseURL)

	// The channel.
	var ch map[string]any
	require.Equal(t, http.StatusOK, k.request(t, http.MethodGet, "/api/content/channel/"+channelID+"/?baseurl="+base, nil, &ch), "%v", ch)
	require.Equal(t, channelName, ch["name"])
	require.Equal(t, root.NodeID, ch["root"])
	require.EqualValues(t, 1, ch["version"])
	require.EqualValues(t, 2, ch["total_resource_count"])

	// The root's children, then the topic's.
	var top []map[string]any
	require.Equal(t, http.StatusOK, k.request(t, http.MethodGet, "/api/content/contentnode/?parent="+root.NodeID+"&baseurl="+base, nil, &top))
	require.Len(t, top, 1)
	require.Equal(t, topic.NodeID, top[0]["id"])
	require.Equal(t, "Reading", top[0]["title"])
	var children []map[string]any
	require.Equal(t, http.StatusOK, k.request(t, http.MethodGet, "/api/content/contentnode/?parent="+topic.NodeID+"&baseurl="+base, nil, &children))
	var titles []string
	for _, c := range children {
		titles = append(titles, c["title"].(string))
		require.Equal(t, false, c["admin_imported"], "Kolibri marks what it has imported itself")
	}
	require.Equal(t, []string{"First page", "Second page"}, titles)

	// Paged, as Kolibri's resource pickers ask.
	var page struct {
		More    map[string]any
		Results []map[string]any
		Labels  map[string]any
	}
	require.Equal(t, http.StatusOK, k.request(t, http.MethodGet, "/api/content/contentnode/?parent="+topic.NodeID+"&max_results=1&baseurl="+base, nil, &page))
	require.Len(t, page.Results, 1)
	require.NotNil(t, page.More, "a second page")
	require.Equal(t, loc.BaseURL, page.More["baseurl"], "Kolibri points the next page at studio")

	// The tree, from the root.
	var tree map[string]any
	require.Equal(t, http.StatusOK, k.request(t, http.MethodGet, "/api/content/contentnode_tree/"+root.NodeID+"/?baseurl="+base, nil, &tree))
	require.Equal(t, root.NodeID, tree["id"])
	kids := tree["children"].(map[string]any)["results"].([]any)
	require.Len(t, kids, 1)
	grandkids := kids[0].(map[string]any)["children"].(map[string]any)["results"].([]any)
	require.Len(t, grandkids, 2)

	// A resource's metadata.
	var res map[string]any
	require.Equal(t, http.StatusOK, k.request(t, http.MethodGet, "/api/content/contentnode/"+first.NodeID+"/?baseurl="+base, nil, &res))
	require.Equal(t, "First page", res["title"])
	require.Equal(t, "document", res["kind"])
	require.Equal(t, "About First page", res["description"])
	require.Equal(t, "CC BY", res["license_name"])
	require.Equal(t, "Learning Equality", res["license_owner"])
	require.Equal(t, channelID, res["channel_id"])
	files := res["files"].([]any)
	require.Len(t, files, 1)
	file := files[0].(map[string]any)
	require.Equal(t, firstSum, file["checksum"])
	require.Equal(t, "document", file["preset"])
	storage := file["storage_url"].(string)
	require.Contains(t, storage, "/content/storage/"+firstSum[:1]+"/"+firstSum[1:2]+"/"+firstSum+".pdf")
	ancestors := res["ancestors"].([]any)
	require.Len(t, ancestors, 2)
	require.Equal(t, "Reading", ancestors[1].(map[string]any)["title"])

	// A resource's import metadata (importmetadata/<node>/, what Kolibri's
	// remoteresourceimport reads first) goes into Kolibri's database through
	// Kolibri's own import of it.
	script := `
from kolibri.core.discovery.utils.network.client import NetworkClient
from kolibri.core.content.utils.channel_import import import_channel_from_data
from kolibri.core.content.models import ContentNode
c = NetworkClient.build_for_address("` + loc.BaseURL + `")
data = c.get("/api/public/v2/importmetadata/` + first.NodeID + `/").json()
import_channel_from_data(data, partial=True)
for n in ContentNode.objects.filter(channel_id="` + channelID + `").order_by("lft"):
    print("IMPORTED", n.id, n.title)
`
	imported := runKolibri(t, kolibri, k.home, "manage", "shell", "-c", script)
	require.Regexp(t, "IMPORTED "+root.NodeID+" "+channelName+"\\nIMPORTED "+topic.NodeID+" Reading\\nIMPORTED "+first.NodeID+" First page\\n", imported,
		"the resource and its ancestors, and nothing else")

	// What studio does not have is not found, through Kolibri too.
	var missing any
	require.Equal(t, http.StatusNotFound, k.request(t, http.MethodGet, "/api/content/contentnode/0123456789abcdef0123456789abcdef/?baseurl="+base, nil, &missing))
}

// kolibriServer is a Kolibri server process on a loopback port.
type kolibriServer struct {
	cmd  *exec.Cmd
	base string
	home string
	done chan error
	out  *bytes.Buffer
}

// startKolibri starts `kolibri start --foreground` with a fresh home on a
// free loopback port, and stops it (its whole process group) when the test
// ends.
func startKolibri(t *testing.T, bin string) *kolibriServer {
	t.Helper()
	return startKolibriIn(t, bin, t.TempDir())
}

// startKolibriIn starts Kolibri's server with KOLIBRI_HOME=home.
func startKolibriIn(t *testing.T, bin, home string) *kolibriServer {
	t.Helper()
	port := freePort(t)
	cmd := exec.Command(bin, "start", "--foreground", "--port", strconv.Itoa(port))
	cmd.Env = append(os.Environ(), "KOLIBRI_HOME="+home, "KOLIBRI_RUN_MODE=test", "KOLIBRI_DISABLE_PING=1",
		"KOLIBRI_LISTEN_ADDRESS=127.0.0.1", "KOLIBRI_ZEROCONF_ENABLED=false")
	out := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its workers go with it
	require.NoError(t, cmd.Start())
	k := &kolibriServer{cmd: cmd, home: home, base: "http://127.0.0.1:" + strconv.Itoa(port), done: make(chan error, 1), out: out}
	go func() { k.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-k.done:
		case <-time.After(30 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-k.done
		}
		if t.Failed() {
			t.Logf("kolibri output:\n%s", out.String())
		}
	})
	return k
}

// waitUp waits (five minutes at most: a fresh home is migrated first)
// until Kolibri answers.
func (k *kolibriServer) waitUp(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		select {
		case err := <-k.done:
			t.Fatalf("kolibri exited before it served: %v\n%s", err, k.out.String())
		default:
		}
		resp, err := http.Get(k.base + "/api/public/info/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		require.True(t, time.Now().Before(deadline), "kolibri did not answer at %s within 5 minutes (last error %v)", k.base, err)
		time.Sleep(500 * time.Millisecond)
	}
}

// request sends a JSON request to Kolibri and decodes its JSON answer.
func (k *kolibriServer) request(t *testing.T, method, path string, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, k.base+path, rd)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err, "%s %s", method, path)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, out), "%s %s: HTTP %d: %s", method, path, resp.StatusCode, raw)
	return resp.StatusCode
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
