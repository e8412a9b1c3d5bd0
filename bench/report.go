package bench

import (
	"fmt"
	"strings"
	"time"
)

// Report is one run of the workload on one database.
type Report struct {
	Database string   `json:"database"`
	Nodes    int      `json:"nodes"`
	Date     string   `json:"date"`
	Results  []Result `json:"results"`
	// The limits' medians, for the ratios.
	pk, http time.Duration
}

// Result is one operation's figures.
type Result struct {
	Name      string        `json:"name"`
	N         int           `json:"n"`
	P50       time.Duration `json:"p50_ns"`
	P99       time.Duration `json:"p99_ns"`
	OpsPerSec float64       `json:"ops_per_sec"`
	// SQL is the median number of statements the server ran for it.
	SQL int `json:"sql_statements"`
	// Nodes it reads or writes; PerNode is P50 divided by it.
	Nodes   int           `json:"nodes,omitempty"`
	PerNode time.Duration `json:"per_node_ns,omitempty"`
	// P50 as a multiple of the limits' medians.
	VsHTTP float64 `json:"vs_typename,omitempty"`
	VsPK   float64 `json:"vs_pk_select,omitempty"`
}

func (r *Report) add(res Result) {
	if res.Nodes > 0 {
		res.PerNode = res.P50 / time.Duration(res.Nodes)
	}
	if r.http > 0 && res.P50 > 0 {
		res.VsHTTP = float64(res.P50) / float64(r.http)
	}
	if r.pk > 0 && res.P50 > 0 {
		res.VsPK = float64(res.P50) / float64(r.pk)
	}
	r.Results = append(r.Results, res)
}

// Table is the report as a Markdown table.
func (r *Report) Table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s, %d nodes, %s\n\n", r.Database, r.Nodes, r.Date)
	b.WriteString("| operation | n | p50 | p99 | ops/s | SQL | per node | × typename | × pk select |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, res := range r.Results {
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s | %s | %s | %s |\n", res.Name, res.N, dur(res.P50), dur(res.P99),
			num(res.OpsPerSec), count(res.SQL), dur(res.PerNode), ratio(res.VsHTTP), ratio(res.VsPK))
	}
	return b.String()
}

func dur(d time.Duration) string {
	switch {
	case d == 0:
		return ""
	case d < 10*time.Microsecond:
		return fmt.Sprintf("%.2f µs", float64(d)/float64(time.Microsecond))
	case d < time.Millisecond:
		return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
	case d < time.Second:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

func num(f float64) string {
	if f == 0 {
		return ""
	}
	if f >= 100 {
		return fmt.Sprintf("%.0f", f)
	}
	return fmt.Sprintf("%.1f", f)
}

func count(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprint(n)
}

func ratio(f float64) string {
	if f == 0 {
		return ""
	}
	return fmt.Sprintf("%.1f×", f)
}

// Budgets are the most SQL statements each operation may run; CI's short
// run fails past them. They do not depend on the channel's size: that is
// the point (a nested read costs a statement per level, a move the same at
// any size).
var Budgets = map[string]int{
	"channel(id){name}":                       3,
	"read depth 1 (root's children)":          6,
	"read depth 3 (~111 nodes)":               6,
	"read depth 4 (~1,000 nodes)":             8,
	"read depth 4 (~1,000 nodes, with files)": 10,
	"flat listing (nodes, 1,000)":             4,
	"create 500 nodes":                        16,
	"update 100 nodes":                        16,
	"move 1 node":                             14,
	"copy a 100-node topic":                   30,
	"delete a 100-node topic (to the trash)":  16,
	"contentNodes, 100 ids":                   4,
	"move 100 nodes":                          14,
	"copy 100 nodes":                          26, // 25 before ids became unique across types (db.idsInUse)
	"delete 100 nodes (to the trash)":         17,
	"delete 100 nodes (permanently)":          19,
	"create 100 questions":                    15,
	"update 100 questions":                    15,
	"delete 100 questions":                    14,
	"update 100 files":                        15,
	"delete 100 files":                        14,
	"applyChanges, 100 updates":               16,
	"publish the channel":                     10, // PostgreSQL decides access before it locks the channel
}

// CheckBudgets lists the operations that ran more statements than their budget.
func (r *Report) CheckBudgets() error {
	var over []string
	for _, res := range r.Results {
		if b, ok := Budgets[res.Name]; ok && res.SQL > b {
			over = append(over, fmt.Sprintf("%s: %d SQL statements, budget %d", res.Name, res.SQL, b))
		}
	}
	if len(over) > 0 {
		return fmt.Errorf("bench: over budget on %s:\n  %s", r.Database, strings.Join(over, "\n  "))
	}
	return nil
}

// Growth is how each operation's cost grows from small's channel to
// large's, as a Markdown table: the ratio of the p50s, per node when the
// operation touches more nodes on the larger channel (publishing, the
// root's children), per operation otherwise.
func Growth(small, large *Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d → %d nodes\n\n", large.Database, small.Nodes, large.Nodes)
	b.WriteString("| operation | small p50 | large p50 | per-node or per-op ratio |\n|---|---:|---:|---:|\n")
	for _, s := range small.Results {
		for _, l := range large.Results {
			if l.Name != s.Name || s.P50 == 0 || l.P50 == 0 {
				continue
			}
			r := float64(l.P50) / float64(s.P50)
			if s.Nodes > 0 && l.Nodes > s.Nodes {
				r = float64(l.PerNode) / float64(s.PerNode)
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %.2f× |\n", s.Name, dur(s.P50), dur(l.P50), r)
		}
	}
	return b.String()
}
