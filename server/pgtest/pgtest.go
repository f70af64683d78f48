// Package pgtest starts a real PostgreSQL server for tests, as httptest starts HTTP servers:
// one server per test binary, on a free loopback port, with a fresh database per call of DSN.
// Without PostgreSQL installed the test is skipped, except in CI (CI=true), where it fails.
// Under go test -short (the fast loop) it is skipped everywhere. Call Stop from TestMain.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// pg is one PostgreSQL server for the whole test binary, started on first use on a free
// loopback port and stopped by Stop; each test gets a database of its own.
var pg struct {
	once   sync.Once
	skip   string // why PostgreSQL is unavailable
	err    error
	dir    string
	port   int
	cmd    *exec.Cmd
	exited chan struct{}
	nextDB atomic.Int64
}

// DSN returns a connection string to a new, empty database. Without PostgreSQL
// installed the test is skipped, except in CI (CI=true), where that is a failure: the suite
// must run against both backends there.
func DSN(tb testing.TB) string {
	tb.Helper()
	if testing.Short() {
		tb.Skip("-short: no PostgreSQL")
	}
	pg.once.Do(startPostgres)
	if pg.skip != "" {
		_, bench := tb.(*testing.B)
		if os.Getenv("CI") == "true" && !bench {
			tb.Fatalf("PostgreSQL is required in CI: %s", pg.skip)
		}
		tb.Skipf("PostgreSQL not available: %s (apt-get install postgresql)", pg.skip)
	}
	if pg.err != nil {
		tb.Fatalf("starting PostgreSQL: %v", pg.err)
	}
	name := fmt.Sprintf("t%d", pg.nextDB.Add(1))
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgURL("postgres"))
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatal(err)
	}
	return pgURL(name)
}

func pgURL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", pg.port, db)
}

// pgBin finds PostgreSQL's server programs, which Debian keeps out of PATH.
func pgBin() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgMajor(dirs[i]) > pgMajor(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p)
	}
	return ""
}

func pgMajor(bin string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(bin)))
	return n
}

func startPostgres() {
	bin := pgBin()
	if bin == "" {
		pg.skip = "initdb not found under /usr/lib/postgresql/*/bin or in PATH"
		return
	}
	// PostgreSQL refuses to run as root: as root (CI), run it as the postgres user in a
	// directory of its own, since t.TempDir's parents are private to root.
	var cred *syscall.Credential
	pg.dir, pg.err = os.MkdirTemp("", "corscheck-pg-")
	if pg.err != nil {
		return
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			pg.skip = "running as root and there is no postgres user to run PostgreSQL as"
			return
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if pg.err = os.Chown(pg.dir, uid, gid); pg.err != nil {
			return
		}
	}
	data := filepath.Join(pg.dir, "data")
	logFile := filepath.Join(pg.dir, "log")
	run := func(name string, args ...string) *exec.Cmd {
		cmd := exec.Command(filepath.Join(bin, name), args...)
		cmd.Dir = pg.dir
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		return cmd
	}
	if out, err := run("initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
		"--locale=C", "--no-sync").CombinedOutput(); err != nil {
		pg.err = fmt.Errorf("initdb: %v\n%s", err, out)
		return
	}
	pg.port, pg.err = freePort()
	if pg.err != nil {
		return
	}
	log, err := os.Create(logFile)
	if err != nil {
		pg.err = err
		return
	}
	pg.cmd = run("postgres", "-D", data, "-p", strconv.Itoa(pg.port), "-k", pg.dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200")
	pg.cmd.Stdout, pg.cmd.Stderr = log, log
	dieWithParent(pg.cmd.SysProcAttr)
	if pg.err = pg.cmd.Start(); pg.err != nil {
		return
	}
	log.Close()
	pg.exited = make(chan struct{})
	go func() { pg.cmd.Wait(); close(pg.exited) }()

	ctx := context.Background()
	deadline := time.Now().Add(60 * time.Second)
	for {
		conn, err := pgx.Connect(ctx, pgURL("postgres"))
		if err == nil {
			conn.Close(ctx)
			return
		}
		select {
		case <-pg.exited:
			out, _ := os.ReadFile(logFile)
			pg.err = fmt.Errorf("postgres exited: %s", out)
			return
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(logFile)
			pg.err = errors.Join(fmt.Errorf("postgres not ready after 60 s: %s", out), err)
			return
		}
	}
}

// Stop shuts the server down (SIGINT: fast shutdown) and removes its files.
func Stop() {
	if pg.cmd != nil && pg.exited != nil {
		pg.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-pg.exited:
		case <-time.After(30 * time.Second):
			pg.cmd.Process.Kill()
			<-pg.exited
		}
	}
	if pg.dir != "" {
		os.RemoveAll(pg.dir)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
