package server

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"path"
	"strings"
	"time"
)

// The playground is our own page, script and style, built into the binary so
// that it works with no connection: it loads nothing from anywhere else.
//
//go:embed playground
var playgroundFiles embed.FS

// asset is one embedded file, ready to serve.
type asset struct {
	body        []byte
	contentType string
	etag        string
}

// playgroundAssets maps a file name (index.html, playground.js, …) to its
// content, read once: the files never change while the binary runs.
var playgroundAssets = loadAssets()

// assetTypes are fixed, not read from the system's mime.types, so that the
// page is served the same on every machine.
var assetTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
}

func loadAssets() map[string]asset {
	assets := map[string]asset{}
	err := fs.WalkDir(playgroundFiles, "playground", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		body, err := playgroundFiles.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ct, ok := assetTypes[path.Ext(p)]
		if !ok {
			return fmt.Errorf("%s: no content type for this extension", p)
		}
		assets[path.Base(p)] = asset{body: body, contentType: ct, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	if err != nil {
		panic("server: reading the embedded playground: " + err.Error())
	}
	return assets
}

// playgroundCSP keeps the page to its own origin: no script, style, font or
// request may come from elsewhere, so the page cannot depend on the internet.
const playgroundCSP = "default-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// mountPlayground serves the page at /, its files under /playground/ and
// the token offer at /playground/token.
func (s *Server) mountPlayground(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", s.servePlaygroundPage)
	mux.HandleFunc("GET /playground/token", s.playgroundToken)
	mux.HandleFunc("GET /playground/{file}", s.servePlaygroundAsset)
}

// servePlaygroundPage serves the playground at /.
func (s *Server) servePlaygroundPage(w http.ResponseWriter, r *http.Request) {
	// The page itself is revalidated each time (its ETag makes that cheap),
	// so that a new binary's page is seen at once.
	serveAsset(w, r, playgroundAssets["index.html"], "no-cache")
}

// servePlaygroundAsset serves the page's script, style and icon.
func (s *Server) servePlaygroundAsset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	a, ok := playgroundAssets[name]
	if !ok || name == "index.html" {
		http.NotFound(w, r)
		return
	}
	// Briefly: after an upgrade, a browser may use the old script for at
	// most five minutes.
	serveAsset(w, r, a, "public, max-age=300")
}

func serveAsset(w http.ResponseWriter, r *http.Request, a asset, cacheControl string) {
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", cacheControl)
	h.Set("ETag", a.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", playgroundCSP)
	h.Set("Referrer-Policy", "no-referrer")
	// ServeContent answers If-None-Match with 304, and HEAD and ranges.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}

// playgroundToken offers the first admin's token to a browser on this
// machine, so that `studio serve` then opening the playground just works.
// Anyone else gets 404, as if there were no such page. The token is never
// logged: logRequests writes only the path.
func (s *Server) playgroundToken(w http.ResponseWriter, r *http.Request) {
	if s.cfg.AdminToken == "" || !startedForLocalUse(s.cfg) || !fromThisMachine(r) {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]string{"token": s.cfg.AdminToken})
}

// startedForLocalUse reports whether the server was started to be used from
// this machine only: listening on loopback, with no proxy before it and no
// public URL. Behind a proxy no request can be told from a local one (a
// default nginx proxy_pass connects from loopback, sends Host: 127.0.0.1
// and adds no header), so the token is not offered at all.
func startedForLocalUse(cfg Config) bool {
	if cfg.BehindProxy || cfg.PublicURL != "" {
		return false
	}
	host, _, err := net.SplitHostPort(cfg.Addr)
	return err == nil && loopbackHost(host)
}

// forwardingHeaders are the headers proxies add to say whom they relay: any
// of them (or any X-Forwarded-*) means the request was relayed.
var forwardingHeaders = []string{"Forwarded", "X-Real-Ip", "X-Client-Ip", "True-Client-Ip",
	"Cf-Connecting-Ip", "Fastly-Client-Ip", "X-Cluster-Client-Ip", "Via"}

// fromThisMachine reports whether r comes from a browser on this machine:
// from a loopback address, not relayed by a proxy (a reverse proxy on this
// machine connects from loopback on behalf of anyone), and addressed to a
// loopback name (a page of another site that rebinds its DNS name to
// 127.0.0.1 sends its own Host, so it cannot read the token).
func fromThisMachine(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	addr, err := netip.ParseAddr(host)
	if err != nil || !addr.Unmap().IsLoopback() {
		return false
	}
	for _, h := range forwardingHeaders {
		if _, ok := r.Header[h]; ok {
			return false
		}
	}
	for h := range r.Header {
		if strings.HasPrefix(h, "X-Forwarded-") {
			return false
		}
	}
	return loopbackHost(r.Host)
}

// loopbackHost reports whether a Host header names this machine:
// localhost, 127.0.0.1 (or any 127.x), or [::1], with or without a port.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.Unmap().IsLoopback()
}
