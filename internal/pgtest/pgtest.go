// Package pgtest starts a throwaway PostgreSQL server from the machine's
// binaries (initdb and pg_ctl on a temporary directory and a free loopback
// port) for the tests of this repository's modules (sqlstore, the embedsso
// command). Nothing is mocked.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Server is a running PostgreSQL server.
type Server struct {
	bin, dir, data string
	port           int
	asPostgres     bool // root cannot run the server: run it as the postgres user
	statStatements bool // pg_stat_statements is loaded
}

// CountsStatements reports whether the server loaded pg_stat_statements,
// so that a database can CREATE EXTENSION pg_stat_statements and read how
// many times each statement ran.
func (s *Server) CountsStatements() bool { return s.statStatements }

// ErrNoBinaries means no PostgreSQL server binaries were found.
var ErrNoBinaries = errors.New("pgtest: no PostgreSQL binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin or on PATH")

// Start initializes a cluster in a new temporary directory and starts it,
// without disk flushes (fsync=off): the tests need the server's logic, not
// its durability.
func Start() (*Server, error) {
	return start("-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
}

// StartDurable is Start with PostgreSQL's default durability: every commit
// waits for its WAL flush, as in production. For benchmarks. settings are
// more server settings, "name=value" each, such as "shared_buffers=2GB".
func StartDurable(settings ...string) (*Server, error) {
	opts := "-c fsync=on -c synchronous_commit=on -c full_page_writes=on"
	for _, s := range settings {
		opts += " -c " + s
	}
	return start(opts)
}

func start(durability string) (*Server, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	asPostgres := os.Geteuid() == 0
	reapStale(bin, asPostgres)
	dir, err := os.MkdirTemp("", tempPrefix)
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin, dir: dir, data: filepath.Join(dir, "data"), asPostgres: asPostgres}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		s.Stop()
		return nil, err
	}
	if s.asPostgres {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("pgtest: running as root needs an OS user postgres: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, err
		}
	}
	if out, err := s.run("initdb", "-D", s.data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"); err != nil {
		s.Stop()
		return nil, fmt.Errorf("pgtest: initdb: %w\n%s", err, out)
	}
	s.port, err = freePort()
	if err != nil {
		s.Stop()
		return nil, err
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 %s -c max_connections=200", s.port, s.dir, durability)
	if _, err := os.Stat(filepath.Join(filepath.Dir(bin), "lib", "pg_stat_statements.so")); err == nil {
		// The tests count the statements a request makes (CountsStatements).
		opts += " -c shared_preload_libraries=pg_stat_statements"
		s.statStatements = true
	}
	if out, err := s.run("pg_ctl", "-D", s.data, "-o", opts, "-l", filepath.Join(s.dir, "log"), "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "log"))
		s.Stop()
		return nil, fmt.Errorf("pgtest: pg_ctl start: %w\n%s\n%s", err, out, log)
	}
	return s, nil
}

// Stop stops the server, if it runs, and removes its directory.
func (s *Server) Stop() {
	if _, err := os.Stat(filepath.Join(s.data, "postmaster.pid")); err == nil {
		_, _ = s.run("pg_ctl", "-D", s.data, "-m", "immediate", "-w", "stop")
	}
	_ = os.RemoveAll(s.dir)
}

// tempPrefix and ownerFile let a later run find the servers of test
// processes that died without stopping theirs: a test timeout panics past
// TestMain, and pg_ctl's server outlives it.
const (
	tempPrefix = "embedsso-pg-"
	ownerFile  = "owner.pid"
)

// reapStale stops and removes the servers whose owning process is gone.
func reapStale(bin string, asPostgres bool) {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), tempPrefix+"*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue // not ours, or still being set up
		}
		if pid, err := strconv.Atoi(string(b)); err != nil || alive(pid) {
			continue
		}
		stale := &Server{bin: bin, dir: dir, data: filepath.Join(dir, "data"), asPostgres: asPostgres}
		stale.Stop()
	}
}

// alive reports whether process pid exists (signal 0 checks, sends nothing).
func alive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}

// DSN returns a connection string for database name.
func (s *Server) DSN(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, name)
}

// NewDatabase creates an empty database and returns its DSN. open is
// sql.Open with the driver the caller registered (e.g. pgx's "pgx").
func (s *Server) NewDatabase(ctx context.Context, open func(dsn string) (*sql.DB, error)) (string, error) {
	admin, err := open(s.DSN("postgres"))
	if err != nil {
		return "", err
	}
	defer admin.Close()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "t_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("pgtest: create database: %w", err)
	}
	return s.DSN(name), nil
}

// NewReader creates a role that may log in and read, and nothing else: it
// is granted CONNECT on the database dsn names, USAGE on its schema public
// and SELECT on the tables that exist there now. It returns dsn with that
// role as the user. open is as for NewDatabase.
func (s *Server) NewReader(ctx context.Context, open func(dsn string) (*sql.DB, error), dsn string) (string, error) {
	db, err := open(dsn)
	if err != nil {
		return "", err
	}
	defer db.Close()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	role := "reader_" + hex.EncodeToString(b)
	var name string
	if err := db.QueryRowContext(ctx, "SELECT current_database()").Scan(&name); err != nil {
		return "", fmt.Errorf("pgtest: new reader: %w", err)
	}
	for _, stmt := range []string{
		"CREATE ROLE " + role + " LOGIN",
		"GRANT CONNECT ON DATABASE " + name + " TO " + role,
		"GRANT USAGE ON SCHEMA public TO " + role,
		"GRANT SELECT ON ALL TABLES IN SCHEMA public TO " + role,
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return "", fmt.Errorf("pgtest: new reader: %s: %w", stmt, err)
		}
	}
	return strings.Replace(dsn, "://postgres@", "://"+role+"@", 1), nil
}

func (s *Server) run(tool string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	name := filepath.Join(s.bin, tool)
	if s.asPostgres {
		name, args = "runuser", append([]string{"-u", "postgres", "--", name}, args...)
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = os.TempDir() // one the postgres user may enter
	return cmd.CombinedOutput()
}

// findBin returns the newest /usr/lib/postgresql/N/bin, else the PATH's.
func findBin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", ErrNoBinaries
}

func version(binDir string) int {
	v, _ := strconv.Atoi(strings.Split(filepath.Base(filepath.Dir(binDir)), ".")[0])
	return v
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
