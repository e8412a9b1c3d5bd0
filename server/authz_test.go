package server_test

import (
	"context"
	"encoding/json"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"studio/db"
	"studio/db/dbtest"
	"studio/jobs"
	"studio/models"
	"studio/server"
	"studio/studiotest"
)

// roles of the authorization matrix, in order.
var roles = []string{"anonymous", "other", "viewer", "editor", "admin"}

// authzCase is one row of the matrix: an operation, and what each role
// gets: "ok", or the error code.
type authzCase struct {
	query string
	vars  func(f *authzFixture) map[string]any
	want  [5]string
}

// authzFixture is a private channel with a viewer and an editor, and what
// the operations need. Each operation gets a fresh one, so that none sees
// another's writes.
type authzFixture struct {
	channel, root, ex string
	node, nodeB, item string
	fileID, viewerID  string
	job               string
	editorToken       string // one of the editor's tokens, for revokeToken
}

const (
	ok = "ok"
	un = "UNAUTHENTICATED"
	nf = "NOT_FOUND"
	fb = "FORBIDDEN"
	bi = "BAD_USER_INPUT"
)

// authzMatrix has a row for every field of Query, Mutation and
// Subscription; TestAuthorizationMatrix fails when the schema has a field
// without one.
var authzMatrix = map[string]authzCase{
	// The lookups are public vocabulary, as licenses and languages below (TestLookups reads them whole).
	"Query.contentKinds":       {`{ contentKinds { id } }`, nil, [5]string{ok, ok, ok, ok, ok}},
	"Query.formatPresets":      {`{ formatPresets(kind: video) { id } }`, nil, [5]string{ok, ok, ok, ok, ok}},
	"Query.labelSets":          {`{ labelSets { field labels { id children { id } } } }`, nil, [5]string{ok, ok, ok, ok, ok}},
	"Query.questionTypes":      {`{ questionTypes { id } }`, nil, [5]string{ok, ok, ok, ok, ok}},
	"Query.masteryModels":      {`{ masteryModels { id } }`, nil, [5]string{ok, ok, ok, ok, ok}},
	"Query.completionCriteria": {`{ completionCriteria { id } }`, nil, [5]string{ok, ok, ok, ok, ok}},
	"Query.roles":              {`{ roles { id } }`, nil, [5]string{ok, ok, ok, ok, ok}},
	"Query.modalities":         {`{ modalities { id } }`, nil, [5]string{ok, ok, ok, ok, ok}},

	"Query.me":        {`{ me { id } }`, nil, [5]string{"null", ok, ok, ok, ok}},
	"Query.licenses":  {`{ licenses { id } }`, nil, [5]string{ok, ok, ok, ok, ok}},
	"Query.languages": {`{ languages { id } }`, nil, [5]string{ok, ok, ok, ok, ok}},
	"Query.channels":  {`{ channels { totalCount } }`, nil, [5]string{ok, ok, ok, ok, ok}},
	"Query.channel": {`query($c: ID!) { channel(id: $c) { id } }`, func(f *authzFixture) map[string]any { return map[string]any{"c": f.channel} },
		[5]string{"null", "null", ok, ok, ok}},
	"Query.contentNode": {`query($n: ID!) { contentNode(id: $n) { id } }`, func(f *authzFixture) map[string]any { return map[string]any{"n": f.node} },
		[5]string{"null", "null", ok, ok, ok}},
	"Query.node": {`query($c: ID!) { node(id: $c) { id } }`, func(f *authzFixture) map[string]any { return map[string]any{"c": f.channel} },
		[5]string{"null", "null", ok, ok, ok}},
	"Query.nodes": {`query($f: ID!) { nodes(ids: [$f]) { id } }`, func(f *authzFixture) map[string]any { return map[string]any{"f": f.fileID} },
		[5]string{"[null]", "[null]", ok, ok, ok}},
	"Query.contentNodes": {`query($n: ID!) { contentNodes(ids: [$n]) { id } }`, func(f *authzFixture) map[string]any { return map[string]any{"n": f.node} },
		[5]string{"[null]", "[null]", ok, ok, ok}},
	"Query.changes": {`query($c: ID!) { changes(channelId: $c, since: 0) { maxRev } }`, func(f *authzFixture) map[string]any { return map[string]any{"c": f.channel} },
		[5]string{nf, nf, ok, ok, ok}},
	"Mutation.logout": {`mutation { logout }`, nil, [5]string{un, ok, ok, ok, ok}},
	"Mutation.revokeToken": {`mutation($t: String!) { revokeToken(token: $t) }`,
		func(f *authzFixture) map[string]any { return map[string]any{"t": f.editorToken} }, [5]string{un, nf, nf, ok, nf}}, // only one's own
	"Mutation.login":            {`mutation { login(email: "editor@example.org", password: "` + dbtest.Password + `") { token } }`, nil, [5]string{ok, ok, ok, ok, ok}},
	"Mutation.createChannel":    {`mutation { createChannel(input: {name: "New"}) { id } }`, nil, [5]string{un, ok, ok, ok, ok}},
	"Mutation.updateChannel":    {`mutation($c: ID!) { updateChannel(id: $c, input: {tagline: "x"}) { id } }`, channelVar, [5]string{un, nf, fb, ok, ok}},
	"Mutation.deleteChannel":    {`mutation($c: ID!) { deleteChannel(id: $c) { id } }`, channelVar, [5]string{un, nf, fb, ok, ok}},
	"Mutation.addChannelEditor": {`mutation($c: ID!) { addChannelEditor(channelId: $c, email: "other@example.org") { id } }`, channelVar, [5]string{un, nf, fb, ok, ok}},
	"Mutation.addChannelViewer": {`mutation($c: ID!) { addChannelViewer(channelId: $c, email: "other@example.org") { id } }`, channelVar, [5]string{un, nf, fb, ok, ok}},
	"Mutation.removeChannelMember": {`mutation($c: ID!, $u: ID!) { removeChannelMember(channelId: $c, userId: $u) { id } }`,
		func(f *authzFixture) map[string]any { return map[string]any{"c": f.channel, "u": f.viewerID} },
		[5]string{un, nf, ok, ok, ok}}, // a viewer may remove themselves
	// The permission to import into a channel is decided before its source
	// is looked up; loopback is refused to all but admins, and answers no one.
	"Mutation.importChannel":     {`mutation($c: ID!) { importChannel(source: "http://127.0.0.1:9/", channel: "0123456789abcdef0123456789abcdef", as: $c) { id } }`, channelVar, [5]string{un, nf, fb, bi, bi}},
	"Mutation.deployStagingTree": {`mutation($c: ID!) { deployStagingTree(channelId: $c) { id } }`, channelVar, [5]string{un, nf, fb, ok, ok}},
	"Mutation.createContentNodes": {`mutation($r: ID!) { createContentNodes(input: [{parentId: $r, kind: topic, title: "T"}]) { id } }`,
		func(f *authzFixture) map[string]any { return map[string]any{"r": f.root} }, [5]string{un, nf, fb, ok, ok}},
	"Mutation.updateContentNodes": {`mutation($n: ID!) { updateContentNodes(input: [{id: $n, title: "T"}]) { id } }`, nodeVar, [5]string{un, nf, fb, ok, ok}},
	"Mutation.moveContentNodes": {`mutation($n: ID!, $r: ID!) { moveContentNodes(ids: [$n], target: $r, position: FIRST_CHILD) { id } }`,
		func(f *authzFixture) map[string]any { return map[string]any{"n": f.node, "r": f.root} }, [5]string{un, nf, fb, ok, ok}},
	"Mutation.copyContentNodes": {`mutation($n: ID!, $r: ID!) { copyContentNodes(input: [{sourceId: $n, target: $r}]) { id } }`,
		func(f *authzFixture) map[string]any { return map[string]any{"n": f.node, "r": f.root} }, [5]string{un, nf, fb, ok, ok}},
	"Mutation.deleteContentNodes": {`mutation($n: ID!) { deleteContentNodes(ids: [$n]) }`, nodeVar, [5]string{un, nf, fb, ok, ok}},
	"Mutation.updateDescendants": {`mutation($r: ID!) { updateDescendants(id: $r, mods: {language: "fr"}) { id } }`,
		func(f *authzFixture) map[string]any { return map[string]any{"r": f.root} }, [5]string{un, nf, fb, ok, ok}},
	"Mutation.createAssessmentItems": {`mutation($e: ID!) { createAssessmentItems(input: [{nodeId: $e, type: input_question, question: "?"}]) { id } }`,
		exVar, [5]string{un, nf, fb, ok, ok}},
	"Mutation.updateAssessmentItems": {`mutation($e: ID!, $a: ID!) { updateAssessmentItems(input: [{nodeId: $e, assessmentId: $a, question: "?!"}]) { id } }`,
		itemVars, [5]string{un, nf, fb, ok, ok}},
	"Mutation.deleteAssessmentItems": {`mutation($e: ID!, $a: ID!) { deleteAssessmentItems(input: [{nodeId: $e, assessmentId: $a}]) { nodeId } }`,
		itemVars, [5]string{un, nf, fb, ok, ok}},
	"Mutation.addPrerequisites": {`mutation($n: ID!, $b: ID!) { addPrerequisites(input: [{nodeId: $n, prerequisiteId: $b}]) { id } }`,
		func(f *authzFixture) map[string]any { return map[string]any{"n": f.node, "b": f.nodeB} }, [5]string{un, nf, fb, ok, ok}},
	"Mutation.removePrerequisites": {`mutation($n: ID!, $b: ID!) { removePrerequisites(input: [{nodeId: $n, prerequisiteId: $b}]) { id } }`,
		func(f *authzFixture) map[string]any { return map[string]any{"n": f.node, "b": f.nodeB} }, [5]string{un, nf, fb, ok, ok}},
	"Mutation.updateFiles": {`mutation($f: ID!) { updateFiles(input: [{id: $f, language: "fr"}]) { id } }`,
		func(f *authzFixture) map[string]any { return map[string]any{"f": f.fileID} }, [5]string{un, nf, fb, ok, ok}},
	"Mutation.deleteFiles": {`mutation($f: ID!) { deleteFiles(ids: [$f]) }`,
		func(f *authzFixture) map[string]any { return map[string]any{"f": f.fileID} }, [5]string{un, nf, fb, ok, ok}},
	// uploadFile is sent as a multipart request (see outcome): a subtitle for video A.
	"Mutation.uploadFile": {"upload", func(f *authzFixture) map[string]any {
		return map[string]any{"preset": "video_subtitle", "nodeId": f.node}
	},
		[5]string{un, nf, fb, ok, ok}},
	// applyChanges reports permission change by change: disallowed.
	"Mutation.applyChanges": {`mutation($n: JSON!) { applyChanges(changes: [{type: UPDATED, table: "contentnode", key: $n, mods: {title: "T"}}]) { allowed { index } disallowed { index } } }`,
		nodeVar, [5]string{un, "disallowed", "disallowed", ok, ok}},
	"Mutation.publishChannel":     {`mutation($c: ID!) { publishChannel(channelId: $c) { id } }`, channelVar, [5]string{un, nf, fb, ok, ok}},
	"Query.job":                   {`query($j: ID!) { job(id: $j) { id } }`, jobVar, [5]string{"null", "null", ok, ok, ok}},
	"Subscription.jobUpdated":     {`subscription($j: ID!) { jobUpdated(id: $j) { id } }`, jobVar, [5]string{nf, nf, ok, ok, ok}},
	"Subscription.channelChanges": {`subscription($c: ID!) { channelChanges(channelId: $c, since: 0) { serverRev } }`, channelVar, [5]string{nf, nf, ok, ok, ok}},
	// Fields of other types that hold secrets (versions' tokens); the
	// public channel's case is TestChannelVersionsVisibility's.
	"Channel.versions": {`query($c: ID!) { channel(id: $c) { versions { version token } } }`, channelVar, [5]string{"null", "null", ok, ok, ok}},
}

