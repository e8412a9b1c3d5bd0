package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"studio/blobs"
	"studio/models"
)

// Where an import reads a published channel from: the base URL of a server
// that answers Kolibri's endpoints (a Kolibri, a Studio, a studio), or a
// content folder on this machine (databases/, storage/, as `kolibri manage
// exportchannel` writes it). Only the host the caller named is ever asked:
// other schemes are refused, a redirect to another host is refused, sizes
// are bounded and checked, every request times out when it stalls, and
// every file's md5 is checked before it is stored.

// Limits of an import's downloads.
const (
	// DefaultMaxImportDatabase bounds a content database's size.
	DefaultMaxImportDatabase = 2 << 30
	// maxImportFile bounds a file whose size the database does not give.
	maxImportFile = 16 << 30
	// importStall is how long a download may go without a byte.
	importStall = 60 * time.Second
	maxLookup   = 1 << 20
)

// errSourceMissing is a file or database the source does not have.
var errSourceMissing = errors.New("jobs: not at the source")

// importSource is a place published channels are read from.
type importSource interface {
	// String is the source as the caller named it.
	String() string
	// open returns the file at path (relative to the content folder, e.g.
	// "databases/<id>.sqlite3") and its length (-1 if unknown), or
	// errSourceMissing.
	open(ctx context.Context, path string) (io.ReadCloser, int64, error)
	// lookup asks the server about a channel id or token; nil when it
	// cannot say.
	lookup(ctx context.Context, identifier string) (*channelLookup, error)
}

// channelLookup is what /api/public/v1/channels/lookup/<identifier> says.
type channelLookup struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Language string `json:"language"`
	Version  *int   `json:"version"`
}

// openImportSource reads a source as the caller gave it: an http(s) URL, or
// (when dirs is true) a directory. allowPrivate lets a URL name a loopback
// or private address.
func openImportSource(raw string, dirs, allowPrivate bool) (importSource, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, models.Errorf(models.CodeBadUserInput, "source is required: a server's base URL (https://studio.learningequality.org) or a content folder")
	}
	if strings.Contains(raw, "://") {
		return newHTTPSource(raw, allowPrivate)
	}
	if !dirs {
		return nil, models.Errorf(models.CodeBadUserInput, "source %q is not an http or https URL (a directory on the server may be named by admins only)", raw)
	}
	return newDirSource(raw)
}

// httpSource is a server, by its base URL.
type httpSource struct {
	base   *url.URL
	client *http.Client
	// requests counts the requests made, for tests.
	requests atomic.Int64
}

func newHTTPSource(raw string, allowPrivate bool) (*httpSource, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, models.Errorf(models.CodeBadUserInput, "source %q is not a URL: %v", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, models.Errorf(models.CodeBadUserInput, "source %q: only http and https URLs are taken, not %s", raw, u.Scheme)
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, models.Errorf(models.CodeBadUserInput, "source %q names no host", raw)
	}
	if u.User != nil {
		return nil, models.Errorf(models.CodeBadUserInput, "source %q: a URL with a user name or password is not taken", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, models.Errorf(models.CodeBadUserInput, "source %q: give the server's base URL, without a query or fragment", raw)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/" // a base URL: Kolibri joins paths onto it
	}
	u.RawPath = ""
	dialer := &net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		dialer.Control = publicOnly
	}
	transport := &http.Transport{
		Proxy:                 nil, // the source named, nothing between
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   16,
		ForceAttemptHTTP2:     true,
	}
	s := &httpSource{base: u}
	s.client = &http.Client{Transport: transport, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return models.Errorf(models.CodeBadUserInput, "%s: more than 5 redirects", via[0].URL)
		}
		if !sameHost(req.URL, u) || (u.Scheme == "https" && req.URL.Scheme != "https") {
			return models.Errorf(models.CodeBadUserInput, "%s redirects to %s: a redirect to another host (or from https to http) is not followed", via[0].URL, req.URL.Redacted())
		}
		return nil
	}}
	return s, nil
}

