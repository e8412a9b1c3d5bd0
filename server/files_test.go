package server_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"studio/blobs"
	"studio/db"
	"studio/db/dbtest"
	"studio/models"
	"studio/server"
	"studio/studiotest"
)

// upload sends uploadFile as a GraphQL multipart request.
func (a *api) upload(token, filename string, data []byte, input map[string]any) studiotest.Response {
	a.t.Helper()
	return a.Upload(token, `mutation($in: UploadFileInput!) { uploadFile(input: $in) { id checksum size extension url preset { id } nodeId } }`,
		map[string]any{"in": input}, studiotest.File{Path: "variables.in.file", Name: filename, Data: data})
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// blobCount counts the blobs kept in dir.
func blobCount(t *testing.T, dir string) int {
	n := 0
	_ = filepath.Walk(filepath.Join(dir, "storage"), func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n++
		}
		return nil
	})
	return n
}

func TestUploads(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		dir := t.TempDir()
		store, err := blobs.Open(ctx, dir)
		require.NoError(t, err)
		defer store.Close()
		a := newAPI(t, d, server.Config{Blobs: store})
		u := dbtest.User(t, d, "ed@example.org", false)
		token := dbtest.Token(t, d, u)
		ch := dbtest.Channel(t, d, u, "Files")
		n := dbtest.Tree(t, d, dbtest.Node(t, d, ch.RootID), "document Notes\nvideo Film")
		// The tree's fixture files have no blobs; take them away.
		_, err = d.ForTest(t).NewDelete().Model((*models.File)(nil)).Where("1 = 1").Exec(ctx)
		require.NoError(t, err)
		pdf := []byte("%PDF-1.4 a small document\n")

		r := a.upload(token, "notes.pdf", pdf, map[string]any{"preset": "document", "nodeId": n["Notes"].ID, "checksum": md5hex(pdf)})
		require.Empty(t, r.Errors)
		require.Equal(t, md5hex(pdf), get(r.Data, "uploadFile", "checksum"))
		url := get(r.Data, "uploadFile", "url").(string)
		require.Equal(t, "/content/"+blobs.Key(md5hex(pdf), "pdf"), url)
		// The same bytes again: a second file, one blob.
		r = a.upload(token, "copy.pdf", pdf, map[string]any{"preset": "document"})
		require.Empty(t, r.Errors)
		require.Equal(t, 1, blobCount(t, dir))
		// The document is complete now that it has its file.
		got := dbtest.Node(t, d, n["Notes"].ID)
		require.True(t, got.Complete)

		before := counts(t, d)
		for name, tc := range map[string]struct {
			file  string
			data  []byte
			input map[string]any
			code  string
		}{
			"checksum mismatch": {"a.pdf", []byte("other bytes"), map[string]any{"preset": "document", "checksum": md5hex(pdf)}, "BAD_USER_INPUT"},
			"epub as document":  {"book.epub", []byte("epub"), map[string]any{"preset": "document"}, "BAD_USER_INPUT"},
			"no duration":       {"film.mp4", []byte("mp4"), map[string]any{"preset": "high_res_video", "nodeId": n["Film"].ID}, "BAD_USER_INPUT"},
			"bad duration":      {"film.mp4", []byte("mp4"), map[string]any{"preset": "high_res_video", "duration": 0}, "BAD_USER_INPUT"},
			"unknown preset":    {"a.pdf", []byte("x"), map[string]any{"preset": "nope"}, "GRAPHQL_VALIDATION_FAILED"},
			"wrong kind":        {"a.pdf", []byte("y"), map[string]any{"preset": "document", "nodeId": n["Film"].ID}, "BAD_USER_INPUT"},
			"anonymous":         {"a.pdf", []byte("z"), map[string]any{"preset": "document"}, "UNAUTHENTICATED"},
		} {
			tok := token
			if name == "anonymous" {
				tok = ""
			}
			require.Equal(t, tc.code, a.upload(tok, tc.file, tc.data, tc.input).Code(), name)
		}
		require.Equal(t, 1, blobCount(t, dir), "a refused upload stores nothing")

		// Over quota: QUOTA_EXCEEDED, nothing stored.
		_, err = d.ForTest(t).NewUpdate().Model((*models.User)(nil)).Set("disk_space = ?", 100).Where("id = ?", u.ID).Exec(ctx)
		require.NoError(t, err)
		big := bytes.Repeat([]byte("x"), 200)
		r = a.upload(token, "big.pdf", big, map[string]any{"preset": "document"})
		require.Equal(t, "QUOTA_EXCEEDED", r.Code())
		require.Equal(t, 1, blobCount(t, dir))
		require.Equal(t, before, counts(t, d))

		// Serving: HEAD, a range, the whole.
		head, err := http.Head(a.url + url)
		require.NoError(t, err)
		head.Body.Close()
		require.Equal(t, http.StatusOK, head.StatusCode)
		require.Equal(t, "application/pdf", head.Header.Get("Content-Type"))
		require.Equal(t, "26", head.Header.Get("Content-Length"))
		require.Contains(t, head.Header.Get("Cache-Control"), "immutable")
		req, _ := http.NewRequest(http.MethodGet, a.url+url, nil)
		req.Header.Set("Range", "bytes=5-7")
		part, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		body, _ := io.ReadAll(part.Body)
		part.Body.Close()
		require.Equal(t, http.StatusPartialContent, part.StatusCode)
		require.Equal(t, "bytes 5-7/26", part.Header.Get("Content-Range"))
		require.Equal(t, "1.4", string(body))
		whole, err := http.Get(a.url + url)
		require.NoError(t, err)
		body, _ = io.ReadAll(whole.Body)
		whole.Body.Close()
		require.Equal(t, md5hex(body), md5hex(pdf))
		missing, err := http.Get(a.url + "/content/" + blobs.Key(md5hex([]byte("never")), "pdf"))
		require.NoError(t, err)
		missing.Body.Close()
		require.Equal(t, http.StatusNotFound, missing.StatusCode)

		// Files move between nodes and are deleted through mutations.
		_, err = d.ForTest(t).NewUpdate().Model((*models.User)(nil)).Set("disk_space = ?", models.DefaultDiskSpace).Where("id = ?", u.ID).Exec(ctx)
		require.NoError(t, err)
		more := dbtest.Tree(t, d, dbtest.Node(t, d, ch.RootID), "document Other")
		_, err = d.ForTest(t).NewDelete().Model((*models.File)(nil)).Where("node_id = ?", more["Other"].ID).Exec(ctx)
		require.NoError(t, err)
		fileID := get(a.upload(token, "notes.pdf", pdf, map[string]any{"preset": "document", "nodeId": n["Notes"].ID}).Data, "uploadFile", "id")
		moved := a.OK(token, `mutation($in: [UpdateFileInput!]!) { updateFiles(input: $in) { nodeId } }`,
			map[string]any{"in": []any{map[string]any{"id": fileID, "nodeId": more["Other"].ID}}})
		require.Equal(t, more["Other"].ID.String(), get(moved, "updateFiles", 0, "nodeId"))
		require.True(t, dbtest.Node(t, d, more["Other"].ID).Complete)
		a.OK(token, `mutation($ids: [ID!]!) { deleteFiles(ids: $ids) }`, map[string]any{"ids": []any{fileID}})
		require.False(t, dbtest.Node(t, d, more["Other"].ID).Complete)

		// A thumbnail replaces the previous one.
		png1, png2 := []byte("\x89PNG one"), []byte("\x89PNG two")
		a.upload(token, "a.png", png1, map[string]any{"preset": "document_thumbnail", "nodeId": n["Notes"].ID})
		a.upload(token, "b.png", png2, map[string]any{"preset": "document_thumbnail", "nodeId": n["Notes"].ID})
		thumbs := a.OK(token, `query($id: ID!) { contentNode(id: $id) { files { checksum preset { id } } } }`, map[string]any{"id": n["Notes"].ID})
		var found []string
		for _, f := range get(thumbs, "contentNode", "files").([]any) {
			if get(f, "preset", "id") == "document_thumbnail" {
				found = append(found, get(f, "checksum").(string))
			}
		}
		require.Equal(t, []string{md5hex(png2)}, found)
	})
}
