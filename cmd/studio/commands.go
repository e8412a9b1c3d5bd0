package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"riverqueue.com/riverui"

	"studio/blobs"
	"studio/db"
	"studio/demo"
	"studio/graph"
	"studio/jobs"
	"studio/server"
)

func serve(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlagSet("serve", stdout)
	var dbf dbFlags
	dbf.register(fs)
	addr := fs.String("addr", env("addr", "127.0.0.1:8080"), "address to listen on")
	debug := fs.Bool("debug", envBool("debug"), "report each request's SQL statement count in extensions.sqlQueries")
	blobsURL := fs.String("blobs-url", env("blobs-url", ""), "where files are kept: a directory (default: the data directory) or s3://bucket?endpoint=…&region=…&use_path_style=true")
	maxUpload := fs.Int64("max-upload-size", envInt("max-upload-size", graph.DefaultMaxUpload), "the largest file an upload may be, in bytes")
	noIntrospection := fs.Bool("no-introspection", envBool("no-introspection"), "turn GraphQL schema introspection off")
	publishTimeout := fs.Duration("publish-timeout", envDuration("publish-timeout", jobs.DefaultPublishTimeout),
		"how long one attempt of a publish may run; a publish whose worker died is retried after this long")
	importTimeout := fs.Duration("import-timeout", envDuration("import-timeout", jobs.DefaultImportTimeout),
		"how long one attempt of an import may run; an import whose worker died is retried after this long, fetching no file again")
	loadDemo := fs.Bool("demo", envBool("demo"), "load a demo channel, owned by the first admin, unless one is there already")
	behindProxy := fs.Bool("behind-proxy", envBool("behind-proxy"), "a reverse proxy relays requests to this server (the playground then never offers the admin token)")
	publicURL := fs.String("public-url", env("public-url", ""), "the URL users reach the server at, such as https://studio.example.org, when it is not --addr")
	corsOrigins := fs.String("cors-origins", env("cors-origins", ""), "other origins whose pages may call the API and load files, comma-separated, such as http://localhost:5173 (default: none)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *publicURL != "" {
		if u, err := url.Parse(*publicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--public-url %q: give an absolute http or https URL, such as https://studio.example.org", *publicURL)
		}
	}
	tuneGC()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	origins, err := server.ParseOrigins(*corsOrigins)
	if err != nil {
		return err
	}
	d, err := dbf.open(ctx)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := firstAdmin(ctx, d, stdout, dbf.dataDir); err != nil {
		return err
	}
	adminToken, _ := os.ReadFile(filepath.Join(dbf.dataDir, adminTokenFile)) // absent after the first start elsewhere
	if *blobsURL == "" {
		// The data directory is its owner's only, as the database (and the
		// blobs of private channels) in it are.
		if err := os.MkdirAll(dbf.dataDir, 0o700); err != nil {
			return fmt.Errorf("create the data directory: %w", err)
		}
		*blobsURL = dbf.dataDir
	}
	store, err := blobs.Open(ctx, *blobsURL)
	if err != nil {
		return err
	}
	defer store.Close()
	if *loadDemo {
		owner, err := demo.FirstAdmin(ctx, d)
		if err != nil {
			return err
		}
		ch, created, err := demo.Load(ctx, d, store, owner)
		if err != nil {
			return err
		}
		if created {
			fmt.Fprintf(stdout, "Loaded the demo channel %s (%s)\n", ch.Name, ch.ID)
		}
	}
	workers, periodic := jobs.Standard(d, store, jobs.Timeouts{Publish: *publishTimeout, Import: *importTimeout})
	queue, err := jobs.New(d, jobs.Config{Workers: workers, Periodic: periodic, MaxWorkers: 2, RescueAfter: min(*publishTimeout, *importTimeout),
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		return err
	}
	if err := queue.Start(ctx); err != nil {
		return fmt.Errorf("jobs: start: %w", err)
	}
	ui, err := riverui.NewHandler(&riverui.HandlerOpts{Endpoints: riverui.NewEndpoints(queue, nil), Logger: logger, Prefix: "/riverui"})
	if err != nil {
		return fmt.Errorf("river ui: %w", err)
	}
	if err := ui.Start(ctx); err != nil {
		return fmt.Errorf("river ui: %w", err)
	}
	defer func() {
		// Jobs running now finish, up to a limit, or are handed back.
		stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = queue.Stop(stopCtx)
	}()
	srv := server.New(d, server.Config{Addr: *addr, Debug: *debug, Logger: logger, Blobs: store, MaxUpload: *maxUpload, NoIntrospection: *noIntrospection, RiverUI: ui, Jobs: queue,
		AdminToken: strings.TrimSpace(string(adminToken)), BehindProxy: *behindProxy, PublicURL: *publicURL, CORSOrigins: origins})
	return srv.Run(ctx, func(a string) {
		fmt.Fprintf(stdout, "studio %s: serving GraphQL at http://%s/graphql and the playground at http://%s/\n", d.Kind, a, a)
	})
}

// adminTokenFile, in the data directory, keeps the first admin's token for
// the playground, which offers it to browsers on this machine only.
const adminTokenFile = "admin-token"

// firstAdmin creates an admin on the first start against an empty database
// and prints its token, the only time it is shown, and keeps it in
// dataDir/admin-token (readable by its owner only) for the playground.
func firstAdmin(ctx context.Context, d *db.DB, stdout io.Writer, dataDir string) error {
	n, err := d.CountUsers(ctx)
	if err != nil || n > 0 {
		return err
	}
	u, err := d.CreateUser(ctx, db.NewUser{Email: "admin@localhost", Password: randomPassword(), IsAdmin: true})
	if err != nil {
		return err
	}
	token, err := d.CreateToken(ctx, u.ID, "first start")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dataDir, 0o700); err == nil {
		_ = os.WriteFile(filepath.Join(dataDir, adminTokenFile), []byte(token), 0o600)
	}
	fmt.Fprintf(stdout, "Created the admin %s. Its API token:\n\n  %s\n\n"+
		"Send it as `Authorization: Bearer <token>`; the playground offers it to browsers on this machine\n"+
		"(it is kept in %s). `studio user create` makes other users.\n", u.Email, token, filepath.Join(dataDir, adminTokenFile))
	return nil
}

