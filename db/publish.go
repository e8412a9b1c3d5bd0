package db

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"studio/models"
)

// checkPublish locks channelID for u inside tx and says whether it can be
// published: u may edit it, it is not deleted, it has a language and a
// complete resource in its main tree. (The publish job decides exactly what
// goes in; this refuses early what would surely fail.)
func (d *DB) checkPublish(ctx context.Context, tx bun.Tx, u *models.User, channelID models.ID) (*models.Channel, error) {
	ca, err := newApplier(d, tx, u, true).editChannel(ctx, channelID)
	if err != nil {
		return nil, unwrapDisallowed(err)
	}
	ch := ca.Channel
	switch {
	case ch.Deleted:
		return nil, models.Errorf(models.CodeBadUserInput, "channel %s is deleted; restore it (updateChannel with deleted: false) before publishing", ch.ID)
	case ch.LanguageCode == "":
		return nil, models.Errorf(models.CodeBadUserInput, "channel %s has no language; set one (updateChannel with language) before publishing", ch.ID)
	}
	ok, err := tx.NewSelect().Model((*models.ContentNode)(nil)).
		Where("cn.root_id = ? AND cn.kind <> ? AND cn.complete", ch.RootID, models.KindTopic).Exists(ctx)
	if err != nil {
		return nil, fmt.Errorf("db: check publish: %w", err)
	}
	if !ok {
		return nil, models.Errorf(models.CodeBadUserInput, "channel %s has nothing to publish: its main tree has no complete resource (a resource needs a title, a license and its files; an exercise, questions and a mastery model; every topic above it, a title)", ch.ID)
	}
	return ch, nil
}

// AddJobEvent appends a step to a job's history; its subscribers, on every
// instance, hear of it once it commits.
func (d *DB) AddJobEvent(ctx context.Context, ev *models.JobEvent) error {
	return d.FinishJob(ctx, ev, nil)
}

// FinishJob appends a job's last event and, in the same transaction, runs
// complete (River's JobCompleteTx; nil for an event that is not the last),
// so that whoever sees the event sees the job done.
func (d *DB) FinishJob(ctx context.Context, ev *models.JobEvent, complete func(ctx context.Context, tx *sql.Tx) error) error {
	return d.door(ctx, func(ctx context.Context, tx *writeTx) error {
		if err := addJobEvent(ctx, tx, ev); err != nil {
			return err
		}
		if complete != nil {
			return complete(ctx, tx.Tx.Tx)
		}
		return nil
	})
}

func addJobEvent(ctx context.Context, tx *writeTx, ev *models.JobEvent) error {
	if ev.CreatedAt.IsZero() {
		ev.CreatedAt = now()
	}
	if _, err := tx.NewInsert().Model(ev).Exec(ctx); err != nil {
		return fmt.Errorf("db: add job event: %w", err)
	}
	tx.touch(models.JobID(ev.JobID))
	return nil
}

// RequestPublish checks, for u, that channelID can be published (see
// checkPublish) and calls enqueue in the same transaction: it inserts the
// job (River's InsertTx) and says whether the job is new, or one already
// pending. A new job's first event, QUEUED, is recorded with it.
func (d *DB) RequestPublish(ctx context.Context, u *models.User, channelID models.ID, enqueue func(ctx context.Context, tx *sql.Tx) (job int64, fresh bool, err error)) (int64, error) {
	var job int64
	err := d.door(ctx, func(ctx context.Context, tx *writeTx) error {
		if _, err := d.checkPublish(ctx, tx.Tx, u, channelID); err != nil {
			return err
		}
		var fresh bool
		var err error
		if job, fresh, err = enqueue(ctx, tx.Tx.Tx); err != nil || !fresh {
			return err
		}
		return addJobEvent(ctx, tx, &models.JobEvent{JobID: job, ChannelID: &channelID, State: models.JobQueued})
	})
	return job, err
}

// SubscribeJob is Subscribe for a job's events.
func (d *DB) SubscribeJob(n int64) (<-chan struct{}, func()) { return d.Subscribe(models.JobID(n)) }

// JobEvents lists job n's events after the one with id after, oldest first.
func (d *DB) JobEvents(ctx context.Context, n, after int64) ([]*models.JobEvent, error) {
	var evs []*models.JobEvent
	err := d.sql.NewSelect().Model(&evs).Where("je.job_id = ? AND je.id > ?", n, after).Order("je.id").Limit(1000).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("db: job events: %w", err)
	}
	return evs, nil
}

