package server

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"studio/blobs"
	"studio/jobs"
	"studio/models"
)

// Kolibri's remote-browsing API, /api/public/v2/: what a Kolibri that knows
// this server as a network location asks through its /api/content/…?baseurl=
// proxies to browse a published channel without importing it (the channel,
// a topic's children, a node tree, a resource), and importmetadata/<node>/,
// which imports one resource's metadata. The shapes are Kolibri 0.19.5's own
// (kolibri/core/public/api.py, content/api.py, content/public_api.py), which
// Studio's kolibri_public serves too. Answers come from the channel's
// published content database, the file Kolibri would import, so they show
// what was published, not the editors' tree. Any published, not deleted
// channel can be browsed by whoever knows its id, as it can be imported.

const (
	// peerOpenDatabases bounds the published databases kept open (each a
	// local copy of the stored file, named by channel and version).
	peerOpenDatabases = 4
	// peerConns are the connections to each, opened before its copy is
	// unlinked: the copy lives as long as they do, and nothing is left
	// behind however the process ends.
	peerConns = 2
	// peerPageMax bounds max_results; peerListMax bounds an unpaged answer.
	peerPageMax = 1000
	peerListMax = 5000
	// peerTreePage is Kolibri's page of a tree's children and grandchildren.
	peerTreePage = 12
	// peerSchemaVersion is the content schema importmetadata answers in.
	peerSchemaVersion = "5"
)

type peer struct {
	s     *Server
	cache *peerCache
}

// mountPeer registers the /api/public/v2/ routes (GET patterns answer HEAD too).
func (s *Server) mountPeer(mux *http.ServeMux) {
	if s.cfg.Blobs == nil {
		return
	}
	p := &peer{s: s, cache: &peerCache{store: s.cfg.Blobs, max: peerOpenDatabases, dbs: map[peerKey]*peerDB{}}}
	context.AfterFunc(s.streams, p.cache.close) // when the server shuts down
	for pattern, h := range map[string]http.HandlerFunc{
		"/api/public/v2/channel/{$}":               p.channels,
		"/api/public/v2/channel":                   p.channels,
		"/api/public/v2/channel/{id}":              p.channel,
		"/api/public/v2/channel/{id}/{$}":          p.channel,
		"/api/public/v2/contentnode/{$}":           p.contentNodes,
		"/api/public/v2/contentnode":               p.contentNodes,
		"/api/public/v2/contentnode/{id}/{$}":      p.contentNode,
		"/api/public/v2/contentnode/{id}":          p.contentNode,
		"/api/public/v2/contentnode_tree/{id}/{$}": p.tree,
		"/api/public/v2/contentnode_tree/{id}":     p.tree,
		"/api/public/v2/importmetadata/{id}/{$}":   p.importMetadata,
		"/api/public/v2/importmetadata/{id}":       p.importMetadata,
	} {
		mux.HandleFunc("GET "+pattern, h)
	}
}

// ---- the cache of open published databases

type peerKey struct {
	channel models.ID
	version int
}

// peerDB is one published database, copied from the blob store and opened
// read-only. It is closed once evicted and unused.
type peerDB struct {
	key   peerKey
	sql   *sql.DB
	path  string
	sum   *peerSummary
	ready chan struct{}
	err   error
	refs  int
	used  uint64
	gone  bool
}

type peerCache struct {
	store  *blobs.Store
	max    int
	mu     sync.Mutex
	dbs    map[peerKey]*peerDB
	tick   uint64
	closed bool
}

var errNoPeerDatabase = errors.New("server: the published database is missing")

// acquire returns key's database, opening it if needed; release it after use.
func (c *peerCache) acquire(ctx context.Context, key peerKey) (*peerDB, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, errors.New("server: shutting down")
	}
	c.tick++
	d := c.dbs[key]
	if d != nil {
		d.refs++
		d.used = c.tick
		c.mu.Unlock()
		select {
		case <-d.ready:
		case <-ctx.Done():
			c.release(d)
			return nil, ctx.Err()
		}
		if d.err != nil {
			c.release(d)
			return nil, d.err
		}
		return d, nil
	}
	d = &peerDB{key: key, ready: make(chan struct{}), refs: 1, used: c.tick}
	c.dbs[key] = d
	c.mu.Unlock()
	err := d.load(ctx, c.store)
	c.mu.Lock()
	d.err = err
	close(d.ready)
	if err != nil {
		delete(c.dbs, key) // the next request tries again
		d.refs--
	} else {
		c.evict()
	}
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return d, nil
}

func (c *peerCache) release(d *peerDB) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d.refs--
	if d.refs == 0 && d.gone {
		d.discard()
	}
}

// evict drops the least recently used open databases beyond max; one in
// use is closed by its last user. Called with mu held.
func (c *peerCache) evict() {
	for len(c.dbs) > c.max {
		var oldest *peerDB
		for _, d := range c.dbs {
			select {
			case <-d.ready:
			default:
				continue // still loading
			}
			if oldest == nil || d.used < oldest.used {
				oldest = d
			}
		}
		if oldest == nil {
			return
		}
		delete(c.dbs, oldest.key)
		oldest.gone = true
		if oldest.refs == 0 {
			oldest.discard()
		}
	}
}

// open lists the loaded databases, each acquired: the places to look for a
// node before asking the database which channel has it.
func (c *peerCache) open() []*peerDB {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*peerDB
	for _, d := range c.dbs {
		select {
		case <-d.ready:
			if d.err == nil {
				d.refs++
				out = append(out, d)
			}
		default:
		}
	}
	return out
}

func (c *peerCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for k, d := range c.dbs {
		delete(c.dbs, k)
		d.gone = true
		if d.refs == 0 {
			d.discard()
		}
	}
}

// openConns opens every connection the pool will use, then unlinks the
// copy (where the system allows it; discard removes it otherwise).
func (d *peerDB) openConns(ctx context.Context) error {
	d.sql.SetMaxOpenConns(peerConns)
	d.sql.SetMaxIdleConns(peerConns)
	var conns []*sql.Conn
	defer func() {
		for _, c := range conns {
			_ = c.Close() // back to the pool, which keeps them
		}
	}()
	for range peerConns {
		c, err := d.sql.Conn(ctx)
		if err != nil {
			return err
		}
		conns = append(conns, c)
		var n int
		if err := c.QueryRowContext(ctx, `SELECT COUNT(*) FROM content_channelmetadata`).Scan(&n); err != nil {
			return err
		}
	}
	if os.Remove(d.path) == nil {
		d.path = ""
	}
	return nil
}

func (d *peerDB) discard() {
	if d.sql != nil {
		_ = d.sql.Close()
	}
	if d.path != "" {
		_ = os.Remove(d.path)
	}
}

// load copies the stored database to a temporary file, opens it
// read-only and unlinks the file.
func (d *peerDB) load(ctx context.Context, store *blobs.Store) error {
	rd, err := store.Open(ctx, jobs.DatabaseKey(d.key.channel, strconv.Itoa(d.key.version)))
	if errors.Is(err, blobs.ErrNotFound) {
		return errNoPeerDatabase
	}
	if err != nil {
		return fmt.Errorf("server: open published database: %w", err)
	}
	defer rd.Close()
	f, err := os.CreateTemp("", fmt.Sprintf("studio-peer-%s-%d-*.sqlite3", d.key.channel, d.key.version))
	if err != nil {
		return fmt.Errorf("server: copy published database: %w", err)
	}
	d.path = f.Name()
	_, err = io.Copy(f, rd)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		d.sql, err = sql.Open("sqlite", "file:"+d.path+"?mode=ro&immutable=1")
	}
	if err == nil {
		err = d.openConns(ctx)
	}
	if err == nil {
		d.sum, err = summarize(ctx, d.sql)
	}
	if err != nil {
		d.discard()
		return fmt.Errorf("server: open published database %s: %w", d.key.channel, err)
	}
	return nil
}

