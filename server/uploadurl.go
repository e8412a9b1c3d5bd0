package server

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"studio/blobs"
	"studio/db"
	"studio/graph"
	"studio/models"
)

// ricecooker uploads a file in two steps, as to Studio: POST
// /api/file/upload_url describes it and gets a URL, and a PUT of the bytes
// to that URL stores them. Studio's URL is a presigned one of its bucket;
// ours is a one-time URL on studio (/api/file/upload/<secret>), recorded
// in the database so that any instance takes the PUT, once, before it
// expires. The bytes are stored at the content-addressed key, where HEAD
// /content/storage/… then finds them; no File row is made until a node
// names the file in add_nodes.

// uploadURLTTL is how long an upload URL may be used after it was given.
const uploadURLTTL = time.Hour

const uploadPath = "/api/file/upload/"

var md5Hex = regexp.MustCompile(`^[0-9a-f]{32}$`)

func (s *Server) mountUploads(mux *http.ServeMux) {
	mux.Handle("POST /api/file/upload_url", s.chef(s.chefUploadURL))
	mux.Handle("PUT "+uploadPath+"{token}", s.boundAs(http.HandlerFunc(s.putUpload), func(*http.Request) bool { return true }))
	mux.Handle("POST /api/internal/file_diff", s.chef(s.chefFileDiff))
	mux.Handle("POST /api/internal/file_upload", s.chef(s.chefFileUpload))
}

func (s *Server) maxUpload() int64 {
	if s.cfg.MaxUpload > 0 {
		return s.cfg.MaxUpload
	}
	return graph.DefaultMaxUpload
}

// chefUploadURL checks a file the chef is about to upload as Studio does
// (checksum, format, preset, duration, size, then quota: 412) and answers
// with a one-time URL to PUT it to. might_skip says that the bytes are
// stored already: ricecooker then HEADs them and skips the PUT.
func (s *Server) chefUploadURL(w http.ResponseWriter, r *http.Request, u *models.User) error {
	var in struct {
		Size       *int64   `json:"size"`
		Checksum   *string  `json:"checksum"`
		Name       *string  `json:"name"`
		FileFormat *string  `json:"file_format"`
		Preset     *string  `json:"preset"`
		Duration   *float64 `json:"duration"`
	}
	if err := readJSON(r, &in); err != nil {
		return err
	}
	if in.Size == nil || in.Checksum == nil || in.Name == nil || in.FileFormat == nil || in.Preset == nil {
		return models.Errorf(models.CodeBadUserInput, "send size, checksum, name, file_format and preset")
	}
	ext := strings.ToLower(*in.FileFormat)
	format, formatOK := models.FileFormatByExtension(ext)
	p, presetOK := models.PresetByID(*in.Preset)
	switch {
	case *in.Size < 0:
		return models.Errorf(models.CodeBadUserInput, "size %d is negative", *in.Size)
	case !md5Hex.MatchString(*in.Checksum):
		return models.Errorf(models.CodeBadUserInput, "checksum %q is not an md5: 32 lowercase hex characters", *in.Checksum)
	case !formatOK:
		return models.Errorf(models.CodeBadUserInput, "file_format %q is not a format studio stores", *in.FileFormat)
	case !presetOK:
		return models.Errorf(models.CodeBadUserInput, "preset %q is not a format preset", *in.Preset)
	case !p.Allows(ext):
		return models.Errorf(models.CodeBadUserInput, "preset %s takes %s files, not .%s", p.ID, strings.Join(p.AllowedFormats, ", "), ext)
	case p.NeedsDuration() && (in.Duration == nil || *in.Duration <= 0):
		return models.Errorf(models.CodeBadUserInput, "%s files need their duration: a number of seconds, more than 0", ext)
	case *in.Size > s.maxUpload():
		return models.Errorf(models.CodeBadUserInput, "the file is %d bytes, over the limit of %d", *in.Size, s.maxUpload())
	}
	ctx := r.Context()
	token, err := s.db.CreateUploadURL(ctx, u, db.NewUpload{Checksum: *in.Checksum, Extension: ext, Size: *in.Size}, time.Now(), uploadURLTTL)
	if err != nil {
		return err
	}
	stored, err := s.cfg.Blobs.Exists(ctx, blobs.Key(*in.Checksum, ext))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"uploadURL": s.baseURL(r) + uploadPath + token,
		"mimetype": mimeType(format), "might_skip": stored, "resumable": false})
	return nil
}

func mimeType(f models.FileFormat) string {
	if f.MIMEType == "" {
		return "application/octet-stream"
	}
	return f.MIMEType
}

