package explain

import (
	"bytes"
	"compress/gzip"
	"errors"
	"strings"
	"testing"
	"unicode/utf16"
)

func gzipped(s string) string {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

// utf16Text encodes s as UTF-16 with its byte order mark, as Notepad ("Unicode") and
// PowerShell 5 (>) write it.
func utf16Text(s string, bigEndian bool) string {
	b := []byte{0xff, 0xfe}
	if bigEndian {
		b = []byte{0xfe, 0xff}
	}
	for _, u := range utf16.Encode([]rune(s)) {
		if bigEndian {
			b = append(b, byte(u>>8), byte(u))
		} else {
			b = append(b, byte(u), byte(u>>8))
		}
	}
	return string(b)
}

// The encodings and compression a recording comes in are read as the same recording.
func TestInputEncodings(t *testing.T) {
	har := fieldHAR()
	console := "😀 emoji noise before the CORS line\n" + consoleNoise
	for name, in := range map[string]struct {
		text     string
		findings int
	}{
		"HAR":                      {har, 4},
		"HAR with a UTF-8 BOM":     {"\xef\xbb\xbf" + har, 4},
		"HAR in UTF-16LE":          {utf16Text(har, false), 4},
		"HAR in UTF-16BE":          {utf16Text(har, true), 4},
		"HAR gzipped":              {gzipped(har), 4},
		"HAR in UTF-16, gzipped":   {gzipped(utf16Text(har, false)), 4},
		"console with a BOM":       {"\xef\xbb\xbf" + console, 6},
		"console in UTF-16LE":      {utf16Text(console, false), 6},
		"console in UTF-16BE":      {utf16Text(strings.ReplaceAll(console, "\n", "\r\n"), true), 6},
		"console gzipped":          {gzipped(console), 6},
		"a HAR without entries":    {`{"log":{"creator":{"name":"Firefox"},"entries":[]}}`, 0},
		"console text, no CORS":    {"nothing to see\nhere\n", 0},
		"a [Violation] line first": {"[Violation] 'setTimeout' handler took 52ms\n" + consoleNoise, 6},
	} {
		res, err := ReadAtMost(strings.NewReader(in.text), 1<<20, Options{})
		if err != nil || len(res.Findings) != in.findings || !res.Complete() || strings.Contains(res.Text(), "\ufffd") {
			t.Errorf("%s: %v, %d findings, want %d", name, err, len(res.Findings), in.findings)
		}
	}
}

// Input explain cannot read at all is an error, never a clean result with no findings.
func TestUnreadableInput(t *testing.T) {
	for name, in := range map[string]struct {
		text string
		want error
		says string
	}{
		"empty":                      {"", ErrEmpty, ""},
		"white space":                {" \r\n\t\n", ErrEmpty, ""},
		"a BOM and nothing":          {"\xef\xbb\xbf\n", ErrEmpty, ""},
		"empty UTF-16":               {utf16Text("  \r\n", false), ErrEmpty, ""},
		"empty, gzipped":             {gzipped(""), ErrEmpty, ""},
		"binary":                     {"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", ErrNotText, ""},
		"control characters":         {strings.Repeat("\x01\x02a\x03\x04", 100), ErrNotText, ""},
		"binary behind a UTF-16 BOM": {"\xff\xfe{\"log\"\x00\x80\x81 Access to fetch", nil, "odd number of bytes"},
		"a lone surrogate in UTF-16": {utf16Text("abc", false) + "\x00\xd8a\x00", nil, "lone surrogate"},
		"UTF-16 decoding to NUL":     {utf16Text("a\x00b\x00c", false), ErrNotText, ""},
		"a JSON array":               {`[{"url": "https://a.example/"}]`, ErrNotHAR, "array"},
		"a broken gzip file":         {"\x1f\x8b\x08garbage", nil, "gzip"},
		"JSON that is not a HAR":     {`{"name": "x"}`, ErrNotHAR, ""},
		"gzipped binary data":        {gzipped("\x00\x01\x02\x03"), ErrNotText, ""},
		"gzipped twice":              {gzipped(gzipped(fieldHAR())), ErrNotText, ""},
	} {
		res, err := Read(strings.NewReader(in.text), Options{})
		if err == nil || (in.want != nil && !errors.Is(err, in.want)) || !strings.Contains(err.Error(), in.says) {
			t.Errorf("%s: %v (want %v, %q)", name, err, in.want, in.says)
		}
		if res != nil && len(res.Findings) > 0 {
			t.Errorf("%s: findings from unreadable input", name)
		}
	}
}

// A gzip file is decompressed up to the same limit as any recording: a small file that inflates
// beyond it is refused, without being inflated whole.
func TestGzipBomb(t *testing.T) {
	bomb := gzipped(`{"x":"` + strings.Repeat("a", 20<<20) + `","log":{"entries":[]}}`)
	if len(bomb) > 1<<20 {
		t.Fatalf("the bomb is %d bytes", len(bomb))
	}
	if _, err := ReadAtMost(strings.NewReader(bomb), 1<<20, Options{}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("a bomb: %v", err)
	}
	if _, err := ReadAtMost(strings.NewReader(bomb), 32<<20, Options{}); err != nil {
		t.Errorf("within the limit: %v", err)
	}
}
