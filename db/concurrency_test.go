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
