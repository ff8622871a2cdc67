package sqlstore

import (
	"hash/maphash"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/embedsso/embedsso"
)

// CacheOptions tune the read cache in front of FindSession and FindOrg.
//
// The cache keeps the sessions (with their users) and the organizations
// that requests found, so that a steady stream of signed-in page views
// reads the database almost never. It stays correct because every change
// of a session, user or organization reaches every instance's cache from
// the database itself, whoever made it: triggers that [Migrate] creates
// send it with NOTIFY on PostgreSQL (the Store listens on a connection of
// its own, opened with the configuration of db's connections; this needs
// pgx's database/sql driver) and append it to a change log on SQLite,
// which every Store reads when PRAGMA data_version says the file changed.
// One write is not sent on PostgreSQL: a sign-in that rewrites its user
// with the same details, moving only User.UpdatedAt (a NOTIFY per sign-in
// would serialise their commits), so another Store's cached session may
// show an older UpdatedAt.
//
// A sign-out, a revoked user or organization, an organization disabled or
// given new secrets, is honoured at once by the Store that made the change,
// and by every other Store on the database within 100 ms: a Store serves
// from its cache only while it has heard from its change feed within the
// last 100 ms (a heartbeat on PostgreSQL, a poll on SQLite), and reads the
// database otherwise, so a lost connection or a missed signal costs reads,
// never a stale session. An expired session is refused at once: a cached
// session whose times say it ended is read again, and the database decides. Without the triggers (a database [Migrate] has not
// upgraded), or with another PostgreSQL driver than pgx's, the cache stays
// off.
type CacheOptions struct {
	// Off turns the cache off: every FindSession and FindOrg reads the
	// database. Default: false (the cache is on).
	Off bool
	// MaxSessions bounds how many sessions (rounded up to a multiple of
	// 64), and how many users, the cache holds; when it is full, a session found in the database takes the
	// place of one chosen at random. Each costs a few hundred bytes plus
	// its user's attributes. Default: 100000.
	MaxSessions int
	// MaxOrgs bounds how many organizations the cache holds, as
	// MaxSessions does. Default: 10000.
	MaxOrgs int
}

// staleAfter is the cache's bound: a Store serves from its cache only while
// every change committed more than this long ago has reached it.
const staleAfter = 100 * time.Millisecond

// cacheShards spreads the sessions over maps with locks of their own, so
// concurrent page views rarely touch the same lock.
const cacheShards = 64

func (o CacheOptions) withDefaults() CacheOptions {
	if o.MaxSessions <= 0 {
		o.MaxSessions = 100000
	}
	if o.MaxOrgs <= 0 {
		o.MaxOrgs = 10000
	}
	return o
}

// cache holds what FindSession and FindOrg found. Entries are immutable:
// a change replaces or drops them. A session entry points at its user's and
// its organization's entries, which a change of the user or organization
// marks dead, so that it drops every session that refers to them at once.
type cache struct {
	maxUsers, maxOrgs, perShard int
	start                       time.Time // the base of heard's monotonic clock

	// heard is when (nanoseconds since start, plus one) the change feed
	// last proved that every change committed before that moment has been
	// applied; 0 until it first did.
	heard atomic.Int64
	// wanted tells the feed that lookups happen, so it keeps proving.
	wanted atomic.Bool
	// deaf and trustAlways are test switches: deaf drops the feed's
	// signals as a cut connection would; trustAlways removes the fallback
	// (the cache is served however long the feed has been silent).
	deaf, trustAlways atomic.Bool

	// mu orders fills against changes: seq counts the changes, and a fill
	// whose database read began before a change is not stored.
	mu     sync.Mutex
	seq    atomic.Uint64
	users  map[string]*userEntry
	orgsMu sync.RWMutex // held with mu to change orgs, alone to read it
	orgs   map[string]*orgEntry
	shards [cacheShards]shard
	seed   maphash.Seed
}

type shard struct {
	mu sync.RWMutex
	m  map[digest]sessionEntry
}

// A cached session is kept small for the garbage collector, which marks
// every one at every collection (BenchmarkCacheMark): its key holds no
// pointer, its entry two, and its user's strings are one allocation.
type sessionEntry struct {
	created, expires, idle int64 // µs; idle 0: no idle limit
	orgEpoch               int64 // the session's OrgEpoch; its org's Epoch is in org
	user                   *userEntry
	org                    *orgEntry
}

// digest is a session's key: the 32 bytes its IDHash spells in lowercase
// hex. An IDHash spelled otherwise is never cached.
type digest [32]byte