func channelVar(f *authzFixture) map[string]any { return map[string]any{"c": f.channel} }
func jobVar(f *authzFixture) map[string]any     { return map[string]any{"j": f.job} }
func nodeVar(f *authzFixture) map[string]any    { return map[string]any{"n": f.node} }
func exVar(f *authzFixture) map[string]any      { return map[string]any{"e": f.ex} }
func itemVars(f *authzFixture) map[string]any   { return map[string]any{"e": f.ex, "a": f.item} }

// schemaFields lists Query, Mutation and Subscription fields as "Type.field".
func schemaFields(t *testing.T) []string {
	src, err := os.ReadFile("../schema.graphqls")
	require.NoError(t, err)
	schema, gerr := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphqls", Input: string(src)})
	require.Nil(t, gerr)
	var out []string
	for _, typ := range []*ast.Definition{schema.Query, schema.Mutation, schema.Subscription} {
		for _, f := range typ.Fields {
			if f.Name[0] != '_' {
				out = append(out, typ.Name+"."+f.Name)
			}
		}
	}
	sort.Strings(out)
	return out
}

// TestAuthorizationMatrix runs every query, mutation and subscription as
// anonymous, a stranger, a viewer, an editor and an admin of a private
// channel, and checks each gets what studio-backend.md §3 allows.
func TestAuthorizationMatrix(t *testing.T) {
	var rows, rootRows []string
	for k := range authzMatrix {
		rows = append(rows, k)
		if typ, _, _ := strings.Cut(k, "."); typ == "Query" || typ == "Mutation" || typ == "Subscription" {
			rootRows = append(rootRows, k)
		}
	}
	sort.Strings(rows)
	sort.Strings(rootRows)
	require.Equal(t, schemaFields(t), rootRows, "every field of Query, Mutation and Subscription needs a row in authzMatrix")

	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := newAPI(t, d, server.Config{})
		users := map[string]*models.User{
			"other": dbtest.User(t, d, "other@example.org", false), "viewer": dbtest.User(t, d, "viewer@example.org", false),
			"editor": dbtest.User(t, d, "editor@example.org", false), "admin": dbtest.User(t, d, "admin@example.org", true),
		}
		for _, name := range rows {
			row := authzMatrix[name]
			for i, role := range roles {
				f := newAuthzFixture(t, d, a.jobs, users)
				var vars map[string]any
				if row.vars != nil {
					vars = row.vars(f)
				}
				token := "" // a fresh one each time: logout revokes it
				if u := users[role]; u != nil {
					token = dbtest.Token(t, d, u)
				}
				got := outcome(t, a, token, row.query, vars)
				require.Equal(t, row.want[i], got, "%s as %s", name, role)
			}
		}
	})
}

