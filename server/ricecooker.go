package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"studio/blobs"
	"studio/db"
	"studio/graph"
	"studio/jobs"
	"studio/models"
)

// Studio's internal API, which ricecooker (0.8.0, and older chefs) calls
// to upload a channel: the paths, bodies and status codes it expects
// (reference/ricecooker-api.md). Bodies are JSON whatever their
// Content-Type (ricecooker sends none); answers are JSON. Every call needs
// an API token, "Authorization: Token <token>" as ricecooker sends it.

// mountChef serves the internal API.
func (s *Server) mountChef(mux *http.ServeMux) {
	mux.Handle("POST /api/internal/authenticate_user_internal", s.chef(s.chefAuthenticate))
	mux.Handle("GET /api/internal/authenticate_user_internal", s.chef(s.chefAuthenticate))
	mux.Handle("POST /api/internal/check_version", s.chef(s.chefCheckVersion))
	mux.Handle("POST /api/internal/create_channel", s.chef(s.chefCreateChannel))
	mux.Handle("POST /api/internal/add_nodes", s.chef(s.chefAddNodes))
	mux.Handle("POST /api/internal/finish_channel", s.chef(s.chefFinishChannel))
	mux.Handle("POST /api/internal/publish_channel", s.chef(s.chefPublishChannel))
	mux.Handle("POST /api/internal/get_channel_status_bulk", s.chef(s.chefChannelStatuses))
	if s.cfg.Blobs != nil {
		s.mountUploads(mux) // uploadurl.go
	}
}

// chefHandler serves one call of a signed-in chef; an error it returns is
// answered by chefError.
type chefHandler func(w http.ResponseWriter, r *http.Request, u *models.User) error

// chef bounds and authenticates a call (as /graphql's: a bad token is 401)
// and refuses anonymous ones.
func (s *Server) chef(h chefHandler) http.Handler {
	return s.bound(s.authenticate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := graph.CallerFrom(r.Context()).User
		if u == nil {
			s.chefError(w, r, models.Errorf(models.CodeUnauthenticated,
				"send your API token as Authorization: Token <token> (ricecooker's --token; `studio token create` makes one)"))
			return
		}
		if err := h(w, r, u); err != nil {
			s.chefError(w, r, err)
		}
	})))
}

// chefStatus is the one mapping of error codes to HTTP statuses for the
// internal API. Quota is 412, which ricecooker takes for "out of storage"
// and stops at, as with Studio.
var chefStatus = map[models.Code]int{
	models.CodeUnauthenticated: http.StatusUnauthorized,
	models.CodeForbidden:       http.StatusForbidden,
	models.CodeNotFound:        http.StatusNotFound,
	models.CodeBadUserInput:    http.StatusBadRequest,
	models.CodeConflict:        http.StatusConflict,
	models.CodeQuotaExceeded:   http.StatusPreconditionFailed,
	models.CodeTooComplex:      http.StatusBadRequest,
	models.CodeTooManyRequests: http.StatusTooManyRequests,
}

// chefError answers err with its status; an internal error is logged and
// not described.
func (s *Server) chefError(w http.ResponseWriter, r *http.Request, err error) {
	status, ok := chefStatus[models.CodeOf(err)]
	if !ok {
		s.cfg.Logger.ErrorContext(r.Context(), "chef api: "+r.URL.Path, "err", err)
		status, err = http.StatusInternalServerError, models.Errorf(models.CodeInternal, "internal error; it has been logged")
	}
	writeError(w, status, err)
}

// readJSON decodes r's body into v, whatever its Content-Type.
func readJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("more than one JSON value")
	}
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return models.Errorf(models.CodeBadUserInput, "the body is over the limit of %d bytes", tooLarge.Limit)
	case errors.Is(err, io.EOF):
		return models.Errorf(models.CodeBadUserInput, "the body is empty: send a JSON object")
	case err != nil:
		return models.Errorf(models.CodeBadUserInput, "the body is not the JSON expected: %v", err)
	}
	return nil
}

// chefAuthenticate answers who the token's user is: ricecooker logs the
// username.
func (s *Server) chefAuthenticate(w http.ResponseWriter, _ *http.Request, u *models.User) error {
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "user_id": u.ID, "username": u.Email,
		"first_name": u.FirstName, "last_name": u.LastName, "is_admin": u.IsAdmin})
	return nil
}

// Studio's thresholds for ricecooker versions: the first up to date, the
// first merely outdated, the first deprecated; older ones may not upload.
const (
	chefVersionOK       = "0.7.3"
	chefVersionSoftWarn = "0.7.0"
	chefVersionHardWarn = "0.6.21"
)

