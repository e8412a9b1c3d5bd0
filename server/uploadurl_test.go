package server_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"studio/blobs"
	"studio/db"
	"studio/db/dbtest"
	"studio/server"
)

func md5base64(b []byte) string {
	sum := md5.Sum(b)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// uploadRequest is upload_url's body for data, as ricecooker sends it.
func uploadRequest(data []byte, ext, preset string, duration any) map[string]any {
	return map[string]any{"size": len(data), "checksum": md5hex(data), "name": "original." + ext,
		"file_format": ext, "preset": preset, "duration": duration}
}

// put sends bytes to an upload URL as ricecooker does: its token, the
// mimetype upload_url gave, and Content-MD5.
func put(t *testing.T, url, token string, data []byte, header ...string) chefResponse {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, url, bytes.NewReader(data))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Token "+token)
	req.Header.Set("Content-MD5", md5base64(data))
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return chefResponse{Status: resp.StatusCode, Body: raw}
}

// head is ricecooker's check of whether a file is stored: no token.
func head(t *testing.T, a *api, data []byte, ext string) (int, int64) {
	t.Helper()
	sum := md5hex(data)
	resp, err := http.Head(a.url + "/content/storage/" + sum[:1] + "/" + sum[1:2] + "/" + sum + "." + ext)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode, resp.ContentLength
}

// TestChefUploadURL: upload_url checks the file as Studio does, and the
// URL it gives takes the bytes once, after which HEAD finds them.
func TestChefUploadURL(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := newAPI(t, d, server.Config{MaxUpload: 1 << 20})
		token := dbtest.Token(t, d, dbtest.User(t, d, "chef@example.org", false))
		pdf := []byte("%PDF-1.4 a document that ricecooker uploads")

		for _, tc := range []struct {
			name string
			body any
			want string
		}{
			{"nothing", `{}`, "send size, checksum"},
			{"no preset", map[string]any{"size": 1, "checksum": md5hex(pdf), "name": "a.pdf", "file_format": "pdf"}, "send size"},
			{"a size that is not a number", map[string]any{"size": "1", "checksum": md5hex(pdf), "name": "a.pdf", "file_format": "pdf", "preset": "document"}, "JSON"},
			{"a negative size", map[string]any{"size": -1, "checksum": md5hex(pdf), "name": "a.pdf", "file_format": "pdf", "preset": "document"}, "negative"},
			{"a checksum in capitals", map[string]any{"size": 1, "checksum": strings.ToUpper(md5hex(pdf)), "name": "a.pdf", "file_format": "pdf", "preset": "document"}, "not an md5"},
			{"a short checksum", map[string]any{"size": 1, "checksum": "abc", "name": "a.pdf", "file_format": "pdf", "preset": "document"}, "not an md5"},
			{"an unknown format", uploadRequest(pdf, "exe", "document", nil), "not a format"},
			{"an unknown preset", uploadRequest(pdf, "pdf", "pamphlet", nil), "not a format preset"},
			{"a format the preset does not take", uploadRequest(pdf, "mp4", "document", 3), "takes pdf"},
			{"a video without its duration", uploadRequest(pdf, "mp4", "low_res_video", nil), "duration"},
			{"a video of no duration", uploadRequest(pdf, "mp4", "high_res_video", 0), "duration"},
			{"audio without its duration", uploadRequest(pdf, "mp3", "audio", nil), "duration"},
			{"a webm without its duration", uploadRequest(pdf, "webm", "low_res_video", nil), "duration"},
			{"over the size limit", map[string]any{"size": 1<<20 + 1, "checksum": md5hex(pdf), "name": "a.pdf", "file_format": "pdf", "preset": "document"}, "over the limit"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := a.chef(token, http.MethodPost, "/api/file/upload_url", tc.body, "Content-Type", "application/json")
				require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Body)
				require.Contains(t, string(r.Body), tc.want)
			})
		}
		n, err := d.ForTest(t).NewSelect().TableExpr("upload_urls").Count(context.Background())
		require.NoError(t, err)
		require.Zero(t, n, "a refused request records no URL")

		status, _ := head(t, a, pdf, "pdf")
		require.Equal(t, http.StatusNotFound, status)
		r := a.chef(token, http.MethodPost, "/api/file/upload_url", uploadRequest(pdf, "pdf", "document", nil), "Content-Type", "application/json")
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		body := r.json(t)
		require.Equal(t, "application/pdf", body["mimetype"])
		require.Equal(t, false, body["might_skip"])
		url := body["uploadURL"].(string)
		require.True(t, strings.HasPrefix(url, a.url+"/api/file/upload/"), url)

		r = put(t, url, token, pdf, "Content-Type", "application/pdf")
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		status, size := head(t, a, pdf, "pdf")
		require.Equal(t, http.StatusOK, status, "HEAD finds the bytes where ricecooker looks")
		require.EqualValues(t, len(pdf), size)

		// Once only.
		r = put(t, url, token, pdf)
		require.Equal(t, http.StatusConflict, r.Status, "%s", r.Body)
		require.Contains(t, string(r.Body), "used already")

		// Asked again, the URL says the bytes are there; ricecooker then
		// HEADs and skips the PUT.
		r = a.chef(token, http.MethodPost, "/api/file/upload_url", uploadRequest(pdf, "pdf", "document", nil))
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, true, r.json(t)["might_skip"])

		// A video with its duration; the URL needs no token (it is one).
		video := []byte("not really a video, but its bytes")
		r = a.chef(token, http.MethodPost, "/api/file/upload_url", uploadRequest(video, "mp4", "low_res_video", 2))
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, "video/mp4", r.json(t)["mimetype"])
		r = put(t, r.json(t)["uploadURL"].(string), token, video, "Authorization", "", "Content-MD5", "")
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		status, _ = head(t, a, video, "mp4")
		require.Equal(t, http.StatusOK, status)

		// An unknown URL.
		r = put(t, a.url+"/api/file/upload/nothing-like-it", token, pdf)
		require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
	})
}

