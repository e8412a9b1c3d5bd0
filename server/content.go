package server

import (
	"errors"
	"net/http"
	"path"
	"regexp"
	"time"

	"studio/blobs"
	"studio/models"
)

var blobName = regexp.MustCompile(`^([0-9a-f]{32})\.([a-z0-9]{1,10})$`)

// serveBlob answers /content/storage/<c0>/<c1>/<md5>.<ext>, where Kolibri
// looks for files, with HEAD and byte ranges. Blobs are named by their
// content, so they never change: caches may keep them for good. (GET
// routes answer HEAD too.)
func (s *Server) serveBlob(w http.ResponseWriter, r *http.Request) {
	m := blobName.FindStringSubmatch(r.PathValue("file"))
	if m == nil || r.PathValue("c0") != m[1][:1] || r.PathValue("c1") != m[1][1:2] {
		http.Error(w, "not a stored file's path: /content/storage/<c0>/<c1>/<md5>.<ext>", http.StatusNotFound)
		return
	}
	rd, err := s.cfg.Blobs.Open(r.Context(), blobs.Key(m[1], m[2]))
	if errors.Is(err, blobs.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		s.cfg.Logger.ErrorContext(r.Context(), "serve blob", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	defer rd.Close()
	if f, ok := models.FileFormatByExtension(m[2]); ok && f.MIMEType != "" {
		w.Header().Set("Content-Type", f.MIMEType)
	}
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Header().Set("ETag", `"`+m[1]+`"`)
	http.ServeContent(w, r, path.Base(r.URL.Path), time.Time{}, rd)
}
