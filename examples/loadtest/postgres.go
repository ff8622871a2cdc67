package main

import (
	"context"
	"errors"
	"fmt"
	"io"
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

// postgresDSN returns a database for one measurement on the postgres
// storage, nobody's before it: a new database on -pg's server, or (-pg auto)
// a new throwaway server started from the machine's binaries. stop drops
// that database or stops that server. skip is true when there is nothing to
// measure: -pg off, or auto without binaries.
func postgresDSN(ctx context.Context, pg string, log io.Writer) (dsn string, stop func() error, skip bool, err error) {
	switch pg {
	case "off":
		fmt.Fprintln(log, "postgres: skipped (-pg off)")
		return "", nil, true, nil
	case "auto":
		s, err := startPostgres(ctx)
		if errors.Is(err, errNoPostgres) {
			fmt.Fprintln(log, "postgres: skipped:", err)
			return "", nil, true, nil
		}
		if err != nil {
			return "", nil, false, err
		}
		fmt.Fprintf(log, "started a throwaway PostgreSQL in %s: %s, fsync and synchronous_commit on\n", s.dir, s.version)
		return s.dsn(), s.stop, false, nil
	default:
		dsn, drop, err := freshDatabase(ctx, pg)
		if err != nil {
			return "", nil, false, err
		}
		fmt.Fprintf(log, "created the database %s on -pg's server\n", databaseName(dsn))
		return dsn, drop, false, nil
	}
}

var errNoPostgres = errors.New("no PostgreSQL binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin or on PATH")

// pgServer is a throwaway PostgreSQL cluster in a temporary directory. It
// keeps the server's defaults where they decide the price of a login:
// fsync on and synchronous_commit on, so every commit is durable.
type pgServer struct {
	bin, dir, version string
	port              int
	asPostgres        bool // root may not run the server: the postgres user does
}

// pgPrefix and pgOwnerFile let a later run stop and remove the server of a
// run that died without stopping it.
const (
	pgPrefix    = "embedsso-loadtest-pg-"
	pgOwnerFile = "owner.pid"
)

func startPostgres(ctx context.Context) (*pgServer, error) {
	bin, err := findPostgres()
	if err != nil {
		return nil, err
	}
	s := &pgServer{bin: bin, asPostgres: os.Geteuid() == 0}
	s.reapStale()
	if out, err := s.run(ctx, "pg_ctl", "--version"); err == nil {
		s.version = strings.TrimSpace(string(out)) // "pg_ctl (PostgreSQL) 15.x"
	}
	if s.dir, err = os.MkdirTemp("", pgPrefix); err != nil {
		return nil, err
	}
	fail := func(err error) (*pgServer, error) {
		_ = s.stop()
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(s.dir, pgOwnerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return fail(err)
	}
	if s.asPostgres {
		u, err := user.Lookup("postgres")
		if err != nil {
			return fail(fmt.Errorf("running as root needs an OS user postgres: %w", err))
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(s.dir, uid, gid); err != nil {
			return fail(err)
		}
	}
	data := filepath.Join(s.dir, "data")
	if out, err := s.run(ctx, "initdb", "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8"); err != nil {
		return fail(fmt.Errorf("initdb: %w\n%s", err, out))
	}
	if s.port, err = freePort(); err != nil {
		return fail(err)
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=200", s.port, s.dir)
	if out, err := s.run(ctx, "pg_ctl", "-D", data, "-o", opts, "-l", filepath.Join(s.dir, "log"), "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "log"))
		return fail(fmt.Errorf("pg_ctl start: %w\n%s\n%s", err, out, log))
	}
	return s, nil
}

func (s *pgServer) dsn() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.port)
}

// stop stops the server, if it runs, and removes its directory.
func (s *pgServer) stop() error {
	var err error
	data := filepath.Join(s.dir, "data")
	if _, statErr := os.Stat(filepath.Join(data, "postmaster.pid")); statErr == nil {
		var out []byte
		if out, err = s.run(context.Background(), "pg_ctl", "-D", data, "-m", "fast", "-w", "stop"); err != nil {
			err = fmt.Errorf("pg_ctl stop: %w\n%s", err, out)
		}
	}
	return errors.Join(err, os.RemoveAll(s.dir))
}

// reapStale stops and removes the servers whose owning process is gone.
func (s *pgServer) reapStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), pgPrefix+"*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, pgOwnerFile))
		if err != nil {
			continue // not ours, or still being set up
		}
		if pid, err := strconv.Atoi(string(b)); err != nil || processAlive(pid) {
			continue
		}
		stale := *s
		stale.dir = dir
		_ = stale.stop()
	}
}

func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}

func (s *pgServer) run(ctx context.Context, tool string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	name := filepath.Join(s.bin, tool)
	if s.asPostgres {
		name, args = "runuser", append([]string{"-u", "postgres", "--", name}, args...)
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = os.TempDir() // one the postgres user may enter
	return cmd.CombinedOutput()
}

// findPostgres returns the newest /usr/lib/postgresql/N/bin, else the PATH's.
func findPostgres() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	version := func(binDir string) int {
		v, _ := strconv.Atoi(strings.Split(filepath.Base(filepath.Dir(binDir)), ".")[0])
		return v
	}
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errNoPostgres
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