// peerSummary is what is read once a database: its channel row, its
// languages, and counts rolled up the tree, as Kolibri annotates them.
type peerSummary struct {
	meta                    map[string]any // content_channelmetadata, raw
	root                    string
	languages               map[string]map[string]any
	counts                  map[string][2]int // topic → resources, coach resources beneath
	resources               int
	size                    int64
	categories, gradeLevels []string
}

func summarize(ctx context.Context, db *sql.DB) (*peerSummary, error) {
	metas, err := dumpRows(ctx, db, `SELECT `+strings.Join(peerTables["content_channelmetadata"], ", ")+` FROM content_channelmetadata`)
	if err != nil {
		return nil, err
	}
	if len(metas) != 1 {
		return nil, fmt.Errorf("%d channel rows", len(metas))
	}
	sum := &peerSummary{meta: metas[0], languages: map[string]map[string]any{}, counts: map[string][2]int{}}
	sum.root, _ = sum.meta["root_id"].(string)
	langs, err := dumpRows(ctx, db, `SELECT id, lang_code, lang_subcode, lang_name, lang_direction FROM content_language`)
	if err != nil {
		return nil, err
	}
	for _, l := range langs {
		sum.languages[l["id"].(string)] = l
	}
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(SUM(COALESCE(file_size_bigint, file_size)), 0) FROM content_localfile`).Scan(&sum.size); err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, `SELECT id, kind, coach_content, rght, categories, grade_levels FROM content_contentnode ORDER BY lft`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	type open struct {
		id   string
		rght int64
	}
	var stack []open
	categories, grades := map[string]bool{}, map[string]bool{}
	for rows.Next() {
		var id, kind string
		var coach bool
		var rght int64
		var cats, levels sql.NullString
		if err := rows.Scan(&id, &kind, &coach, &rght, &cats, &levels); err != nil {
			return nil, err
		}
		// In lft order, a node is inside the open topics whose rght is beyond its own.
		for len(stack) > 0 && stack[len(stack)-1].rght < rght {
			stack = stack[:len(stack)-1]
		}
		if kind == models.KindTopic {
			stack = append(stack, open{id, rght})
			sum.counts[id] = [2]int{}
		} else {
			sum.resources++
			for _, t := range stack {
				c := sum.counts[t.id]
				c[0]++
				if coach {
					c[1]++
				}
				sum.counts[t.id] = c
			}
		}
		for _, l := range splitLabels(cats) {
			categories[l] = true
		}
		for _, l := range splitLabels(levels) {
			grades[l] = true
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sum.categories, sum.gradeLevels = sortedKeys(categories), sortedKeys(grades)
	return sum, nil
}

// ---- resolving what a request names

// peerOpen is a published database a request reads, and its channel.
type peerOpen struct {
	db *peerDB
	ch *models.Channel
}

// peerScope holds the databases a request acquired, released at its end.
type peerScope struct {
	p    *peer
	open []*peerOpen
}

func (p *peer) scope() *peerScope { return &peerScope{p: p} }

func (sc *peerScope) release() {
	for _, o := range sc.open {
		sc.p.cache.release(o.db)
	}
	sc.open = nil
}

// add keeps d (acquired) in the scope, or releases it when the scope has it.
func (sc *peerScope) add(d *peerDB, ch *models.Channel) *peerOpen {
	for _, o := range sc.open {
		if o.db == d {
			sc.p.cache.release(d)
			return o
		}
	}
	o := &peerOpen{db: d, ch: ch}
	sc.open = append(sc.open, o)
	return o
}

// channel opens channel id's published database; nil when it is not
// published, deleted, absent, or its database is missing.
func (sc *peerScope) channel(ctx context.Context, id models.ID) (*peerOpen, error) {
	for _, o := range sc.open {
		if o.ch.ID == id {
			return o, nil
		}
	}
	ch, err := sc.p.s.db.PeerChannel(ctx, id)
	if err != nil || ch == nil {
		return nil, err
	}
	d, err := sc.p.cache.acquire(ctx, peerKey{ch.ID, ch.Version})
	if errors.Is(err, errNoPeerDatabase) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return sc.add(d, ch), nil
}

// node finds one node among the scope's databases, or answers for the
// caller: 404 when no published channel has it, an internal error (logged as
// what) when the lookup fails.
func (sc *peerScope) node(w http.ResponseWriter, r *http.Request, id, what string) (*peerOpen, bool) {
	found, err := sc.nodes(r.Context(), []string{id})
	if err != nil {
		sc.p.s.internalError(w, r, what, err)
		return nil, false
	}
	o := found[id]
	if o == nil {
		peerNotFound(w)
		return nil, false
	}
	return o, true
}

// nodes finds the published databases that hold Kolibri node ids: first
// among those open, then through the channels that have such a node.
func (sc *peerScope) nodes(ctx context.Context, ids []string) (map[string]*peerOpen, error) {
	found := map[string]*peerOpen{}
	if len(ids) == 0 {
		return found, nil
	}
	missing := func() []string {
		var out []string
		for _, id := range ids {
			if found[id] == nil {
				out = append(out, id)
			}
		}
		return out
	}
	look := func(o *peerOpen) error {
		have, err := o.db.has(ctx, missing())
		for _, id := range have {
			found[id] = o
		}
		return err
	}
	for _, d := range sc.p.cache.open() {
		if len(missing()) == 0 {
			sc.p.cache.release(d)
			continue
		}
		have, err := d.has(ctx, missing())
		if err != nil || len(have) == 0 {
			sc.p.cache.release(d)
			if err != nil {
				return nil, err
			}
			continue
		}
		// Only the channel's current version counts.
		ch, err := sc.p.s.db.PeerChannel(ctx, d.key.channel)
		if err != nil || ch == nil || ch.Version != d.key.version {
			sc.p.cache.release(d)
			if err != nil {
				return nil, err
			}
			continue
		}
		if err := look(sc.add(d, ch)); err != nil {
			return nil, err
		}
	}
	rest := missing()
	if len(rest) == 0 {
		return found, nil
	}
	parsed := make([]models.ID, 0, len(rest))
	for _, id := range rest {
		if v, err := models.ParseID(id); err == nil {
			parsed = append(parsed, v)
		}
	}
	channels, err := sc.p.s.db.ChannelsOfNodes(ctx, parsed)
	if err != nil {
		return nil, err
	}
	var chIDs []models.ID
	for _, id := range parsed {
		for _, c := range channels[id] {
			if !slices.Contains(chIDs, c) {
				chIDs = append(chIDs, c)
			}
		}
	}
	for _, c := range chIDs {
		if len(missing()) == 0 || len(sc.open) >= 2*peerOpenDatabases {
			break
		}
		o, err := sc.channel(ctx, c)
		if err != nil {
			return nil, err
		}
		if o != nil {
			if err := look(o); err != nil {
				return nil, err
			}
		}
	}
	return found, nil
}

// has lists which of ids are nodes of d.
func (d *peerDB) has(ctx context.Context, ids []string) ([]string, error) {
	var out []string
	err := inChunks(ids, func(marks string, args []any) error {
		rows, err := d.sql.QueryContext(ctx, `SELECT id FROM content_contentnode WHERE id IN (`+marks+`)`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			out = append(out, id)
		}
		return rows.Err()
	})
	return out, err
}

// ---- channels

// channel answers channel/<id>: the channel as Kolibri's
// ChannelMetadataViewSet shows it.
func (p *peer) channel(w http.ResponseWriter, r *http.Request) {
	id, err := models.ParseID(r.PathValue("id"))
	if err != nil {
		peerNotFound(w)
		return
	}
	sc := p.scope()
	defer sc.release()
	o, err := sc.channel(r.Context(), id)
	if err != nil {
		p.s.internalError(w, r, "peer channel", err)
		return
	}
	if o == nil {
		peerNotFound(w)
		return
	}
	peerJSON(w, http.StatusOK, channelItem(o.ch, o.db.sum.root, o.db.sum))
}

// channels answers channel/: the public channels. It reads the database
// only (no published file is opened for a list): the channel-wide label
// lists and the coach content count are those of the channel's own answer.
func (p *peer) channels(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	chs, err := p.s.db.PublicPeerChannels(r.Context())
	if err != nil {
		p.s.internalError(w, r, "peer channels", err)
		return
	}
	if v, ok := boolParam(q, "available"); ok && !v {
		chs = nil // every published channel is available here
	}
	if v, ok := boolParam(q, "public"); ok && !v {
		chs = nil // only public channels are listed
	}
	exercises, okEx := boolParam(q, "has_exercise")
	if !okEx {
		exercises, okEx = boolParam(q, "contains_exercise")
	}
	roots := make([]models.ID, len(chs))
	for i, ch := range chs {
		roots[i] = ch.RootID
	}
	nodes, err := p.s.db.NodesByID(r.Context(), roots)
	if err != nil {
		p.s.internalError(w, r, "peer channels", err)
		return
	}
	out := []any{}
	for _, ch := range chs {
		root := nodes[ch.RootID]
		if root == nil || (okEx && exercises && !hasKind(ch.PublishedKindCount, models.KindExercise)) {
			continue
		}
		out = append(out, channelItem(ch, root.NodeID.String(), nil))
	}
	peerJSON(w, http.StatusOK, out)
}

func hasKind(kindCount []any, kind string) bool {
	for _, k := range kindCount {
		if m, ok := k.(map[string]any); ok && m["kind_id"] == kind {
			if n, _ := m["count"].(float64); n > 0 {
				return true
			}
		}
	}
	return false
}

// channelItem is Kolibri's BaseChannelMetadataMixin shape. sum is the
// published database's summary, nil when only the database row is known.
func channelItem(ch *models.Channel, root string, sum *peerSummary) map[string]any {
	var last any
	if ch.LastPublished != nil {
		last = ch.LastPublished.UTC().Format(time.RFC3339Nano)
	}
	langs := ch.IncludedLanguages
	if langs == nil {
		langs = []string{}
	}
	item := map[string]any{
		"id": ch.ID.String(), "name": ch.Name, "description": ch.Description, "tagline": ch.Tagline,
		"author": "", "thumbnail": ch.ThumbnailDataURI(), "version": ch.Version, "root": root,
		"public": ch.Public, "available": true, "num_coach_contents": 0,
		"total_resource_count": ch.TotalResourceCount, "published_size": ch.PublishedSize,
		"included_languages": langs, "included_categories": []string{}, "included_grade_levels": []string{},
		"last_updated": last, "last_published": last, "lang_code": nil, "lang_name": nil,
	}
	if l := models.LanguageOf(ch.LanguageCode); l != nil {
		base, _, _ := strings.Cut(l.ID, "-")
		item["lang_code"], item["lang_name"] = base, l.NativeName
	}
	if sum == nil {
		return item
	}
	for _, k := range []string{"name", "description", "tagline", "author", "thumbnail", "version"} {
		item[k] = sum.meta[k]
	}
	if item["tagline"] == nil {
		item["tagline"] = ""
	}
	item["total_resource_count"], item["published_size"] = sum.resources, sum.size
	item["included_categories"], item["included_grade_levels"] = sum.categories, sum.gradeLevels
	item["num_coach_contents"] = sum.counts[root][1]
	return item
}

// ---- content nodes

// peerNode is a content_contentnode row.
type peerNode struct {
	ID, ChannelID, ContentID, Title, Kind, Author, LicenseOwner string
	ParentID, Description, LicenseName, LicenseDescription      sql.NullString
	Options, LangID                                             sql.NullString
	Labels                                                      [6]sql.NullString
	CoachContent, Available                                     bool
	SortOrder                                                   sql.NullFloat64
	Duration                                                    sql.NullInt64
	Lft, Rght, TreeID, Level                                    int64
}

// labelFields are the label columns, in peerNode.Labels' order.
var labelFields = [6]string{"grade_levels", "resource_types", "learning_activities", "accessibility_labels", "categories", "learner_needs"}

const peerNodeColumns = `n.id, n.channel_id, n.content_id, n.title, n.kind, n.author, n.license_owner, n.parent_id,
	n.description, n.license_name, n.license_description, n.options, n.lang_id, n.grade_levels, n.resource_types,
	n.learning_activities, n.accessibility_labels, n.categories, n.learner_needs, n.coach_content, n.available,
	n.sort_order, n.duration, n.lft, n.rght, n.tree_id, n.level`

func (d *peerDB) queryNodes(ctx context.Context, where string, args ...any) ([]*peerNode, error) {
	rows, err := d.sql.QueryContext(ctx, `SELECT `+peerNodeColumns+` FROM content_contentnode AS n WHERE `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*peerNode
	for rows.Next() {
		n := &peerNode{}
		if err := rows.Scan(&n.ID, &n.ChannelID, &n.ContentID, &n.Title, &n.Kind, &n.Author, &n.LicenseOwner, &n.ParentID,
			&n.Description, &n.LicenseName, &n.LicenseDescription, &n.Options, &n.LangID,
			&n.Labels[0], &n.Labels[1], &n.Labels[2], &n.Labels[3], &n.Labels[4], &n.Labels[5],
			&n.CoachContent, &n.Available, &n.SortOrder, &n.Duration, &n.Lft, &n.Rght, &n.TreeID, &n.Level); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// serialize shows nodes of one database as Kolibri's BaseContentNodeMixin
// does: the row, its files, tags, assessment metadata, language and
// ancestors, and the counts Kolibri annotates on import.
func (p *peer) serialize(ctx context.Context, r *http.Request, d *peerDB, nodes []*peerNode) ([]map[string]any, error) {
	ids := make([]string, len(nodes))
	for i, n := range nodes {
		ids[i] = n.ID
	}
	base := p.baseURL(r)
	files := map[string][]map[string]any{}
	err := inChunks(ids, func(marks string, args []any) error {
		rows, err := d.sql.QueryContext(ctx, `SELECT f.id, f.contentnode_id, f.local_file_id, f.priority, f.preset, f.lang_id,
			f.supplementary, f.thumbnail, COALESCE(lf.file_size_bigint, lf.file_size), lf.extension
			FROM content_file AS f JOIN content_localfile AS lf ON lf.id = f.local_file_id
			WHERE f.contentnode_id IN (`+marks+`) ORDER BY f.priority, f.id`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, node, checksum, preset, ext string
			var priority, size sql.NullInt64
			var lang sql.NullString
			var supplementary, thumbnail bool
			if err := rows.Scan(&id, &node, &checksum, &priority, &preset, &lang, &supplementary, &thumbnail, &size, &ext); err != nil {
				return err
			}
			files[node] = append(files[node], map[string]any{
				"id": id, "priority": nullInt(priority), "preset": preset, "supplementary": supplementary,
				"thumbnail": thumbnail, "lang": d.language(lang), "checksum": checksum,
				// The server has every file of a published channel.
				"available": true, "file_size": nullInt(size), "extension": ext,
				"storage_url": base + "/content/storage/" + checksum[:1] + "/" + checksum[1:2] + "/" + checksum + "." + ext,
			})
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	tags := map[string][]string{}
	err = inChunks(ids, func(marks string, args []any) error {
		rows, err := d.sql.QueryContext(ctx, `SELECT t.contentnode_id, g.tag_name FROM content_contentnode_tags AS t
			JOIN content_contenttag AS g ON g.id = t.contenttag_id WHERE t.contentnode_id IN (`+marks+`) ORDER BY g.tag_name`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var node, name string
			if err := rows.Scan(&node, &name); err != nil {
				return err
			}
			tags[node] = append(tags[node], name)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	assessments := map[string]map[string]any{}
	err = inChunks(ids, func(marks string, args []any) error {
		rows, err := d.sql.QueryContext(ctx, `SELECT contentnode_id, assessment_item_ids, number_of_assessments, mastery_model,
			randomize, is_manipulable FROM content_assessmentmetadata WHERE contentnode_id IN (`+marks+`)`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var node, items, mastery string
			var count int
			var randomize, manipulable bool
			if err := rows.Scan(&node, &items, &count, &mastery, &randomize, &manipulable); err != nil {
				return err
			}
			assessments[node] = map[string]any{"contentnode": node, "assessment_item_ids": rawJSON(items, []any{}),
				"number_of_assessments": count, "mastery_model": rawJSON(mastery, map[string]any{}),
				"randomize": randomize, "is_manipulable": manipulable}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	ancestors := map[string][]map[string]any{} // by parent
	out := make([]map[string]any, len(nodes))
	for i, n := range nodes {
		var anc []map[string]any
		if n.ParentID.Valid {
			var ok bool
			if anc, ok = ancestors[n.ParentID.String]; !ok {
				if anc, err = d.ancestors(ctx, n); err != nil {
					return nil, err
				}
				ancestors[n.ParentID.String] = anc
			}
		}
		if anc == nil {
			anc = []map[string]any{}
		}
		options, _ := rawJSON(n.Options.String, map[string]any{}).(map[string]any)
		if options == nil {
			options = map[string]any{}
		}
		coach, resources := 0, 1
		if n.Kind == models.KindTopic {
			c := d.sum.counts[n.ID]
			resources, coach = c[0], c[1]
		} else if n.CoachContent {
			coach = 1
		}
		item := map[string]any{
			"id": n.ID, "author": n.Author, "available": true, "channel_id": n.ChannelID, "coach_content": n.CoachContent,
			"content_id": n.ContentID, "description": n.Description.String, "kind": n.Kind,
			"license_description": nullString(n.LicenseDescription), "license_name": nullString(n.LicenseName),
			"license_owner": n.LicenseOwner, "num_coach_contents": coach, "on_device_resources": resources,
			"options": options, "parent": nullString(n.ParentID), "sort_order": nullFloat(n.SortOrder), "title": n.Title,
			"lft": n.Lft, "rght": n.Rght, "tree_id": n.TreeID, "duration": nullInt(n.Duration), "ancestors": anc,
			"modality": options["modality"], "assessmentmetadata": assessments[n.ID], "lang": d.language(n.LangID),
			"is_leaf": n.Kind != models.KindTopic, "thumbnail": nil,
		}
		for j, f := range labelFields {
			item[f] = splitLabels(n.Labels[j])
		}
		item["tags"] = orEmpty(tags[n.ID])
		fs := files[n.ID]
		if fs == nil {
			fs = []map[string]any{}
		}
		item["files"] = fs
		for _, f := range fs {
			if f["thumbnail"] == true {
				item["thumbnail"] = f["storage_url"]
				break
			}
		}
		out[i] = item
	}
	return out, nil
}

// ancestors lists n's ancestors from the root, as {id, title}.
func (d *peerDB) ancestors(ctx context.Context, n *peerNode) ([]map[string]any, error) {
	rows, err := d.sql.QueryContext(ctx, `SELECT id, title FROM content_contentnode WHERE lft < ? AND rght > ? ORDER BY lft`, n.Lft, n.Rght)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []map[string]any{}
	for rows.Next() {
		var id, title string
		if err := rows.Scan(&id, &title); err != nil {
			return nil, err
		}
		out = append(out, map[string]any{"id": id, "title": title})
	}
	return out, rows.Err()
}

func (d *peerDB) language(id sql.NullString) any {
	if !id.Valid {
		return nil
	}
	if l, ok := d.sum.languages[id.String]; ok {
		return l
	}
	return nil
}

// contentNode answers contentnode/<id>/: one node.
func (p *peer) contentNode(w http.ResponseWriter, r *http.Request) {
	id, ok := nodeID(r.PathValue("id"))
	if !ok {
		peerNotFound(w)
		return
	}
	sc := p.scope()
	defer sc.release()
	found, err := sc.nodes(r.Context(), []string{id})
	if err != nil {
		p.s.internalError(w, r, "peer content node", err)
		return
	}
	o := found[id]
	if o == nil {
		peerNotFound(w)
		return
	}
	nodes, err := o.db.queryNodes(r.Context(), "n.id = ?", id)
	if err == nil && len(nodes) == 0 {
		peerNotFound(w)
		return
	}
	var items []map[string]any
	if err == nil {
		items, err = p.serialize(r.Context(), r, o.db, nodes)
	}
	if err != nil {
		p.s.internalError(w, r, "peer content node", err)
		return
	}
	peerJSON(w, http.StatusOK, items[0])
}

// peerFilter is the SQL of Kolibri's ContentNodeFilter for one request.
type peerFilter struct {
	where []string
	args  []any
}

func (f *peerFilter) add(cond string, args ...any) {
	f.where = append(f.where, cond)
	f.args = append(f.args, args...)
}

func (f *peerFilter) in(col string, vals []string, not bool) {
	if len(vals) == 0 {
		if !not {
			f.add("0")
		}
		return
	}
	marks := strings.TrimSuffix(strings.Repeat("?,", len(vals)), ",")
	op := " IN ("
	if not {
		op = " NOT IN ("
	}
	args := make([]any, len(vals))
	for i, v := range vals {
		args[i] = v
	}
	f.add(col+op+marks+")", args...)
}

func (f *peerFilter) sql() string {
	if len(f.where) == 0 {
		return "1"
	}
	return strings.Join(f.where, " AND ")
}

// badParam is a query parameter that is not what Kolibri sends.
type badParam struct{ name, want string }

func (e badParam) Error() string { return e.name + ": " + e.want }

// nodeFilter turns the query's filters into SQL. The node ids it names
// (parent, ids, descendant_of, prerequisites) and the channels say which
// published databases to search.
func nodeFilter(q url.Values) (f *peerFilter, nodeIDs []string, channels []models.ID, err error) {
	f = &peerFilter{}
	oneNode := func(name string) (string, bool, error) {
		v := q.Get(name)
		if v == "" {
			return "", false, nil
		}
		id, ok := nodeID(v)
		if !ok {
			return "", false, badParam{name, "a node id (32 hexadecimal digits)"}
		}
		nodeIDs = append(nodeIDs, id)
		return id, true, nil
	}
	if id, ok, err := oneNode("parent"); err != nil {
		return nil, nil, nil, err
	} else if ok {
		f.add("n.parent_id = ?", id)
	}
	if id, ok, err := oneNode("descendant_of"); err != nil {
		return nil, nil, nil, err
	} else if ok {
		f.add("n.lft > (SELECT lft FROM content_contentnode WHERE id = ?) AND n.rght < (SELECT rght FROM content_contentnode WHERE id = ?)", id, id)
	}
	if id, ok, err := oneNode("prerequisite_for"); err != nil {
		return nil, nil, nil, err
	} else if ok {
		f.add("n.id IN (SELECT to_contentnode_id FROM content_contentnode_has_prerequisite WHERE from_contentnode_id = ?)", id)
	}
	if id, ok, err := oneNode("has_prerequisite"); err != nil {
		return nil, nil, nil, err
	} else if ok {
		f.add("n.id IN (SELECT from_contentnode_id FROM content_contentnode_has_prerequisite WHERE to_contentnode_id = ?)", id)
	}
	if id, ok, err := oneNode("related"); err != nil {
		return nil, nil, nil, err
	} else if ok {
		f.add(`n.id IN (SELECT to_contentnode_id FROM content_contentnode_related WHERE from_contentnode_id = ?
			UNION SELECT from_contentnode_id FROM content_contentnode_related WHERE to_contentnode_id = ?)`, id, id)
	}
	if q.Has("ids") {
		var ids []string
		for _, v := range commaList(q.Get("ids")) {
			if id, ok := nodeID(v); ok { // Kolibri drops what is not an id
				ids = append(ids, id)
			}
		}
		if len(ids) > peerPageMax {
			return nil, nil, nil, badParam{"ids", fmt.Sprintf("at most %d ids a request", peerPageMax)}
		}
		nodeIDs = append(nodeIDs, ids...)
		f.in("n.id", ids, false)
	}
	for _, name := range []string{"channel_id", "channels"} {
		if !q.Has(name) {
			continue
		}
		var ids []string
		for _, v := range commaList(q.Get(name)) {
			id, err := models.ParseID(v)
			if err != nil {
				return nil, nil, nil, badParam{name, "channel ids (32 hexadecimal digits), comma-separated"}
			}
			channels = append(channels, id)
			ids = append(ids, id.String())
		}
		f.in("n.channel_id", ids, false)
	}
	if v, ok, err := nullBool(q, "parent__isnull"); err != nil {
		return nil, nil, nil, err
	} else if ok {
		f.add(map[bool]string{true: "n.parent_id IS NULL", false: "n.parent_id IS NOT NULL"}[v])
	}
	if v, ok, err := nullBool(q, "categories__isnull"); err != nil {
		return nil, nil, nil, err
	} else if ok {
		f.add(map[bool]string{true: "n.categories IS NULL", false: "n.categories IS NOT NULL"}[v])
	}
	if v, ok, err := nullBool(q, "include_coach_content"); err != nil {
		return nil, nil, nil, err
	} else if ok && !v {
		f.add("NOT n.coach_content")
	}
	if v := q.Get("content_id"); v != "" {
		f.add("n.content_id = ?", v)
	}
	switch v := q.Get("kind"); {
	case v == "content":
		f.add("n.kind <> ?", models.KindTopic)
	case v != "":
		if !models.IsKind(v) {
			return nil, nil, nil, badParam{"kind", "a content kind, or \"content\" for every kind but topic"}
		}
		f.add("n.kind = ?", v)
	}
	if q.Has("kind_in") {
		f.in("n.kind", commaList(q.Get("kind_in")), false)
	}
	if v := q.Get("exclude_content_ids"); v != "" {
		f.in("n.content_id", commaList(v), true)
	}
	if q.Has("languages") {
		f.in("n.lang_id", commaList(q.Get("languages")), false)
	}
	if q.Has("authors") {
		f.in("n.author", commaList(q.Get("authors")), false)
	}
	if v := q.Get("tags"); v != "" {
		tags := commaList(v)
		marks := strings.TrimSuffix(strings.Repeat("?,", len(tags)), ",")
		args := make([]any, len(tags))
		for i, t := range tags {
			args[i] = t
		}
		f.add(`EXISTS (SELECT 1 FROM content_contentnode_tags AS t JOIN content_contenttag AS g ON g.id = t.contenttag_id
			WHERE t.contentnode_id = n.id AND g.tag_name IN (`+marks+`))`, args...)
	}
	for _, name := range []string{"lft__gt", "rght__lt", "tree_id"} {
		v := q.Get(name)
		if v == "" {
			continue
		}
		num, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, nil, nil, badParam{name, "a number"}
		}
		f.add(map[string]string{"lft__gt": "n.lft > ?", "rght__lt": "n.rght < ?", "tree_id": "n.tree_id = ?"}[name], num)
	}
	// A label filter asks for nodes that have every label named.
	for _, name := range labelFields {
		for _, l := range commaList(q.Get(name)) {
			f.add("(',' || n."+name+" || ',') LIKE ? ESCAPE '\\'", "%,"+likeEscape(l)+",%")
		}
	}
	if v := q.Get("keywords"); v != "" {
		var words []string
		for _, w := range regexp.MustCompile(`[?.,!";: ]`).Split(v, -1) {
			if w != "" {
				words = append(words, likeEscape(strings.ToLower(w)))
			}
		}
		if len(words) > 0 {
			var title, desc []string
			var args []any
			for _, w := range words {
				title = append(title, "lower(n.title) LIKE ? ESCAPE '\\'")
				args = append(args, "%"+w+"%")
			}
			for _, w := range words {
				desc = append(desc, "lower(COALESCE(n.description, '')) LIKE ? ESCAPE '\\'")
				args = append(args, "%"+w+"%")
			}
			f.add("(("+strings.Join(title, " AND ")+") OR ("+strings.Join(desc, " AND ")+"))", args...)
		}
	}
	if v := q.Get("modality"); v != "" {
		f.add("json_extract(n.options, '$.modality') = ?", v)
	}
	if v := q.Get("exclude_modalities"); v != "" {
		mods := commaList(v)
		marks := strings.TrimSuffix(strings.Repeat("?,", len(mods)), ",")
		args := make([]any, len(mods))
		for i, m := range mods {
			args[i] = m
		}
		f.add("COALESCE(json_extract(n.options, '$.modality'), '') NOT IN ("+marks+")", args...)
	}
	if v, ok, err := nullBool(q, "contains_quiz"); err != nil {
		return nil, nil, nil, err
	} else if ok && v {
		f.add(`EXISTS (SELECT 1 FROM content_contentnode AS q WHERE q.lft >= n.lft AND q.rght <= n.rght
			AND json_extract(q.options, '$.modality') = 'QUIZ')`)
	}
	return f, nodeIDs, channels, nil
}

