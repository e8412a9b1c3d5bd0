package db

import (
	"net/netip"
	"strings"
	"sync"
	"time"

	"studio/models"
)

// Limits of failed logins. A run of failures for one email (or from one
// client address) in which each comes within loginWindow of the previous one
// locks that email (or address) once it reaches the limit: for
// loginBaseDelay, doubled by each further failure, up to loginMaxDelay.
// A success clears its email's run, not its address's, so that an attacker
// who owns one account cannot reset the count of an address.
const (
	loginEmailLimit = 5
	loginAddrLimit  = 20
	loginWindow     = 15 * time.Minute
	loginBaseDelay  = time.Minute
	loginMaxDelay   = time.Hour
	// loginMaxKeys bounds the memory: past it, runs that ended are dropped,
	// and if none ended, everything is forgotten rather than grown.
	loginMaxKeys = 100_000
)

// LoginGuard throttles password logins by email and by client address, in
// this process's memory: each instance counts on its own. Its zero value is
// ready to use.
type LoginGuard struct {
	// Now is the clock (nil: time.Now); tests set a fake one.
	Now func() time.Time

	mu   sync.Mutex
	runs map[string]*loginRun // "e:"+email or "a:"+address
}

type loginRun struct {
	failures int
	pending  int // attempts being checked now, so that parallel ones cannot pass the limit
	last     time.Time
	until    time.Time // refused before this
}

func (g *LoginGuard) now() time.Time {
	if g.Now != nil {
		return g.Now()
	}
	return time.Now()
}

// begin admits one attempt, or refuses it with TOO_MANY_REQUESTS while the
// email or address is locked. The caller reports the outcome to done.
func (g *LoginGuard) begin(email, addr string) (done func(failed bool), err error) {
	keys := []string{"e:" + strings.ToLower(strings.TrimSpace(email))}
	limits := []int{loginEmailLimit}
	if a := addrKey(addr); a != "" {
		keys, limits = append(keys, "a:"+a), append(limits, loginAddrLimit)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	runs := make([]*loginRun, len(keys))
	for i, k := range keys {
		r := g.run(k, now)
		// While unlocked, attempts in flight are admitted only as many as
		// could fail before the limit (at least one, once a lock ended).
		if wait := r.until.Sub(now); wait > 0 || r.pending >= max(1, limits[i]-r.failures) {
			what := "this email"
			if i == 1 {
				what = "this address"
			}
			if wait <= 0 {
				wait = time.Second // the limit is reached by attempts still being checked
			}
			return nil, models.Errorf(models.CodeTooManyRequests, "too many failed logins for %s: try again in %s, or ask an admin to set a new password", what, wait.Round(time.Second))
		}
		runs[i] = r
	}
	for _, r := range runs {
		r.pending++
	}
	return func(failed bool) {
		g.mu.Lock()
		defer g.mu.Unlock()
		now := g.now()
		for i, r := range runs {
			r.pending--
			switch {
			case failed:
				r.failures++
				r.last = now
				if over := r.failures - limits[i]; over >= 0 {
					r.until = now.Add(lockDelay(over))
				}
			case i == 0: // a success clears its email's run
				r.failures, r.until = 0, time.Time{}
			}
		}
	}, nil
}

// lockDelay is how long the over'th failure past the limit locks for.
func lockDelay(over int) time.Duration {
	if over >= 6 { // 2^6 minutes is past the maximum already
		return loginMaxDelay
	}
	return min(loginBaseDelay<<over, loginMaxDelay)
}

// run returns key's current run, starting a new one when the last ended.
func (g *LoginGuard) run(key string, now time.Time) *loginRun {
	r := g.runs[key]
	if r != nil && (r.pending > 0 || !r.ended(now)) {
		return r
	}
	if g.runs == nil || len(g.runs) >= loginMaxKeys {
		g.prune(now)
	}
	r = &loginRun{}
	g.runs[key] = r
	return r
}

func (r *loginRun) ended(now time.Time) bool {
	return now.Sub(r.last) >= loginWindow && !now.Before(r.until)
}

func (g *LoginGuard) prune(now time.Time) {
	for k, r := range g.runs {
		if r.pending == 0 && r.ended(now) {
			delete(g.runs, k)
		}
	}
	if g.runs == nil || len(g.runs) >= loginMaxKeys {
		g.runs = map[string]*loginRun{}
	}
}

// addrKey is the throttled unit of a client address ("host" or
// "host:port"): the IP, or for IPv6 its /64, which one client usually
// holds whole. "" for no or an unparsable address.
func addrKey(addr string) string {
	ap, err := netip.ParseAddrPort(addr)
	ip := ap.Addr()
	if err != nil {
		if ip, err = netip.ParseAddr(addr); err != nil {
			return ""
		}
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}
