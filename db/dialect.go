package db

// dialect is everything the SQL of the two databases differs in, chosen once
// when a DB opens (d.dialect). Code writes one statement and takes the
// differing words from here, instead of branching on the engine. What is
// not SQL text (River's driver, LISTEN, SQLite's single writer) still asks
// DB.Kind.
type dialect struct {
	// idType, floatType: the column types of ids and of sort orders.
	idType, floatType string
	// newID is an expression for a random id.
	newID string
	// tempOnCommit ends a CREATE TEMP TABLE: PostgreSQL drops it at commit;
	// SQLite's stays on the connection, and its writer empties it.
	tempOnCommit string
	// rowLocks says SELECT … FOR UPDATE exists. SQLite has none: its one
	// writer holds the whole database.
	rowLocks bool
	// notify says writers NOTIFY other instances (pg_notify); SQLite is one
	// process, and wakes its subscribers directly.
	notify bool
	// advisoryLocks says pg_advisory_xact_lock exists (blob locks); on
	// SQLite the one writer excludes the blob collector already.
	advisoryLocks bool
	// analyze refreshes the planner's statistics ("": nothing to do).
	analyze string
	// like is a case-insensitive match of an expression against a pattern
	// (the trigram indexes serve ILIKE; SQLite's LIKE ignores ASCII case).
	like string
	// editedAfter is true of a node (cn) modified more than ? seconds after
	// it was created, in the expression of the content_nodes_channel_edit_lag
	// index, so that the index serves it.
	editedAfter string
}

var (
	postgresSQL = dialect{
		idType: "uuid", floatType: "double precision", newID: "gen_random_uuid()",
		tempOnCommit: " ON COMMIT DROP", rowLocks: true, notify: true, advisoryLocks: true,
		analyze: "VACUUM ANALYZE", like: "%s ILIKE ?",
		editedAfter: "(cn.modified_at - cn.created_at) > ? * interval '1 second'",
	}
	sqliteSQL = dialect{
		idType: "text", floatType: "real", newID: "lower(hex(randomblob(16)))",
		like:        `%s LIKE ? ESCAPE '\'`,
		editedAfter: "(julianday(cn.modified_at) - julianday(cn.created_at)) > ? / 86400.0",
	}
)

// subtreeSQL is the one walk down trees: sub (id, depth) holds the nodes
// whose ids are the statement's first argument (a list), depth 0, and
// everything below them. Follow it with the statement that uses sub.
const subtreeSQL = `WITH RECURSIVE sub (id, depth) AS (
	SELECT id, 0 FROM content_nodes WHERE id IN (?)
	UNION ALL
	SELECT c.id, sub.depth + 1 FROM content_nodes AS c JOIN sub ON c.parent_id = sub.id
) `

// ancestorsSQL is the one walk up trees: up (start, id, parent_id, depth)
// holds, for each node whose id is in the first argument (a list), the node
// itself (depth 0) and each of its ancestors. The depth bound (maxDepth)
// keeps a corrupt tree, a cycle, from looping forever.
const ancestorsSQL = `WITH RECURSIVE up (start, id, parent_id, depth) AS (
	SELECT id, id, parent_id, 0 FROM content_nodes WHERE id IN (?)
	UNION ALL
	SELECT up.start, p.id, p.parent_id, up.depth + 1 FROM content_nodes AS p JOIN up ON p.id = up.parent_id WHERE up.depth < 1000
) `

// maxDepth bounds walks up a tree; real trees are a few levels deep.
const maxDepth = 1000
