package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"time"

	"studio/bench"
	"studio/blobs"
	"studio/db"
	"studio/jobs"
	"studio/models"
	"studio/server"
)

// benchCmd generates a channel, serves it on 127.0.0.1 and runs the
// standard workload against it over HTTP.
func benchCmd(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlagSet("bench", stdout)
	var dbf dbFlags
	dbf.register(fs)
	nodes := fs.Int("nodes", 10000, "about how many nodes the generated channel has")
	requests := fs.Int("requests", 100, "how many times each operation runs (publishing: a tenth as many)")
	clients := fs.Int("clients", 8, "concurrent clients of the throughput run")
	jsonOut := fs.String("json", "", "also write the report as JSON to this file")
	checkBudget := fs.Bool("check-budget", false, "fail when an operation runs more SQL statements than its budget")
	only := fs.String("only", "", "run only the operations whose names contain this text, or one of its |-separated parts (and the limits)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the workload (server and client: one process) to this file")
	compare := fs.Bool("compare", false, "run nothing: print how cost grows between two -json reports, small.json large.json")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *compare {
		return compareReports(fs.Args(), stdout)
	}
	tuneGC()
	d, err := dbf.open(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = d.Close() }() // a benchmark's database: nothing to do if closing fails
	blobDir, err := os.MkdirTemp("", "studio-bench-blobs-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(blobDir)
	store, err := blobs.Open(ctx, blobDir)
	if err != nil {
		return err
	}
	defer func() { _ = store.Close() }() // a temporary directory, removed on return

	email := fmt.Sprintf("bench-%s@localhost", models.NewID().String()[:8])
	u, err := d.CreateUser(ctx, db.NewUser{Email: email, Password: randomPassword()})
	if err != nil {
		return err
	}
	token, err := d.CreateToken(ctx, u.ID, "bench")
	if err != nil {
		return err
	}
	started := time.Now()
	shape, err := bench.Generate(ctx, d, u, fmt.Sprintf("Bench %d nodes", *nodes), *nodes)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "generated a channel of %d nodes (%s) in %s on %s\n", shape.Nodes, shape.Channel.ID, time.Since(started).Round(time.Millisecond), d.Kind)
	// What autovacuum does soon after a bulk load, done before the clock
	// starts rather than beside it: the planner's statistics include the
	// new channel.
	if err := d.Analyze(ctx); err != nil {
		return err
	}

	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	workers, _ := jobs.Standard(d, store, jobs.Timeouts{})
	queue, err := jobs.New(d, jobs.Config{Workers: workers, MaxWorkers: 1, Logger: quiet})
	if err != nil {
		return err
	}
	if err := queue.Start(ctx); err != nil {
		return err
	}
	defer func() { _ = queue.Stop(context.Background()) }()
	srv := server.New(d, server.Config{Addr: "127.0.0.1:0", Debug: true, Logger: quiet, Blobs: store, Jobs: queue})
	srvCtx, stop := context.WithCancel(ctx)
	defer stop()
	addrs := make(chan string, 1)
	go func() { _ = srv.Run(srvCtx, func(a string) { addrs <- a }) }()
	addr := <-addrs

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	rep, err := bench.Run(ctx, bench.Config{DB: d, URL: "http://" + addr, Token: token, Shape: shape,
		Requests: *requests, Concurrency: *clients, Only: *only})
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout)
	fmt.Fprint(stdout, rep.Table())
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(*jsonOut, b, 0o644); err != nil {
			return err
		}
	}
	if *checkBudget {
		if err := rep.CheckBudgets(); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "\nevery operation within its SQL statement budget")
	}
	return nil
}

// compareReports prints bench.Growth for two reports written by -json.
func compareReports(files []string, stdout io.Writer) error {
	if len(files) != 2 {
		return fmt.Errorf("bench -compare needs two reports (-json files): the smaller channel's, then the larger's")
	}
	var reps [2]bench.Report
	for i, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &reps[i]); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
	}
	fmt.Fprint(stdout, bench.Growth(&reps[0], &reps[1]))
	return nil
}
