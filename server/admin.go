package server

import (
	"net/http"
	"strings"

	"studio/graph"
)

// adminCookie carries an admin's token to pages a browser loads (River's
// UI), which cannot send an Authorization header.
const adminCookie = "studio_admin_token"

// adminOnly serves next to admins only. The token comes from the
// Authorization header, or the cookie set by visiting a page once with
// ?token=<token> (the token then leaves the URL).
func (s *Server) adminOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, _ := graph.TokenFromHeader(r.Header.Get("Authorization"))
		fromQuery := false
		if token == "" {
			if t := r.URL.Query().Get("token"); t != "" {
				token, fromQuery = t, true
			} else if c, err := r.Cookie(adminCookie); err == nil {
				token = c.Value
			}
		}
		u, err := s.db.UserByToken(r.Context(), strings.TrimSpace(token))
		if err != nil || !u.IsAdmin {
			http.Error(w, "admins only: open this page once with ?token=<an admin's token>", http.StatusForbidden)
			return
		}
		if fromQuery {
			http.SetCookie(w, &http.Cookie{Name: adminCookie, Value: token, Path: "/riverui/", HttpOnly: true,
				SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
			q := r.URL.Query()
			q.Del("token")
			r.URL.RawQuery = q.Encode()
			http.Redirect(w, r, r.URL.String(), http.StatusSeeOther)
			return
		}
		next.ServeHTTP(w, r)
	})
}
