package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/corsquickcheck/corscheck/server/config"
	"github.com/corsquickcheck/corscheck/server/pgtest"
	"github.com/corsquickcheck/corscheck/server/polltest"
	"github.com/corsquickcheck/corscheck/server/store"
)

func TestMain(m *testing.M) {
	if os.Getenv("CORSCHECK_TEST_SERVE") != "" {
		// Child process of TestServeKill9: the real command, until killed.
		os.Exit(run(context.Background(), []string{"corscheck", "serve"}, os.Getenv, os.Stdout, os.Stderr))
	}
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

const testOrigin = "https://finessep.example:8445"

func resultJSON(i int) []byte {
	b, _ := json.Marshal(map[string]any{
		"gadgetVersion": "1.0.0", "pageOrigin": testOrigin, "targetKind": "cuic",
		"node": fmt.Sprintf("cuic%d.example.com", i%7), "url": fmt.Sprintf("https://cuic.example.com:8444/cuic/rest/status/?n=%d", i),
		"method": "GET", "headerNames": []string{"authorization"}, "credentials": "include", "verdict": "blocked", "durationMs": i % 1000,
	})
	return b
}

// post sends one result and returns the id it got, or 0 when it was not acknowledged.
func post(client *http.Client, base string, i int) (int64, error) {
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/results", bytes.NewReader(resultJSON(i)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", testOrigin)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(resp.Body)
		return 0, fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	var out struct{ IDs []int64 }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.IDs) != 1 {
		return 0, fmt.Errorf("bad answer: %v", err)
	}
	return out.IDs[0], nil
}

func TestServeRejectsBadConfig(t *testing.T) {
	code, stdout, stderr := runCLI(t, nil, "serve", "--listen", "nope", "--origins", "https://f.example/desktop")
	if code != 2 || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "listen") || !strings.Contains(stderr, "origin") {
		t.Fatalf("exit %d, stdout %q, stderr %q: want exit 2 and one line naming both problems", code, stdout, stderr)
	}
}

// Two service instances on one PostgreSQL accept results at the same time; none is lost or
// duplicated.
func TestServeTwoInstancesOnPostgres(t *testing.T) {
	dsn := pgtest.DSN(t)
	var bases []string
	for i := range 2 {
		cfg := config.Defaults()
		cfg.DB, cfg.Origins, cfg.AdminPassword, cfg.ResultsRate = dsn, []string{testOrigin}, "an admin password", 100000
		svc, err := newService(t.Context(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard, serviceExtras{})
		if err != nil {
			t.Fatalf("instance %d: %v", i, err)
		}
		srv := httptest.NewServer(svc.handler)
		t.Cleanup(func() { srv.Close(); svc.Close() })
		bases = append(bases, srv.URL)
	}
	const workers, each = 8, 40
	var mu sync.Mutex
	ids := map[int64]bool{}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for j := range each {
				n := w*each + j
				id, err := post(http.DefaultClient, bases[n%2], n)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if ids[id] {
					t.Errorf("id %d given twice", id)
				}
				ids[id] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	st, err := store.Open(t.Context(), dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n, err := st.CountResults(t.Context(), store.Filter{})
	if err != nil || n != workers*each || len(ids) != workers*each {
		t.Fatalf("stored %d (%v), acknowledged %d distinct ids, want %d", n, err, len(ids), workers*each)
	}
	for id := range ids {
		if _, err := st.Result(t.Context(), id); err != nil {
			t.Fatalf("acknowledged id %d: %v", id, err)
		}
	}
}

// kill -9 during a burst: after a restart, every result that got 201 is there.
func TestServeKill9(t *testing.T) {
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "CORSCHECK_TEST_SERVE=1", "CORSCHECK_LISTEN="+addr, "CORSCHECK_DATA_DIR="+dir,
		"CORSCHECK_ORIGINS="+testOrigin, "CORSCHECK_ADMIN_PASSWORD=an admin password", "CORSCHECK_RESULTS_RATE=100000")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	listening := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening") {
				listening <- true
			}
		}
	}()
	select {
	case <-listening:
	case <-time.After(30 * time.Second):
		t.Fatal("the service did not start")
	}
	base := "http://" + addr
	client := &http.Client{Timeout: 5 * time.Second}
	var mu sync.Mutex
	acked := map[int64]int{}
	var wg sync.WaitGroup
	ctx, stop := context.WithCancel(context.Background())
	for w := range 32 {
		wg.Go(func() {
			for j := 0; ctx.Err() == nil; j++ {
				n := w*100000 + j
				id, err := post(client, base, n)
				if err != nil {
					return // the server is gone
				}
				mu.Lock()
				acked[id] = n
				mu.Unlock()
			}
		})
	}
	n := 0
	if !polltest.Until(30*time.Second, func() bool {
		mu.Lock()
		n = len(acked)
		mu.Unlock()
		return n >= 2000
	}) {
		t.Fatalf("only %d results acknowledged in 30 s", n)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	stop()
	wg.Wait()

	st, err := store.Open(t.Context(), dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for id, n := range acked {
		r, err := st.Result(t.Context(), id)
		if err != nil {
			t.Fatalf("result %d got 201 but is gone after kill -9: %v", id, err)
		}
		if want := fmt.Sprintf("?n=%d", n); !strings.HasSuffix(r.URL, want) {
			t.Fatalf("result %d is %q, want the one ending %q", id, r.URL, want)
		}
	}
	t.Logf("%d acknowledged results all survived kill -9", len(acked))
}

// A catalogue changed through the admin API is still there after a restart.
func TestServeCatalogueSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	start := func() (*service, *httptest.Server) {
		cfg := config.Defaults()
		cfg.DataDir, cfg.AdminPassword = dir, "an admin password"
		svc, err := newService(t.Context(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard, serviceExtras{})
		if err != nil {
			t.Fatal(err)
		}
		return svc, httptest.NewServer(svc.handler)
	}
	svc, srv := start()
	body := `{"targets":[{"id":"cuic","kind":"cuic","label":"CUIC","endpoints":[{"name":"CUIC","port":8444,"path":"/cuic/rest/status/"}],"request":{"method":"GET","headers":[],"credentials":"include"},"nodes":["cuicnew.example.com"]}]}`
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/api/v1/admin/targets", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth("admin", "an admin password")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT: %v %v", resp, err)
	}
	srv.Close()
	svc.Close()

	svc, srv = start()
	defer func() { srv.Close(); svc.Close() }()
	resp, err = http.Get(srv.URL + "/api/v1/targets")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), "cuicnew.example.com") {
		t.Fatalf("catalogue lost on restart: %s", b)
	}
}