// sessionDigest decodes idHash, reporting whether it is 64 lowercase hex
// digits.
func sessionDigest(idHash string) (d digest, ok bool) {
	if len(idHash) != 2*len(d) {
		return d, false
	}
	for i := range d {
		hi, ok1 := lowerHex(idHash[2*i])
		lo, ok2 := lowerHex(idHash[2*i+1])
		if !ok1 || !ok2 {
			return d, false
		}
		d[i] = hi<<4 | lo
	}
	return d, true
}

func lowerHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// userEntry is a cached user: its six strings cut from one (ends[i] is
// where the i-th ends), so that they are one object to mark, not six.
type userEntry struct {
	text             string // ID, OrgID, Email, FirstName, LastName, Role
	ends             [6]uint32
	created, updated int64 // µs
	attributes       map[string]any
	groups           []string
	dead             atomic.Bool
}

func newUserEntry(u *embedsso.User) *userEntry {
	e := &userEntry{created: micros(u.CreatedAt), updated: micros(u.UpdatedAt), attributes: u.Attributes, groups: u.Groups}
	var b strings.Builder
	for i, s := range [6]string{u.ID, u.OrgID, u.Email, u.FirstName, u.LastName, u.Role} {
		b.WriteString(s)
		e.ends[i] = uint32(b.Len())
	}
	e.text = b.String()
	return e
}

func (e *userEntry) id() string { return e.text[:e.ends[0]] }

func (e *userEntry) user() embedsso.User {
	t, n := e.text, e.ends
	return embedsso.User{
		ID: t[:n[0]], OrgID: t[n[0]:n[1]], Email: t[n[1]:n[2]], FirstName: t[n[2]:n[3]], LastName: t[n[3]:n[4]], Role: t[n[4]:n[5]],
		Attributes: e.attributes, Groups: e.groups, CreatedAt: fromMicros(e.created), UpdatedAt: fromMicros(e.updated),
	}
}

type orgEntry struct {
	org  embedsso.Org
	dead atomic.Bool
}

func newCache(o CacheOptions) *cache {
	c := &cache{
		maxUsers: o.MaxSessions, maxOrgs: o.MaxOrgs,
		perShard: (o.MaxSessions + cacheShards - 1) / cacheShards,
		start:    time.Now(),
		users:    map[string]*userEntry{},
		orgs:     map[string]*orgEntry{},
		seed:     maphash.MakeSeed(),
	}
	for i := range c.shards {
		c.shards[i].m = map[digest]sessionEntry{}
	}
	return c
}

// clock is the cache's monotonic time.
func (c *cache) clock() int64 { return int64(time.Since(c.start)) }

// trusted reports whether the feed has proved, within staleAfter, that the
// cache holds every change.
func (c *cache) trusted() bool {
	if c.trustAlways.Load() {
		return true
	}
	h := c.heard.Load()
	return h != 0 && c.clock()-(h-1) <= int64(staleAfter)
}

// heardAt records that every change committed before t (a clock reading
// taken before the proof began) has been applied.
func (c *cache) heardAt(t int64) {
	if c.heard.Load() < t+1 {
		c.heard.Store(t + 1)
	}
}

func (c *cache) want() {
	if !c.wanted.Load() {
		c.wanted.Store(true)
	}
}

func (c *cache) shard(k digest) *shard {
	return &c.shards[maphash.Comparable(c.seed, k)%cacheShards]
}

// session returns the cached session idHash, with its organization.
func (c *cache) session(idHash string) (embedsso.Session, *embedsso.Org, bool) {
	c.want()
	if !c.trusted() {
		return embedsso.Session{}, nil, false
	}
	k, ok := sessionDigest(idHash)
	if !ok {
		return embedsso.Session{}, nil, false
	}
	sh := c.shard(k)
	sh.mu.RLock()
	e, ok := sh.m[k]
	sh.mu.RUnlock()
	if !ok || e.user.dead.Load() || e.org.dead.Load() {
		return embedsso.Session{}, nil, false
	}
	s := embedsso.Session{IDHash: idHash, User: e.user.user(), CreatedAt: fromMicros(e.created), ExpiresAt: fromMicros(e.expires), OrgEpoch: e.orgEpoch}
	if e.idle != 0 {
		s.IdleExpiresAt = fromMicros(e.idle)
	}
	return s, &e.org.org, true
}

// org returns the cached organization id.
func (c *cache) org(id string) (embedsso.Org, bool) {
	c.want()
	if !c.trusted() {
		return embedsso.Org{}, false
	}
	c.orgsMu.RLock()
	e := c.orgs[id]
	c.orgsMu.RUnlock()
	if e == nil || e.dead.Load() {
		return embedsso.Org{}, false
	}
	return e.org, true
}

// begin is taken before a database read whose result may be stored.
func (c *cache) begin() uint64 { return c.seq.Load() }