func migrateCmd(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlagSet("migrate", stdout)
	var dbf dbFlags
	dbf.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	d, err := dbf.open(ctx)
	if err != nil {
		return err
	}
	defer d.Close()
	fmt.Fprintf(stdout, "%s database is up to date\n", d.Kind)
	return nil
}

func userCreate(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlagSet("user create", stdout)
	var dbf dbFlags
	dbf.register(fs)
	email := fs.String("email", "", "the user's email (required)")
	password := fs.String("password", "", "the user's password, 8 characters or more (required)")
	admin := fs.Bool("admin", false, "make the user an admin")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *email == "" || *password == "" {
		return fmt.Errorf("user create needs --email and --password")
	}
	d, err := dbf.open(ctx)
	if err != nil {
		return err
	}
	defer d.Close()
	u, err := d.CreateUser(ctx, db.NewUser{Email: *email, Password: *password, IsAdmin: *admin})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created user %s (%s)\n", u.Email, u.ID)
	return nil
}

// userPassword sets a user's password: the first admin, made by serve with
// a token and no password, gets one this way.
func userPassword(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlagSet("user password", stdout)
	var dbf dbFlags
	dbf.register(fs)
	email := fs.String("email", "", "the user's email (required)")
	password := fs.String("password", "", "the new password, 8 characters or more (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *email == "" || *password == "" {
		return fmt.Errorf("user password needs --email and --password")
	}
	d, err := dbf.open(ctx)
	if err != nil {
		return err
	}
	defer d.Close()
	u, err := d.SetPassword(ctx, *email, *password)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "set the password of %s\n", u.Email)
	return nil
}

func tokenCreate(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlagSet("token create", stdout)
	var dbf dbFlags
	dbf.register(fs)
	email := fs.String("email", "", "whose token (required)")
	name := fs.String("name", "cli", "a name to recognise the token by")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *email == "" {
		return fmt.Errorf("token create needs --email")
	}
	d, err := dbf.open(ctx)
	if err != nil {
		return err
	}
	defer d.Close()
	u, err := d.UserByEmail(ctx, *email)
	if err != nil {
		return err
	}
	token, err := d.CreateToken(ctx, u.ID, *name)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, token)
	return nil
}
