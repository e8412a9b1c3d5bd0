package db_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"studio/db"
	"studio/db/dbtest"
	"studio/models"
)

// lockProbe is a query hook: the first statement containing trigger, once
// armed, makes it try to lock a channel's row from another connection,
// without waiting, while the transaction that runs the statement is open.
type lockProbe struct {
	d       *db.DB
	t       testing.TB
	mu      sync.Mutex
	trigger string
	channel models.ID
	ran     bool
	err     error
}

func (p *lockProbe) arm(trigger string, channel models.ID) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.trigger, p.channel, p.ran, p.err = trigger, channel, false, nil
}

func (p *lockProbe) result() (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ran, p.err
}

func (p *lockProbe) BeforeQuery(ctx context.Context, e *bun.QueryEvent) context.Context {
	p.mu.Lock()
	fire := p.trigger != "" && strings.Contains(e.Query, p.trigger)
	if fire {
		p.trigger = "" // the probe's own statements pass through here too
	}
	channel := p.channel
	p.mu.Unlock()
	if !fire {
		return ctx
	}
	err := p.d.ForTest(p.t).RunInTx(context.Background(), nil, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.ExecContext(ctx, "SELECT id FROM channels WHERE id = ? FOR UPDATE NOWAIT", channel)
		return err
	})
	p.mu.Lock()
	p.ran, p.err = true, err
	p.mu.Unlock()
	return ctx
}

func (p *lockProbe) AfterQuery(context.Context, *bun.QueryEvent) {}

// TestFindingCrossTenantLock: a change refused on a channel takes no lock on
// it. A stranger's and a viewer's batch of refused changes on channel P
// (node updates in one group, moves out of and into P, a channel update, a
// membership), followed by a create in their own channel, is checked from
// another connection while the batch's transaction is still open: P's row
// can be locked at once. The editor's own batch does hold it (the probe works).
func TestFindingCrossTenantLock(t *testing.T) {
	d := dbtest.Open(t, db.Postgres)
	w := newWorld(t, d)
	n := dbtest.Tree(t, d, w.node(w.ch.RootID), "topic A\nvideo B\nvideo C")
	probe := &lockProbe{d: d, t: t}
	probed := db.WithQueryHook(context.Background(), probe)
	for _, tc := range []struct {
		name    string
		u       *models.User
		refused bool
	}{
		{"stranger", w.other, true},
		{"viewer", w.viewer, true},
		{"editor", w.ed, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			own := dbtest.Channel(t, d, tc.u, "Own "+tc.name)
			mine := dbtest.Tree(t, d, w.node(own.RootID), "video Mine")
			var cs []db.Change
			if tc.refused {
				cs = []db.Change{
					update(n["B"].ID, map[string]any{"title": "mine now"}),
					update(n["C"].ID, map[string]any{"title": "mine too"}),
					move(n["B"].ID, own.RootID, db.LastChild),
					move(mine["Mine"].ID, n["A"].ID, db.LastChild),
					{Type: models.ChangeUpdated, Table: db.TableChannel, Key: w.ch.ID, Mods: map[string]any{"name": "taken"}},
					{Type: models.ChangeCreated, Table: db.TableEditor, Key: []any{tc.u.ID.String(), w.ch.ID.String()}},
				}
			} else {
				cs = []db.Change{update(n["B"].ID, map[string]any{"title": "B1"}), update(n["C"].ID, map[string]any{"title": "C1"})}
			}
			cs = append(cs, create(models.NewID(), own.RootID, "topic", "probe", nil))
			probe.arm(`INSERT INTO "content_nodes"`, w.ch.ID)
			res, err := d.Apply(probed, tc.u, cs, false)
			require.NoError(t, err)
			ran, lockErr := probe.result()
			require.True(t, ran, "the probe did not run")
			if !tc.refused {
				require.Error(t, lockErr, "the editor's batch should hold the channel's lock")
				require.Len(t, res.Applied, len(cs))
				return
			}
			require.NoError(t, lockErr, "a refused change left channel %s locked", w.ch.ID)
			require.Len(t, res.Disallowed, len(cs)-1)
			require.Len(t, res.Applied, 1)
			require.Equal(t, "B", w.node(n["B"].ID).Title)
		})
	}
}

