package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"studio/db"
	"studio/models"
)

// Config says what to run, against what.
type Config struct {
	DB *db.DB
	// URL is the server's base (http://127.0.0.1:port); it must report SQL
	// statement counts (serve --debug).
	URL   string
	Token string
	Shape *Shape
	// Requests is how many times each operation runs (publish: a tenth).
	Requests int
	// Concurrency is the number of clients of the throughput run.
	Concurrency int
	// Only, if set, runs only the operations whose names contain it (or
	// one of its |-separated parts).
	Only string
}

// op is one operation of the workload: a request, made anew each time.
type op struct {
	name  string
	nodes int // nodes it reads or writes, for per-node costs
	req   func(i int) (string, map[string]any)
	after func(data map[string]any) error
}

// Run runs the workload and returns its report.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	c := &client{url: cfg.URL + "/graphql", token: cfg.Token,
		http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 5 * time.Minute}}
	s := cfg.Shape
	ch := s.Channel.ID.String()
	rep := &Report{Database: string(cfg.DB.Kind), Nodes: s.Nodes, Date: time.Now().UTC().Format("2006-01-02")}

	// The limits: a primary-key SELECT on the database, and an empty
	// GraphQL request over HTTP.
	pk, err := measure(cfg.Requests*5, func(int) (int, error) {
		_, err := cfg.DB.ChannelName(ctx, s.Channel.ID)
		return 0, err
	})
	if err != nil {
		return nil, fmt.Errorf("bench: primary-key select: %w", err)
	}
	rep.add(Result{Name: "limit: primary-key SELECT", N: pk.n, P50: pk.p50, P99: pk.p99, OpsPerSec: pk.rate})
	typename, err := measure(cfg.Requests*5, func(int) (int, error) {
		_, n, err := c.doRaw(`{ __typename }`, nil)
		return n, err
	})
	if err != nil {
		return nil, err
	}
	rep.pk, rep.http = pk.p50, typename.p50
	rep.add(typename.result("limit: { __typename } over HTTP", 0))

	wanted := func(name string) bool {
		for _, part := range strings.Split(cfg.Only, "|") {
			if strings.Contains(name, part) {
				return true
			}
		}
		return false
	}
	const reads = 7 // the first seven ops only read
	var copies []string
	flip, flipMany := false, false
	// What the operations on many ids work on, read before they are measured.
	many, err := prepareMany(c, s)
	if err != nil {
		return nil, err
	}
	ops := []op{
		{name: "channel(id){name}", nodes: 0, req: func(int) (string, map[string]any) {
			return `query($c: ID!) { channel(id: $c) { name } }`, map[string]any{"c": ch}
		}},
		{name: "read depth 1 (root's children)", nodes: 1 + len(s.Topics[0]) + 2, req: func(int) (string, map[string]any) {
			return `query($c: ID!) { channel(id: $c) { root { id title children(first: 1000) { edges { node { id title kind childCount } } } } } }`, map[string]any{"c": ch}
		}},
		{name: "read depth 3 (~111 nodes)", nodes: 1 + 1 + 10 + 100, req: func(int) (string, map[string]any) {
			return `query($c: ID!) { channel(id: $c) { root { children(first: 1) { edges { node { id title
				children(first: 10) { edges { node { id title children(first: 10) { edges { node { id title kind } } } } } } } } } } } }`, map[string]any{"c": ch}
		}},
		{name: "read depth 4 (~1,000 nodes)", nodes: 1 + 1 + 10 + 100 + 900, req: func(int) (string, map[string]any) {
			return `query($c: ID!) { channel(id: $c) { root { children(first: 1) { edges { node { id title
				children(first: 10) { edges { node { id title children(first: 10) { edges { node { id title
				children(first: 10) { edges { node { id title kind } } } } } } } } } } } } } } }`, map[string]any{"c": ch}
		}},
		{name: "read depth 4 (~1,000 nodes, with files)", nodes: 1 + 1 + 10 + 100 + 900, req: func(int) (string, map[string]any) {
			return `query($c: ID!) { channel(id: $c) { root { children(first: 1) { edges { node { id title
				children(first: 10) { edges { node { id title children(first: 10) { edges { node { id title
				children(first: 10) { edges { node { id title kind license { name } files { checksum size preset { id } } } } } } } } } } } } } } } } }`, map[string]any{"c": ch}
		}},
		{name: "flat listing (nodes, 1,000)", nodes: 1000, req: func(int) (string, map[string]any) {
			return `query($c: ID!) { channel(id: $c) { nodes(first: 1000, filter: {kinds: [video]}) { edges { node { id title kind } } } } }`, map[string]any{"c": ch}
		}},
		{name: "contentNodes, 100 ids", nodes: 100, req: func(int) (string, map[string]any) {
			return `query($ids: [ID!]!) { contentNodes(ids: $ids) { id title } }`, map[string]any{"ids": many.resources}
		}},
		// writes from here on (see reads)
		{name: "create 500 nodes", nodes: 500, req: func(int) (string, map[string]any) {
			in := make([]map[string]any, 500)
			for i := range in {
				in[i] = map[string]any{"parentId": s.ScratchA.String(), "kind": "video", "title": fmt.Sprintf("New %d", i),
					"license": "CC BY", "copyrightHolder": "Bench"}
			}
			return `mutation($in: [CreateContentNodeInput!]!) { createContentNodes(input: $in) { id } }`, map[string]any{"in": in}
		}},
		{name: "update 100 nodes", nodes: 100, req: func(i int) (string, map[string]any) {
			in := make([]map[string]any, 100)
			for k := range in {
				in[k] = map[string]any{"id": s.Resources[(i*100+k)%len(s.Resources)].String(), "title": fmt.Sprintf("Edited %d.%d", i, k)}
			}
			return `mutation($in: [UpdateContentNodeInput!]!) { updateContentNodes(input: $in) { id } }`, map[string]any{"in": in}
		}},
		{name: "move 1 node", nodes: 1, req: func(i int) (string, map[string]any) {
			target := s.ScratchA
			if flip = !flip; flip {
				target = s.ScratchB
			}
			return `mutation($ids: [ID!]!, $t: ID!) { moveContentNodes(ids: $ids, target: $t) { id } }`,
				map[string]any{"ids": []string{s.Resources[0].String()}, "t": target.String()}
		}},
		{name: "move 100 nodes", nodes: 100, req: func(i int) (string, map[string]any) {
			target := s.ScratchA
			if flipMany = !flipMany; flipMany {
				target = s.ScratchB
			}
			return `mutation($ids: [ID!]!, $t: ID!) { moveContentNodes(ids: $ids, target: $t) { id } }`,
				map[string]any{"ids": many.resources, "t": target.String()}
		}},
		{name: "copy 100 nodes", nodes: 100, req: func(i int) (string, map[string]any) {
			in := make([]any, len(many.resources))
			for k, id := range many.resources {
				in[k] = map[string]any{"sourceId": id, "target": s.ScratchB.String()}
			}
			return `mutation($in: [CopyContentNodeInput!]!) { copyContentNodes(input: $in) { id } }`, map[string]any{"in": in}
		}, after: func(data map[string]any) error {
			var ids []any
			for _, n := range asList(data["copyContentNodes"]) {
				ids = append(ids, n.(map[string]any)["id"])
			}
			if len(ids) != len(many.resources) {
				return fmt.Errorf("copy returned %d nodes, not %d", len(ids), len(many.resources))
			}
			many.copies = append(many.copies, ids)
			return nil
		}},
		{name: "delete 100 nodes (to the trash)", nodes: 100, req: func(i int) (string, map[string]any) {
			return `mutation($ids: [ID!]!) { deleteContentNodes(ids: $ids) }`, map[string]any{"ids": many.copies[i%len(many.copies)]}
		}},
		{name: "delete 100 nodes (permanently)", nodes: 100, req: func(i int) (string, map[string]any) {
			return `mutation($ids: [ID!]!) { deleteContentNodes(ids: $ids, permanent: true) }`, map[string]any{"ids": many.copies[i%len(many.copies)]}
		}},
		{name: "create 100 questions", nodes: 100, req: func(i int) (string, map[string]any) {
			in := make([]any, len(many.exercises))
			for k, id := range many.exercises {
				in[k] = map[string]any{"nodeId": id, "type": "input_question", "question": fmt.Sprintf("Question %d.%d?", i, k),
					"answers": []any{map[string]any{"answer": "42", "correct": true, "order": 1}}}
			}
			return `mutation($in: [CreateAssessmentItemInput!]!) { createAssessmentItems(input: $in) { nodeId assessmentId } }`, map[string]any{"in": in}
		}, after: func(data map[string]any) error {
			var keys []any
			for _, it := range asList(data["createAssessmentItems"]) {
				m := it.(map[string]any)
				keys = append(keys, map[string]any{"nodeId": m["nodeId"], "assessmentId": m["assessmentId"]})
			}
			if len(keys) != len(many.exercises) {
				return fmt.Errorf("created %d questions, not %d", len(keys), len(many.exercises))
			}
			many.items = append(many.items, keys)
			return nil
		}},
		{name: "update 100 questions", nodes: 100, req: func(i int) (string, map[string]any) {
			keys := many.items[i%len(many.items)]
			in := make([]any, len(keys))
			for k, key := range keys {
				m := map[string]any{"question": fmt.Sprintf("Edited %d.%d?", i, k)}
				for f, v := range key.(map[string]any) {
					m[f] = v
				}
				in[k] = m
			}
			return `mutation($in: [UpdateAssessmentItemInput!]!) { updateAssessmentItems(input: $in) { id } }`, map[string]any{"in": in}
		}},
		{name: "delete 100 questions", nodes: 100, req: func(i int) (string, map[string]any) {
			return `mutation($in: [AssessmentItemKey!]!) { deleteAssessmentItems(input: $in) { nodeId } }`, map[string]any{"in": many.items[i%len(many.items)]}
		}},
		{name: "update 100 files", nodes: 100, req: func(i int) (string, map[string]any) {
			lang := []string{"en", "fr"}[i%2]
			in := make([]any, len(many.files))
			for k, id := range many.files {
				in[k] = map[string]any{"id": id, "language": lang}
			}
			return `mutation($in: [UpdateFileInput!]!) { updateFiles(input: $in) { id } }`, map[string]any{"in": in}
		}},
		{name: "copy a 100-node topic", nodes: 100, req: func(i int) (string, map[string]any) {
			src := s.Topics[1][i%len(s.Topics[1])]
			return `mutation($in: [CopyContentNodeInput!]!) { copyContentNodes(input: $in) { id } }`,
				map[string]any{"in": []any{map[string]any{"sourceId": src.String(), "target": s.ScratchB.String()}}}
		}, after: func(data map[string]any) error {
			got, _ := data["copyContentNodes"].([]any)
			if len(got) == 0 {
				return fmt.Errorf("copy returned nothing")
			}
			id, _ := got[0].(map[string]any)["id"].(string)
			copies = append(copies, id)
			return nil
		}},
		{name: "delete a 100-node topic (to the trash)", nodes: 100, req: func(i int) (string, map[string]any) {
			return `mutation($ids: [ID!]!) { deleteContentNodes(ids: $ids) }`, map[string]any{"ids": []string{copies[i%len(copies)]}}
		}},
		{name: "delete 100 files", nodes: 100, req: func(i int) (string, map[string]any) {
			return `mutation($ids: [ID!]!) { deleteFiles(ids: $ids) }`, map[string]any{"ids": many.doomedFiles[i%len(many.doomedFiles)]}
		}},
		{name: "applyChanges, 100 updates", nodes: 100, req: func(i int) (string, map[string]any) {
			changes := make([]map[string]any, 100)
			for k := range changes {
				changes[k] = map[string]any{"type": "UPDATED", "table": "contentnode",
					"key": s.Resources[(i*100+k+50)%len(s.Resources)].String(), "mods": map[string]any{"description": fmt.Sprintf("Synced %d", i)}}
			}
			return `mutation($c: [ChangeInput!]!) { applyChanges(changes: $c) { allowed { serverRev } } }`, map[string]any{"c": changes}
		}},
	}
	runOps := func(ops []op) error {
		for _, o := range ops {
			if !wanted(o.name) {
				continue
			}
			runs := cfg.Requests
			switch o.name {
			case "delete a 100-node topic (to the trash)":
				runs = len(copies)
			case "delete 100 nodes (to the trash)":
				runs = len(many.copies) / 2 // the other half is deleted for good
			case "delete 100 nodes (permanently)":
				many.copies = many.copies[len(many.copies)/2:]
				runs = len(many.copies)
			case "update 100 questions":
				runs = len(many.items)
			case "delete 100 questions":
				runs = len(many.items)
			case "delete 100 files":
				runs = len(many.doomedFiles)
			}
			if runs == 0 {
				continue // what it works on was not there (an operation left out by Only)
			}
			m, err := measure(runs, func(i int) (int, error) {
				q, vars := o.req(i)
				if o.after == nil {
					return c.check(q, vars)
				}
				data, n, err := c.do(q, vars)
				if err == nil {
					err = o.after(data)
				}
				return n, err
			})
			if err != nil {
				return fmt.Errorf("bench: %s: %w", o.name, err)
			}
			rep.add(m.result(o.name, o.nodes))
		}
		return nil
	}
	// Reads, then publishing, while the channel has its generated size;
	// then the writes, which grow it.
	if err := runOps(ops[:reads]); err != nil {
		return nil, err
	}

	// Throughput of the simplest read, from several clients at once.
	if name := fmt.Sprintf("channel(id){name}, %d clients", cfg.Concurrency); wanted(name) {
		tp, err := throughput(cfg.Concurrency, cfg.Requests*20, func() error {
			_, _, err := c.doRaw(`query($c: ID!) { channel(id: $c) { name } }`, map[string]any{"c": ch})
			return err
		})
		if err != nil {
			return nil, err
		}
		rep.add(Result{Name: name, N: cfg.Requests * 20, OpsPerSec: tp})
	}
	// Publishing, end to end: from the request to the job's COMPLETED.
	if wanted("publish the channel") {
		pubs := max(1, cfg.Requests/10)
		pub, err := measure(pubs, func(int) (int, error) { return publish(ctx, c, ch) })
		if err != nil {
			return nil, fmt.Errorf("bench: publish: %w", err)
		}
		rep.add(pub.result("publish the channel", s.Nodes))
	}
	if err := runOps(ops[reads:]); err != nil {
		return nil, err
	}
	return rep, nil
}

