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

// inertContent makes what /content/ serves inert on this origin, which is
// also the API's and the playground's: an uploaded file (an SVG, say) must
// not run script there. The sandbox policy gives a document opened from
// here a unique origin and no script; nosniff keeps a browser to the type
// sent. Images still show in <img>, which ignores both.
func inertContent(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		// No script from anywhere; images, media and inline style still
		// load, so that a picture or a video opened on its own shows.
		h.Set("Content-Security-Policy", "sandbox; default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'")
		h.Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}

// inlineTypes are the formats a browser may show in its window: anything
// else, and any format that can carry script (svg, and html or xml if such
// a file were ever stored), is sent as an attachment, to be downloaded.
var inlineTypes = map[string]bool{
	"mp4": true, "webm": true, "vtt": true, "pdf": true, "mp3": true,
	"jpg": true, "jpeg": true, "png": true, "gif": true, "json": true,
}

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
	// The type is always set, never sniffed from the name or the bytes.
	contentType := "application/octet-stream"
	if f, ok := models.FileFormatByExtension(m[2]); ok && f.MIMEType != "" {
		contentType = f.MIMEType
	}
	w.Header().Set("Content-Type", contentType)
	if !inlineTypes[m[2]] {
		w.Header().Set("Content-Disposition", `attachment; filename="`+m[0]+`"`)
	}
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Header().Set("ETag", `"`+m[1]+`"`)
	http.ServeContent(w, r, path.Base(r.URL.Path), time.Time{}, rd)
}
