package db_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
	"studio/models"
)

// TestConcurrentEditors has 8 clients each make 200 random creates, moves,
// copies and deletes on one channel at once. Changes may fail only as bad
// input (a node another client deleted, a move into a descendant), never
// with a deadlock or a database error, and the trees stay sound.
func TestConcurrentEditors(t *testing.T) {
	const clients, opsEach = 8, 200
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		w := newWorld(t, d)
		seed := dbtest.Tree(t, d, w.node(w.ch.RootID), "topic A\n  video A1\ntopic B\n  video B1\nvideo C")

		var mu sync.Mutex
		var topics, all []models.ID // what clients pick from; may be stale
		for _, n := range seed {
			all = append(all, n.ID)
			if n.Kind == models.KindTopic {
				topics = append(topics, n.ID)
			}
		}
		topics = append(topics, w.ch.RootID)
		pick := func(r *rand.Rand, from *[]models.ID) models.ID {
			mu.Lock()
			defer mu.Unlock()
			return (*from)[r.IntN(len(*from))]
		}
		add := func(id models.ID, topic bool) {
			mu.Lock()
			defer mu.Unlock()
			all = append(all, id)
			if topic {
				topics = append(topics, id)
			}
		}
		positions := []db.Position{db.FirstChild, db.LastChild, db.Left, db.Right}

		var wg sync.WaitGroup
		counts := make([]map[string]int, clients)
		errs := make(chan error, clients)
		for c := range clients {
			wg.Add(1)
			counts[c] = map[string]int{}
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(c), 42))
				for range opsEach {
					var ch db.Change
					var newID models.ID
					var isTopic bool
					switch op := r.IntN(100); {
					case op < 40:
						newID, isTopic = models.NewID(), r.IntN(3) == 0
						kind := "video"
						if isTopic {
							kind = "topic"
						}
						ch = create(newID, pick(r, &topics), kind, fmt.Sprintf("n%d", r.IntN(1000)), nil)
						if r.IntN(2) == 0 {
							ch.Position = db.FirstChild
						}
					case op < 65:
						pos := positions[r.IntN(len(positions))]
						target := pick(r, &topics)
						if pos == db.Left || pos == db.Right {
							target = pick(r, &all)
						}
						ch = move(pick(r, &all), target, pos)
					case op < 80:
						newID = models.NewID()
						ch = copyOf(newID, pick(r, &all), pick(r, &topics), positions[r.IntN(2)])
						ch.ExcludedDescendants = nil
					case op < 90:
						target := w.ch.TrashRootID
						ch = move(pick(r, &all), target, db.LastChild)
					default:
						ch = db.Change{Type: models.ChangeDeleted, Table: db.TableContentNode, Key: pick(r, &all)}
					}
					res, err := d.Apply(ctx, w.ed, []db.Change{ch}, false)
					if err != nil {
						errs <- fmt.Errorf("client %d: %w", c, err)
						return
					}
					for _, e := range res.Errors {
						if e.Code == models.CodeInternal {
							errs <- fmt.Errorf("client %d: %s", c, e.Message)
							return
						}
						counts[c][string(e.Code)]++
					}
					if len(res.Applied) == 1 {
						counts[c]["applied"]++
						if !newID.IsZero() {
							add(newID, isTopic)
						}
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		total := map[string]int{}
		for _, c := range counts {
			for k, v := range c {
				total[k] += v
			}
		}
		t.Logf("outcomes: %v", total)
		// Many fail as NOT_FOUND: a client picks from what it saw, and others
		// delete whole subtrees. How many depends on the scheduling (333 to
		// 1,084 of 1,600 were seen, fewer on a busy machine), so the bound only
		// catches a write path that refuses nearly everything.
		require.Greater(t, total["applied"], clients*opsEach/20, "too few changes applied")
		dbtest.CheckTree(t, d)
	})
}

