package cliflag

import (
	"flag"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

func newSet() (*flag.FlagSet, *time.Duration, *bool) {
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	timeout := Duration(fs, "timeout", 10*time.Second, "time for the whole `check`")
	asJSON := fs.Bool("json", false, "print JSON")
	return fs, timeout, asJSON
}

func TestParseTakesFlagsAmongArguments(t *testing.T) {
	fs, timeout, asJSON := newSet()
	rest, err := Parse(fs, []string{"https://a.example/", "--json", "--timeout", "1m30s", "--", "--timeout"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"https://a.example/", "--timeout"}; !slices.Equal(rest, want) {
		t.Errorf("positional %q, want %q", rest, want)
	}
	if *timeout != 90*time.Second || !*asJSON {
		t.Errorf("--timeout %s --json %v, want 1m30s true", *timeout, *asJSON)
	}
}

func TestParseNamesTheFlagOfABadDuration(t *testing.T) {
	for _, args := range [][]string{{"--timeout", "abc"}, {"URL", "-timeout=abc"}, {"--json", "--timeout", "abc", "URL"}} {
		fs, timeout, _ := newSet()
		_, err := Parse(fs, args)
		want := `--timeout "abc": not a duration; use a number with a unit, like 10s or 1m30s`
		if err == nil || err.Error() != want {
			t.Errorf("%q: error %v, want %s", args, err, want)
		}
		if *timeout != 10*time.Second {
			t.Errorf("%q: --timeout became %s", args, *timeout)
		}
	}
	// Errors that are not a value's stay the flag package's.
	fs, _, _ := newSet()
	if _, err := Parse(fs, []string{"--bogus"}); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("unknown flag: %v", err)
	}
	// A value's own error, of any flag type, is named the same way.
	fs, _, _ = newSet()
	if _, err := Parse(fs, []string{"--json=maybe"}); err == nil || !strings.HasPrefix(err.Error(), `--json "maybe": `) {
		t.Errorf("bad boolean: %v", err)
	}
}

func TestParseDuration(t *testing.T) {
	if d, err := ParseDuration("CORSCHECK_MONITOR_TIMEOUT", "1m30s"); err != nil || d != 90*time.Second {
		t.Errorf("1m30s: %s %v", d, err)
	}
	for _, bad := range []string{"10", "", "ten seconds", "5 m"} {
		_, err := ParseDuration("CORSCHECK_MONITOR_TIMEOUT", bad)
		want := `CORSCHECK_MONITOR_TIMEOUT "` + bad + `": not a duration; use a number with a unit, like 10s or 1m30s`
		if err == nil || err.Error() != want {
			t.Errorf("%q: %v, want %s", bad, err, want)
		}
	}
}

func TestDurationDefaultsReadAsWritten(t *testing.T) {
	for d, want := range map[time.Duration]string{10 * time.Second: "10s", time.Minute: "1m", 90 * time.Minute: "1h30m",
		2160 * time.Hour: "2160h", 1500 * time.Millisecond: "1.5s", 0: "0s"} {
		v := durationValue(d)
		if got := v.String(); got != want {
			t.Errorf("%s shows as %q, want %q", time.Duration(d), got, want)
		}
	}
}
