package server

import (
	"net/http"
	"net/netip"
	"strings"
)

// clientAddr is the address login failures are counted by: the connection's
// peer. Headers such as X-Forwarded-For are the client's to write, so they
// are trusted only behind a proxy (Config.BehindProxy), and then only the
// last address of X-Forwarded-For: the one the proxy itself appended.
func (s *Server) clientAddr(r *http.Request) string {
	if s.cfg.BehindProxy {
		if v := r.Header.Values("X-Forwarded-For"); len(v) > 0 {
			last := v[len(v)-1]
			last = strings.TrimSpace(last[strings.LastIndexByte(last, ',')+1:])
			if ip, err := netip.ParseAddr(last); err == nil {
				return ip.String()
			}
		}
	}
	return r.RemoteAddr
}

// baseURL is where clients reach this server: PublicURL, or the address
// the request came to (with the scheme the proxy says it was sent with,
// behind one).
func (s *Server) baseURL(r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return strings.TrimSuffix(s.cfg.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil || s.cfg.BehindProxy && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