// TestConcurrentBatches has 5 clients each send 40 batches of one to five
// moves, copies, deletions or file changes at once, across two channels, so
// that the changes of a batch apply as one group (read together, written
// together) while other clients move their nodes, sources and files between
// the channels. As in TestConcurrentEditors, changes may fail only as bad
// input, and the trees stay sound.
func TestConcurrentBatches(t *testing.T) {
	const clients, batchesEach = 5, 40
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		w := newWorld(t, d)
		other := dbtest.Channel(t, d, w.ed, "Physics")
		var topics, leaves, all []models.ID
		for _, root := range []models.ID{w.ch.RootID, other.RootID} {
			for _, n := range dbtest.Tree(t, d, w.node(root), dbtest.Topics(3, 3)+"video C\nvideo D") {
				all = append(all, n.ID)
				if n.Kind == models.KindTopic {
					topics = append(topics, n.ID)
				} else {
					leaves = append(leaves, n.ID)
				}
			}
			topics = append(topics, root)
		}
		trashes := []models.ID{w.ch.TrashRootID, other.TrashRootID}
		var files []models.ID
		require.NoError(t, d.ForTest(t).NewSelect().TableExpr("files").Column("id").Scan(ctx, &files))
		require.NotEmpty(t, files)
		// Clients pick from the seed only (what they make is not tracked):
		// the seed's nodes are the ones others move and delete meanwhile.
		positions := []db.Position{db.FirstChild, db.LastChild, db.Left, db.Right}

		var wg sync.WaitGroup
		counts := make([]map[string]int, clients)
		errs := make(chan error, clients)
		for c := range clients {
			wg.Add(1)
			counts[c] = map[string]int{}
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(c), 7))
				pick := func(from []models.ID) models.ID { return from[r.IntN(len(from))] }
				for range batchesEach {
					op := r.IntN(100)
					var cs []db.Change
					used := map[models.ID]bool{}
					for range 1 + r.IntN(5) {
						var ch db.Change
						switch {
						case op < 35:
							pos := positions[r.IntN(len(positions))]
							target := pick(topics)
							if pos == db.Left || pos == db.Right {
								target = pick(all)
							}
							ch = move(pick(all), target, pos)
						case op < 60:
							// Leaves: a topic copied into itself again and
							// again would double the tree each time.
							ch = copyOf(models.NewID(), pick(leaves), pick(topics), positions[r.IntN(2)])
						case op < 72:
							ch = move(pick(all), pick(trashes), db.LastChild)
						case op < 75:
							ch = db.Change{Type: models.ChangeDeleted, Table: db.TableContentNode, Key: pick(all)}
						case op < 97:
							ch = db.Change{Type: models.ChangeUpdated, Table: db.TableFile, Key: pick(files),
								Mods: map[string]any{"contentnode": pick(all).String(), "language": "fr"}}
						default:
							ch = db.Change{Type: models.ChangeDeleted, Table: db.TableFile, Key: pick(files)}
						}
						key := keyOf(ch)
						if used[key] {
							continue // a group has each node or file once
						}
						used[key] = true
						cs = append(cs, ch)
					}
					res, err := d.Apply(ctx, w.ed, cs, false)
					if err != nil {
						errs <- fmt.Errorf("client %d: %w", c, err)
						return
					}
					for _, e := range res.Errors {
						if e.Code == models.CodeInternal {
							errs <- fmt.Errorf("client %d: %s", c, e.Message)
							return
						}
						counts[c][string(e.Code)]++
					}
					counts[c]["applied"] += len(res.Applied)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		total := map[string]int{}
		for _, c := range counts {
			for k, v := range c {
				total[k] += v
			}
		}
		nodes, err := d.ForTest(t).NewSelect().TableExpr("content_nodes").Count(ctx)
		require.NoError(t, err)
		t.Logf("outcomes: %v; %d nodes", total, nodes)
		require.Positive(t, total["applied"])
		dbtest.CheckTree(t, d)
	})
}

func keyOf(c db.Change) models.ID {
	id, _ := c.Key.(models.ID)
	return id
}