// sameHost says whether two URLs name the same host and port.
func sameHost(a, b *url.URL) bool {
	port := func(u *url.URL) string {
		if p := u.Port(); p != "" {
			return p
		}
		if u.Scheme == "https" {
			return "443"
		}
		return "80"
	}
	return strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

// publicOnly refuses connections to loopback, private, link-local and
// unspecified addresses, checked on the address dialled (after DNS), so a
// name that resolves to one is refused too.
func publicOnly(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip := net.ParseIP(host)
	if ip == nil || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsUnspecified() || ip.IsMulticast() || ip.IsInterfaceLocalMulticast() {
		return models.Errorf(models.CodeBadUserInput, "the source's address %s is not a public one; only admins import from loopback or private addresses", host)
	}
	return nil
}

func (s *httpSource) String() string { return s.base.String() }

// get requests path under the base URL; the response's body stops the
// request when it stalls for importStall.
func (s *httpSource) get(ctx context.Context, path string) (*http.Response, error) {
	target := s.base.ResolveReference(&url.URL{Path: path})
	ctx, cancel := context.WithCancel(ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target.String(), nil)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("jobs: import: %w", err)
	}
	req.Header.Set("User-Agent", "studio-import")
	s.requests.Add(1)
	resp, err := s.client.Do(req)
	if err != nil {
		cancel()
		var me *models.Error
		if errors.As(err, &me) {
			return nil, me
		}
		return nil, fmt.Errorf("jobs: import: GET %s: %w", target.Redacted(), err)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		resp.Body.Close()
		cancel()
		return nil, errSourceMissing
	case resp.StatusCode != http.StatusOK:
		resp.Body.Close()
		cancel()
		return nil, fmt.Errorf("jobs: import: GET %s: HTTP %d", target.Redacted(), resp.StatusCode)
	}
	resp.Body = &stallReader{r: resp.Body, cancel: cancel, timer: time.AfterFunc(importStall, cancel)}
	return resp, nil
}

func (s *httpSource) open(ctx context.Context, path string) (io.ReadCloser, int64, error) {
	resp, err := s.get(ctx, "content/"+path)
	if err != nil {
		return nil, 0, err
	}
	n := resp.ContentLength
	if resp.Uncompressed {
		n = -1
	}
	return resp.Body, n, nil
}

func (s *httpSource) lookup(ctx context.Context, identifier string) (*channelLookup, error) {
	resp, err := s.get(ctx, "api/public/v1/channels/lookup/"+url.PathEscape(identifier))
	if errors.Is(err, errSourceMissing) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var found []channelLookup
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxLookup)).Decode(&found); err != nil {
		return nil, nil // not a lookup a Kolibri reads either: the database decides
	}
	for i := range found {
		if strings.EqualFold(found[i].ID, identifier) || len(found) == 1 {
			return &found[i], nil
		}
	}
	return nil, nil
}

// stallReader cancels its request when a read waits too long.
type stallReader struct {
	r      io.ReadCloser
	cancel context.CancelFunc
	timer  *time.Timer
}

func (s *stallReader) Read(p []byte) (int, error) {
	s.timer.Reset(importStall)
	return s.r.Read(p)
}

func (s *stallReader) Close() error {
	s.timer.Stop()
	err := s.r.Close()
	s.cancel()
	return err
}

// dirSource is a content folder on this machine.
type dirSource struct {
	raw, root string
}

func newDirSource(raw string) (*dirSource, error) {
	abs, err := filepath.Abs(raw)
	if err != nil {
		return nil, models.Errorf(models.CodeBadUserInput, "source %q: %v", raw, err)
	}
	// Either the content folder itself or the folder holding it, as
	// exportchannel writes it (<drive>/content/databases/…).
	for _, root := range []string{filepath.Join(abs, "content"), abs} {
		if st, err := os.Stat(filepath.Join(root, "databases")); err == nil && st.IsDir() {
			return &dirSource{raw: raw, root: root}, nil
		}
	}
	return nil, models.Errorf(models.CodeBadUserInput, "source %q has no databases folder (nor content/databases): name a folder `kolibri manage exportchannel` wrote, or its content folder", raw)
}

func (s *dirSource) String() string { return s.raw }

