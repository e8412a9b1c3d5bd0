package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"

	"studio/blobs"
	"studio/db"
	"studio/kolibri"
	"studio/models"
)

// ImportArgs asks for a published channel to be imported into ChannelID:
// a new channel with the source's id, or (Staged) the next version of a
// channel of the caller's. One import of a channel at a time.
type ImportArgs struct {
	ChannelID       models.ID `json:"channel_id" river:"unique"`
	UserID          models.ID `json:"user_id"`
	Source          string    `json:"source"`
	SourceChannelID models.ID `json:"source_channel_id"`
	// Version is the version the source's lookup named (a token's), whose
	// own database is fetched when the source serves it.
	Version      *int `json:"version,omitempty"`
	Staged       bool `json:"staged,omitempty"`
	AllowPrivate bool `json:"allow_private,omitempty"`
	AllowDir     bool `json:"allow_dir,omitempty"`
}

// KindImport is the import job's kind.
const KindImport = "import_channel"

// Kind names the job for River.
func (ImportArgs) Kind() string { return KindImport }

// InsertOpts keeps one import of a channel queued or running at a time.
func (ImportArgs) InsertOpts() river.InsertOpts { return PublishArgs{}.InsertOpts() }

// ImportRequest is what importChannel asks.
type ImportRequest struct {
	// Source is a server's base URL, or a content folder (Trusted only).
	Source string
	// Channel is the source channel's id, or a token the source resolves.
	Channel string
	// As, if set, is the caller's channel the import becomes the next
	// version of, as its staging tree.
	As *models.ID
	// Trusted lets the source be a directory on this machine or a loopback
	// or private address: the command line and admins.
	Trusted bool
}

var (
	channelIDForm = regexp.MustCompile(`^[0-9a-f]{32}$`)
	tokenForm     = regexp.MustCompile(`^[a-z0-9]{1,64}$`)
)

// RequestImport checks the request, resolves a token at the source (the
// only network the request itself touches), and enqueues the import, with
// the channel it fills, in one transaction. It returns the job.
func RequestImport(ctx context.Context, d *db.DB, c *Client, u *models.User, in ImportRequest) (int64, error) {
	if u == nil {
		return 0, models.Errorf(models.CodeUnauthenticated, "sign in to import a channel: send Authorization: Bearer <token>")
	}
	if in.As != nil {
		if err := d.CheckEdit(ctx, u, *in.As); err != nil {
			return 0, err
		}
	}
	trusted := in.Trusted || u.IsAdmin
	src, err := openImportSource(in.Source, trusted, trusted)
	if err != nil {
		return 0, err
	}
	ident := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(in.Channel), "-", ""))
	if !tokenForm.MatchString(ident) {
		return 0, models.Errorf(models.CodeBadUserInput, "channel %q is neither a channel id (32 hex digits) nor a token (abcde-fghij)", in.Channel)
	}
	req := db.ImportRequest{Source: src.String()}
	if in.As != nil {
		req.As = *in.As
	}
	var version *int
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	found, err := src.lookup(lctx, ident)
	if err != nil {
		return 0, models.Errorf(models.CodeBadUserInput, "%s did not answer the lookup of %s: %v", src, in.Channel, err)
	}
	switch {
	case found != nil && channelIDForm.MatchString(strings.ToLower(found.ID)):
		req.SourceChannelID = models.MustParseID(strings.ToLower(found.ID))
		req.Name, req.Language = found.Name, found.Language
		if !channelIDForm.MatchString(ident) {
			version = found.Version // a token names a version; an id the current one
		}
	case channelIDForm.MatchString(ident):
		req.SourceChannelID = models.MustParseID(ident)
	default:
		return 0, models.Errorf(models.CodeNotFound, "%s knows no channel by the token %s", src, in.Channel)
	}
	if req.Name != "" && len([]rune(req.Name)) > 200 {
		req.Name = string([]rune(req.Name)[:200])
	}
	job, _, err := d.RequestImport(ctx, u, req, func(ctx context.Context, tx *sql.Tx, channelID models.ID) (int64, bool, error) {
		res, err := c.InsertTx(ctx, tx, ImportArgs{ChannelID: channelID, UserID: u.ID, Source: req.Source, SourceChannelID: req.SourceChannelID,
			Version: version, Staged: in.As != nil, AllowPrivate: trusted, AllowDir: trusted}, nil)
		if err != nil {
			return 0, false, fmt.Errorf("jobs: enqueue import: %w", err)
		}
		return res.Job.ID, !res.UniqueSkippedAsDuplicate, nil
	})
	return job, err
}

