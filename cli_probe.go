package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/corsquickcheck/corscheck/server/cliflag"
	"github.com/corsquickcheck/corscheck/server/cors"
	"github.com/corsquickcheck/corscheck/server/probe"
	"github.com/corsquickcheck/corscheck/server/targets"
	"github.com/corsquickcheck/corscheck/server/words"
)

// probeHead and probeFoot go around the list of probe's flags in its help.
const (
	probeHead = `usage: corscheck probe [--origin ORIGIN] [--method METHOD] [--header 'Name: value']...
                       [--credentials include|omit|same-origin] [--kind cuic|livedata|finesse|custom]
                       [--timeout DURATION] [--ca-file FILE] [--insecure] [--resolve HOST:PORT:ADDR]...
                       [--browser chromium|firefox] [--lang en|nl|ko] [--json] URL

Sends to URL what Chromium sends when a page of ORIGIN calls fetch(URL): the preflight when one
is needed, then the request. Says whether the page could read the answer, why not (as DevTools
names it), and what to run on which node to fix it.

Flags, before or after URL:
`
	probeFoot = `
Exit status: 0 allowed, 1 blocked by CORS, 3 unreachable, 2 usage error.
`
)

// probeCommand is a parsed `corscheck probe` command line.
type probeCommand struct {
	request cors.Request
	kind    targets.Kind
	options probe.Options
	json    bool
	lang    words.Lang
	// dropped are forbidden headers the user set; fetch() would silently not send them.
	dropped []cors.Header
}

func runProbe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cmd, err := parseProbe(args, getenv, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		// One line, so that scripts can show it as it is.
		fmt.Fprintf(stderr, "corscheck probe: %s\n", strings.ReplaceAll(err.Error(), "\n", "; "))
		return probe.ExitUsage
	}
	p := probe.New(cmd.options)
	defer p.Close()
	rep := p.Check(ctx, cmd.request, cmd.kind)
	if len(cmd.dropped) > 0 {
		ws := make([]cors.Warning, 0, len(cmd.dropped)+len(rep.Warnings))
		for _, h := range cmd.dropped {
			ws = append(ws, cors.NewWarning(cors.WarnForbiddenHeader, h.Name))
		}
		rep.Warnings = cors.Dedupe(append(ws, rep.Warnings...))
	}
	rep = rep.In(cmd.lang)
	if !cmd.json {
		fmt.Fprint(stdout, rep.Text())
		return rep.ExitCode()
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		fmt.Fprintf(stderr, "corscheck probe: %v\n", err)
	}
	return rep.ExitCode()
}