// TestChefUploadRefused: bytes that are not what the URL is for store
// nothing and leave the URL usable; an expired URL is refused.
func TestChefUploadRefused(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := newAPI(t, d, server.Config{})
		token := dbtest.Token(t, d, dbtest.User(t, d, "chef@example.org", false))
		data := []byte("the bytes the chef means to send")
		urlFor := func(data []byte) string {
			r := a.chef(token, http.MethodPost, "/api/file/upload_url", uploadRequest(data, "pdf", "document", nil))
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
			return r.json(t)["uploadURL"].(string)
		}
		url := urlFor(data)
		changed := bytes.ToUpper(data) // as long, another md5
		for _, tc := range []struct {
			name   string
			body   []byte
			header []string
			want   string
		}{
			{"other bytes", changed, []string{"Content-MD5", ""}, "md5"},
			{"other bytes with their own Content-MD5", changed, nil, "Content-MD5"},
			{"the right bytes with a wrong Content-MD5", data, []string{"Content-MD5", md5base64(changed)}, "Content-MD5"},
			{"a Content-MD5 that is not base64", data, []string{"Content-MD5", "!!"}, "Content-MD5"},
			{"fewer bytes", data[:10], []string{"Content-MD5", ""}, "bytes"},
			{"more bytes", append(append([]byte{}, data...), 'x'), []string{"Content-MD5", ""}, "bytes"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := put(t, url, token, tc.body, tc.header...)
				require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Body)
				require.Contains(t, string(r.Body), tc.want)
				for _, b := range [][]byte{data, changed, tc.body} {
					status, _ := head(t, a, b, "pdf")
					require.Equal(t, http.StatusNotFound, status, "nothing is stored")
				}
			})
		}
		// A body of unknown length (chunked) is checked as it arrives.
		req, err := http.NewRequest(http.MethodPut, url, io.MultiReader(bytes.NewReader(data), strings.NewReader("and more")))
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)

		// The URL is still good for the right bytes.
		require.Equal(t, http.StatusOK, put(t, url, token, data).Status)
		status, _ := head(t, a, data, "pdf")
		require.Equal(t, http.StatusOK, status)

		// An expired URL is refused before its body is read.
		other := []byte("bytes uploaded too late")
		late := urlFor(other)
		_, err = d.ForTest(t).NewUpdate().TableExpr("upload_urls").Set("expires_at = ?", time.Now().UTC().Add(-time.Second)).
			Where("used_at IS NULL").Exec(context.Background())
		require.NoError(t, err)
		r := put(t, late, token, other)
		require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
		require.Contains(t, string(r.Body), "expired")
		status, _ = head(t, a, other, "pdf")
		require.Equal(t, http.StatusNotFound, status)
	})
}