// TestFindingDeadlockRetried: four clients of two channels write to both at
// once, half of them in the order A, B and half B, A: moves across the
// channels, groups of updates and groups of creates. Every batch applies
// (a deadlock is retried, never reported), and the trees stay sound.
func TestFindingDeadlockRetried(t *testing.T) {
	const clients, opsEach = 4, 30
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		w := newWorld(t, d)
		other := dbtest.Channel(t, d, w.ed, "Other")
		roots := [2]models.ID{w.ch.RootID, other.RootID}
		var a, b strings.Builder
		a.WriteString("topic TA\n")
		b.WriteString("topic TB\n")
		for g := range clients {
			fmt.Fprintf(&a, "video UA%d\nvideo X%d\n", g, g)
			fmt.Fprintf(&b, "video UB%d\n", g)
		}
		na := dbtest.Tree(t, d, w.node(roots[0]), a.String())
		nb := dbtest.Tree(t, d, w.node(roots[1]), b.String())
		topics := [2]models.ID{na["TA"].ID, nb["TB"].ID}
		deadlocks := func() int64 {
			if d.Kind != db.Postgres {
				return 0
			}
			var n int64
			require.NoError(t, d.ForTest(t).NewRaw("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()").Scan(ctx, &n))
			return n
		}
		before := deadlocks()

		var wg sync.WaitGroup
		errs := make(chan error, clients*opsEach)
		for g := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				x := na[fmt.Sprintf("X%d", g)].ID
				anchors := [2]models.ID{na[fmt.Sprintf("UA%d", g)].ID, nb[fmt.Sprintf("UB%d", g)].ID}
				first := g % 2 // which channel this client writes to first
				at := 0        // the channel x is in
				for i := range opsEach {
					var cs []db.Change
					switch i % 4 {
					case 0:
						at = 1 - at
						cs = []db.Change{move(x, topics[at], db.LastChild)}
					case 1:
						cs = []db.Change{
							update(anchors[first], map[string]any{"title": fmt.Sprintf("u%d", i)}),
							update(anchors[1-first], map[string]any{"title": fmt.Sprintf("u%d", i)}),
						}
					case 2:
						cs = []db.Change{
							create(models.NewID(), topics[first], "topic", fmt.Sprintf("c%d.%d", g, i), nil),
							create(models.NewID(), topics[1-first], "topic", fmt.Sprintf("c%d.%d", g, i), nil),
						}
					case 3:
						// Two groups, each locking one channel: the batch
						// locks them in its own order, and may deadlock.
						cs = []db.Change{
							create(models.NewID(), topics[first], "topic", fmt.Sprintf("d%d.%d", g, i), nil),
							update(anchors[1-first], map[string]any{"title": fmt.Sprintf("d%d", i)}),
						}
					}
					res, err := d.Apply(ctx, w.ed, cs, i%2 == 0)
					if err != nil {
						errs <- fmt.Errorf("client %d op %d: %w", g, i, err)
						continue
					}
					if len(res.Applied) != len(cs) {
						errs <- fmt.Errorf("client %d op %d: applied %d of %d: %+v", g, i, len(res.Applied), len(cs), res.Errors)
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		var failed []string
		for err := range errs {
			failed = append(failed, err.Error())
		}
		require.Empty(t, failed, "batches failed")
		// The statistics lag (they are sent when a transaction ends): a
		// number to read, not to assert.
		t.Logf("deadlocks detected (and retried): %d", deadlocks()-before)
		dbtest.CheckTree(t, d)
	})
}

// logHas says whether a channel's log after rev holds a change of type to key.
func logHas(t *testing.T, d *db.DB, channel models.ID, since int64, typ models.ChangeType, table string, key models.ID) bool {
	t.Helper()
	cs, err := d.ChangesSince(context.Background(), channel, since, 100)
	require.NoError(t, err)
	for _, c := range cs {
		if c.Type == typ && c.Table == table && fmt.Sprint(c.Key) == key.String() {
			require.Equal(t, channel, *c.ChannelID)
			return true
		}
	}
	return false
}

// TestFindingCrossChannelMoveLog: a move from channel A to B is in both
// channels' logs, and both channels' subscribers are woken.
func TestFindingCrossChannelMoveLog(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		w := newWorld(t, d)
		b := dbtest.Channel(t, d, w.ed, "B")
		n := dbtest.Tree(t, d, w.node(w.ch.RootID), "topic T\n  video V")
		revA, err := d.MaxRev(ctx, w.ch.ID)
		require.NoError(t, err)
		revB, err := d.MaxRev(ctx, b.ID)
		require.NoError(t, err)
		wakeB, stop := d.Subscribe(b.ID)
		defer stop()
		for len(wakeB) > 0 { // a wake pending from before (PostgreSQL's listener starting)
			<-wakeB
		}

		res := w.ok(move(n["T"].ID, b.RootID, db.LastChild))
		require.ElementsMatch(t, []models.ID{w.ch.ID, b.ID}, res.Channels)
		require.True(t, logHas(t, d, w.ch.ID, revA, models.ChangeMoved, db.TableContentNode, n["T"].ID), "A's log misses the move")
		require.True(t, logHas(t, d, b.ID, revB, models.ChangeMoved, db.TableContentNode, n["T"].ID), "B's log misses the move")
		require.Len(t, wakeB, 1, "B's subscribers were not woken")
		// Each client change is logged once under its client rev.
		cs, err := d.ChangesSince(ctx, b.ID, revB, 100)
		require.NoError(t, err)
		require.Nil(t, cs[0].ClientRev)

		// A move within one channel is logged once.
		revB = res.Applied[0].ServerRev
		w.ok(move(n["V"].ID, b.RootID, db.FirstChild))
		cs, err = d.ChangesSince(ctx, b.ID, revB, 100)
		require.NoError(t, err)
		require.Len(t, cs, 2, "the move inside B and what it generated")
		dbtest.CheckTree(t, d)
	})
}

