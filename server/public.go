package server

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"studio/blobs"
	"studio/db"
	"studio/graph"
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

// draftGrantTTL is how long a lookup of a draft's token lets its client
// fetch the draft database (GrantDraft): Kolibri fetches it at once, and a
// download it resumes asks again.
const draftGrantTTL = time.Hour

// lookupChannel answers /api/public/v1/channels/lookup/<id or token>: an
// array of exactly one channel, or 404. With ?channel_versions=true (which
// Kolibri 0.19 sends), a version's token answers with that version, and a
// draft's with version null: Kolibri then fetches <id>-<version>.sqlite3 or
// <id>-next.sqlite3.
func (s *Server) lookupChannel(w http.ResponseWriter, r *http.Request) {
	ch, err := s.db.LookupChannel(r.Context(), r.PathValue("identifier"), r.URL.Query().Get("channel_versions") == "true")
	if err != nil {
		s.internalError(w, r, "lookup channel", err)
		return
	}
	if ch == nil {
		writeJSON(w, http.StatusNotFound, map[string]any{"detail": "no published channel has this id or token"})
		return
	}
	if ch.TokenVersion != nil && ch.TokenVersion.Version == 0 {
		// Kolibri fetches the draft next, with no credentials: whoever
		// knows its token may, from where they asked.
		if err := s.db.GrantDraft(r.Context(), ch.ID, s.draftClient(r), time.Now(), draftGrantTTL); err != nil {
			s.internalError(w, r, "lookup channel", err)
			return
		}
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

// publicChannel is Studio's PublicChannelSerializer's shape; for a
// version's token, its _serialize_channel_version's: that version's
// number (null for a draft), statistics and date.
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
	out := map[string]any{
		"id": ch.ID.String(), "name": ch.Name, "description": ch.Description, "tagline": ch.Tagline,
		"language": ch.LanguageCode, "included_languages": ch.IncludedLanguages,
		"total_resource_count": ch.TotalResourceCount, "version": ch.Version, "kind_count": ch.PublishedKindCount,
		"published_size": ch.PublishedSize, "last_published": lastPublished, "icon_encoding": icon,
		"matching_tokens": tokens, "public": ch.Public, "version_notes": notes, "library": library,
	}
	if v := ch.TokenVersion; v != nil {
		var number any
		if v.Version > 0 {
			number = v.Version
		}
		// Studio names a version's library only for the community library,
		// which studio has not.
		out["version"], out["library"] = number, nil
		out["total_resource_count"], out["kind_count"], out["published_size"] = v.ResourceCount, v.KindCount, v.Size
		out["included_languages"], out["last_published"] = v.IncludedLanguages, v.CreatedAt.UTC().Format(time.RFC3339Nano)
	}
	return out
}

var databaseName = regexp.MustCompile(`^([0-9a-f]{32})(?:-([0-9]+|next))?\.sqlite3$`)

// serveDatabase answers /content/databases/<id>.sqlite3 (the current
// version), <id>-<version>.sqlite3 and <id>-next.sqlite3 (the last draft),
// with HEAD and byte ranges. The database decides what is published: a
// version's file is served once its publish committed, never before, so a
// publish that died midway shows nothing. Published versions are anyone's
// who knows the channel id, as on Studio; a draft is its members' only, and
// for a while that of a client that looked its token up (draftAllowed).
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
// may. So may, for an hour, a client that looked the draft's token up:
// Kolibri sends no credentials and names no token when it fetches
// <id>-next.sqlite3, right after that lookup, so the lookup is the proof
// that it knows the token (Studio serves every draft to anyone who knows
// the channel id). Everyone else is told 404, as for a channel that does
// not exist.
func (s *Server) draftAllowed(r *http.Request, id models.ID) (bool, error) {
	granted, err := s.db.DraftGranted(r.Context(), id, s.draftClient(r), time.Now())
	if granted || err != nil {
		return granted, err
	}
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

// draftClient is the client a draft grant is for: its address (the
// proxy's X-Forwarded-For entry behind a proxy), without the port, since
// Kolibri's lookup and download come over different connections.
func (s *Server) draftClient(r *http.Request) string {
	addr := s.clientAddr(r)
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// requestUser is the user whose API token the request carries, as
// "Authorization: Bearer <token>" or "Authorization: Token <token>"; nil
// when it carries none or an unknown one: these endpoints then answer as
// for anonymous callers.
func (s *Server) requestUser(r *http.Request) (*models.User, error) {
	token, ok := graph.TokenFromHeader(r.Header.Get("Authorization"))
	if !ok {
		return nil, nil
	}
	u, err := s.db.UserByToken(r.Context(), token)
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