func (s *dirSource) open(_ context.Context, path string) (io.ReadCloser, int64, error) {
	f, err := os.Open(filepath.Join(s.root, filepath.FromSlash(path)))
	if errors.Is(err, os.ErrNotExist) {
		return nil, 0, errSourceMissing
	}
	if err != nil {
		return nil, 0, fmt.Errorf("jobs: import: %w", err)
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, 0, models.Errorf(models.CodeBadUserInput, "%s is not a file", path)
	}
	return f, st.Size(), nil
}

func (s *dirSource) lookup(context.Context, string) (*channelLookup, error) { return nil, nil }

// fetchDatabase copies the channel's content database to dst: the
// version's own file if version is set and served, else the current one.
func fetchDatabase(ctx context.Context, src importSource, channelID models.ID, version *int, dst string, limit int64) error {
	names := []string{"databases/" + channelID.String() + ".sqlite3"}
	if version != nil {
		names = append([]string{fmt.Sprintf("databases/%s-%d.sqlite3", channelID, *version)}, names...)
	}
	var body io.ReadCloser
	var n int64
	var err error
	for _, name := range names {
		if body, n, err = src.open(ctx, name); !errors.Is(err, errSourceMissing) {
			break
		}
	}
	if errors.Is(err, errSourceMissing) {
		return models.Errorf(models.CodeNotFound, "%s has no content database of channel %s (%s): is it published there, or imported into that Kolibri?", src, channelID, names[len(names)-1])
	}
	if err != nil {
		return err
	}
	defer body.Close()
	if n > limit {
		return models.Errorf(models.CodeBadUserInput, "channel %s's content database is %d bytes; at most %d are taken", channelID, n, limit)
	}
	f, err := os.Create(dst)
	if err != nil {
		return fmt.Errorf("jobs: import: %w", err)
	}
	got, err := io.Copy(f, io.LimitReader(body, limit+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	switch {
	case err != nil:
		return fmt.Errorf("jobs: import: content database: %w", err)
	case got > limit:
		return models.Errorf(models.CodeBadUserInput, "channel %s's content database is over %d bytes, the most taken", channelID, limit)
	case n >= 0 && got != n:
		return fmt.Errorf("jobs: import: content database: %d bytes of %d", got, n)
	}
	return nil
}

// fetchBlob fetches storage/<c0>/<c1>/<checksum>.<ext> into the store,
// unless the store has it: size (-1: unknown) and md5 must be what the
// database says. It says whether it fetched, and errSourceMissing when the
// source lacks the file.
func fetchBlob(ctx context.Context, src importSource, store *blobs.Store, checksum, ext string, size int64) (bool, error) {
	key := blobs.Key(checksum, ext)
	if ok, err := store.Exists(ctx, key); err != nil || ok {
		return false, err
	}
	body, n, err := src.open(ctx, key)
	if err != nil {
		return false, err
	}
	defer body.Close()
	name := checksum + "." + ext
	if size >= 0 && n >= 0 && n != size {
		return false, models.Errorf(models.CodeBadUserInput, "%s: %s is %d bytes, and the channel's database says %d", src, name, n, size)
	}
	mime := "application/octet-stream"
	if f, ok := models.FileFormatByExtension(ext); ok {
		mime = f.MIMEType
	}
	var mismatch *blobs.MismatchError
	err = store.PutVerified(ctx, key, body, checksum, size, maxImportFile, mime)
	switch {
	case errors.Is(err, blobs.ErrTooLarge) && size >= 0:
		return false, models.Errorf(models.CodeBadUserInput, "%s: %s is larger than the %d bytes the channel's database says", src, name, size)
	case errors.Is(err, blobs.ErrTooLarge):
		return false, models.Errorf(models.CodeBadUserInput, "%s: %s is larger than %d bytes", src, name, maxImportFile)
	case errors.As(err, &mismatch) && size >= 0 && mismatch.Size != size:
		return false, fmt.Errorf("jobs: import: %s: %d bytes of %d", name, mismatch.Size, size)
	case errors.As(err, &mismatch):
		return false, models.Errorf(models.CodeBadUserInput, "%s: the bytes of %s have md5 %s, not the checksum it is named by: the source's copy is damaged", src, name, mismatch.Checksum)
	case err != nil:
		return false, fmt.Errorf("jobs: import: %s: %w", name, err)
	}
	return true, nil
}