// LatestJobEvents returns each job's last event.
func (d *DB) LatestJobEvents(ctx context.Context, jobIDs []int64) (map[int64]*models.JobEvent, error) {
	out := map[int64]*models.JobEvent{}
	if len(jobIDs) == 0 {
		return out, nil
	}
	var evs []*models.JobEvent
	err := d.sql.NewSelect().Model(&evs).
		Where("je.id IN (SELECT MAX(id) FROM job_events WHERE job_id IN (?) GROUP BY job_id)", bun.List(jobIDs)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("db: latest job events: %w", err)
	}
	for _, ev := range evs {
		out[ev.JobID] = ev
	}
	return out, nil
}

// ChannelJobIDs lists the ids of the jobs about channelID, newest first.
func (d *DB) ChannelJobIDs(ctx context.Context, channelID models.ID, limit int) ([]int64, error) {
	var ids []int64
	err := d.sql.NewSelect().Model((*models.JobEvent)(nil)).ColumnExpr("DISTINCT je.job_id").
		Where("je.channel_id = ?", channelID).OrderExpr("je.job_id DESC").Limit(int64(limit)).Scan(ctx, &ids)
	if err != nil {
		return nil, fmt.Errorf("db: channel jobs: %w", err)
	}
	return ids, nil
}

// ChannelVersionByJob returns the version job n published, or nil.
func (d *DB) ChannelVersionByJob(ctx context.Context, n int64) (*models.ChannelVersion, error) {
	var vs []*models.ChannelVersion
	if err := d.sql.NewSelect().Model(&vs).Where("cv.job_id = ?", n).Scan(ctx); err != nil {
		return nil, fmt.Errorf("db: channel version: %w", err)
	}
	if len(vs) == 0 {
		return nil, nil
	}
	return vs[0], nil
}

// VersionsByJob maps the jobs that published a version to it (not drafts).
func (d *DB) VersionsByJob(ctx context.Context, jobIDs []int64) (map[int64]int, error) {
	var vs []*models.ChannelVersion
	if err := d.sql.NewSelect().Model(&vs).Column("job_id", "version").Where("cv.job_id IN (?) AND cv.version > 0", bun.List(jobIDs)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("db: versions by job: %w", err)
	}
	out := make(map[int64]int, len(vs))
	for _, v := range vs {
		out[v.JobID] = v.Version
	}
	return out, nil
}

// Published is what a publish made, for MarkPublished.
type Published struct {
	JobID     int64
	ChannelID models.ID
	UserID    *models.ID
	// Version is the version written: the channel's version + 1.
	Version      int
	VersionNotes string
	// Snapshot is when the published tree was read: nodes modified since
	// stay changed.
	Snapshot      time.Time
	ResourceCount int
	KindCount     map[string]int
	Size          int64
	Languages     []string
	// Archives are exercises' generated archive files (preset "exercise"),
	// by node; they replace the nodes' previous archives.
	Archives map[models.ID]*models.File
	// Token is the channel's secret token if it has none yet.
	Token string
	// VersionToken is this version's own token.
	VersionToken string
}