// TestFindingCrossChannelFileLog: a file moved by updateFiles from a node in
// channel A to one in B is in both channels' logs.
func TestFindingCrossChannelFileLog(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		w := newWorld(t, d)
		b := dbtest.Channel(t, d, w.ed, "B")
		na := dbtest.Tree(t, d, w.node(w.ch.RootID), "video V")
		nb := dbtest.Tree(t, d, w.node(b.RootID), "video W")
		files, err := d.FilesByNode(ctx, []models.ID{na["V"].ID})
		require.NoError(t, err)
		f := files[na["V"].ID][0]
		revA, err := d.MaxRev(ctx, w.ch.ID)
		require.NoError(t, err)
		revB, err := d.MaxRev(ctx, b.ID)
		require.NoError(t, err)
		res := w.ok(db.Change{Type: models.ChangeUpdated, Table: db.TableFile, Key: f.ID, Mods: map[string]any{"contentnode": nb["W"].ID.String()}})
		require.ElementsMatch(t, []models.ID{w.ch.ID, b.ID}, res.Channels)
		require.True(t, logHas(t, d, w.ch.ID, revA, models.ChangeUpdated, db.TableFile, f.ID), "A's log misses the file leaving")
		require.True(t, logHas(t, d, b.ID, revB, models.ChangeUpdated, db.TableFile, f.ID), "B's log misses the file arriving")
	})
}

// tempTables counts CREATE TEMP statements.
type tempTables struct {
	mu sync.Mutex
	n  int
}

func (h *tempTables) BeforeQuery(ctx context.Context, e *bun.QueryEvent) context.Context {
	if strings.Contains(e.Query, "CREATE TEMP") {
		h.mu.Lock()
		h.n++
		h.mu.Unlock()
	}
	return ctx
}

func (h *tempTables) AfterQuery(context.Context, *bun.QueryEvent) {}

func (h *tempTables) take() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := h.n
	h.n = 0
	return n
}

// TestFindingCopyManyItems: a copy of many items in one call makes its
// temporary tables once, not twice per item, and each item costs the same
// number of statements however many there are.
func TestFindingCopyManyItems(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		n := dbtest.Tree(t, d, w.node(w.ch.RootID), "topic Unit\n  video V1\n  exercise Q\ntopic Target")
		temps := &tempTables{}
		counts, creates := map[int]int64{}, map[int]int{}
		for _, items := range []int{1, 10, 100} {
			cs := make([]db.Change, items)
			for i := range cs {
				cs[i] = copyOf(models.NewID(), n["Unit"].ID, n["Target"].ID, db.LastChild)
			}
			temps.take()
			ctx, counter := db.WithCounter(db.WithQueryHook(context.Background(), temps))
			res, err := d.Apply(ctx, w.ed, cs, true)
			require.NoError(t, err)
			require.Len(t, res.Applied, items)
			counts[items], creates[items] = counter.Load(), temps.take()
		}
		t.Logf("statements: %v; temporary tables made: %v", counts, creates)
		require.Equal(t, creates[1], creates[100], "temporary tables made per item")
		if d.Kind == db.Postgres {
			require.Equal(t, 2, creates[100])
		}
		// Each item runs the same statements (10: the copy's seven, reading the
		// source, the new root and marking the target changed); a batch of
		// several locks its channels first (one statement, and a second read).
		perItem := (counts[100] - counts[10]) / 90
		require.Equal(t, perItem*90, counts[100]-counts[10], "items cost different numbers of statements")
		require.LessOrEqual(t, perItem, int64(10), "statements a copied item")
		require.InDelta(t, counts[1]+9*perItem, counts[10], 2, "an item's cost grows with the batch")
		require.Len(t, childTitles(t, d, n["Target"].ID), 111)
		dbtest.CheckTree(t, d)
	})
}
