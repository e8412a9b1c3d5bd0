package db_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
	"studio/models"
)

// fakeClock is a clock that moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestFindingLoginTiming: an unknown email costs a bcrypt comparison as a
// known one does, so that the time taken does not tell which emails exist.
func TestFindingLoginTiming(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		dbtest.User(t, d, "ann@example.org", false)
		calls := 0
		compare := db.CompareHash
		db.CompareHash = func(hash, password []byte) error { calls++; return compare(hash, password) }
		t.Cleanup(func() { db.CompareHash = compare })

		for _, tc := range []struct{ name, email, password string }{
			{"known email, wrong password", "ann@example.org", "wrong password"},
			{"unknown email", "nobody@example.org", "wrong password"},
			{"unknown email, a user's password", "nobody@example.org", dbtest.Password},
		} {
			calls = 0
			_, err := d.Authenticate(ctx, tc.email, tc.password)
			requireCode(t, models.CodeUnauthenticated, err)
			require.Equal(t, 1, calls, "%s: one bcrypt comparison", tc.name)
		}
	})
}

// TestFindingLoginThrottle: failed logins lock an email, and a client
// address, for a while that grows with each further failure; the clock is
// a fake one, so nothing waits.
func TestFindingLoginThrottle(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		ann := dbtest.User(t, d, "ann@example.org", false)
		clock := newFakeClock()
		d.Logins.Now = clock.Now
		login := func(email, password, addr string) error {
			_, err := d.Login(ctx, email, password, addr)
			return err
		}
		ok := func(email, addr string) {
			t.Helper()
			u, err := d.Login(ctx, email, dbtest.Password, addr)
			require.NoError(t, err)
			require.Equal(t, ann.ID, u.ID)
		}
		refused := func(email, addr string) {
			t.Helper()
			err := login(email, dbtest.Password, addr)
			requireCode(t, models.CodeTooManyRequests, err)
			require.Contains(t, err.Error(), "try again in")
		}
		// Each failure from its own address, so that only the email counts.
		addr := func(i int) string { return fmt.Sprintf("192.0.2.%d:4000", i%250+1) }

		t.Run("per email", func(t *testing.T) {
			for i := range 4 {
				requireCode(t, models.CodeUnauthenticated, login("ann@example.org", "wrong password", addr(i)))
			}
			ok("ann@example.org", addr(4)) // a success clears the email's failures
			for i := range 5 {
				requireCode(t, models.CodeUnauthenticated, login("ANN@example.org ", "wrong password", addr(i)))
			}
			refused("ann@example.org", addr(9)) // the right password, locked all the same
			refused("Ann@Example.org", "")
			requireCode(t, models.CodeTooManyRequests, login("ann@example.org", "wrong password", addr(10)))

			clock.Advance(time.Minute)
			requireCode(t, models.CodeUnauthenticated, login("ann@example.org", "wrong password", addr(11)))
			refused("ann@example.org", addr(12)) // one more failure: locked for 2 minutes
			clock.Advance(time.Minute)
			refused("ann@example.org", addr(13))
			clock.Advance(time.Minute)
			ok("ann@example.org", addr(14))

			// An unknown email is throttled alike: the lock does not tell either.
			for i := range 5 {
				requireCode(t, models.CodeUnauthenticated, login("nobody@example.org", "x", addr(i)))
			}
			requireCode(t, models.CodeTooManyRequests, login("nobody@example.org", "x", addr(5)))

			// Failures far apart (more than 15 minutes) never add up to a lock.
			for i := range 10 {
				requireCode(t, models.CodeUnauthenticated, login("ann@example.org", "wrong password", addr(i)))
				clock.Advance(16 * time.Minute)
			}
			ok("ann@example.org", addr(20))
		})

		t.Run("per address", func(t *testing.T) {
			clock.Advance(2 * time.Hour)
			for i := range 20 {
				// One address's many emails; IPv6 addresses count by /64.
				a := fmt.Sprintf("[2001:db8:1:2::%x]:%d", i+1, 5000+i)
				requireCode(t, models.CodeUnauthenticated, login(fmt.Sprintf("guess%d@example.org", i), "x", a))
			}
			refused("ann@example.org", "[2001:db8:1:2::ffff]:6000")
			ok("ann@example.org", "[2001:db8:1:3::1]:6000") // another /64
			ok("ann@example.org", "198.51.100.1:6000")
			clock.Advance(time.Minute)
			ok("ann@example.org", "[2001:db8:1:2::1]:6000")
			// A success does not clear an address: an attacker's own account
			// would otherwise reset its count.
			requireCode(t, models.CodeUnauthenticated, login("guess@example.org", "x", "[2001:db8:1:2::1]:6000"))
			refused("ann@example.org", "[2001:db8:1:2::1]:6000")
		})

		t.Run("parallel attempts", func(t *testing.T) {
			clock.Advance(2 * time.Hour)
			var mu sync.Mutex
			codes := map[models.Code]int{}
			var wg sync.WaitGroup
			for i := range 20 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					err := login("ann@example.org", "wrong password", addr(i))
					mu.Lock()
					codes[models.CodeOf(err)]++
					mu.Unlock()
				}()
			}
			wg.Wait()
			require.LessOrEqual(t, codes[models.CodeUnauthenticated], 5, "attempts in flight count against the limit: %v", codes)
			require.Equal(t, 20, codes[models.CodeUnauthenticated]+codes[models.CodeTooManyRequests], "%v", codes)
		})
	})
}

// TestFindingDatabaseFileMode: the SQLite database, its write-ahead log and
// shared memory, and the directory they are made in, are their owner's
// only, whatever the umask allows; files an older start left readable are
// made private.
func TestFindingDatabaseFileMode(t *testing.T) {
	old := syscall.Umask(0o022) // the usual default, which lets others read
	t.Cleanup(func() { syscall.Umask(old) })
	ctx := context.Background()
	mode := func(p string) os.FileMode {
		t.Helper()
		fi, err := os.Stat(p)
		require.NoError(t, err)
		return fi.Mode().Perm()
	}
	for _, tc := range []struct {
		name    string
		prepare func(dir string)
	}{
		{"a fresh data directory", func(string) {}},
		{"files an older start left readable", func(dir string) {
			require.NoError(t, os.MkdirAll(dir, 0o700))
			for _, suffix := range []string{"", "-wal", "-shm"} {
				require.NoError(t, os.WriteFile(filepath.Join(dir, "studio.db"+suffix), nil, 0o644))
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "studio-data")
			tc.prepare(dir)
			d, err := db.Open(ctx, db.SQLiteURL(dir))
			require.NoError(t, err)
			t.Cleanup(func() { d.Close() })
			require.NoError(t, d.Migrate(ctx))
			dbtest.User(t, d, "ann@example.org", false) // a write, so that -wal and -shm exist
			require.Equal(t, os.FileMode(0o700), mode(dir), "the data directory")
			for _, name := range []string{"studio.db", "studio.db-wal", "studio.db-shm"} {
				m := mode(filepath.Join(dir, name))
				require.Zero(t, m&0o077, "%s is %v", name, m)
			}
		})
	}
}