// MarkPublished records a publish, in one transaction: the channel's new version and
// statistics, the version's row and token, the channel's tokens on the
// first publish, its nodes published and unchanged, exercises' archives,
// and a PUBLISHED change. The draft, if any, ends, as on Studio.
// It fails with CONFLICT if another publish committed meanwhile.
func (d *DB) MarkPublished(ctx context.Context, p Published) error {
	return d.door(ctx, func(ctx context.Context, tx *writeTx) error {
		var ch models.Channel
		q := tx.NewSelect().Model(&ch).Where("c.id = ?", p.ChannelID)
		if d.dialect.rowLocks {
			q = q.For("UPDATE")
		}
		if err := q.Scan(ctx); err != nil {
			return fmt.Errorf("db: mark published: %w", err)
		}
		if ch.Version+1 != p.Version {
			return models.Errorf(models.CodeConflict, "channel %s is at version %d, not %d: another publish finished first", ch.ID, ch.Version, p.Version-1)
		}
		t := now()
		kinds := kindCount(p.KindCount)
		if p.Languages == nil {
			p.Languages = []string{}
		}
		ch.Version, ch.LastPublished, ch.PublishedSize, ch.TotalResourceCount = p.Version, &t, p.Size, p.ResourceCount
		ch.PublishedKindCount, ch.IncludedLanguages = kinds, p.Languages
		_, err := tx.NewUpdate().Model(&ch).WherePK().
			Column("version", "last_published", "published_size", "total_resource_count", "published_kind_count", "included_languages").Exec(ctx)
		if err != nil {
			return fmt.Errorf("db: mark published: channel: %w", err)
		}
		v := &models.ChannelVersion{ChannelID: ch.ID, Version: p.Version, JobID: p.JobID, VersionNotes: p.VersionNotes,
			ResourceCount: p.ResourceCount, KindCount: kinds, Size: p.Size, IncludedLanguages: p.Languages,
			PublishedByID: p.UserID, CreatedAt: t}
		if p.VersionToken != "" {
			v.SecretToken = &p.VersionToken
		}
		if _, err := tx.NewInsert().Model(v).Exec(ctx); err != nil {
			return fmt.Errorf("db: mark published: version: %w", err)
		}
		if _, err := tx.NewDelete().Model((*models.ChannelVersion)(nil)).Where("channel_id = ? AND version = 0", ch.ID).Exec(ctx); err != nil {
			return fmt.Errorf("db: mark published: draft: %w", err)
		}
		if _, err := tx.NewDelete().Model((*draftGrant)(nil)).Where("channel_id = ?", ch.ID).Exec(ctx); err != nil {
			return fmt.Errorf("db: mark published: draft: %w", err)
		}
		if p.Token != "" {
			has, err := tx.NewSelect().Model((*models.ChannelToken)(nil)).Where("ct.channel_id = ? AND ct.is_primary", ch.ID).Exists(ctx)
			if err != nil {
				return fmt.Errorf("db: mark published: tokens: %w", err)
			}
			if !has {
				// The proquint, and the channel id itself, as Studio makes them.
				toks := []models.ChannelToken{{Token: p.Token, ChannelID: ch.ID, IsPrimary: true}, {Token: ch.ID.String(), ChannelID: ch.ID}}
				if _, err := tx.NewInsert().Model(&toks).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
					return fmt.Errorf("db: mark published: tokens: %w", err)
				}
			}
		}
		_, err = tx.NewUpdate().Model((*models.ContentNode)(nil)).Set("published = ?", true).Set("changed = ?", false).
			Where("root_id = ? AND modified_at <= ?", ch.RootID, p.Snapshot).Exec(ctx)
		if err != nil {
			return fmt.Errorf("db: mark published: nodes: %w", err)
		}
		if err := d.replaceArchives(ctx, tx.Tx, p.Archives); err != nil {
			return err
		}
		entry := &models.Change{ChannelID: &ch.ID, CreatedByID: p.UserID, Table: TableChannel, Type: models.ChangePublished,
			Key: ch.ID, Payload: map[string]any{"version": p.Version, "version_notes": p.VersionNotes}}
		tx.record(entry)
		return nil
	})
}

// Draft is what a draft publish made, for MarkDraft.
type Draft struct {
	JobID         int64
	ChannelID     models.ID
	UserID        *models.ID
	VersionNotes  string
	ResourceCount int
	KindCount     map[string]int
	Size          int64
	Languages     []string
	// Token is the draft's token if the channel has no draft yet.
	Token string
}

// MarkDraft records a draft publish, once its database is
// stored: the channel's draft (its version 0) and what is in it. The first
// draft since the last publish gets p.Token; later drafts keep it, so that
// a token handed out imports the newest draft, as on Studio. The channel's
// version and nodes are left alone.
func (d *DB) MarkDraft(ctx context.Context, p Draft) error {
	return d.door(ctx, func(ctx context.Context, tx *writeTx) error {
		if p.Languages == nil {
			p.Languages = []string{}
		}
		v := &models.ChannelVersion{ChannelID: p.ChannelID, JobID: p.JobID, VersionNotes: p.VersionNotes,
			ResourceCount: p.ResourceCount, KindCount: kindCount(p.KindCount), Size: p.Size, IncludedLanguages: p.Languages,
			PublishedByID: p.UserID, CreatedAt: now()}
		if p.Token != "" {
			v.SecretToken = &p.Token
		}
		q := tx.NewInsert().Model(v).On("CONFLICT (channel_id, version) DO UPDATE")
		for _, col := range []string{"job_id", "version_notes", "resource_count", "kind_count", "size", "included_languages", "published_by_id", "created_at"} {
			q = q.Set(col + " = EXCLUDED." + col)
		}
		if _, err := q.Exec(ctx); err != nil {
			return fmt.Errorf("db: mark draft: %w", err)
		}
		return nil
	})
}