// TestChefUploadOnce: several PUTs of one URL at once store it once and
// all but one are refused, on one server or on two sharing the database.
func TestChefUploadOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		store, err := blobs.Open(context.Background(), t.TempDir())
		require.NoError(t, err)
		t.Cleanup(func() { store.Close() })
		a := newAPI(t, d, server.Config{Blobs: store})
		b := newAPI(t, d, server.Config{Blobs: store}) // another instance
		token := dbtest.Token(t, d, dbtest.User(t, d, "chef@example.org", false))
		data := bytes.Repeat([]byte("a file of some size "), 10000)
		r := a.chef(token, http.MethodPost, "/api/file/upload_url", uploadRequest(data, "pdf", "document", nil))
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		url := r.json(t)["uploadURL"].(string)
		statuses := make(chan int, 6)
		for i := range 6 {
			target := url
			if i%2 == 1 {
				target = strings.Replace(url, a.url, b.url, 1)
			}
			go func() {
				req, err := http.NewRequest(http.MethodPut, target, bytes.NewReader(data))
				if err != nil {
					statuses <- 0
					return
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					statuses <- 0
					return
				}
				resp.Body.Close()
				statuses <- resp.StatusCode
			}()
		}
		got := map[int]int{}
		for range 6 {
			got[<-statuses]++
		}
		require.Equal(t, map[int]int{http.StatusOK: 1, http.StatusConflict: 5}, got)
	})
}

// TestChefUploadQuota: upload_url is 412 when the file would take its user
// over their quota, counting the files being uploaded through URLs; a file
// that counts already, and admins, pass.
func TestChefUploadQuota(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := newAPI(t, d, server.Config{})
		u := dbtest.User(t, d, "chef@example.org", false)
		token := dbtest.Token(t, d, u)
		admin := dbtest.Token(t, d, dbtest.User(t, d, "admin@example.org", true))
		_, err := d.ForTest(t).NewUpdate().TableExpr("users").Set("disk_space = 100").Where("id = ?", u.ID).Exec(context.Background())
		require.NoError(t, err)
		ask := func(token string, data []byte) chefResponse {
			return a.chef(token, http.MethodPost, "/api/file/upload_url", uploadRequest(data, "pdf", "document", nil))
		}
		big := bytes.Repeat([]byte("b"), 101)
		r := ask(token, big)
		require.Equal(t, http.StatusPreconditionFailed, r.Status, "%s", r.Body)
		require.Contains(t, string(r.Body), "QUOTA_EXCEEDED")
		require.Equal(t, http.StatusOK, ask(admin, big).Status, "admins have no quota")

		first := bytes.Repeat([]byte("f"), 60)
		r = ask(token, first)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, http.StatusOK, put(t, r.json(t)["uploadURL"].(string), token, first).Status)
		used, err := d.DiskUsage(context.Background(), u.ID)
		require.NoError(t, err)
		require.EqualValues(t, 60, used, "an uploaded file counts before a node names it")
		require.Equal(t, http.StatusPreconditionFailed, ask(token, bytes.Repeat([]byte("s"), 60)).Status, "60 + 60 > 100")
		require.Equal(t, http.StatusOK, ask(token, first).Status, "the same file again counts once")
		require.Equal(t, http.StatusOK, ask(token, bytes.Repeat([]byte("s"), 40)).Status, "60 + 40 = 100")
		require.Equal(t, http.StatusPreconditionFailed, ask(token, []byte("t")).Status, "a URL not used yet counts too")
	})
}