// manyIDs are the ids the operations on 100 ids work on.
type manyIDs struct {
	resources []any // 100 leaves
	exercises []any // 100 exercises (fewer in a small channel)
	files     []any // 100 files, of resources
	// doomedFiles are lists of 100 other files, one for each run that deletes them.
	doomedFiles [][]any
	copies      [][]any // what each run of "copy 100 nodes" made
	items       [][]any // the question keys each run of "create 100 questions" made
}

// prepareMany reads, before anything is measured, the ids the operations
// on many ids use.
func prepareMany(c *client, s *Shape) (*manyIDs, error) {
	m := &manyIDs{}
	ids := make([]any, len(s.Resources))
	for i, id := range s.Resources {
		ids[i] = id.String()
	}
	m.resources = ids[:min(100, len(ids))]
	data, _, err := c.do(`query($c: ID!) { channel(id: $c) { nodes(first: 1000, filter: {kinds: [exercise]}) { edges { node { id } } } } }`,
		map[string]any{"c": s.Channel.ID.String()})
	if err != nil {
		return nil, fmt.Errorf("bench: list exercises: %w", err)
	}
	edges, _ := data["channel"].(map[string]any)["nodes"].(map[string]any)["edges"].([]any)
	for _, e := range edges {
		if len(m.exercises) < 100 {
			m.exercises = append(m.exercises, e.(map[string]any)["node"].(map[string]any)["id"])
		}
	}
	// Files of the resources past the first 100 (which moves take away),
	// but exercises': the generator gives their files a preset that
	// updateFiles refuses.
	var files []any
	for start := 100; start < len(ids); start += 100 {
		data, _, err := c.do(`query($ids: [ID!]!) { contentNodes(ids: $ids) { kind files { id } } }`,
			map[string]any{"ids": ids[start:min(start+100, len(ids))]})
		if err != nil {
			return nil, fmt.Errorf("bench: list files: %w", err)
		}
		for _, n := range asList(data["contentNodes"]) {
			if n, ok := n.(map[string]any); ok && n["kind"] != "exercise" {
				files = append(files, asList(n["files"])...)
			}
		}
	}
	for i, f := range files {
		files[i] = f.(map[string]any)["id"]
	}
	if len(files) >= 100 {
		m.files = files[:100]
	}
	for start := 100; start+100 <= len(files) && len(m.doomedFiles) < 10; start += 100 {
		m.doomedFiles = append(m.doomedFiles, files[start:start+100])
	}
	return m, nil
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// publish publishes and waits for the job to complete; it returns the SQL
// statements of the request.
func publish(ctx context.Context, c *client, ch string) (int, error) {
	data, n, err := c.do(`mutation($c: ID!) { publishChannel(channelId: $c) { id } }`, map[string]any{"c": ch})
	if err != nil {
		return 0, err
	}
	job := data["publishChannel"].(map[string]any)["id"]
	for ctx.Err() == nil {
		data, _, err := c.do(`query($j: ID!) { job(id: $j) { state error } }`, map[string]any{"j": job})
		if err != nil {
			return 0, err
		}
		j := data["job"].(map[string]any)
		switch j["state"] {
		case string(models.JobCompleted):
			return n, nil
		case string(models.JobFailed), string(models.JobCancelled):
			return 0, fmt.Errorf("publish %v: %v", j["state"], j["error"])
		}
		time.Sleep(50 * time.Millisecond) // a poller must not compete with the publish it waits for
	}
	return 0, ctx.Err()
}

// measured is an operation's latencies and statement counts.
type measured struct {
	n        int
	p50, p99 time.Duration
	rate     float64
	sql      []int
}

func (m measured) result(name string, nodes int) Result {
	r := Result{Name: name, N: m.n, P50: m.p50, P99: m.p99, OpsPerSec: m.rate, Nodes: nodes}
	if len(m.sql) > 0 {
		sorted := append([]int(nil), m.sql...)
		sort.Ints(sorted)
		r.SQL = sorted[len(sorted)/2]
	}
	return r
}

// measure runs fn n times, one after another.
func measure(n int, fn func(i int) (sql int, err error)) (measured, error) {
	lat := make([]time.Duration, 0, n)
	m := measured{n: n}
	start := time.Now()
	for i := range n {
		t := time.Now()
		sql, err := fn(i)
		if err != nil {
			return m, err
		}
		lat = append(lat, time.Since(t))
		m.sql = append(m.sql, sql)
	}
	total := time.Since(start)
	sort.Slice(lat, func(a, b int) bool { return lat[a] < lat[b] })
	if n > 0 {
		m.p50, m.p99 = lat[n/2], lat[min(n-1, n*99/100)]
		m.rate = float64(n) / total.Seconds()
	}
	return m, nil
}

// throughput runs fn n times from clients goroutines; it returns calls a second.
func throughput(clients, n int, fn func() error) (float64, error) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	work := make(chan struct{}, n)
	for range n {
		work <- struct{}{}
	}
	close(work)
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for range work {
				if err := fn(); err != nil {
					mu.Lock()
					first = err
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	return float64(n) / time.Since(start).Seconds(), first
}

// client posts GraphQL requests.
type client struct {
	url, token string
	http       *http.Client
}

// do runs a query and returns its data and the statements the server ran.
// The data of reads is not decoded: the client shares the machine with the
// server, and what it spends is not the server's cost.
func (c *client) do(query string, vars map[string]any) (map[string]any, int, error) {
	raw, n, err := c.doRaw(query, vars)
	if err != nil || raw == nil {
		return nil, n, err
	}
	var data map[string]any
	return data, n, json.Unmarshal(raw, &data)
}

// check runs an operation whose data the caller does not need: the body is
// read whole, but only its errors (which gqlgen writes first) and its
// extensions (last) are parsed, so that a large read is not timed with the
// client's decoding of it.
func (c *client) check(query string, vars map[string]any) (int, error) {
	raw, err := c.post(query, vars)
	if err != nil {
		return 0, err
	}
	if bytes.HasPrefix(raw, []byte(`{"errors":`)) {
		_, n, err := decodeResponse(raw)
		return n, err
	}
	i := bytes.LastIndex(raw, []byte(`"extensions":`))
	if i < 0 {
		return 0, nil
	}
	var ext struct {
		SQLQueries int `json:"sqlQueries"`
	}
	if err := json.Unmarshal(bytes.TrimSuffix(raw[i+len(`"extensions":`):], []byte("}")), &ext); err != nil {
		return 0, fmt.Errorf("bench: extensions: %w: %.200s", err, raw[i:])
	}
	return ext.SQLQueries, nil
}

func (c *client) doRaw(query string, vars map[string]any) (json.RawMessage, int, error) {
	raw, err := c.post(query, vars)
	if err != nil {
		return nil, 0, err
	}
	return decodeResponse(raw)
}

// post sends an operation and returns the response's body.
func (c *client) post(query string, vars map[string]any) ([]byte, error) {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

// decodeResponse returns a response's data and statement count, or its
// first error.
func decodeResponse(raw []byte) (json.RawMessage, int, error) {
	var r struct {
		Data       json.RawMessage
		Errors     []struct{ Message string }
		Extensions struct {
			SQLQueries int `json:"sqlQueries"`
		}
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, 0, fmt.Errorf("bench: %w: %.200s", err, raw)
	}
	if len(r.Errors) > 0 {
		return nil, 0, fmt.Errorf("%s", r.Errors[0].Message)
	}
	return r.Data, r.Extensions.SQLQueries, nil
}
