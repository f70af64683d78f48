package explain

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// bigHARSize is the size of the HAR the budget is about: a 200 MB export with response bodies.
const bigHARSize = 200 << 20

var (
	bigHAROnce sync.Once
	bigHARPath string
	bigHARErr  error
)

// bigHAR writes (once per test binary) a Chromium-shaped HAR of about 200 MB: page loads with
// scripts and images whose bodies are inline, and among them the gadget's cross-origin requests
// with their preflights, some allowed, some blocked.
func bigHAR(tb testing.TB) string {
	tb.Helper()
	bigHAROnce.Do(func() {
		dir, err := os.MkdirTemp("", "corscheck-bighar-")
		if err != nil {
			bigHARErr = err
			return
		}
		bigHARPath = filepath.Join(dir, "big.har")
		bigHARErr = writeBigHAR(bigHARPath, bigHARSize)
	})
	if bigHARErr != nil {
		tb.Fatal(bigHARErr)
	}
	return bigHARPath
}

func writeBigHAR(path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	raw := make([]byte, 96<<10)
	fmt.Fprintf(w, `{"log":{"version":"1.2","creator":{"name":"WebInspector","version":"537.36"},"pages":[{"id":"page_1","title":%q}],"entries":[`, desktop+"/desktop/container/")
	t0 := time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)
	var written int64
	for i := 0; written < size; i++ {
		if i > 0 {
			w.WriteByte(',')
		}
		var e map[string]any
		switch i % 10 {
		case 3, 7: // a gadget request and its preflight
			node := []string{pubURL, subURL, ldURL}[i%3]
			e = map[string]any{"_resourceType": "fetch", "request": map[string]any{"method": "GET", "url": node,
				"headers": hdrs("Origin: "+desktop, "Authorization: "+secret, "locale: en_US", "peripheralid: 5000")},
				"response": map[string]any{"status": 200, "headers": hdrs("Access-Control-Allow-Origin: "+desktop, "Access-Control-Allow-Credentials: true", "Content-Type: application/json"),
					"content": map[string]any{"size": 20, "mimeType": "application/json", "text": `{"status":"RUNNING"}`}}}
			writeEntry(w, e, t0, i, &written)
			w.WriteByte(',')
			e = map[string]any{"_resourceType": "preflight", "_initiator": map[string]any{"type": "preflight"},
				"request":  map[string]any{"method": "OPTIONS", "url": node, "headers": hdrs("Origin: "+desktop, "Access-Control-Request-Method: GET", "Access-Control-Request-Headers: authorization,locale,peripheralid")},
				"response": map[string]any{"status": 200, "headers": hdrs("Access-Control-Allow-Origin: "+desktop, "Access-Control-Allow-Credentials: true", "Access-Control-Allow-Headers: authorization,locale,peripheralid")}}
		default: // a same-origin script or image with its body inline
			for j := range raw {
				raw[j] = byte(rng.Uint32())
			}
			e = map[string]any{"_resourceType": "image", "request": map[string]any{"method": "GET", "url": fmt.Sprintf("%s/desktop/img/%d.png", desktop, i),
				"headers": hdrs("Accept: image/avif,image/webp,*/*", "Cookie: JSESSIONID=abc")},
				"response": map[string]any{"status": 200, "headers": hdrs("Content-Type: image/png", "Cache-Control: max-age=3600"),
					"content": map[string]any{"size": len(raw), "mimeType": "image/png", "encoding": "base64", "text": base64.StdEncoding.EncodeToString(raw)}}}
		}
		writeEntry(w, e, t0, i, &written)
	}
	w.WriteString("]}}")
	return w.Flush()
}

func writeEntry(w *bufio.Writer, e map[string]any, t0 time.Time, i int, written *int64) {
	e["startedDateTime"] = t0.Add(time.Duration(i) * time.Millisecond).Format(time.RFC3339Nano)
	e["timings"] = map[string]any{"send": 0.1, "wait": 12.5, "receive": 3.2}
	b, _ := json.Marshal(e)
	w.Write(b)
	*written += int64(len(b)) + 1
}

// tokenScan is the baseline: a bare encoding/json token scan of the file.
func tokenScan(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReaderSize(f, 256<<10))
	n := 0
	for {
		_, err := dec.Token()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
	}
}

func explainFile(path string) (*Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f, Options{})
}

// BenchmarkExplainBigHAR explains a 200 MB HAR with bodies and reports its time as a ratio to a
// bare encoding/json token scan of the same file, measured in the same run (budget: 1.5), and
// the peak RSS of a process that does only that (budget: 100 MB).
func BenchmarkExplainBigHAR(b *testing.B) {
	path := bigHAR(b)
	var scan, explain time.Duration
	for b.Loop() {
		t := time.Now()
		if _, err := tokenScan(path); err != nil {
			b.Fatal(err)
		}
		scan += time.Since(t)
		t = time.Now()
		res, err := explainFile(path)
		if err != nil || len(res.Findings) == 0 {
			b.Fatalf("%v, %d findings", err, len(res.Findings))
		}
		explain += time.Since(t)
	}
	b.ReportMetric(explain.Seconds()/scan.Seconds(), "x-token-scan")
	b.ReportMetric(scan.Seconds()/float64(b.N), "s-token-scan/op")
	rss, err := peakRSS(path)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(rss)/(1<<20), "MB-peak-RSS")
}

// peakRSS runs explain on path in a child process (this test binary) and returns its peak
// resident set size in bytes.
func peakRSS(path string) (int64, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestExplainChild$")
	cmd.Env = append(os.Environ(), "CORSCHECK_EXPLAIN_CHILD="+path)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("child: %v: %s", err, out)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, fmt.Errorf("no resource usage")
	}
	return ru.Maxrss << 10, nil // Linux reports kilobytes
}

// TestExplainChild is the child of peakRSS: it explains one file and nothing else.
func TestExplainChild(t *testing.T) {
	path := os.Getenv("CORSCHECK_EXPLAIN_CHILD")
	if path == "" {
		t.Skip("runs only as the child process of the memory check")
	}
	res, err := explainFile(path)
	if err != nil || len(res.Findings) == 0 {
		t.Fatalf("%v, %d findings", err, len(res.Findings))
	}
	fmt.Println("findings", strconv.Itoa(len(res.Findings)))
}

// TestBigHARStreams explains a 200 MB HAR with bodies in a separate process and requires its
// peak memory to stay within 100 MB: the entries are streamed, never the whole file.
func TestBigHARStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and reads a 200 MB file")
	}
	path := bigHAR(t)
	st, err := os.Stat(path)
	if err != nil || st.Size() < bigHARSize {
		t.Fatalf("the HAR is %d bytes, want at least %d (%v)", st.Size(), bigHARSize, err)
	}
	rss, err := peakRSS(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("peak RSS explaining %d MB: %.1f MB", st.Size()>>20, float64(rss)/(1<<20))
	if rss > 100<<20 {
		t.Fatalf("peak RSS %.1f MB, budget 100 MB", float64(rss)/(1<<20))
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bigHARPath != "" {
		os.RemoveAll(filepath.Dir(bigHARPath))
	}
	os.Exit(code)
}