// TestChefOlderUploads: file_diff names the files not stored; file_upload
// (deprecated) stores a file named by its md5, checked, within quota.
func TestChefOlderUploads(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := newAPI(t, d, server.Config{})
		u := dbtest.User(t, d, "chef@example.org", false)
		token := dbtest.Token(t, d, u)
		upload := func(name string, data []byte) chefResponse {
			var body bytes.Buffer
			mw := multipart.NewWriter(&body)
			part, err := mw.CreateFormFile("file", name)
			require.NoError(t, err)
			_, err = part.Write(data)
			require.NoError(t, err)
			require.NoError(t, mw.Close())
			return a.chef(token, http.MethodPost, "/api/internal/file_upload", body.Bytes(), "Content-Type", mw.FormDataContentType())
		}
		data := []byte("a file an old chef uploads")
		name := md5hex(data) + ".pdf"
		missing := md5hex([]byte("never uploaded")) + ".mp4"

		r := a.chef(token, http.MethodPost, "/api/internal/file_diff", []string{name, missing, name})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.JSONEq(t, `["`+name+`", "`+missing+`"]`, string(r.Body))

		for _, tc := range []struct {
			name, filename, want string
		}{
			{"a name that is not an md5", "notes.pdf", "name it <md5>.<ext>"},
			{"bytes that are not the name's", md5hex([]byte("other")) + ".pdf", "md5"},
			{"an unknown format", md5hex(data) + ".exe", "not a format"},
		} {
			r := upload(tc.filename, data)
			require.Equal(t, http.StatusBadRequest, r.Status, "%s: %s", tc.name, r.Body)
			require.Contains(t, string(r.Body), tc.want, tc.name)
		}
		r = upload(name, data)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.JSONEq(t, `{"success": true}`, string(r.Body))
		status, _ := head(t, a, data, "pdf")
		require.Equal(t, http.StatusOK, status)

		r = a.chef(token, http.MethodPost, "/api/internal/file_diff", []string{name, missing})
		require.JSONEq(t, `["`+missing+`"]`, string(r.Body))
		r = a.chef(token, http.MethodPost, "/api/internal/file_diff", []string{"a.pdf"})
		require.Equal(t, http.StatusBadRequest, r.Status)
		r = a.chef(token, http.MethodPost, "/api/internal/file_diff", `{"files": []}`)
		require.Equal(t, http.StatusBadRequest, r.Status)

		_, err := d.ForTest(t).NewUpdate().TableExpr("users").Set("disk_space = 30").Where("id = ?", u.ID).Exec(context.Background())
		require.NoError(t, err)
		more := []byte("another file, which would go over the quota")
		r = upload(md5hex(more)+".pdf", more)
		require.Equal(t, http.StatusPreconditionFailed, r.Status, "%s", r.Body)
		status, _ = head(t, a, more, "pdf")
		require.Equal(t, http.StatusNotFound, status)
	})
}

// TestChefUploadsKeepTheirBlobs: an uploaded file no node names yet is
// not collected (a chef names its files after uploading all of them); once
// its URL is older than db.UploadKeep, it is.
func TestChefUploadsKeepTheirBlobs(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := newAPI(t, d, server.Config{})
		token := dbtest.Token(t, d, dbtest.User(t, d, "chef@example.org", false))
		data := []byte("uploaded, not yet named")
		r := a.chef(token, http.MethodPost, "/api/file/upload_url", uploadRequest(data, "pdf", "document", nil))
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, http.StatusOK, put(t, r.json(t)["uploadURL"].(string), token, data).Status)
		ctx := context.Background()
		inUse, err := d.ChecksumsInUse(ctx, []string{md5hex(data), md5hex([]byte("other"))})
		require.NoError(t, err)
		require.Equal(t, map[string]bool{md5hex(data): true}, inUse)
		deleted, err := d.DeleteUnusedBlob(ctx, md5hex(data), func(context.Context) (bool, error) { return true, nil })
		require.NoError(t, err)
		require.False(t, deleted, "the collector keeps it")

		_, err = d.ForTest(t).NewUpdate().TableExpr("upload_urls").Set("created_at = ?", time.Now().UTC().Add(-db.UploadKeep-time.Minute)).
			Where("checksum = ?", md5hex(data)).Exec(ctx)
		require.NoError(t, err)
		inUse, err = d.ChecksumsInUse(ctx, []string{md5hex(data)})
		require.NoError(t, err)
		require.Empty(t, inUse)
		deleted, err = d.DeleteUnusedBlob(ctx, md5hex(data), func(context.Context) (bool, error) { return true, nil })
		require.NoError(t, err)
		require.True(t, deleted)
	})
}