// replaceArchives makes each file its node's one archive, keeping a
// previous row with the same checksum.
func (d *DB) replaceArchives(ctx context.Context, tx bun.Tx, archives map[models.ID]*models.File) error {
	if len(archives) == 0 {
		return nil
	}
	nodeIDs := make([]models.ID, 0, len(archives))
	for id := range archives {
		nodeIDs = append(nodeIDs, id)
	}
	var old []*models.File
	if err := tx.NewSelect().Model(&old).Where("f.node_id IN (?) AND f.preset = ?", bun.List(nodeIDs), models.KindExercise).Scan(ctx); err != nil {
		return fmt.Errorf("db: mark published: archives: %w", err)
	}
	var stale []models.ID
	kept := map[models.ID]bool{}
	for _, f := range old {
		if a := archives[*f.NodeID]; a != nil && a.ID == f.ID && a.Checksum == f.Checksum {
			kept[f.ID] = true
		} else {
			stale = append(stale, f.ID)
		}
	}
	if len(stale) > 0 {
		if _, err := tx.NewDelete().Model((*models.File)(nil)).Where("id IN (?)", bun.List(stale)).Exec(ctx); err != nil {
			return fmt.Errorf("db: mark published: archives: %w", err)
		}
	}
	var fresh []*models.File
	for _, a := range archives {
		if !kept[a.ID] {
			fresh = append(fresh, a)
		}
	}
	if len(fresh) > 0 {
		if _, err := tx.NewInsert().Model(&fresh).Exec(ctx); err != nil {
			return fmt.Errorf("db: mark published: archives: %w", err)
		}
	}
	return nil
}

// kindCount is Studio's published_kind_count: [{"kind_id", "count"}], by kind.
func kindCount(m map[string]int) []any {
	out := []any{}
	for _, k := range models.Kinds {
		if n := m[k]; n > 0 {
			out = append(out, map[string]any{"kind_id": k, "count": n})
		}
	}
	return out
}

// PrimaryToken is the channel's secret token as users see it (xxxxx-xxxxx),
// or nil before its first publish.
func (d *DB) PrimaryToken(ctx context.Context, channelID models.ID) (*string, error) {
	var toks []models.ChannelToken
	if err := d.sql.NewSelect().Model(&toks).Where("ct.channel_id = ? AND ct.is_primary", channelID).Scan(ctx); err != nil {
		return nil, fmt.Errorf("db: primary token: %w", err)
	}
	if len(toks) == 0 {
		return nil, nil
	}
	t := models.FormatToken(toks[0].Token)
	return &t, nil
}

// PublishedVersion is the version of channel id that Kolibri may import:
// 0 when it is unpublished, deleted or absent.
func (d *DB) PublishedVersion(ctx context.Context, id models.ID) (int, error) {
	var versions []int
	err := d.sql.NewSelect().Model((*models.Channel)(nil)).Column("version").Where("c.id = ? AND NOT c.deleted", id).Scan(ctx, &versions)
	if err != nil {
		return 0, fmt.Errorf("db: published version: %w", err)
	}
	if len(versions) == 0 {
		return 0, nil
	}
	return versions[0], nil
}

// PublicChannel is a published channel as Kolibri's lookup shows it.
type PublicChannel struct {
	*models.Channel
	// Tokens are the channel's tokens the request named.
	Tokens []string
	// Versions are its published versions, oldest first; for a version's
	// token, those up to it.
	Versions []*models.ChannelVersion
	// TokenVersion is the version (or draft) whose token was looked up; nil
	// for the channel's own tokens and its id, which mean the current version.
	TokenVersion *models.ChannelVersion
}