// Import is the import job's worker: it fetches the channel's content
// database and files, and builds the channel's tree from them as a chef
// tree (db/chef.go), which it finishes as the main tree (or the staging
// tree). A retried attempt fetches nothing the blob store has: the store is
// content addressed, so a file fetched once is found there; the tree is
// built again from the start, the unfinished one deleted.
type Import struct {
	river.WorkerDefaults[ImportArgs]
	DB    *db.DB
	Blobs *blobs.Store
	// Limit is how long one attempt may run (0: DefaultImportTimeout).
	Limit time.Duration
	// TempDir holds the content database while it is read ("": the system's).
	TempDir string
	// MaxDatabase bounds the content database (0: DefaultMaxImportDatabase).
	MaxDatabase int64
	// Fetchers is how many files are fetched at once (0: 8).
	Fetchers int
}

// DefaultImportTimeout bounds one attempt of an import.
const DefaultImportTimeout = 2 * time.Hour

// Timeout bounds one attempt: River's rescuer retries an import past it.
func (w *Import) Timeout(*river.Job[ImportArgs]) time.Duration {
	if w.Limit > 0 {
		return w.Limit
	}
	return DefaultImportTimeout
}

// Work imports, recording each step for subscribers. A mistake in the
// source (no such channel, an old schema, a damaged file) fails the job at
// once; anything else (the network) is retried.
func (w *Import) Work(ctx context.Context, job *river.Job[ImportArgs]) error {
	r := &importRun{w: w, job: job, steps: newSteps(w.DB, "import", job, job.Args.ChannelID), stored: map[string]bool{}}
	if err := r.run(ctx); err != nil {
		return r.fail(ctx, err, job.MaxAttempts, models.CodeBadUserInput, models.CodeNotFound, models.CodeForbidden, models.CodeConflict)
	}
	return nil
}

// ImportStats count what an attempt fetched.
type ImportStats struct {
	Nodes        int
	Files        int   // files the channel's nodes and questions name
	FilesFetched int64 // of which fetched (the others were stored already)
	BytesFetched int64
}

// importRun is one attempt of an import.
type importRun struct {
	w   *Import
	job *river.Job[ImportArgs]
	steps
	src      importSource
	u        *models.User
	m        *kolibri.Mapper
	warnings []string
	stats    ImportStats

	mu     sync.Mutex
	stored map[string]bool // "<md5>.<ext>" known to be in the store
}

func (r *importRun) warn(format string, args ...any) {
	if len(r.warnings) < 200 {
		r.warnings = append(r.warnings, fmt.Sprintf(format, args...))
	}
}

// importDatabaseKey is where an import keeps the content database it
// fetched, until it finishes: a retried attempt reads it from there.
func importDatabaseKey(job int64) string { return fmt.Sprintf("imports/%d.sqlite3", job) }

func (r *importRun) run(ctx context.Context) error {
	d, store, args := r.w.DB, r.w.Blobs, r.job.Args
	if err := r.event(ctx, models.JobRunning, 0, nil); err != nil {
		return err
	}
	rec, err := d.ImportByJob(ctx, r.job.ID)
	if err != nil {
		return err
	}
	if rec == nil {
		return models.Errorf(models.CodeNotFound, "job %d has no import recorded", r.job.ID)
	}
	if rec.FinishedAt != nil { // an attempt that finished and died before it said so
		return r.finish(ctx)
	}
	users, err := d.UsersByID(ctx, []models.ID{args.UserID})
	if err != nil {
		return err
	}
	if r.u = users[args.UserID]; r.u == nil {
		return models.Errorf(models.CodeNotFound, "the user who asked for the import is gone")
	}
	if r.src, err = openImportSource(args.Source, args.AllowDir, args.AllowPrivate); err != nil {
		return err
	}
	src, err := r.database(ctx)
	if err != nil {
		return err
	}
	if err := r.event(ctx, models.JobRunning, 5, nil); err != nil {
		return err
	}
	r.m = &kolibri.Mapper{Src: src}
	var lookupLanguage string
	if found, err := r.src.lookup(ctx, args.SourceChannelID.String()); err == nil && found != nil {
		lookupLanguage = found.Language
	}
	ch := r.m.Channel(args.ChannelID, r.m.Language(lookupLanguage))
	rootOrder := src.Nodes[0].SortOrder
	ch.Root.SortOrder = &rootOrder
	if args.Staged {
		// The next version of the caller's channel keeps its root's ids.
		ch.Root.NodeID, ch.Root.ContentID = models.ID{}, models.ID{}
	}
	if err := d.DiscardChefTree(ctx, r.u, args.ChannelID); err != nil {
		return err
	}
	_, root, err := d.BeginChefTree(ctx, r.u, ch)
	if err != nil {
		return err
	}
	added, err := r.tree(ctx, root)
	if err != nil {
		return err
	}
	if err := r.prerequisites(ctx, added); err != nil {
		return err
	}
	res := db.ImportResult{SourceVersion: src.Channel.Version, Nodes: map[string]string{}}
	for _, n := range src.Nodes {
		if added[n.ID] {
			res.Nodes[n.ID] = kolibri.Digest(n)
		}
	}
	prev, err := d.PreviousImport(ctx, args.ChannelID, args.SourceChannelID, r.job.ID)
	if err != nil {
		return err
	}
	if prev != nil && prev.Nodes != nil {
		res.Changes = upstreamChanges(prev, res.Nodes)
	}
	res.Warnings = append(append(append([]string{}, src.Warnings...), r.m.Warnings...), r.warnings...)
	if len(res.Warnings) > 200 {
		res.Warnings = append(res.Warnings[:199], fmt.Sprintf("… and %d more", len(res.Warnings)-199))
	}
	if _, err := d.FinishImport(ctx, r.u, r.job.ID, args.ChannelID, res); err != nil {
		return err
	}
	slog.InfoContext(ctx, "jobs: imported", "job", r.job.ID, "channel", args.ChannelID, "source", args.Source, "nodes", r.stats.Nodes,
		"files", r.stats.Files, "fetched", r.stats.FilesFetched, "bytes", r.stats.BytesFetched)
	if err := store.Delete(ctx, importDatabaseKey(r.job.ID)); err != nil {
		return err
	}
	return r.finish(ctx)
}

