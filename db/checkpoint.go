package db

import "time"

// checkpointInterval is how often the server copies SQLite's write-ahead
// log into the database file.
const checkpointInterval = time.Second

// checkpoints copies SQLite's write-ahead log into the database file every
// interval until Close. SQLite's own rule does it in whichever commit takes
// the log past 1,000 pages, so that one request pays for copying and
// syncing every page written since: a copy of 100 nodes took 18 ms instead
// of 4 one time in three, and more on a larger channel, whose writes touch
// more pages. A passive checkpoint waits for no one and blocks no one.
func (d *DB) checkpoints(interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-d.closing.Done():
			return
		case <-t.C:
			_, _ = d.sql.ExecContext(d.closing, "PRAGMA wal_checkpoint(PASSIVE)")
		}
	}
}