// contentNodes answers contentnode/?<filters>: a list, or with
// max_results a page {more, results, labels}, ordered by lft then id.
func (p *peer) contentNodes(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	f, nodeIDs, channels, err := nodeFilter(q)
	if err != nil {
		peerJSON(w, http.StatusBadRequest, map[string]any{"detail": err.Error()})
		return
	}
	if len(nodeIDs) == 0 && len(channels) == 0 {
		peerJSON(w, http.StatusBadRequest, map[string]any{"detail": "name the channel to search: channel_id=, channels=, parent=, ids= or descendant_of="})
		return
	}
	page := 0
	if v := q.Get("max_results"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			peerJSON(w, http.StatusBadRequest, map[string]any{"detail": "max_results: a positive number"})
			return
		}
		page = min(n, peerPageMax)
	}
	var after *[2]string
	if v := q.Get("cursor"); v != "" {
		lft, id, ok := strings.Cut(v, ".")
		if _, err := strconv.ParseInt(lft, 10, 64); err != nil || !ok {
			peerJSON(w, http.StatusBadRequest, map[string]any{"detail": "cursor: the value of a previous answer's more.cursor"})
			return
		}
		after = &[2]string{lft, id}
	}
	sc := p.scope()
	defer sc.release()
	var dbs []*peerOpen
	for _, c := range channels {
		o, err := sc.channel(ctx, c)
		if err != nil {
			p.s.internalError(w, r, "peer content nodes", err)
			return
		}
		if o != nil && !slices.Contains(dbs, o) {
			dbs = append(dbs, o)
		}
	}
	found, err := sc.nodes(ctx, nodeIDs)
	if err != nil {
		p.s.internalError(w, r, "peer content nodes", err)
		return
	}
	for _, o := range found {
		if !slices.Contains(dbs, o) {
			dbs = append(dbs, o)
		}
	}
	limit := peerListMax + 1
	if page > 0 {
		limit = page + 1
	}
	where, args := f.sql(), f.args
	if after != nil {
		where += " AND (n.lft > ? OR (n.lft = ? AND n.id > ?))"
		args = append(slices.Clone(args), after[0], after[0], after[1])
	}
	type hit struct {
		n *peerNode
		o *peerOpen
	}
	var hits []hit
	for _, o := range dbs {
		nodes, err := o.db.queryNodes(ctx, where+" ORDER BY n.lft, n.id LIMIT ?", append(slices.Clone(args), limit)...)
		if err != nil {
			p.s.internalError(w, r, "peer content nodes", err)
			return
		}
		for _, n := range nodes {
			hits = append(hits, hit{n, o})
		}
	}
	sort.SliceStable(hits, func(i, j int) bool {
		a, b := hits[i].n, hits[j].n
		return a.Lft < b.Lft || (a.Lft == b.Lft && a.ID < b.ID)
	})
	if page == 0 && len(hits) > peerListMax {
		peerJSON(w, http.StatusBadRequest, map[string]any{"detail": fmt.Sprintf("more than %d nodes match: page them with max_results", peerListMax)})
		return
	}
	more := page > 0 && len(hits) > page
	if more {
		hits = hits[:page]
	}
	// Serialized a database at a time, put back in order.
	results := make([]map[string]any, len(hits))
	for _, o := range dbs {
		var nodes []*peerNode
		var at []int
		for i, h := range hits {
			if h.o == o {
				nodes, at = append(nodes, h.n), append(at, i)
			}
		}
		if len(nodes) == 0 {
			continue
		}
		items, err := p.serialize(ctx, r, o.db, nodes)
		if err != nil {
			p.s.internalError(w, r, "peer content nodes", err)
			return
		}
		for k, i := range at {
			results[i] = items[k]
		}
	}
	if page == 0 {
		peerJSON(w, http.StatusOK, results)
		return
	}
	var next any
	if more {
		last := hits[len(hits)-1].n
		params := map[string]any{}
		for k := range q {
			params[k] = q.Get(k)
		}
		params["cursor"] = strconv.FormatInt(last.Lft, 10) + "." + last.ID
		next = params
	}
	labels, err := p.labels(ctx, dbs, f)
	if err != nil {
		p.s.internalError(w, r, "peer content nodes", err)
		return
	}
	peerJSON(w, http.StatusOK, map[string]any{"more": next, "results": results, "labels": labels})
}

