package api

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A client that announces a body above the limit and waits for 100 Continue gets the 413 at
// once, before it sends anything: the audit saw 12 of 20 such uploads of 10 MB reset instead.
func TestOversizeBodyRefusedBeforeUpload(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, path := range []string{"/api/v1/results", "/api/v1/diagnose"} {
		conn, err := net.Dial("tcp", strings.TrimPrefix(e.srv.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: corscheck\r\nContent-Type: application/json\r\n"+
			"Content-Length: %d\r\nExpect: 100-continue\r\n\r\n", path, 10<<20)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		resp.Body.Close()
		conn.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("%s: the first answer is %s, want 413 without 100 Continue", path, resp.Status)
		}
	}
	// Go's client waits for 100 Continue the same way: twenty 10 MB uploads, twenty 413s.
	client := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: time.Minute}}
	defer client.CloseIdleConnections()
	body := bytes.Repeat([]byte("x"), 10<<20)
	for i := range 20 {
		req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/results", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Expect", "100-continue")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("upload %d: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("upload %d: %s", i, resp.Status)
		}
	}
	if e.count() != 0 {
		t.Fatal("stored a result")
	}
}

// A compressed body is refused as such (415), with or without Content-Encoding.
func TestCompressedBodyRefused(t *testing.T) {
	e := newEnv(t, envOptions{})
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(with("verdict", "allowed"))
	zw.Close()
	for _, hdr := range []map[string]string{{"Content-Encoding": "gzip"}, nil, {"Content-Encoding": "br"}} {
		resp, body := e.do("POST", "/api/v1/results", "application/json", gz.Bytes(), hdr)
		if resp.StatusCode != http.StatusUnsupportedMediaType || !strings.Contains(string(body), "uncompressed") {
			t.Errorf("gzip body with %v: %s %s", hdr, resp.Status, body)
		}
	}
	// Content-Encoding on a plain body is refused too: the service decodes no encoding.
	if resp, _ := e.do("POST", "/api/v1/results", "application/json", with("verdict", "allowed"), map[string]string{"Content-Encoding": "gzip"}); resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("plain body with Content-Encoding: gzip: %s", resp.Status)
	}
	if resp, _ := e.do("POST", "/api/v1/results", "application/json", with("verdict", "allowed"), map[string]string{"Content-Encoding": "identity"}); resp.StatusCode != http.StatusCreated {
		t.Errorf("Content-Encoding: identity: %s", resp.Status)
	}
	if e.count() != 1 {
		t.Fatalf("stored %d results, want the one plain", e.count())
	}
}

// Diagnose checks its URL the way results do.
func TestDiagnoseRefusesHiddenCharacters(t *testing.T) {
	e := newEnv(t, envOptions{nodes: []string{"cuicsub.example.com"}})
	for _, u := range []string{"https://cuic\u202esub.example.com:8444/cuic/rest/status/", "https://cuicsub.example.com:99999/cuic/rest/status/",
		"https://cuicsub.example.com:8444/cuic/rest/\u200bstatus/"} {
		status, body := e.diagnose(map[string]any{"url": u, "origin": finesse})
		if status != 400 || !strings.Contains(string(body), `"url"`) {
			t.Errorf("%q: %d %s", u, status, body)
		}
	}
}
