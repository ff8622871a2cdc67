package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"flag"
	"fmt"
	mathrand "math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/cookiesession"
	"github.com/embedsso/embedsso/sqlstore"
	"github.com/stretchr/testify/require"
)

// scaleFlag is BenchmarkScale's largest size. The default keeps a CI-sized
// `go test -bench .` quick; `-scale 1000000` measures a million.
var scaleFlag = flag.Int("scale", 1000, "BenchmarkScale's largest size: organizations, users and sessions stored before it measures")

// scaleSizes are the sizes BenchmarkScale measures for the largest size
// max: 1, 1000 and max, each at most max.
func scaleSizes(max int) []int {
	sizes := []int{1}
	for _, n := range []int{1000, max} {
		if n > sizes[len(sizes)-1] && n <= max {
			sizes = append(sizes, n)
		}
	}
	return sizes
}

// The filled rows' keys: row i of each table has a key whose first eight hex
// digits are i times an odd constant modulo 2³² (a bijection, so scattered
// but reproducible) and whose rest is i, so unique. Go computes the same keys
// as the fill's SQL, so a benchmark can look up any row without reading
// them back. Each table has its own constant: row i of one table does not sit
// where row i of another does.
const (
	orgMult     = 2654435761
	userMult    = 2246822519
	sessionMult = 3266489917
)

// scattered is the key of row i with hexDigits hex digits.
func scattered(mult uint64, i, hexDigits int) string {
	return fmt.Sprintf("%08x%0*x", (uint64(i)*mult)%(1<<32), hexDigits-8, i)
}

func scaleOrgID(i int) string       { return "org_" + scattered(orgMult, i, 16) }
func scaleUserID(i int) string      { return "usr_" + scattered(userMult, i, 24) }
func scaleSessionHash(i int) string { return scattered(sessionMult, i, 64) }
func scaleEmail(i int) string       { return fmt.Sprintf("user-%d@example.com", i) }

// scaleSecret is every filled organization's secret.
const scaleSecret = "scale-secret-0123456789-abcdefghijklmnopqrstuvwxyz"

// fillSQL is how one database writes the fill: rows come from a CTE g(i)
// of 0…n-1, and hex formats an integer expression as width hex digits.
type fillSQL struct {
	series func(n int) string
	hex    func(expr string, width int) string
	// analyze runs after the fill, outside any transaction.
	analyze []string
	// refresh runs before each measurement: PostgreSQL plans a
	// statement once per connection, the foreign key checks of a login
	// included, and keeps the plan until the table's statistics change.
	// A plan made when a table had one row scans the whole table, and
	// keeps scanning it as logins fill it; ANALYZE (as autovacuum runs it
	// on a real server) makes it plan again.
	refresh []string
	// walPosition reads how many bytes of write-ahead log the server has
	// written so far; "" where there is none to read.
	walPosition string
}

var fillDialects = map[string]fillSQL{
	"pgx": {
		series: func(n int) string { return fmt.Sprintf("SELECT generate_series(0, %d)", n-1) },
		hex:    func(e string, w int) string { return fmt.Sprintf("lpad(to_hex(%s), %d, '0')", e, w) },
		// VACUUM sets the visibility map, so autovacuum does not start on
		// the new million rows in the middle of a measurement; the
		// CHECKPOINT writes the fill's pages out before, not during, it.
		// An INSERT … SELECT writes a table through a small ring of
		// buffers, which leaves its pages out of shared_buffers;
		// pg_prewarm reads in what fits, as a server that has served
		// logins for a while holds them.
		analyze: []string{"VACUUM ANALYZE", "CHECKPOINT", "CREATE EXTENSION IF NOT EXISTS pg_prewarm",
			"SELECT pg_prewarm(c.oid::regclass) FROM pg_class c WHERE c.relname LIKE 'embedsso%' AND c.relkind IN ('r', 'i')"},
		refresh:     []string{"ANALYZE"},
		walPosition: "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint",
	},
	"sqlite": {
		series: func(n int) string {
			return fmt.Sprintf("SELECT 0 UNION ALL SELECT i + 1 FROM g WHERE i + 1 < %d", n)
		},
		hex:     func(e string, w int) string { return fmt.Sprintf("printf('%%0%dx', %s)", w, e) },
		analyze: []string{"ANALYZE", "PRAGMA wal_checkpoint(TRUNCATE)"},
	},
}

