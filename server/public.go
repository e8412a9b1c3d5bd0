package server

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"studio/blobs"
	"studio/db"
	"studio/jobs"
	"studio/models"
)

// The endpoints Kolibri calls to import a published channel
// (reference/kolibri-import.md §3). They need no credentials: a channel is
// found by its id or a secret token, as on Studio.

// publicInfo answers /api/public/info/, which Kolibri asks first: it must
// say "studio" for Kolibri to treat this server as a Studio.
func (s *Server) publicInfo(w http.ResponseWriter, r *http.Request) {
	sum := md5.Sum([]byte("studio:" + r.Host))
	writeJSON(w, http.StatusOK, map[string]any{
		"application": "studio", "kolibri_version": "0.16.0", "instance_id": hex.EncodeToString(sum[:]),
		"device_name": "studio", "operating_system": nil, "subset_of_users_device": false,
		"min_content_schema_version": "5",
	})
}

// lookupChannel answers /api/public/v1/channels/lookup/<id or token>: an
// array of exactly one channel, or 404.
func (s *Server) lookupChannel(w http.ResponseWriter, r *http.Request) {
	ch, err := s.db.LookupPublished(r.Context(), r.PathValue("identifier"))
	if err != nil {
		s.internalError(w, r, "lookup channel", err)
		return
	}
	if ch == nil {
		writeJSON(w, http.StatusNotFound, map[string]any{"detail": "no published channel has this id or token"})
		return
	}
	writeJSON(w, http.StatusOK, []any{publicChannel(ch)})
}

// listChannels answers /api/public/v1/channels: public channels and those
// named by ?tokens=a,b, filtered by ?keyword= and ?language=.
func (s *Server) listChannels(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var tokens []string
	for _, t := range strings.Split(q.Get("tokens"), ",") {
		if t = strings.TrimSpace(t); t != "" {
			tokens = append(tokens, t)
		}
	}
	chs, err := s.db.PublicChannels(r.Context(), tokens, q.Get("keyword"), q.Get("language"))
	if err != nil {
		s.internalError(w, r, "list channels", err)
		return
	}
	out := make([]any, len(chs))
	for i, ch := range chs {
		out[i] = publicChannel(ch)
	}
	writeJSON(w, http.StatusOK, out)
}

// publicChannel is Studio's PublicChannelSerializer's shape.
func publicChannel(ch *db.PublicChannel) map[string]any {
	notes := map[string]string{}
	for _, v := range ch.Versions {
		notes[strconv.Itoa(v.Version)] = v.VersionNotes
	}
	var icon any
	if s := ch.ThumbnailDataURI(); s != "" {
		icon = s
	}
	tokens := ch.Tokens
	if tokens == nil {
		tokens = []string{}
	}
	var lastPublished any
	if ch.LastPublished != nil {
		lastPublished = ch.LastPublished.UTC().Format(time.RFC3339Nano)
	}
	var library any
	if ch.Public {
		library = "KOLIBRI"
	}
	return map[string]any{
		"id": ch.ID.String(), "name": ch.Name, "description": ch.Description, "tagline": ch.Tagline,
		"language": ch.LanguageCode, "included_languages": ch.IncludedLanguages,
		"total_resource_count": ch.TotalResourceCount, "version": ch.Version, "kind_count": ch.PublishedKindCount,
		"published_size": ch.PublishedSize, "last_published": lastPublished, "icon_encoding": icon,
		"matching_tokens": tokens, "public": ch.Public, "version_notes": notes, "library": library,
	}
}

var databaseName = regexp.MustCompile(`^([0-9a-f]{32})(?:-([0-9]+|next))?\.sqlite3$`)

// serveDatabase answers /content/databases/<id>.sqlite3 (the current
// version), <id>-<version>.sqlite3 and <id>-next.sqlite3 (the last draft),
// with HEAD and byte ranges. The database decides what is published: a
// version's file is served once its publish committed, never before, so a
// publish that died midway shows nothing. Published versions are anyone's
// who knows the channel id, as on Studio; a draft is its members' only.
func (s *Server) serveDatabase(w http.ResponseWriter, r *http.Request) {
	m := databaseName.FindStringSubmatch(r.PathValue("file"))
	if m == nil {
		http.Error(w, "not a channel database: /content/databases/<channel id>[-<version>|-next].sqlite3", http.StatusNotFound)
		return
	}
	id := models.MustParseID(m[1])
	suffix := m[2]
	if suffix == "next" {
		ok, err := s.draftAllowed(r, id)
		if err != nil {
			s.internalError(w, r, "serve database", err)
			return
		}
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Vary", "Authorization")
	} else {
		current, err := s.db.PublishedVersion(r.Context(), id)
		if err != nil {
			s.internalError(w, r, "serve database", err)
			return
		}
		published := current > 0
		if published && suffix != "" {
			v, _ := strconv.Atoi(suffix)
			published = v >= 1 && v <= current
		}
		if !published {
			http.NotFound(w, r)
			return
		}
		if suffix == "" {
			suffix = strconv.Itoa(current)
		}
	}
	rd, err := s.cfg.Blobs.Open(r.Context(), jobs.DatabaseKey(id, suffix))
	if errors.Is(err, blobs.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		s.internalError(w, r, "serve database", err)
		return
	}
	defer rd.Close()
	w.Header().Set("Content-Type", "application/vnd.sqlite3")
	// The unversioned and draft names change with each publish.
	w.Header().Set("Cache-Control", "private, max-age=5, no-transform")
	http.ServeContent(w, r, m[0], rd.ModTime(), rd)
}

// draftAllowed says whether the request may read channel id's draft
// database: its editors and viewers may while it is not deleted, and admins
// may. Everyone else is told 404, as for a channel that does not exist.
func (s *Server) draftAllowed(r *http.Request, id models.ID) (bool, error) {
	// Issue 16's per-draft tokens are to be checked here, before the user.
	u, err := s.requestUser(r)
	if err != nil || u == nil {
		return false, err
	}
	chs, err := s.db.ChannelsByID(r.Context(), u, []models.ID{id})
	if err != nil {
		return false, err
	}
	ca, found := chs[id]
	return found && ca.Access >= db.ViewAccess && (!ca.Deleted || u.IsAdmin), nil
}

// requestUser is the user whose API token the request carries, as
// "Authorization: Bearer <token>" or "Authorization: Token <token>"; nil
// when it carries none or an unknown one: these endpoints then answer as
// for anonymous callers.
func (s *Server) requestUser(r *http.Request) (*models.User, error) {
	scheme, token, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !strings.EqualFold(scheme, "Bearer") && !strings.EqualFold(scheme, "Token") {
		return nil, nil
	}
	u, err := s.db.UserByToken(r.Context(), strings.TrimSpace(token))
	if models.CodeOf(err) == models.CodeUnauthenticated {
		return nil, nil
	}
	return u, err
}

func (s *Server) internalError(w http.ResponseWriter, r *http.Request, what string, err error) {
	s.cfg.Logger.ErrorContext(r.Context(), what, "err", err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // an error means the client went away
}