// labels are the metadata labels, languages and channels of every node the
// filter matches (not only the page), as Kolibri's public pagination gives.
func (p *peer) labels(ctx context.Context, dbs []*peerOpen, f *peerFilter) (map[string]any, error) {
	fields := []string{"learning_activities", "categories", "grade_levels", "accessibility_labels", "learner_needs"}
	sets := make([]map[string]bool, len(fields))
	for i := range sets {
		sets[i] = map[string]bool{}
	}
	langs := map[string]bool{}
	out := map[string]any{}
	channels := []map[string]any{}
	// matches reads one database's matching nodes' labels and languages.
	matches := func(o *peerOpen) (matched bool, err error) {
		rows, err := o.db.sql.QueryContext(ctx, `SELECT n.`+strings.Join(fields, ", n.")+`, n.lang_id FROM content_contentnode AS n WHERE `+f.sql(), f.args...)
		if err != nil {
			return false, err
		}
		defer rows.Close()
		for rows.Next() {
			vals := make([]sql.NullString, len(fields)+1)
			ptrs := make([]any, len(vals))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				return false, err
			}
			matched = true
			for i := range fields {
				for _, l := range splitLabels(vals[i]) {
					sets[i][l] = true
				}
			}
			if v := vals[len(fields)]; v.Valid {
				langs[v.String] = true
			}
		}
		return matched, rows.Err()
	}
	for _, o := range dbs {
		matched, err := matches(o)
		if err != nil {
			return nil, err
		}
		if matched {
			channels = append(channels, map[string]any{"id": o.ch.ID.String(), "name": o.db.sum.meta["name"]})
		}
	}
	for i, name := range fields {
		out[name] = sortedKeys(sets[i])
	}
	languages := []map[string]any{}
	for _, id := range sortedKeys(langs) {
		var name any
		for _, o := range dbs {
			if l, ok := o.db.sum.languages[id]; ok {
				name = l["lang_name"]
				break
			}
		}
		languages = append(languages, map[string]any{"id": id, "lang_name": name})
	}
	out["languages"], out["channels"] = languages, channels
	return out, nil
}