// upstreamChanges compares an import's nodes with the previous import's.
func upstreamChanges(prev *models.ChannelImport, now map[string]string) *models.UpstreamChanges {
	c := &models.UpstreamChanges{}
	if prev.SourceVersion != nil {
		c.PreviousVersion = *prev.SourceVersion
	}
	for id, digest := range now {
		switch was, ok := prev.Nodes[id]; {
		case !ok:
			c.Added++
		case was != digest:
			c.Changed++
		default:
			c.Unchanged++
		}
	}
	for id := range prev.Nodes {
		if _, ok := now[id]; !ok {
			c.Removed++
		}
	}
	return c
}

// database fetches (once: a retry finds it in the store) and reads the
// channel's content database.
func (r *importRun) database(ctx context.Context) (*kolibri.Source, error) {
	store, args := r.w.Blobs, r.job.Args
	tmp, err := os.MkdirTemp(r.w.TempDir, "studio-import-*")
	if err != nil {
		return nil, fmt.Errorf("jobs: import: %w", err)
	}
	defer os.RemoveAll(tmp)
	path := filepath.Join(tmp, "channel.sqlite3")
	key := importDatabaseKey(r.job.ID)
	limit := r.w.MaxDatabase
	if limit <= 0 {
		limit = DefaultMaxImportDatabase
	}
	if err := copyBlob(ctx, store, key, path); errors.Is(err, blobs.ErrNotFound) {
		if err := fetchDatabase(ctx, r.src, args.SourceChannelID, args.Version, path, limit); err != nil {
			return nil, err
		}
		if err := store.PutFile(ctx, key, path, "application/vnd.sqlite3"); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	return kolibri.Read(ctx, path, args.SourceChannelID)
}

// copyBlob copies the blob under key to the file path.
func copyBlob(ctx context.Context, store *blobs.Store, key, path string) error {
	rd, err := store.Open(ctx, key)
	if err != nil {
		return err
	}
	defer rd.Close()
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("jobs: import: %w", err)
	}
	_, err = io.Copy(f, rd)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("jobs: import: %w", err)
	}
	return nil
}

// importBatch is how many siblings go in one AddChefNodes call.
const importBatch = 500