// putUpload takes the bytes for an upload URL: their length, their md5
// (and Content-MD5, when sent) must be what the URL was given for. They
// are stored, and the URL used up, in one transaction; anything refused
// stores nothing and leaves the URL usable, except that a used or expired
// URL is refused before the body is read. The URL is the credential, as a
// presigned one is: an Authorization header (ricecooker sends its token)
// is not needed.
func (s *Server) putUpload(w http.ResponseWriter, r *http.Request) {
	began := time.Now()
	token := r.PathValue("token")
	fail := func(err error) { s.chefError(w, r, err) }
	up, err := s.db.UploadURLByToken(r.Context(), token, began)
	if err != nil {
		fail(err)
		return
	}
	if r.ContentLength >= 0 && r.ContentLength != up.Size {
		fail(models.Errorf(models.CodeBadUserInput, "the body is %d bytes; this URL is for a file of %d", r.ContentLength, up.Size))
		return
	}
	if h := r.Header.Get("Content-MD5"); h != "" {
		sum, err := base64.StdEncoding.DecodeString(strings.TrimSpace(h))
		if err != nil || hex.EncodeToString(sum) != up.Checksum {
			fail(models.Errorf(models.CodeBadUserInput, "Content-MD5 %q is not the base64 md5 %s this URL is for", h, up.Checksum))
			return
		}
	}
	sp, err := s.spool(r.Body, up.Size, up.Checksum)
	if err != nil {
		fail(err)
		return
	}
	defer sp.Remove()
	format, _ := models.FileFormatByExtension(up.Extension)
	err = s.db.UseUploadURL(r.Context(), token, began, func(ctx context.Context, up *db.UploadURL) error {
		return s.cfg.Blobs.Store(ctx, blobs.Key(up.Checksum, up.Extension), sp, mimeType(format))
	})
	if err != nil {
		fail(err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true})
}

// spool writes body to a temporary file and checks that it is size bytes
// (at most, when size is -1: s.maxUpload) with md5 checksum ("": any).
func (s *Server) spool(body io.Reader, size int64, checksum string) (*blobs.Spooled, error) {
	limit := size
	if limit < 0 {
		limit = s.maxUpload()
	}
	sp, err := s.cfg.Blobs.Spool(body, limit)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.Is(err, blobs.ErrTooLarge) || errors.As(err, &tooLarge):
		return nil, models.Errorf(models.CodeBadUserInput, "the body is over the %d bytes expected", limit)
	case err != nil:
		return nil, err
	}
	switch {
	case size >= 0 && sp.Size != size:
		sp.Remove()
		return nil, models.Errorf(models.CodeBadUserInput, "the body is %d bytes, not the %d expected: it was cut short; send it again", sp.Size, size)
	case checksum != "" && sp.Checksum != checksum:
		sp.Remove()
		return nil, models.Errorf(models.CodeBadUserInput, "the body's md5 is %s, not %s: it was changed on the way; send it again", sp.Checksum, checksum)
	}
	return sp, nil
}

// maxFileDiff bounds the names of one file_diff call.
const maxFileDiff = 50000

// chefFileDiff (older chefs) answers which of the files named
// "<md5>.<ext>" are not stored, for the chef to upload.
func (s *Server) chefFileDiff(w http.ResponseWriter, r *http.Request, _ *models.User) error {
	var names []string
	if err := readJSON(r, &names); err != nil {
		return err
	}
	if len(names) > maxFileDiff {
		return models.Errorf(models.CodeBadUserInput, "%d names; send at most %d a call", len(names), maxFileDiff)
	}
	for i, name := range names {
		if !blobName.MatchString(name) {
			return models.Errorf(models.CodeBadUserInput, "[%d]: %q is not a stored file's name, <md5>.<ext>", i, name)
		}
	}
	missing := make([]bool, len(names))
	var mu sync.Mutex
	var firstErr error
	work := make(chan int)
	var wg sync.WaitGroup
	for range 8 { // an object store answers each in a round trip
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				m := blobName.FindStringSubmatch(names[i])
				ok, err := s.cfg.Blobs.Exists(r.Context(), blobs.Key(m[1], m[2]))
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				missing[i] = !ok
				mu.Unlock()
			}
		}()
	}
	for i := range names {
		work <- i
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	out := []string{}
	seen := map[string]bool{}
	for i, name := range names {
		if missing[i] && !seen[name] {
			out = append(out, name)
			seen[name] = true
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// chefFileUpload (older chefs; deprecated since ricecooker 0.7) takes a
// file as a multipart part "file" named "<md5>.<ext>", which its bytes
// must match. It is an upload URL given and used at once, so quota (412)
// and the collector treat it as one.
func (s *Server) chefFileUpload(w http.ResponseWriter, r *http.Request, u *models.User) error {
	mr, err := r.MultipartReader()
	if err != nil {
		return models.Errorf(models.CodeBadUserInput, "send the file as multipart/form-data, in a part named file: %v", err)
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return models.Errorf(models.CodeBadUserInput, "no part named file")
		}
		if err != nil {
			return models.Errorf(models.CodeBadUserInput, "the multipart body: %v", err)
		}
		if part.FormName() != "file" {
			continue
		}
		m := blobName.FindStringSubmatch(part.FileName())
		if m == nil {
			return models.Errorf(models.CodeBadUserInput, "the file is named %q; name it <md5>.<ext>", part.FileName())
		}
		format, ok := models.FileFormatByExtension(m[2])
		if !ok {
			return models.Errorf(models.CodeBadUserInput, ".%s is not a format studio stores", m[2])
		}
		sp, err := s.spool(part, -1, m[1])
		if err != nil {
			return err
		}
		defer sp.Remove()
		now := time.Now()
		token, err := s.db.CreateUploadURL(r.Context(), u, db.NewUpload{Checksum: sp.Checksum, Extension: m[2], Size: sp.Size}, now, uploadURLTTL)
		if err != nil {
			return err
		}
		err = s.db.UseUploadURL(r.Context(), token, now, func(ctx context.Context, up *db.UploadURL) error {
			return s.cfg.Blobs.Store(ctx, blobs.Key(up.Checksum, up.Extension), sp, mimeType(format))
		})
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"success": true})
		return nil
	}
}