// LookupPublished finds a published, not deleted channel by a token (its
// proquint, with or without the hyphen) or its id; nil when there is none.
// Knowing the token is the permission: Kolibri sends no credentials.
func (d *DB) LookupPublished(ctx context.Context, identifier string) (*PublicChannel, error) {
	return d.LookupChannel(ctx, identifier, false)
}

// LookupChannel is LookupPublished; with versions (Kolibri's
// channel_versions=true) a version's or a draft's token also answers, with
// that version, as on Studio: Kolibri then fetches that version's database
// (<id>-<version>.sqlite3, <id>-next.sqlite3 for a draft). Older Kolibris
// do not ask for versions, and would take any version for the current one.
// A draft answers for a channel never published too.
func (d *DB) LookupChannel(ctx context.Context, identifier string, versions bool) (*PublicChannel, error) {
	token := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(identifier), "-", ""))
	var toks []models.ChannelToken
	if err := d.sql.NewSelect().Model(&toks).Where("ct.token = ?", token).Scan(ctx); err != nil {
		return nil, fmt.Errorf("db: lookup channel: %w", err)
	}
	var id models.ID
	var matched []string
	if len(toks) > 0 {
		id, matched = toks[0].ChannelID, []string{token}
	} else if parsed, err := models.ParseID(identifier); err == nil {
		id = parsed
	} else if versions {
		return d.lookupVersion(ctx, token)
	} else {
		return nil, nil
	}
	got, err := d.publishedChannels(ctx, func(q *bun.SelectQuery) *bun.SelectQuery { return q.Where("c.id = ?", id) })
	if err != nil || len(got) == 0 {
		return nil, err
	}
	got[0].Tokens = matched
	return got[0], nil
}

// lookupVersion finds a not deleted channel's version or draft by its
// token; nil when there is none.
func (d *DB) lookupVersion(ctx context.Context, token string) (*PublicChannel, error) {
	var vs []*models.ChannelVersion
	if err := d.sql.NewSelect().Model(&vs).Where("cv.token = ?", token).Scan(ctx); err != nil {
		return nil, fmt.Errorf("db: lookup version: %w", err)
	}
	if len(vs) == 0 {
		return nil, nil
	}
	v := vs[0]
	var chs []*models.Channel
	if err := d.sql.NewSelect().Model(&chs).Where("c.id = ? AND NOT c.deleted", v.ChannelID).Scan(ctx); err != nil {
		return nil, fmt.Errorf("db: lookup version: %w", err)
	}
	if len(chs) == 0 {
		return nil, nil
	}
	// The notes of the versions up to this one; a draft comes after all.
	var upTo []*models.ChannelVersion
	q := d.sql.NewSelect().Model(&upTo).Where("cv.channel_id = ? AND cv.version > 0", v.ChannelID).Order("cv.version")
	if v.Version > 0 {
		q = q.Where("cv.version <= ?", v.Version)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("db: lookup version: %w", err)
	}
	return &PublicChannel{Channel: chs[0], Tokens: []string{token}, Versions: upTo, TokenVersion: v}, nil
}

// PublicChannels lists published, not deleted channels that are public or
// that one of tokens names, by name; keyword and language filter them.
func (d *DB) PublicChannels(ctx context.Context, tokens []string, keyword, language string) ([]*PublicChannel, error) {
	for i, t := range tokens {
		tokens[i] = strings.ToLower(strings.ReplaceAll(t, "-", ""))
	}
	got, err := d.publishedChannels(ctx, func(q *bun.SelectQuery) *bun.SelectQuery {
		if len(tokens) > 0 {
			q = q.Where("c.public OR c.id IN (SELECT channel_id FROM channel_tokens WHERE token IN (?))", bun.List(tokens))
		} else {
			q = q.Where("c.public")
		}
		if keyword != "" {
			q = q.Where(d.containsExpr("c.name || ' ' || c.description || ' ' || c.tagline"), likePattern(keyword))
		}
		if language != "" {
			q = q.Where("c.language = ?", language)
		}
		return q.Order("c.name").Limit(1000)
	})
	if err != nil {
		return nil, err
	}
	return got, nil
}