// statements are the fill's INSERT … SELECTs: n organizations (with their
// records, as PutOrg writes them), n users (user i in organization i) and n
// sessions (session i of user i), each table in one statement, so a million
// rows cost no million round trips.
func (d fillSQL) statements(n int, now, expires time.Time) []string {
	key := func(prefix string, mult uint64, digits int) string {
		return fmt.Sprintf("'%s' || %s || %s", prefix,
			d.hex(fmt.Sprintf("(i * %d) %% 4294967296", mult), 8), d.hex("i", digits-8))
	}
	org, user, sess := key("org_", orgMult, 16), key("usr_", userMult, 24), key("", sessionMult, 64)
	with := "WITH RECURSIVE g(i) AS (" + d.series(n) + ") "
	t, exp := now.UnixMicro(), expires.UnixMicro()
	return []string{
		with + `INSERT INTO embedsso_orgs (id, embedding_enabled, secrets, allowed_origins, allowed_roles, dashboard_url)
			SELECT ` + org + `, TRUE, '[{"secret":"` + scaleSecret + `"}]', '["https://app.example.com"]',
				'["ADMIN","MEMBER","VIEWER"]', '/dashboard' FROM g`,
		with + fmt.Sprintf(`INSERT INTO embedsso_org_records (org_id, name, login_url, allowed_groups, version, created_at, updated_at)
			SELECT %s, 'Organization ' || i, '', '[]', 1, %d, %d FROM g`, org, t, t),
		with + fmt.Sprintf(`INSERT INTO embedsso_users (id, org_id, email, first_name, last_name, role, created_at, updated_at)
			SELECT %s, %s, 'user-' || i || '@example.com', 'First', 'Last', 'MEMBER', %d, %d FROM g`, user, org, t, t),
		with + fmt.Sprintf(`INSERT INTO embedsso_sessions (id_hash, user_id, created_at, expires_at, idle_expires_at)
			SELECT %s, %s, %d, %d, 0 FROM g`, sess, user, t, exp),
	}
}

// scaleDB is a database filled with n organizations, users and sessions,
// and the Store a benchmark measures on it.
type scaleDB struct {
	n     int
	store *sqlstore.Store
	write *sql.DB // the handle the fill wrote through
	sql   fillSQL
}

// refresh runs s.sql.refresh.
func (s *scaleDB) refresh(ctx context.Context) error {
	for _, stmt := range s.sql.refresh {
		if _, err := s.write.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("%s: %w", stmt, err)
		}
	}
	return nil
}

// fill writes the rows of a database of size n in one transaction, then
// updates the planner's statistics.
func fill(ctx context.Context, db *sql.DB, d fillSQL, n int, now time.Time) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }() // a no-op after Commit
	for _, stmt := range d.statements(n, now, now.Add(30*24*time.Hour)) {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("%w\n%s", err, stmt)
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	for _, stmt := range d.analyze {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("%s: %w", stmt, err)
		}
	}
	return nil
}

// scaleStorages are the databases BenchmarkScale measures: PostgreSQL with
// durable commits (fsync, synchronous_commit and full_page_writes on, as
// in production) and initdb's 128 MB of shared_buffers, the same with 2 GB
// (as a deployment of a million users would set it; see durable in
// main_test.go), the tests' PostgreSQL (fsync off: the queries without the
// disk flush) and a SQLite file opened as the example opens it (OpenSQLite,
// synchronous NORMAL).
var scaleStorages = []string{"postgres-durable", "postgres-durable-2gb", "postgres", "sqlite-normal"}

// openScaleDB makes a new database of the given storage, filled to size n.
// With keep, its handles and files outlive tb, so that later benchmarks
// (the rounds of -count) measure it again instead of filling another.
func openScaleDB(tb testing.TB, storage string, n int, keep bool) *scaleDB {
	tb.Helper()
	ctx := context.Background()
	var s *scaleDB
	switch storage {
	case "postgres", "postgres-durable", "postgres-durable-2gb":
		bare := newBareDatabase(tb, storage)
		db, err := sql.Open(bare.driver, bare.dsn)
		require.NoError(tb, err)
		db.SetMaxOpenConns(maxConns)
		db.SetMaxIdleConns(maxConns)
		if !keep {
			tb.Cleanup(func() { _ = db.Close() })
		}
		require.NoError(tb, sqlstore.Migrate(ctx, db))
		s = &scaleDB{n: n, store: sqlstore.New(db), write: db}
	case "sqlite-normal":
		dir := scratchDir(tb, keep)
		st, err := sqlstore.OpenSQLite(ctx, "sqlite", "file:"+filepath.Join(dir, "embedsso.db")+"?_pragma=synchronous(NORMAL)", sqlstore.SQLiteOptions{})
		require.NoError(tb, err)
		if !keep {
			tb.Cleanup(func() { _ = st.Close() })
		}
		write, _ := sqlstore.Handles(st)
		s = &scaleDB{n: n, store: st, write: write}
	default:
		tb.Fatalf("unknown storage %q", storage)
	}
	driver := "pgx"
	if storage == "sqlite-normal" {
		driver = "sqlite"
	}
	s.sql = fillDialects[driver]
	require.NoError(tb, fill(ctx, s.write, s.sql, n, time.Now()))
	return s
}

// scratch holds the SQLite files of the databases that outlive their
// benchmark; TestMain removes it.
var scratch struct {
	once sync.Once
	dir  string
	err  error
}

