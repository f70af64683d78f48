package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/corsquickcheck/corscheck/server/cliflag"
	"github.com/corsquickcheck/corscheck/server/cors"
	"github.com/corsquickcheck/corscheck/server/explain"
	"github.com/corsquickcheck/corscheck/server/probe"
	"github.com/corsquickcheck/corscheck/server/targets"
)

// explainHead and explainFoot go around the list of explain's flags in its help.
const (
	explainHead = `usage: corscheck explain [--json] [--console] [--kind auto|cuic|livedata|finesse|custom]
                         [--browser chromium|firefox] [--origin ORIGIN] [--lang en|nl|ko] FILE|-

Reads what an agent's browser recorded, a HAR file (Chrome, Edge or Firefox: "Export HAR") or
text copied from the DevTools console, and explains every cross-origin request in it: allowed,
blocked by CORS (and why, in the recording browser's words) or unreachable, and the fix, grouped
by node. Nothing is sent anywhere: the recorded answers are judged as the browser judges them.
Where the recording cannot tell (a sanitized HAR, the credentials mode, a missing preflight), it
says so and prints the corscheck probe command that settles it live. Secrets (Authorization,
Cookie, Set-Cookie, tokens in URLs) are never printed. The file may be UTF-8, UTF-16 with its
byte order mark (Notepad's "Unicode", PowerShell's >), or gzip'd; empty or binary input is an
error.

Flags, before or after FILE ("-" reads standard input):
`
	explainFoot = `
Exit status: 0 nothing failed, 1 something blocked by CORS, 3 something unreachable and nothing
blocked, 2 usage error or unreadable input, also input read only in part (a file cut short, an
entry that cannot be read: what could be read is still explained).
`
)

func runExplain(_ context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var (
		asJSON = fs.Bool("json", false, `print a JSON array: one object per request, as probe --json prints it, plus "entry" `+
			`(the HAR entry index) and "startedDateTime"`)
		console = fs.Bool("console", false, "read the input as console text (detected otherwise)")
		kind    = fs.String("kind", "auto", "the `kind` of target, for the fix: auto (from host, port and path), cuic, "+
			"livedata, finesse or custom")
		browser = fs.String("browser", "", "the `browser` that recorded it: chromium or firefox (default: from the recording)")
		origin  = fs.String("origin", "", "the page's `origin` where the recording does not name it (Firefox's console)")
		lang    = fs.String("lang", "", "the `language` of the explanations and fixes: en, nl or ko (default $LANG's when it "+
			"is one of them, else en)")
	)
	usageErr := func(err error) int {
		fmt.Fprintf(stderr, "corscheck explain: %s\n", strings.ReplaceAll(err.Error(), "\n", "; "))
		return probe.ExitUsage
	}
	positional, err := cliflag.Parse(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		printUsage(stdout, explainHead, fs, explainFoot)
		return 0
	}
	if err != nil {
		return usageErr(err)
	}
	if len(positional) != 1 {
		return usageErr(errors.New("want one FILE (or - for standard input)"))
	}
	l, err := langSetting(*lang, getenv)
	if err != nil {
		return usageErr(err)
	}
	opt := explain.Options{Console: *console}
	if *kind != "auto" {
		if opt.Kind, err = targets.ParseKind(*kind); err != nil {
			return usageErr(fmt.Errorf("kind %q must be one of auto, cuic, livedata, finesse, custom", *kind))
		}
	}
	if *browser != "" {
		if opt.Browser, err = cors.ParseBrowser(*browser); err != nil {
			return usageErr(err)
		}
	}
	if *origin != "" {
		if opt.Origin, err = cors.ParseOrigin(*origin); err != nil {
			return usageErr(err)
		}
	}
	in := stdin
	if name := positional[0]; name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return usageErr(err)
		}
		defer f.Close()
		in = f
	}
	res, err := explain.Read(in, opt)
	if err != nil {
		return usageErr(fmt.Errorf("%s: %w", positional[0], err))
	}
	res = res.In(l)
	res.Redact() // the sentences told again in l are redacted as those Read returned
	for _, p := range res.Problems {
		fmt.Fprintf(stderr, "corscheck explain: %s: %s\n", positional[0], p)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res.JSON()); err != nil {
			fmt.Fprintf(stderr, "corscheck explain: %v\n", err)
		}
	} else {
		fmt.Fprint(stdout, res.Text())
	}
	return res.ExitCode()
}