// ---- a node's tree

// tree answers contentnode_tree/<id>/?depth=1|2&next__gt=<lft>: the node
// with a page of its children, each with a page of its own children, as
// Kolibri's TreeQueryMixin builds it (a lone child's children are followed).
func (p *peer) tree(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, ok := nodeID(r.PathValue("id"))
	if !ok {
		peerJSON(w, http.StatusBadRequest, map[string]any{"error": "Invalid UUID format."})
		return
	}
	q := r.URL.Query()
	depth := 2
	if v := q.Get("depth"); v != "" {
		if depth, _ = strconv.Atoi(v); depth != 1 && depth != 2 {
			peerJSON(w, http.StatusBadRequest, []string{"Depth query parameter must have the value 1 or 2"})
			return
		}
	}
	var nextGT *int64
	if v := q.Get("next__gt"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			peerJSON(w, http.StatusBadRequest, []string{"next__gt query parameter must be a positive integer if specified"})
			return
		}
		nextGT = &n
	}
	f, _, _, err := nodeFilter(q)
	if err != nil {
		peerJSON(w, http.StatusBadRequest, map[string]any{"detail": err.Error()})
		return
	}
	sc := p.scope()
	defer sc.release()
	o, ok := sc.node(w, r, id, "peer tree")
	if !ok {
		return
	}
	d := o.db
	// The node itself must pass the filters too.
	self, err := d.queryNodes(ctx, f.sql()+" AND n.id = ?", append(slices.Clone(f.args), id)...)
	if err != nil {
		p.s.internalError(w, r, "peer tree", err)
		return
	}
	if len(self) == 0 {
		peerNotFound(w)
		return
	}
	children := func(parents []string, after *int64, limit int) (map[string][]*peerNode, error) {
		out := map[string][]*peerNode{}
		err := inChunks(parents, func(marks string, args []any) error {
			where := f.sql() + " AND n.parent_id IN (" + marks + ")"
			all := append(slices.Clone(f.args), args...)
			if after != nil {
				where += " AND n.lft > ?"
				all = append(all, *after)
			}
			nodes, err := d.queryNodes(ctx, where+" ORDER BY n.lft", all...)
			for _, n := range nodes {
				if limit == 0 || len(out[n.ParentID.String]) < limit {
					out[n.ParentID.String] = append(out[n.ParentID.String], n)
				}
			}
			return err
		})
		return out, err
	}
	picked := map[string]*peerNode{id: self[0]}
	kids, err := children([]string{id}, nextGT, peerTreePage)
	if err != nil {
		p.s.internalError(w, r, "peer tree", err)
		return
	}
	level := kids[id]
	for nextGT == nil && len(level) == 1 && len(picked) < 1000 {
		picked[level[0].ID] = level[0]
		if kids, err = children([]string{level[0].ID}, nil, peerTreePage); err != nil {
			p.s.internalError(w, r, "peer tree", err)
			return
		}
		level = kids[level[0].ID]
	}
	for _, n := range level {
		picked[n.ID] = n
	}
	if depth == 2 {
		parents := ids(level)
		for len(parents) > 0 && len(picked) < 1000 {
			gc, err := children(parents, nil, 0)
			if err != nil {
				p.s.internalError(w, r, "peer tree", err)
				return
			}
			var singletons []string
			for _, parent := range parents {
				g := gc[parent]
				if len(g) == 1 {
					singletons = append(singletons, g[0].ID)
				}
				for _, n := range g[:min(len(g), peerTreePage)] {
					picked[n.ID] = n
				}
			}
			parents = singletons
		}
	}
	nodes := make([]*peerNode, 0, len(picked))
	for _, n := range picked {
		nodes = append(nodes, n)
	}
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].Lft < nodes[j].Lft })
	items, err := p.serialize(ctx, r, d, nodes)
	if err != nil {
		p.s.internalError(w, r, "peer tree", err)
		return
	}
	top := items[0]
	byID := map[string]map[string]any{}
	for _, desc := range items[1:] {
		byID[desc["id"].(string)] = desc
		parentOf, _ := desc["parent"].(string)
		var parent map[string]any
		moreDepth := 2
		if parentOf == id {
			parent = top
		} else if parent = byID[parentOf]; parent != nil {
			moreDepth = 1
		} else {
			continue
		}
		page, _ := parent["children"].(map[string]any)
		if page == nil {
			page = map[string]any{"results": []any{}, "more": nil}
			parent["children"] = page
		}
		results := append(page["results"].([]any), desc)
		page["results"] = results
		if len(results) == peerTreePage && desc["rght"].(int64)+1 < parent["rght"].(int64) {
			params := map[string]any{}
			for k := range q {
				params[k] = q.Get(k)
			}
			params["next__gt"], params["depth"] = desc["rght"], moreDepth
			page["more"] = map[string]any{"id": parent["id"], "params": params}
		}
	}
	peerJSON(w, http.StatusOK, top)
}