func scratchDir(tb testing.TB, keep bool) string {
	if !keep {
		return tb.TempDir()
	}
	scratch.once.Do(func() { scratch.dir, scratch.err = os.MkdirTemp("", "embedsso-scale-") })
	require.NoError(tb, scratch.err)
	dir, err := os.MkdirTemp(scratch.dir, "db-")
	require.NoError(tb, err)
	return dir
}

// removeScratch removes the kept SQLite files.
func removeScratch() {
	if scratch.dir != "" {
		_ = os.RemoveAll(scratch.dir)
	}
}

// scaleCache keeps each filled database for the process's later benchmarks.
var scaleCache = struct {
	sync.Mutex
	m map[string]*scaleDB
}{m: map[string]*scaleDB{}}

// cachedScaleDB is openScaleDB's database of storage and n, filled once per
// process.
func cachedScaleDB(tb testing.TB, storage string, n int) *scaleDB {
	key := fmt.Sprint(storage, "/", n)
	scaleCache.Lock()
	defer scaleCache.Unlock()
	if s, ok := scaleCache.m[key]; ok {
		return s
	}
	s := openScaleDB(tb, storage, n, true)
	scaleCache.m[key] = s
	return s
}

// scaleOp is one kind of operation BenchmarkScale times. prepare makes k
// calls of it, with their arguments, before the clock starts.
type scaleOp struct {
	name    string
	prepare func(s *scaleDB, k int, r *mathrand.Rand) []func(ctx context.Context) error
}

// newLogins numbers the new users' emails and every login's token id.
var newLogins atomic.Int64

// scaleRun tells the token ids and emails of this process from those of
// earlier processes in the same database.
var scaleRun = func() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}()

// scaleLogin is a sign-in of profile p: a new token id and a new session
// with a random id hash, as the handler makes them.
func scaleLogin(p embedsso.Profile) cookiesession.SignInWrite {
	now := time.Now()
	h := make([]byte, 32)
	_, _ = rand.Read(h)
	return cookiesession.SignInWrite{
		Profile:        p,
		TokenID:        fmt.Sprintf("jti-%s-%d", scaleRun, newLogins.Add(1)),
		TokenExpiresAt: now.Add(5 * time.Minute),
		Now:            now,
		Session:        embedsso.Session{IDHash: hex.EncodeToString(h), CreatedAt: now, ExpiresAt: now.Add(8 * time.Hour)},
	}
}

// signInCalls turns sign-ins into calls of the store's SignIn.
func signInCalls(s *scaleDB, ws []cookiesession.SignInWrite) []func(context.Context) error {
	calls := make([]func(context.Context) error, len(ws))
	for i, w := range ws {
		calls[i] = func(ctx context.Context) error {
			_, err := s.store.SignIn(ctx, w)
			return err
		}
	}
	return calls
}

var scaleOps = []scaleOp{
	{"login-new", func(s *scaleDB, k int, r *mathrand.Rand) []func(context.Context) error {
		ws := make([]cookiesession.SignInWrite, k)
		for j := range ws {
			ws[j] = scaleLogin(embedsso.Profile{OrgID: scaleOrgID(r.IntN(s.n)),
				Email:     fmt.Sprintf("new-%s-%d@example.com", scaleRun, newLogins.Add(1)),
				FirstName: "New", Role: "MEMBER"})
		}
		return signInCalls(s, ws)
	}},
	{"login-existing", func(s *scaleDB, k int, r *mathrand.Rand) []func(context.Context) error {
		ws := make([]cookiesession.SignInWrite, k)
		for j := range ws {
			i := r.IntN(s.n)
			ws[j] = scaleLogin(embedsso.Profile{OrgID: scaleOrgID(i), Email: scaleEmail(i), FirstName: "First", LastName: "Last", Role: "MEMBER"})
		}
		return signInCalls(s, ws)
	}},
	{"find-session", func(s *scaleDB, k int, r *mathrand.Rand) []func(context.Context) error {
		calls := make([]func(context.Context) error, k)
		for j := range calls {
			i := r.IntN(s.n)
			calls[j] = func(ctx context.Context) error {
				sess, err := s.store.FindSession(ctx, scaleSessionHash(i), time.Now())
				if err == nil && sess.User.ID != scaleUserID(i) {
					err = fmt.Errorf("session %d: user %q, want %q", i, sess.User.ID, scaleUserID(i))
				}
				return err
			}
		}
		return calls
	}},
	// The handler reads the token's organization before it signs in.
	{"find-org", func(s *scaleDB, k int, r *mathrand.Rand) []func(context.Context) error {
		calls := make([]func(context.Context) error, k)
		for j := range calls {
			i := r.IntN(s.n)
			calls[j] = func(ctx context.Context) error {
				_, err := s.store.FindOrg(ctx, scaleOrgID(i))
				return err
			}
		}
		return calls
	}},
}