var chefVersionNumber = regexp.MustCompile(`^v?(\d+(?:\.\d+)*)`)

// chefCheckVersion says whether the client's ricecooker may upload, in
// Studio's words: status 0 (up to date), 1 (outdated: a warning), 2
// (deprecated: ricecooker asks whether to go on), 3 (too old: it stops).
func (s *Server) chefCheckVersion(w http.ResponseWriter, r *http.Request, _ *models.User) error {
	var in struct {
		Version string `json:"version"`
	}
	if err := readJSON(r, &in); err != nil {
		return err
	}
	v, ok := parseChefVersion(in.Version)
	if !ok {
		return models.Errorf(models.CodeBadUserInput, "version %q is not a ricecooker version such as 0.8.0", in.Version)
	}
	atLeast := func(threshold string) bool {
		t, _ := parseChefVersion(threshold)
		return compareVersions(v, t) >= 0
	}
	status, message := 3, fmt.Sprintf("Ricecooker v%s is no longer compatible. You must upgrade to v%s to continue.", in.Version, chefVersionOK)
	switch {
	case atLeast(chefVersionOK):
		status, message = 0, fmt.Sprintf("Ricecooker v%s is up-to-date.", in.Version)
	case atLeast(chefVersionSoftWarn):
		status, message = 1, fmt.Sprintf("You are using Ricecooker v%s, however v%s is available. You should consider upgrading your Ricecooker.", in.Version, chefVersionOK)
	case atLeast(chefVersionHardWarn):
		status, message = 2, fmt.Sprintf("Ricecooker v%s is deprecated. Any channels created with this version will be unlinked with any future upgrades. You are strongly recommended to upgrade to v%s.", in.Version, chefVersionOK)
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "status": status, "message": message})
	return nil
}

// parseChefVersion reads the numbers a version begins with ("0.8.0",
// "0.7.0b1" as 0.7.0).
func parseChefVersion(s string) ([]int, bool) {
	m := chefVersionNumber.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil || len(s) > 50 {
		return nil, false
	}
	var v []int
	for _, p := range strings.Split(m[1], ".") {
		n, err := strconv.Atoi(p)
		if err != nil {
			return nil, false
		}
		v = append(v, n)
	}
	return v, true
}

func compareVersions(a, b []int) int {
	for i := 0; i < max(len(a), len(b)); i++ {
		var x, y int
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

// chefCreateChannel creates or updates the channel under the id the chef
// computed and gives it a new, empty tree for the upload, beside the live
// one: add_nodes fills it, finish_channel makes it live or staged.
func (s *Server) chefCreateChannel(w http.ResponseWriter, r *http.Request, u *models.User) error {
	var in struct {
		ChannelData *chefChannelJSON `json:"channel_data"`
	}
	if err := readJSON(r, &in); err != nil {
		return err
	}
	if in.ChannelData == nil {
		return models.Errorf(models.CodeBadUserInput, "channel_data is missing")
	}
	ch, err := in.ChannelData.parse()
	if err != nil {
		return err
	}
	channel, root, err := s.db.BeginChefTree(r.Context(), u, ch)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "root": root, "channel_id": channel.ID})
	return nil
}

// maxChefNodes bounds one add_nodes call (ricecooker sends 10).
const maxChefNodes = 1000

// chefAddNodes adds nodes under root_id, the upload's root or a topic
// added before, and answers every node_id sent with the node's id, under
// which ricecooker adds its children.
func (s *Server) chefAddNodes(w http.ResponseWriter, r *http.Request, u *models.User) error {
	var in struct {
		RootID      string            `json:"root_id"`
		ContentData []json.RawMessage `json:"content_data"`
	}
	if err := readJSON(r, &in); err != nil {
		return err
	}
	parent, err := models.ParseID(in.RootID)
	if err != nil {
		return models.Errorf(models.CodeBadUserInput, "root_id: %v", err)
	}
	if len(in.ContentData) > maxChefNodes {
		return models.Errorf(models.CodeBadUserInput, "content_data has %d nodes; send at most %d a call", len(in.ContentData), maxChefNodes)
	}
	nodes := make([]db.ChefNode, len(in.ContentData))
	for i, raw := range in.ContentData {
		var n chefNodeJSON
		err := json.Unmarshal(raw, &n)
		if err == nil {
			nodes[i], err = n.parse()
		}
		if err != nil {
			return models.Errorf(models.CodeBadUserInput, "content_data[%d] (node_id %q): %v", i, n.NodeID, err)
		}
	}
	stored := func(ctx context.Context, checksum, ext string) (bool, error) {
		return s.cfg.Blobs.Exists(ctx, blobs.Key(checksum, ext))
	}
	ids, err := s.db.AddChefNodes(r.Context(), u, parent, nodes, stored)
	if err != nil {
		return err
	}
	rootIDs := make(map[string]string, len(ids))
	for nodeID, id := range ids {
		rootIDs[nodeID.String()] = id.String()
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "root_ids": rootIDs})
	return nil
}