func newAuthzFixture(t *testing.T, d *db.DB, c *jobs.Client, users map[string]*models.User) *authzFixture {
	ctx := context.Background()
	ch := dbtest.Channel(t, d, users["editor"], "Private")
	_, err := d.SetMember(ctx, users["editor"], ch.ID, "viewer@example.org", models.RoleViewer)
	require.NoError(t, err)
	n := dbtest.Tree(t, d, dbtest.Node(t, d, ch.RootID), "video A\nvideo B\nexercise Ex")
	item := models.NewID()
	_, err = d.Apply(ctx, users["editor"], []db.Change{
		{Type: models.ChangeUpdated, Table: db.TableContentNode, Key: n["Ex"].ID, Mods: map[string]any{"extra_fields.randomize": true}},
		{Type: models.ChangeCreated, Table: db.TableAssessmentItem, Key: []models.ID{n["Ex"].ID, item},
			Obj: map[string]any{"type": "input_question", "question": "?"}},
	}, true)
	require.NoError(t, err)
	files, err := d.FilesByNode(ctx, []models.ID{n["A"].ID})
	require.NoError(t, err)
	// A chef's upload waits as the staging tree, for deployStagingTree.
	_, _, err = d.BeginChefTree(ctx, users["editor"], db.ChefChannel{ID: ch.ID, Name: "Private", Language: "en"})
	require.NoError(t, err)
	_, err = d.FinishChefTree(ctx, users["editor"], ch.ID, true)
	require.NoError(t, err)
	other := dbtest.Channel(t, d, users["editor"], "Published")
	_, err = d.SetMember(ctx, users["editor"], other.ID, "viewer@example.org", models.RoleViewer)
	require.NoError(t, err)
	dbtest.Tree(t, d, dbtest.Node(t, d, other.RootID), "video A")
	job, err := jobs.RequestPublish(ctx, d, c, users["editor"], other.ID, "", false)
	require.NoError(t, err)
	return &authzFixture{job: models.JobID(job).String(), channel: ch.ID.String(), root: ch.RootID.String(), node: n["A"].ID.String(), nodeB: n["B"].ID.String(),
		ex: n["Ex"].ID.String(), item: item.String(), fileID: files[n["A"].ID][0].ID.String(), viewerID: users["viewer"].ID.String(),
		editorToken: dbtest.Token(t, d, users["editor"])}
}