func (d *DB) publishedChannels(ctx context.Context, filter func(*bun.SelectQuery) *bun.SelectQuery) ([]*PublicChannel, error) {
	var chs []*models.Channel
	if err := filter(d.sql.NewSelect().Model(&chs).Where("NOT c.deleted AND c.version > 0")).Scan(ctx); err != nil {
		return nil, fmt.Errorf("db: published channels: %w", err)
	}
	if len(chs) == 0 {
		return nil, nil
	}
	ids := make([]models.ID, len(chs))
	for i, ch := range chs {
		ids[i] = ch.ID
	}
	var vs []*models.ChannelVersion
	if err := d.sql.NewSelect().Model(&vs).Where("cv.channel_id IN (?) AND cv.version > 0", bun.List(ids)).Order("cv.version").Scan(ctx); err != nil {
		return nil, fmt.Errorf("db: published channels: versions: %w", err)
	}
	byChannel := map[models.ID][]*models.ChannelVersion{}
	for _, v := range vs {
		byChannel[v.ChannelID] = append(byChannel[v.ChannelID], v)
	}
	out := make([]*PublicChannel, len(chs))
	for i, ch := range chs {
		out[i] = &PublicChannel{Channel: ch, Versions: byChannel[ch.ID]}
	}
	return out, nil
}

// VersionsByChannel lists each channel's versions, newest first: its
// draft, if any (it is always newer than the last version, which would
// have ended it), then its published versions.
func (d *DB) VersionsByChannel(ctx context.Context, ids []models.ID) (map[models.ID][]*models.ChannelVersion, error) {
	out := make(map[models.ID][]*models.ChannelVersion, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var vs []*models.ChannelVersion
	err := d.sql.NewSelect().Model(&vs).Where("cv.channel_id IN (?)", bun.List(ids)).
		OrderExpr("cv.channel_id, CASE WHEN cv.version = 0 THEN 0 ELSE 1 END, cv.version DESC").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("db: channel versions: %w", err)
	}
	for _, v := range vs {
		out[v.ChannelID] = append(out[v.ChannelID], v)
	}
	return out, nil
}

// draftGrant lets one client fetch a channel's draft database for a while,
// with no credentials (GrantDraft).
type draftGrant struct {
	bun.BaseModel `bun:"table:draft_grants,alias:dg"`

	ChannelID models.ID `bun:"channel_id,pk,type:uuid"`
	Client    string    `bun:"client,pk"`
	ExpiresAt time.Time `bun:"expires_at"`
}

// GrantDraft lets client (an address) fetch channelID's draft database from
// at until at+ttl. Kolibri fetches <id>-next.sqlite3 without credentials,
// right after it looked the draft's token up: that lookup is what grants
// it. The channel's expired grants go at the same time.
func (d *DB) GrantDraft(ctx context.Context, channelID models.ID, client string, at time.Time, ttl time.Duration) error {
	at = at.UTC().Truncate(time.Microsecond)
	g := &draftGrant{ChannelID: channelID, Client: client, ExpiresAt: at.Add(ttl)}
	return d.door(ctx, func(ctx context.Context, tx *writeTx) error {
		if _, err := tx.NewInsert().Model(g).On("CONFLICT (channel_id, client) DO UPDATE").Set("expires_at = EXCLUDED.expires_at").Exec(ctx); err != nil {
			return fmt.Errorf("db: grant draft: %w", err)
		}
		if _, err := tx.NewDelete().Model((*draftGrant)(nil)).Where("channel_id = ? AND expires_at <= ?", channelID, at).Exec(ctx); err != nil {
			return fmt.Errorf("db: grant draft: %w", err)
		}
		return nil
	})
}

// DraftGranted says whether client may fetch channelID's draft database at
// at: a grant of its is running, the channel has a draft and is not deleted.
func (d *DB) DraftGranted(ctx context.Context, channelID models.ID, client string, at time.Time) (bool, error) {
	ok, err := d.sql.NewSelect().Model((*draftGrant)(nil)).
		Where("dg.channel_id = ? AND dg.client = ? AND dg.expires_at > ?", channelID, client, at.UTC()).
		Where("EXISTS (SELECT 1 FROM channel_versions cv WHERE cv.channel_id = dg.channel_id AND cv.version = 0)").
		Where("EXISTS (SELECT 1 FROM channels c WHERE c.id = dg.channel_id AND NOT c.deleted)").Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("db: draft granted: %w", err)
	}
	return ok, nil
}