// parseProbe turns the command line into a request exactly as fetch() would accept it, so that
// every input fetch() would reject is a usage error here rather than a misleading verdict. Asked
// for help, it writes it to help and returns flag.ErrHelp.
func parseProbe(args []string, getenv func(string) string, help io.Writer) (probeCommand, error) {
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // runProbe reports errors in one line
	var (
		origin = fs.String("origin", "", "the page's `origin`, e.g. https://finesse1.example.com:8445 (default "+
			"$CORSCHECK_ORIGIN; one of them is required)")
		method      = fs.String("method", "GET", "the request `method`")
		credentials = fs.String("credentials", string(cors.SameOrigin), "fetch()'s credentials `mode`: include, omit or same-origin")
		kind        = fs.String("kind", string(targets.Custom), "the `kind` of what answers at URL, for the fix: cuic, livedata, finesse or custom")
		timeout     = cliflag.Duration(fs, "timeout", 10*time.Second, "how long the whole check may take, as a `duration`")
		caFile      = fs.String("ca-file", "", "also trust the PEM certificates in this `file`")
		insecure    = fs.Bool("insecure", false, "do not verify certificates (browsers always do)")
		asJSON      = fs.Bool("json", false, "print one JSON object instead of text")
		browser     = fs.String("browser", string(cors.Chromium), "the `browser` whose rules and words: chromium (DevTools' "+
			"reason names, Chromium's console line) or firefox (MDN's reason keys, Firefox's console line)")
		lang = fs.String("lang", "", "the `language` of the explanation and the fix: en, nl or ko (default $LANG's when "+
			"it is one of them, else en); commands, reason names and console lines stay as the products and browsers write them")
		headers  headerFlags
		resolves resolveFlags
	)
	fs.Var(&headers, "header", "a `header` the page sets on the request, as 'Name: value'; repeat for more (-H for "+
		"short, as in curl)")
	fs.Var(&headers, "H", "")
	fs.Var(&resolves, "resolve", "as curl does with `HOST:PORT:ADDR`, connect to ADDR for HOST on PORT (* for every "+
		"port): the name stays in the URL, the TLS handshake and the Host header; repeat for more (node names the "+
		"agents' DNS knows but this machine's does not)")
	positional, err := cliflag.Parse(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		printUsage(help, probeHead, fs, probeFoot)
	}
	if err != nil {
		return probeCommand{}, err
	}
	switch len(positional) {
	case 0:
		return probeCommand{}, errors.New("missing URL")
	case 1:
	default:
		return probeCommand{}, fmt.Errorf("want one URL, got %d arguments: %s", len(positional), strings.Join(positional, " "))
	}
	target, err := parseTargetURL(positional[0])
	if err != nil {
		return probeCommand{}, err
	}

	if *origin == "" {
		*origin = getenv("CORSCHECK_ORIGIN")
	}
	if *origin == "" {
		return probeCommand{}, errors.New("--origin is required (or set CORSCHECK_ORIGIN)")
	}
	req := cors.Request{URL: target}
	if req.Origin, err = cors.ParseOrigin(*origin); err != nil {
		return probeCommand{}, err
	}
	if req.Method, err = cors.NormalizeMethod(*method); err != nil {
		return probeCommand{}, err
	}
	if req.Credentials, err = cors.ParseCredentials(*credentials); err != nil {
		return probeCommand{}, err
	}
	cmd := probeCommand{json: *asJSON}
	if cmd.lang, err = langSetting(*lang, getenv); err != nil {
		return probeCommand{}, err
	}
	if cmd.kind, err = targets.ParseKind(*kind); err != nil {
		return probeCommand{}, err
	}
	if *timeout <= 0 {
		return probeCommand{}, fmt.Errorf("--timeout must be positive, not %s", *timeout)
	}
	cmd.options = probe.Options{Timeout: *timeout, Insecure: *insecure, Resolve: resolves}
	if *caFile != "" {
		if cmd.options.RootCAs, err = probe.LoadCAFile(*caFile); err != nil {
			return probeCommand{}, fmt.Errorf("--ca-file: %w", err)
		}
	}
	if req.Browser, err = cors.ParseBrowser(*browser); err != nil {
		return probeCommand{}, err
	}
	req.Header, cmd.dropped = req.Browser.CombineHeaders(headers)
	if err := req.Validate(); err != nil {
		return probeCommand{}, err
	}
	cmd.request = req
	return cmd, nil
}

// parseTargetURL accepts what fetch() accepts as a cross-origin URL: absolute http or https,
// with a valid host and port, and without a user name or password. It is read as the browser
// reads it, so the report names the URL as the console would.
func parseTargetURL(s string) (*url.URL, error) {
	u, err := cors.ParseURL(s)
	if err != nil && !hasScheme.MatchString(s) {
		return nil, fmt.Errorf("URL %q must be an absolute http(s) URL with a host", s)
	}
	if err != nil {
		return nil, fmt.Errorf("URL %q: %v", s, err)
	}
	if err := cors.ValidateURL(u); err != nil {
		return nil, fmt.Errorf("URL %q %v", s, err)
	}
	if _, err := cors.SerializeOrigin(u); err != nil {
		return nil, fmt.Errorf("URL %q: %v", s, err)
	}
	// The fragment never leaves the browser.
	u.Fragment, u.RawFragment = "", ""
	return u, nil
}

// langSetting is the language of a command's words: --lang when given (and valid), else the
// shell's $LANG when the tool speaks it, else English.
func langSetting(flagValue string, getenv func(string) string) (words.Lang, error) {
	if flagValue != "" {
		l, err := words.Parse(flagValue)
		if err != nil {
			return "", fmt.Errorf("--lang: %w", err)
		}
		return l, nil
	}
	return words.Pick(getenv("LANG")), nil
}

var hasScheme = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:`)

// resolveFlags collects --resolve HOST:PORT:ADDR in order; the first match wins, as in curl.
type resolveFlags []probe.Resolve

func (r *resolveFlags) String() string { return "" }

func (r *resolveFlags) Set(s string) error {
	v, err := probe.ParseResolve(s)
	if err != nil {
		return err
	}
	*r = append(*r, v)
	return nil
}

// headerFlags collects --header (or -H) 'Name: value' in order, as curl takes them.
type headerFlags []cors.Header

func (h *headerFlags) String() string { return "" }

func (h *headerFlags) Set(s string) error {
	name, value, ok := strings.Cut(s, ":")
	if !ok {
		return errors.New(`want 'Name: value'`)
	}
	v, err := cors.ValidateHeader(name, value)
	if err != nil {
		return err
	}
	*h = append(*h, cors.Header{Name: name, Value: v})
	return nil
}