// putSession stores what a read that began at seq found, unless a change
// came in since.
func (c *cache) putSession(seq uint64, s embedsso.Session, org *embedsso.Org) {
	k, ok := sessionDigest(s.IDHash)
	if org == nil || !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seq.Load() != seq {
		return
	}
	u := c.users[s.User.ID]
	if u == nil || u.dead.Load() {
		u = newUserEntry(&s.User)
		c.putUserLocked(u)
	}
	o := c.putOrgLocked(*org)
	e := sessionEntry{created: micros(s.CreatedAt), expires: micros(s.ExpiresAt), idle: optionalMicros(s.IdleExpiresAt),
		orgEpoch: s.OrgEpoch, user: u, org: o}
	sh := c.shard(k)
	sh.mu.Lock()
	if _, ok := sh.m[k]; !ok && len(sh.m) >= c.perShard {
		for old := range sh.m { // a random entry makes room
			delete(sh.m, old)
			break
		}
	}
	sh.m[k] = e
	sh.mu.Unlock()
}

// putOrg stores an organization a read that began at seq found.
func (c *cache) putOrg(seq uint64, o embedsso.Org) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seq.Load() == seq {
		c.putOrgLocked(o)
	}
}

func (c *cache) putUserLocked(u *userEntry) {
	if len(c.users) >= c.maxUsers {
		for k, old := range c.users {
			old.dead.Store(true) // its sessions are read again
			delete(c.users, k)
			break
		}
	}
	c.users[u.id()] = u
}

func (c *cache) putOrgLocked(o embedsso.Org) *orgEntry {
	if e := c.orgs[o.ID]; e != nil && !e.dead.Load() {
		return e
	}
	c.orgsMu.Lock()
	defer c.orgsMu.Unlock()
	if len(c.orgs) >= c.maxOrgs {
		for k, old := range c.orgs {
			old.dead.Store(true)
			delete(c.orgs, k)
			break
		}
	}
	e := &orgEntry{org: o}
	c.orgs[o.ID] = e
	return e
}

// change applies one change (see signals.go for their form).
func (c *cache) change(ch string) {
	kind, key, ok := strings.Cut(ch, ":")
	if !ok {
		return
	}
	switch kind {
	case "s":
		c.dropSession(key)
	case "t":
		i := strings.LastIndexByte(key, ':')
		idle, err := strconv.ParseInt(key[i+1:], 10, 64)
		if i < 0 || err != nil {
			c.flush()
			return
		}
		c.touch(key[:i], idle)
	case "u":
		c.dropUser(key)
	case "o":
		c.dropOrg(key)
	default:
		c.flush() // a change this version does not know: forget everything
	}
}

func (c *cache) dropSession(idHash string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq.Add(1)
	if k, ok := sessionDigest(idHash); ok {
		sh := c.shard(k)
		sh.mu.Lock()
		delete(sh.m, k)
		sh.mu.Unlock()
	}
}

// touch sets a cached session's idle expiry, as the database now holds it.
func (c *cache) touch(idHash string, idle int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq.Add(1)
	if k, ok := sessionDigest(idHash); ok {
		sh := c.shard(k)
		sh.mu.Lock()
		if e, ok := sh.m[k]; ok {
			e.idle = idle
			sh.m[k] = e
		}
		sh.mu.Unlock()
	}
}

func (c *cache) dropUser(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq.Add(1)
	if u := c.users[id]; u != nil {
		u.dead.Store(true)
		delete(c.users, id)
	}
}

func (c *cache) dropOrg(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq.Add(1)
	c.orgsMu.Lock()
	if o := c.orgs[id]; o != nil {
		o.dead.Store(true)
		delete(c.orgs, id)
	}
	c.orgsMu.Unlock()
}

// dropUsersWhere drops the users (and so their sessions) match selects.
func (c *cache) dropUsersWhere(match func(*embedsso.User) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq.Add(1)
	for id, u := range c.users {
		if user := u.user(); match(&user) {
			u.dead.Store(true)
			delete(c.users, id)
		}
	}
}

// flush forgets everything: what the feed may have missed.
func (c *cache) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq.Add(1)
	for _, u := range c.users {
		u.dead.Store(true)
	}
	for _, o := range c.orgs {
		o.dead.Store(true)
	}
	c.users = map[string]*userEntry{}
	c.orgsMu.Lock()
	c.orgs = map[string]*orgEntry{}
	c.orgsMu.Unlock()
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		sh.m = map[digest]sessionEntry{}
		sh.mu.Unlock()
	}
}

// size reports how many sessions, users and organizations are cached.
func (c *cache) size() (sessions, users, orgs int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.RLock()
		sessions += len(sh.m)
		sh.mu.RUnlock()
	}
	return sessions, len(c.users), len(c.orgs)
}