func ids(nodes []*peerNode) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.ID
	}
	return out
}

// ---- import metadata

// peerTables are the content schema 5 tables and columns importmetadata
// answers with, raw, as Kolibri reads them from a content database.
var peerTables = map[string][]string{
	"content_contentnode": {"id", "license_name", "license_description", "title", "coach_content", "content_id",
		"channel_id", "description", "sort_order", "license_owner", "author", "kind", "available", "options",
		"grade_levels", "resource_types", "learning_activities", "accessibility_labels", "categories",
		"learner_needs", "duration", "lft", "rght", "tree_id", "level", "lang_id", "parent_id"},
	"content_file":                         {"id", "preset", "supplementary", "thumbnail", "priority", "contentnode_id", "lang_id", "local_file_id"},
	"content_contentnode_tags":             {"id", "contentnode_id", "contenttag_id"},
	"content_assessmentmetadata":           {"id", "assessment_item_ids", "number_of_assessments", "mastery_model", "randomize", "is_manipulable", "contentnode_id"},
	"content_localfile":                    {"id", "extension", "available", "file_size"},
	"content_contenttag":                   {"id", "tag_name"},
	"content_language":                     {"id", "lang_code", "lang_subcode", "lang_name", "lang_direction"},
	"content_contentnode_has_prerequisite": {"id", "from_contentnode_id", "to_contentnode_id"},
	"content_contentnode_related":          {"id", "from_contentnode_id", "to_contentnode_id"},
	"content_channelmetadata":              {"id", "name", "description", "tagline", "author", "version", "thumbnail", "last_updated", "min_schema_version", "root_id"},
}