// The sign-in form and the admin API share one slow-down per client address: guesses on the
// form make the API wait too.
func TestServeSlowDownShared(t *testing.T) {
	cfg := config.Defaults()
	cfg.DataDir, cfg.AdminPassword = t.TempDir(), "an admin password"
	svc, err := newService(t.Context(), cfg, slog.New(slog.DiscardHandler), io.Discard, serviceExtras{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc.handler)
	t.Cleanup(func() { srv.Close(); svc.Close() })
	for range 5 {
		resp, err := http.PostForm(srv.URL+"/admin/login", url.Values{"password": {"a guess"}})
		if err != nil || resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("a wrong sign-in: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	if got := putCatalogue(srv.URL, `{}`); got != http.StatusTooManyRequests {
		t.Fatalf("the admin API after 5 wrong sign-ins on the form: %d, want 429", got)
	}
}

// putCatalogue replaces the catalogue with the admin password, and answers the status (0 when
// nothing answers).
func putCatalogue(base, body string) int {
	req, _ := http.NewRequest(http.MethodPut, base+"/api/v1/admin/targets", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth("admin", "an admin password")
	return statusOf(req)
}

// statusOf sends req and answers the status, or 0 when nothing answers.
func statusOf(req *http.Request) int {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Two instances behind a load balancer, on one PostgreSQL, without sticky sessions: a browser
// signed in on one is signed in on the other, and a catalogue edit on one reaches the other.
func TestServeTwoInstancesShareSessionsAndCatalogue(t *testing.T) {
	dsn := pgtest.DSN(t)
	var bases []string
	for i := range 2 {
		cfg := config.Defaults()
		cfg.DB, cfg.Origins, cfg.AdminPassword = dsn, []string{testOrigin}, "an admin password"
		svc, err := newService(t.Context(), cfg, slog.New(slog.DiscardHandler), io.Discard,
			serviceExtras{catalogueEvery: 20 * time.Millisecond})
		if err != nil {
			t.Fatalf("instance %d: %v", i, err)
		}
		srv := httptest.NewServer(svc.handler)
		t.Cleanup(func() { srv.Close(); svc.Close() })
		bases = append(bases, srv.URL)
	}
	a, b := bases[0], bases[1]
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(base string, cookie *http.Cookie) int {
		req, _ := http.NewRequest(http.MethodGet, base+"/admin/", nil)
		if cookie != nil {
			req.AddCookie(cookie)
		}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	resp, err := noRedirect.PostForm(a+"/admin/login", url.Values{"password": {"an admin password"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "corscheck_session" {
			session = c
		}
	}
	if resp.StatusCode != http.StatusSeeOther || session == nil {
		t.Fatalf("signing in on instance A: %s", resp.Status)
	}
	if got := get(b, session); got != http.StatusOK {
		t.Fatalf("the session from A on instance B: %d, want 200", got)
	}
	// Signing out on B ends the session on A too.
	req, _ := http.NewRequest(http.MethodPost, b+"/admin/logout", nil)
	req.AddCookie(session)
	if resp, err := noRedirect.Do(req); err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("signing out on B: %v %v", resp, err)
	}
	if got := get(a, session); got != http.StatusSeeOther {
		t.Fatalf("the session on A after signing out on B: %d, want a redirect to sign in", got)
	}

	cat := `{"targets":[{"id":"cuic","kind":"cuic","label":"CUIC","endpoints":[{"name":"CUIC","port":8444,"path":"/cuic/rest/status/"}],"request":{"method":"GET","headers":[],"credentials":"include"},"nodes":["cuicedited.example.com"]}]}`
	if got := putCatalogue(a, cat); got != http.StatusOK {
		t.Fatalf("editing the catalogue on A: %d", got)
	}
	// B polls every 20 ms here (2 s in service); give it up to 10 s.
	var body []byte
	if !polltest.Until(10*time.Second, func() bool {
		resp, err := http.Get(b + "/api/v1/targets")
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		return strings.Contains(string(body), "cuicedited.example.com")
	}) {
		t.Fatalf("instance B still serves the old catalogue: %s", body)
	}
}

// A --targets file replaces the stored catalogue at start, so that every instance uses it.
func TestServeTargetsFileIsStored(t *testing.T) {
	dir := t.TempDir()
	file := dir + "/targets.json"
	os.WriteFile(file, []byte(`{"targets":[{"id":"cuic","kind":"cuic","label":"CUIC","endpoints":[{"name":"CUIC","port":8444,"path":"/cuic/rest/status/"}],"request":{"method":"GET","credentials":"include"},"nodes":["cuicfile.example.com"]}]}`), 0o600)
	for _, targets := range []string{file, ""} {
		cfg := config.Defaults()
		cfg.DataDir, cfg.AdminPassword, cfg.Targets = dir, "an admin password", targets
		svc, err := newService(t.Context(), cfg, slog.New(slog.DiscardHandler), io.Discard, serviceExtras{})
		if err != nil {
			t.Fatal(err)
		}
		if !svc.catalogue.HasHost("cuicfile.example.com") {
			t.Errorf("started with --targets %q: the file's catalogue is not in use", targets)
		}
		svc.Close()
	}
}

// freeAddr is a loopback address no one listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// getStatus answers a GET's status, or 0 when nothing answers.
func getStatus(url, token string) int {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return statusOf(req)
}

// /metrics can be protected by a bearer token, or moved to an address of its own; the secrets
// come from files, as systemd's credentials or a container's secrets hand them over.
func TestServeMetricsProtected(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(dir+"/token", []byte("a metrics token, long enough\n"), 0o600)
	os.WriteFile(dir+"/password", []byte("an admin password from a file\n"), 0o600)
	listen, metrics := freeAddr(t), freeAddr(t)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int, 1)
	env := map[string]string{"CORSCHECK_LISTEN": listen, "CORSCHECK_DATA_DIR": dir, "CORSCHECK_METRICS_LISTEN": metrics,
		"CORSCHECK_METRICS_TOKEN_FILE": dir + "/token", "CORSCHECK_ADMIN_PASSWORD_FILE": dir + "/password"}
	var stdout, stderr syncBuffer
	go func() {
		done <- run(ctx, []string{"corscheck", "serve"}, func(k string) string { return env[k] }, &stdout, &stderr)
	}()
	if !polltest.Until(30*time.Second, func() bool { return getStatus("http://"+listen+"/healthz", "") == http.StatusOK }) {
		t.Fatalf("the service did not start: %s", stderr.String())
	}
	for _, tc := range []struct {
		url, token string
		want       int
	}{
		{"http://" + listen + "/metrics", "a metrics token, long enough", http.StatusNotFound},
		{"http://" + metrics + "/metrics", "", http.StatusUnauthorized},
		{"http://" + metrics + "/metrics", "a wrong metrics token", http.StatusUnauthorized},
		{"http://" + metrics + "/metrics", "a metrics token, long enough", http.StatusOK},
		{"http://" + metrics + "/healthz", "a metrics token, long enough", http.StatusNotFound},
	} {
		if got := getStatus(tc.url, tc.token); got != tc.want {
			t.Errorf("GET %s with token %q: %d, want %d", tc.url, tc.token, got, tc.want)
		}
	}
	// The admin password came from its file.
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).
		PostForm("http://"+listen+"/admin/login", url.Values{"password": {"an admin password from a file"}})
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("signing in with the password from the file: %v %v", resp, err)
	}
	resp.Body.Close()
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
}

// Without --metrics-listen, a token protects /metrics on the service's own address.
func TestServeMetricsToken(t *testing.T) {
	cfg := config.Defaults()
	cfg.DataDir, cfg.AdminPassword, cfg.MetricsToken = t.TempDir(), "an admin password", "a metrics token, long enough"
	svc, err := newService(t.Context(), cfg, slog.New(slog.DiscardHandler), io.Discard, serviceExtras{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc.handler)
	t.Cleanup(func() { srv.Close(); svc.Close() })
	if got := getStatus(srv.URL+"/metrics", ""); got != http.StatusUnauthorized {
		t.Errorf("without the token: %d", got)
	}
	if got := getStatus(srv.URL+"/metrics", cfg.MetricsToken); got != http.StatusOK {
		t.Errorf("with the token: %d", got)
	}
}

// GET / is the start page, whose links all lead somewhere; an unknown path answers a browser
// with the 404 page, while under /api/ it stays the API's JSON 404.
func TestServeStartPageAndNotFound(t *testing.T) {
	cfg := config.Defaults()
	cfg.DataDir, cfg.AdminPassword, cfg.PublicURL = t.TempDir(), "an admin password", "https://corscheck.example.com:8443"
	svc, err := newService(t.Context(), cfg, slog.New(slog.DiscardHandler), io.Discard, serviceExtras{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc.handler)
	t.Cleanup(func() { srv.Close(); svc.Close() })
	get := func(path string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8") // as a browser asks
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	resp, body := get("/")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %s %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var links []string
	doc.Find("a[href]").Each(func(_ int, a *goquery.Selection) { links = append(links, a.AttrOr("href", "")) })
	for _, want := range []string{"/admin/", "/healthz", "/readyz", "/metrics", cfg.PublicURL + "/gadget/TestCORSgadget.xml"} {
		if !slices.Contains(links, want) {
			t.Errorf("the start page does not link to %s (links %q)", want, links)
		}
	}
	for _, link := range links {
		path := strings.TrimPrefix(link, cfg.PublicURL) // the gadget's link names the public URL
		if resp, _ := get(path); resp.StatusCode != http.StatusOK {
			t.Errorf("the start page's link %s answers %s", link, resp.Status)
		}
	}

	// The hosted gadget's XML says how to load it from here, not from 3rdpartygadget.
	if _, spec := get("/gadget/TestCORSgadget.xml"); !strings.Contains(spec, "<gadget>"+cfg.PublicURL+"/gadget/TestCORSgadget.xml</gadget>") {
		t.Errorf("the hosted gadget's comment lacks its own layout line:\n%.600s", spec)
	}

	for _, path := range []string{"/nope", "/favicon.ico", "/apidocs"} {
		resp, body := get(path)
		if resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
			!strings.Contains(body, `id="back"`) {
			t.Errorf("GET %s: %s %q, want the 404 page", path, resp.Status, resp.Header.Get("Content-Type"))
		}
	}
	for _, path := range []string{"/api/nope", "/api/v1/nope", "/api"} {
		resp, body := get(path)
		if resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") ||
			strings.TrimSpace(body) != `{"error":"no such endpoint"}` {
			t.Errorf("GET %s: %s %q %s, want the API's JSON 404", path, resp.Status, resp.Header.Get("Content-Type"), body)
		}
	}
}
