package server

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Cross-origin access. A page served from another origin (a frontend's dev
// server, say) may call /graphql and load /content/ when its origin is in
// Config.CORSOrigins; the websocket's origin check uses the same list. By
// default only the server's own origin is served, as a browser would allow
// anyway. Tokens travel in the Authorization header, never in cookies, so
// an allowed origin gains nothing a script there could not do with a token.

// ParseOrigins reads a comma-separated list of origins, each
// scheme://host[:port] with no path, or "*" for any origin (then without
// credentials, as the CORS spec requires).
func ParseOrigins(list string) ([]string, error) {
	var out []string
	for o := range strings.SplitSeq(list, ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		if o == "*" {
			out = append(out, o)
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return nil, fmt.Errorf("cors origins: %q is not an origin such as http://localhost:5173", o)
		}
		out = append(out, strings.ToLower(u.Scheme+"://"+u.Host))
	}
	return out, nil
}

// originAllowed says whether a browser on origin may use the API: its
// own origin always, others by the allow-list. A request with no Origin
// is not a browser's cross-origin request.
func (s *Server) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if u, err := url.Parse(origin); err == nil && strings.EqualFold(u.Host, r.Host) {
		return true
	}
	return s.listedOrigin(origin)
}

func (s *Server) listedOrigin(origin string) bool {
	return slices.Contains(s.cfg.CORSOrigins, "*") || slices.Contains(s.cfg.CORSOrigins, strings.ToLower(origin))
}

// cors answers preflights and marks responses readable by the allowed
// origins. Requests from other origins are served as before, without the
// headers, so that a browser keeps their answers from the page.
func (s *Server) cors(methods string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Add("Vary", "Origin")
		origin := r.Header.Get("Origin")
		if origin == "" || !s.listedOrigin(origin) {
			next.ServeHTTP(w, r)
			return
		}
		if slices.Contains(s.cfg.CORSOrigins, strings.ToLower(origin)) {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
		} else {
			h.Set("Access-Control-Allow-Origin", "*") // "*" listed: no credentials
		}
		h.Set("Access-Control-Expose-Headers", "Content-Length, Content-Range, Accept-Ranges, Retry-After")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Add("Vary", "Access-Control-Request-Method, Access-Control-Request-Headers")
			h.Set("Access-Control-Allow-Methods", methods)
			if asked := r.Header.Get("Access-Control-Request-Headers"); asked != "" {
				h.Set("Access-Control-Allow-Headers", asked)
			}
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}