// importMetadata answers importmetadata/<id>/[?descendants=true]
// [&max_results=N]: the rows Kolibri needs to import one node: the node,
// its ancestors (and with descendants its descendants), and what they use,
// table by table. With max_results the nodes are paged by lft, and the
// answer is {more, results}.
func (p *peer) importMetadata(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, ok := nodeID(r.PathValue("id"))
	if !ok {
		peerJSON(w, http.StatusBadRequest, map[string]any{"error": []string{"Invalid UUID format."}})
		return
	}
	q := r.URL.Query()
	if v := q.Get("schema_version"); v != "" && v != peerSchemaVersion {
		msg := "Schema version is not parseable by this version of Kolibri"
		if n, err := strconv.Atoi(v); err == nil {
			msg = "Schema version is too high, exports only suported for version " + peerSchemaVersion
			if n < 5 {
				msg = "Schema version is too low, exports only suported for version " + peerSchemaVersion
			}
		}
		peerJSON(w, http.StatusBadRequest, []string{msg})
		return
	}
	page := 0
	if v := q.Get("max_results"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			peerJSON(w, http.StatusBadRequest, map[string]any{"detail": "max_results: a positive number"})
			return
		}
		page = min(n, peerPageMax)
	}
	var after *int64
	if v := q.Get("cursor"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			peerJSON(w, http.StatusBadRequest, map[string]any{"detail": "cursor: the value of a previous answer's more.cursor"})
			return
		}
		after = &n
	}
	sc := p.scope()
	defer sc.release()
	o, ok := sc.node(w, r, id, "peer import metadata")
	if !ok {
		return
	}
	d := o.db
	where := "n.lft <= t.lft AND n.rght >= t.rght"
	if v := q.Get("descendants"); v != "" && v != "false" && v != "0" {
		where = "(" + where + " OR (n.lft > t.lft AND n.rght < t.rght))"
	}
	args := []any{id}
	if after != nil {
		where += " AND n.lft > ?"
		args = append(args, *after)
	}
	limit := peerListMax + 1
	if page > 0 {
		limit = page + 1
	}
	nodes, err := dumpRows(ctx, d.sql, `SELECT `+prefixed("n", peerTables["content_contentnode"])+` FROM content_contentnode AS n,
		(SELECT lft, rght FROM content_contentnode WHERE id = ?) AS t WHERE `+where+` ORDER BY n.lft LIMIT ?`, append(args, limit)...)
	if err != nil {
		p.s.internalError(w, r, "peer import metadata", err)
		return
	}
	if page == 0 && len(nodes) > peerListMax {
		peerJSON(w, http.StatusBadRequest, map[string]any{"detail": fmt.Sprintf("more than %d nodes: page them with max_results", peerListMax)})
		return
	}
	more := page > 0 && len(nodes) > page
	if more {
		nodes = nodes[:page]
	}
	data, err := importTables(ctx, d, nodes)
	if err != nil {
		p.s.internalError(w, r, "peer import metadata", err)
		return
	}
	if page == 0 {
		peerJSON(w, http.StatusOK, data)
		return
	}
	var next any
	if more {
		params := map[string]any{}
		for k := range q {
			params[k] = q.Get(k)
		}
		params["cursor"] = strconv.FormatInt(nodes[len(nodes)-1]["lft"].(int64), 10)
		next = params
	}
	peerJSON(w, http.StatusOK, map[string]any{"more": next, "results": data})
}