// tree adds the source's nodes under root level by level, each parent's
// children in batches, with their files fetched first. It returns the
// source node ids added.
func (r *importRun) tree(ctx context.Context, root models.ID) (map[string]bool, error) {
	src := r.m.Src
	children := map[string][]*kolibri.SourceNode{}
	for _, n := range src.Nodes[1:] {
		children[n.ParentID] = append(children[n.ParentID], n)
	}
	added := map[string]bool{src.Nodes[0].ID: true}
	ids := map[string]models.ID{src.Nodes[0].ID: root}
	total := max(len(src.Nodes)-1, 1)
	done := 0
	stored := func(ctx context.Context, checksum, ext string) (bool, error) {
		r.mu.Lock()
		ok := r.stored[checksum+"."+ext]
		r.mu.Unlock()
		if ok {
			return true, nil
		}
		return r.w.Blobs.Exists(ctx, blobs.Key(checksum, ext))
	}
	queue := []*kolibri.SourceNode{src.Nodes[0]}
	for len(queue) > 0 {
		parent := queue[0]
		queue = queue[1:]
		var kids []*kolibri.SourceNode
		for _, c := range children[parent.ID] {
			if r.m.Known(c) {
				kids = append(kids, c)
			}
		}
		if len(kids) > 0 && parent.Kind != models.KindTopic && parent.Level > 0 {
			r.warn("node %s (%q) is a %s with %d children: they are left out, as only topics have children", parent.ID, parent.Title, parent.Kind, len(kids))
			continue
		}
		orders := sortOrders(kids)
		for start := 0; start < len(kids); start += importBatch {
			batch := kids[start:min(start+importBatch, len(kids))]
			nodes, err := r.prepare(ctx, batch, orders[start:start+len(batch)])
			if err != nil {
				return nil, err
			}
			got, err := r.w.DB.AddChefNodes(ctx, r.u, ids[parent.ID], nodes, stored)
			if err != nil {
				return nil, err
			}
			for i, n := range batch {
				ids[n.ID] = got[nodes[i].NodeID]
				added[n.ID] = true
				if n.Kind == models.KindTopic || n.Children > 0 {
					queue = append(queue, n)
				}
			}
			done += len(batch)
			r.stats.Nodes += len(batch)
			if err := r.step(ctx, 5+90*done/total); err != nil {
				return nil, err
			}
		}
	}
	return added, nil
}

// sortOrders keeps siblings' sort orders when they grow along the siblings
// (as a published tree's do), so that a publish writes them again; else
// none, and the siblings are numbered anew in their order.
func sortOrders(kids []*kolibri.SourceNode) []*float64 {
	out := make([]*float64, len(kids))
	for i, k := range kids {
		v := k.SortOrder
		if math.IsNaN(v) || math.IsInf(v, 0) || (i > 0 && v <= kids[i-1].SortOrder) {
			return make([]*float64, len(kids))
		}
		out[i] = &v
	}
	return out
}

// blobWant is a file to have in the store.
type blobWant struct {
	checksum, ext string
	size          int64
}

// prepare turns a batch of siblings into chef nodes, with every file they
// name in the store: fetched, or found there already. A file the source
// lacks is left out, and said.
func (r *importRun) prepare(ctx context.Context, batch []*kolibri.SourceNode, orders []*float64) ([]db.ChefNode, error) {
	nodes := make([]db.ChefNode, len(batch))
	var want []blobWant
	seen := map[string]bool{}
	for i, n := range batch {
		nodes[i] = r.m.Node(n, orders[i])
		for _, f := range nodes[i].Files {
			if !seen[f.Filename] {
				seen[f.Filename] = true
				sum, ext, _ := strings.Cut(f.Filename, ".")
				size := int64(-1)
				for _, sf := range n.Files {
					if sf.Filename() == f.Filename {
						size = sf.Size
					}
				}
				want = append(want, blobWant{sum, ext, size})
			}
		}
	}
	missing, err := r.fetch(ctx, want)
	if err != nil {
		return nil, err
	}
	for i, n := range batch {
		cn := &nodes[i]
		kept := cn.Files[:0]
		for _, f := range cn.Files {
			if missing[f.Filename] {
				r.warn("node %s (%q): %s is not at the source: left out", n.ID, n.Title, f.Filename)
				continue
			}
			kept = append(kept, f)
		}
		cn.Files = kept
		r.stats.Files += len(kept)
		if n.Kind == models.KindExercise {
			if err := r.questions(ctx, n, cn); err != nil {
				return nil, err
			}
		}
	}
	return nodes, nil
}

// fetch puts the wanted blobs in the store, several at once, and returns
// those the source lacks.
func (r *importRun) fetch(ctx context.Context, want []blobWant) (map[string]bool, error) {
	workers := r.w.Fetchers
	if workers <= 0 {
		workers = 8
	}
	missing := map[string]bool{}
	var mu sync.Mutex
	var firstErr error
	next := atomic.Int64{}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for range min(workers, len(want)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(want) {
					return
				}
				b := want[i]
				name := b.checksum + "." + b.ext
				fetched, err := fetchBlob(ctx, r.src, r.w.Blobs, b.checksum, b.ext, b.size)
				mu.Lock()
				switch {
				case errors.Is(err, errSourceMissing):
					missing[name] = true
				case err != nil:
					if firstErr == nil {
						firstErr = err
						cancel()
					}
				default:
					r.mu.Lock()
					r.stored[name] = true
					r.mu.Unlock()
					if fetched {
						r.stats.FilesFetched++
						r.stats.BytesFetched += max(b.size, 0)
					}
				}
				mu.Unlock()
				if err != nil && !errors.Is(err, errSourceMissing) {
					return
				}
			}
		})
	}
	wg.Wait()
	return missing, firstErr
}