// chefFinishChannel ends the upload: stage false (ricecooker's --deploy)
// makes the uploaded tree the channel's main tree; stage true, the
// default, its staging tree, which editors deploy (deployStagingTree).
func (s *Server) chefFinishChannel(w http.ResponseWriter, r *http.Request, u *models.User) error {
	var in struct {
		ChannelID string `json:"channel_id"`
		Stage     *bool  `json:"stage"`
	}
	if err := readJSON(r, &in); err != nil {
		return err
	}
	id, err := models.ParseID(in.ChannelID)
	if err != nil {
		return models.Errorf(models.CodeBadUserInput, "channel_id: %v", err)
	}
	stage := in.Stage == nil || *in.Stage
	ch, err := s.db.FinishChefTree(r.Context(), u, id, stage)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "new_channel": ch.ID})
	return nil
}

// chefPublishChannel enqueues a publish of the channel's main tree and
// answers at once, as Studio does.
func (s *Server) chefPublishChannel(w http.ResponseWriter, r *http.Request, u *models.User) error {
	var in struct {
		ChannelID    string  `json:"channel_id"`
		VersionNotes *string `json:"version_notes"`
	}
	if err := readJSON(r, &in); err != nil {
		return err
	}
	id, err := models.ParseID(in.ChannelID)
	if err != nil {
		return models.Errorf(models.CodeBadUserInput, "channel_id: %v", err)
	}
	if s.cfg.Jobs == nil {
		return errors.New("publish_channel: this server runs no jobs")
	}
	notes := ""
	if in.VersionNotes != nil {
		notes = *in.VersionNotes
	}
	if _, err := jobs.RequestPublish(r.Context(), s.db, s.cfg.Jobs, u, id, notes, false); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "channel": id})
	return nil
}

// maxStatusChannels bounds one get_channel_status_bulk call.
const maxStatusChannels = 100

// chefChannelStatuses answers the status of channels the caller edits, as
// Studio names them: deleted, publishing (a publish is queued or running),
// staged (an upload waits to be deployed) or active. A channel that is unknown or that the caller may not edit
// fails the whole call with 404, as on Studio.
func (s *Server) chefChannelStatuses(w http.ResponseWriter, r *http.Request, u *models.User) error {
	var in struct {
		ChannelIDs []string `json:"channel_ids"`
	}
	if err := readJSON(r, &in); err != nil {
		return err
	}
	if len(in.ChannelIDs) > maxStatusChannels {
		return models.Errorf(models.CodeBadUserInput, "channel_ids has %d ids; send at most %d a call", len(in.ChannelIDs), maxStatusChannels)
	}
	ids := make([]models.ID, len(in.ChannelIDs))
	for i, s := range in.ChannelIDs {
		id, err := models.ParseID(s)
		if err != nil {
			return models.Errorf(models.CodeBadUserInput, "channel_ids[%d]: %v", i, err)
		}
		ids[i] = id
	}
	chs, err := s.db.ChannelsByID(r.Context(), u, ids)
	if err != nil {
		return err
	}
	statuses := make(map[string]string, len(ids))
	for _, id := range ids {
		ch, ok := chs[id]
		// An editor of a deleted channel views it only (db.Decide).
		editor := ok && (ch.Access.CanEdit() || ch.Deleted && ch.Access >= db.ViewAccess)
		if !editor {
			return models.Errorf(models.CodeNotFound, "no complete set of channels matching %s: each must be one you edit", strings.Join(in.ChannelIDs, ","))
		}
		status := "active"
		if ch.Deleted {
			status = "deleted"
		} else if publishing, err := s.publishing(r, id); err != nil {
			return err
		} else if publishing {
			status = "publishing"
		} else if ch.StagingRootID != nil {
			status = "staged"
		}
		statuses[id.String()] = status
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "statuses": statuses})
	return nil
}

// publishing says whether a publish of the channel is queued or running.
func (s *Server) publishing(r *http.Request, channelID models.ID) (bool, error) {
	jobIDs, err := s.db.ChannelJobIDs(r.Context(), channelID, 1)
	if err != nil || len(jobIDs) == 0 {
		return false, err
	}
	evs, err := s.db.LatestJobEvents(r.Context(), jobIDs)
	if err != nil {
		return false, err
	}
	ev := evs[jobIDs[0]]
	return ev != nil && !ev.State.Final(), nil
}