// importTables gathers, for nodes (content_contentnode rows), every table's
// rows that Kolibri's import of them needs.
func importTables(ctx context.Context, d *peerDB, nodes []map[string]any) (map[string]any, error) {
	var ids []string
	inSet := map[string]bool{}
	langs := map[string]bool{}
	for _, n := range nodes {
		id := n["id"].(string)
		ids = append(ids, id)
		inSet[id] = true
		if l, ok := n["lang_id"].(string); ok {
			langs[l] = true
		}
	}
	data := map[string]any{"content_contentnode": nodes, "schema_version": peerSchemaVersion}
	byNodes := func(table, col string) ([]map[string]any, error) {
		var out []map[string]any
		err := inChunks(ids, func(marks string, args []any) error {
			rows, err := dumpRows(ctx, d.sql, `SELECT `+strings.Join(peerTables[table], ", ")+` FROM `+table+` WHERE `+col+` IN (`+marks+`)`, args...)
			out = append(out, rows...)
			return err
		})
		return out, err
	}
	byIDs := func(table string, keys map[string]bool) ([]map[string]any, error) {
		var out []map[string]any
		err := inChunks(sortedKeys(keys), func(marks string, args []any) error {
			rows, err := dumpRows(ctx, d.sql, `SELECT `+strings.Join(peerTables[table], ", ")+` FROM `+table+` WHERE id IN (`+marks+`)`, args...)
			out = append(out, rows...)
			return err
		})
		return out, err
	}
	files, err := byNodes("content_file", "contentnode_id")
	if err != nil {
		return nil, err
	}
	local := map[string]bool{}
	for _, f := range files {
		local[f["local_file_id"].(string)] = true
		if l, ok := f["lang_id"].(string); ok {
			langs[l] = true
		}
	}
	through, err := byNodes("content_contentnode_tags", "contentnode_id")
	if err != nil {
		return nil, err
	}
	tagIDs := map[string]bool{}
	for _, t := range through {
		tagIDs[t["contenttag_id"].(string)] = true
	}
	assessments, err := byNodes("content_assessmentmetadata", "contentnode_id")
	if err != nil {
		return nil, err
	}
	data["content_file"], data["content_contentnode_tags"], data["content_assessmentmetadata"] = files, through, assessments
	for table, keys := range map[string]map[string]bool{"content_localfile": local, "content_contenttag": tagIDs, "content_language": langs} {
		rows, err := byIDs(table, keys)
		if err != nil {
			return nil, err
		}
		data[table] = rows
	}
	for _, table := range []string{"content_contentnode_has_prerequisite", "content_contentnode_related"} {
		rows, err := byNodes(table, "from_contentnode_id")
		if err != nil {
			return nil, err
		}
		kept := []map[string]any{}
		for _, row := range rows {
			if inSet[row["to_contentnode_id"].(string)] {
				kept = append(kept, row)
			}
		}
		data[table] = kept
	}
	data["content_channelmetadata"] = []map[string]any{d.sum.meta}
	for k, v := range data {
		if rows, ok := v.([]map[string]any); ok && rows == nil {
			data[k] = []map[string]any{}
		}
	}
	return data, nil
}

// dumpRows reads rows as column → value, booleans as booleans.
func dumpRows(ctx context.Context, db *sql.DB, query string, args ...any) ([]map[string]any, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make(map[string]any, len(cols))
		for i, c := range cols {
			v := vals[i]
			switch x := v.(type) {
			case []byte:
				v = string(x)
			case int64:
				if strings.EqualFold(c.DatabaseTypeName(), "BOOLEAN") {
					v = x != 0
				}
			}
			row[c.Name()] = v
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

// ---- helpers

// baseURL is where this server's files are, for storage_url: PublicURL,
// or the address the request came to.
func (p *peer) baseURL(r *http.Request) string { return p.s.baseURL(r) }

func peerJSON(w http.ResponseWriter, status int, v any) {
	// Answers change when the channel is published again.
	w.Header().Set("Cache-Control", "public, max-age=60")
	writeJSON(w, status, v)
}

func peerNotFound(w http.ResponseWriter) {
	peerJSON(w, http.StatusNotFound, map[string]any{"detail": "Not found."})
}

// nodeID is a Kolibri node id (hexadecimal, with or without dashes) as
// the published database spells it.
func nodeID(s string) (string, bool) {
	id, err := models.ParseID(s)
	if err != nil {
		return "", false
	}
	return id.String(), true
}

// inChunks calls fn with placeholders and arguments for ids, 500 at a time.
func inChunks(ids []string, fn func(marks string, args []any) error) error {
	for len(ids) > 0 {
		n := min(len(ids), 500)
		args := make([]any, n)
		for i, id := range ids[:n] {
			args[i] = id
		}
		if err := fn(strings.TrimSuffix(strings.Repeat("?,", n), ","), args); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}

func prefixed(alias string, cols []string) string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = alias + "." + c
	}
	return strings.Join(out, ", ")
}

func commaList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func splitLabels(s sql.NullString) []string {
	out := []string{}
	if s.Valid && s.String != "" {
		out = strings.Split(s.String, ",")
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// rawJSON decodes a JSON column, or gives def when it is empty or broken.
func rawJSON(s string, def any) any {
	var v any
	if s == "" || json.Unmarshal([]byte(s), &v) != nil || v == nil {
		return def
	}
	return v
}

func nullString(s sql.NullString) any {
	if !s.Valid {
		return nil
	}
	return s.String
}

func nullInt(n sql.NullInt64) any {
	if !n.Valid {
		return nil
	}
	return n.Int64
}

func nullFloat(f sql.NullFloat64) any {
	if !f.Valid {
		return nil
	}
	return f.Float64
}

// boolParam reads a boolean query parameter as django-filter does.
func boolParam(q url.Values, name string) (value, ok bool) {
	v, ok, err := nullBool(q, name)
	return v, ok && err == nil
}

func nullBool(q url.Values, name string) (value, ok bool, err error) {
	switch strings.ToLower(q.Get(name)) {
	case "":
		return false, false, nil
	case "true", "1":
		return true, true, nil
	case "false", "0":
		return false, true, nil
	}
	return false, false, badParam{name, "true or false"}
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