// questions reads an exercise's questions from its archive (stored by now)
// and stores the archive's images.
func (r *importRun) questions(ctx context.Context, n *kolibri.SourceNode, cn *db.ChefNode) error {
	var archive string
	for _, f := range cn.Files {
		if f.Preset == models.KindExercise && strings.HasSuffix(f.Filename, ".perseus") {
			archive = f.Filename
		}
	}
	if archive == "" {
		r.warn("exercise %s (%q) has no Perseus archive (a QTI exercise's questions are not read yet): imported without questions", n.ID, n.Title)
		return nil
	}
	sum, ext, _ := strings.Cut(archive, ".")
	rd, err := r.w.Blobs.Open(ctx, blobs.Key(sum, ext))
	if err != nil {
		return err
	}
	data, err := io.ReadAll(io.LimitReader(rd, 1<<30))
	rd.Close()
	if err != nil {
		return fmt.Errorf("jobs: import: %s: %w", archive, err)
	}
	var ids []string
	if n.Assessment != nil {
		ids = n.Assessment.ItemIDs
	}
	ex, err := kolibri.ReadPerseusArchive(data, ids)
	if err != nil {
		r.warn("exercise %s (%q): %v: imported without questions", n.ID, n.Title, err)
		return nil
	}
	for name, img := range ex.Images {
		sum, ext, _ := strings.Cut(name, ".")
		key := blobs.Key(sum, ext)
		ok, err := r.w.Blobs.Exists(ctx, key)
		if err != nil {
			return err
		}
		if !ok {
			mime := "application/octet-stream"
			if f, found := models.FileFormatByExtension(ext); found {
				mime = f.MIMEType
			}
			if err := r.w.Blobs.Put(ctx, key, img, mime); err != nil {
				return err
			}
		}
		r.mu.Lock()
		r.stored[name] = true
		r.mu.Unlock()
	}
	cn.Questions = r.m.Questions(n, ex)
	for _, q := range cn.Questions {
		r.stats.Files += len(q.Files)
	}
	return nil
}

// prerequisites adds the source's prerequisites between nodes added.
func (r *importRun) prerequisites(ctx context.Context, added map[string]bool) error {
	var pairs []db.ChefPrerequisite
	for _, n := range r.m.Src.Nodes {
		for _, p := range n.Prerequisites {
			if added[n.ID] && added[p] {
				pairs = append(pairs, db.ChefPrerequisite{Target: models.MustParseID(n.ID), Prerequisite: models.MustParseID(p)})
			}
		}
	}
	for start := 0; start < len(pairs); start += 1000 {
		if err := r.w.DB.AddChefPrerequisites(ctx, r.u, r.channelID, pairs[start:min(start+1000, len(pairs))]); err != nil {
			return err
		}
	}
	return r.step(ctx, 97)
}

// finish records the job's success, with River's row completed in the same
// transaction.
func (r *importRun) finish(ctx context.Context) error {
	if err := completeJob(ctx, r.w.DB, r.job, &models.JobEvent{JobID: r.job.ID, ChannelID: &r.channelID, State: models.JobCompleted, Progress: 100}); err != nil {
		return fmt.Errorf("jobs: import: complete: %w", err)
	}
	r.progress = 100
	return nil
}

// completeJob records a job's last event and completes River's row in one
// transaction.
func completeJob[T river.JobArgs](ctx context.Context, d *db.DB, job *river.Job[T], ev *models.JobEvent) error {
	return d.FinishJob(ctx, ev, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		if d.Kind == db.Postgres {
			_, err = river.JobCompleteTx[*riverdatabasesql.Driver](ctx, tx, job)
		} else {
			_, err = river.JobCompleteTx[*riversqlite.Driver](ctx, tx, job)
		}
		return err
	})
}

// importChannelOf reads an import job's channel from its row.
func importChannelOf(row *rivertype.JobRow) (models.ID, bool) {
	var args ImportArgs
	if row.Kind != KindImport || json.Unmarshal(row.EncodedArgs, &args) != nil {
		return models.ID{}, false
	}
	return args.ChannelID, true
}