// outcome runs one operation and sums up what came back: "ok", "null",
// "[null]", "disallowed", or the error's code.
func outcome(t *testing.T, a *api, token, query string, vars map[string]any) string {
	t.Helper()
	if query == "upload" {
		r := a.upload(token, "subtitles.vtt", []byte("WEBVTT\n\n"+time.Now().String()), vars)
		if len(r.Errors) > 0 {
			return r.Code()
		}
		return ok
	}
	if len(query) > 12 && query[:12] == "subscription" {
		ws, err := studiotest.Dial(t, a.url, token)
		require.NoError(t, err)
		defer ws.Close()
		ws.Subscribe("1", query, vars)
		m, err := ws.Next(5 * time.Second)
		require.NoError(t, err)
		var r studiotest.Response
		require.NoError(t, json.Unmarshal(m.Payload, &r))
		if len(r.Errors) > 0 {
			return r.Code()
		}
		return ok
	}
	r := a.Do(token, query, vars)
	if len(r.Errors) > 0 {
		return r.Code()
	}
	for _, v := range r.Data {
		switch x := v.(type) {
		case nil:
			return "null"
		case []any:
			if len(x) == 1 && x[0] == nil {
				return "[null]"
			}
		case map[string]any:
			if dis, _ := x["disallowed"].([]any); len(dis) > 0 {
				return "disallowed"
			}
		}
	}
	return ok
}
