package main

import (
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/corsquickcheck/corscheck/gadget"
	"github.com/corsquickcheck/corscheck/server/cliflag"
	"github.com/corsquickcheck/corscheck/server/cors"
	"github.com/corsquickcheck/corscheck/server/probe"
	"github.com/corsquickcheck/corscheck/server/shell"
	"github.com/corsquickcheck/corscheck/server/targets"
)

// gadgetXML is the gadget spec Finesse loads; the gadget package fills in the service URL.
//
//go:embed TestCORSgadget.xml
var gadgetXML []byte

// gadgetHead goes before the list of gadget build's flags in the help of gadget.
const gadgetHead = `usage: corscheck gadget build [--service URL] [--out FOLDER] [--nodes KIND=FQDN,FQDN]... [--force]

Writes the folder to upload to Finesse's 3rdpartygadget/files/ (TestCORSgadget.xml with the
service URL and the start-up script filled in, and its minified JS and CSS, which the XML names
with a hash of their content), and prints the layout snippet, which the XML's comment shows too,
and the upload steps. The folder must be new or empty, unless --force is given.

Flags of gadget build:
`

// nodesFlag collects --nodes kind=a,b.
type nodesFlag url.Values

func (n nodesFlag) String() string { return url.Values(n).Encode() }

func (n nodesFlag) Set(v string) error {
	kind, list, ok := strings.Cut(v, "=")
	if !ok || kind == "" || list == "" {
		return errors.New("want KIND=FQDN[,FQDN…]")
	}
	for _, node := range strings.Split(list, ",") {
		if err := targets.ValidNode(strings.TrimSpace(node)); err != nil {
			return err
		}
	}
	url.Values(n).Set(kind, list)
	return nil
}

// gadgetSubcommands lists the subcommands of gadget, for the error that names them.
const gadgetSubcommands = "build"

// gadgetBuild is the command line of gadget build.
type gadgetBuild struct {
	service, out string
	nodes        nodesFlag
	force        bool
}

// flags defines the flags of gadget build into b.
func (b *gadgetBuild) flags() *flag.FlagSet {
	fs := flag.NewFlagSet("gadget build", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&b.service, "service", "", "the https `URL` where agents' browsers reach corscheck serve (its "+
		"--public-url); without it the gadget shows browser verdicts only")
	fs.StringVar(&b.out, "out", "corscheck-gadget", "the `folder` to write; its name is part of the layout's URL")
	b.nodes = nodesFlag{}
	fs.Var(b.nodes, "nodes", "default nodes for a target in the layout snippet, as `KIND=FQDN,FQDN`, e.g. "+
		"--nodes cuic=cuicpub.example.com,cuicsub.example.com (repeatable)")
	fs.BoolVar(&b.force, "force", false, "write into a --out folder that is not empty, replacing the gadget's files there")
	return fs
}

// anyHTTPSPage stands for the Finesse desktop, which browsers show over https, in the mixed
// content rule.
const anyHTTPSPage = "https://finesse.example.com:8445"

func runGadget(args []string, stdout, stderr io.Writer) int {
	var b gadgetBuild
	fs := b.flags()
	switch {
	case len(args) == 0:
		fmt.Fprintf(stderr, "corscheck gadget: missing subcommand; the subcommands are: %s (corscheck help gadget)\n", gadgetSubcommands)
		return probe.ExitUsage
	case args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help":
		printUsage(stdout, gadgetHead, fs, "")
		return 0
	case args[0] != "build":
		fmt.Fprintf(stderr, "corscheck gadget: unknown subcommand %q; the subcommands are: %s (corscheck help gadget)\n", args[0], gadgetSubcommands)
		return probe.ExitUsage
	}
	rest, err := cliflag.Parse(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		printUsage(stdout, gadgetHead, fs, "")
		return 0
	}
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("unexpected argument %q", rest[0])
	}
	if err != nil {
		fmt.Fprintf(stderr, "corscheck gadget build: %v\n", err)
		return probe.ExitUsage
	}
	// The folder's name is the last part of the gadget's URL on Finesse: --out . is the folder
	// the command runs in.
	abs, err := filepath.Abs(b.out)
	if err != nil {
		fmt.Fprintf(stderr, "corscheck gadget build: --out: %v\n", err)
		return 1
	}
	name, query := filepath.Base(abs), strings.ReplaceAll(url.Values(b.nodes).Encode(), "%2C", ",")
	folder, err := gadget.Build(gadgetXML, gadget.Options{Service: b.service, Version: version(), Folder: name, Nodes: query})
	if err != nil {
		fmt.Fprintf(stderr, "corscheck gadget build: %v\n", err)
		return probe.ExitUsage
	}
	if entries, err := os.ReadDir(b.out); err == nil && len(entries) > 0 && !b.force {
		fmt.Fprintf(stderr, "corscheck gadget build: the folder %s is not empty; give --force to replace the gadget's "+
			"files in it, or choose an empty or new folder with --out\n", b.out)
		return probe.ExitUsage
	}
	if u, err := url.Parse(b.service); err == nil && b.service != "" && cors.MixedContent(anyHTTPSPage, u) {
		fmt.Fprintf(stderr, "corscheck gadget build: warning: --service %s is plain http: the agent's browser shows the "+
			"Finesse desktop over https and blocks the gadget's calls to it as mixed content, so the gadget gets no "+
			"diagnoses and its results are lost. Give the service's https:// URL (serve --tls-cert and --tls-key, or a "+
			"TLS proxy in front of it).\n", b.service)
	}
	if err := os.MkdirAll(b.out, 0o755); err != nil {
		fmt.Fprintf(stderr, "corscheck gadget build: %v\n", err)
		return 1
	}
	if err := folder.Write(b.out); err != nil {
		fmt.Fprintf(stderr, "corscheck gadget build: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "Wrote %s (%d files; a browser loads %d bytes of the gadget's JS and CSS, minified).\n", b.out, len(folder), folder.LoadedBytes())
	if b.service == "" {
		fmt.Fprintln(stdout, "No --service: the gadget will show browser verdicts only, without diagnoses or collected results.")
	} else {
		fmt.Fprintf(stdout, "The gadget reports to %s; list every Finesse origin in that service's --origins.\n", b.service)
	}
	// sftp's put -r names the remote folder after the local path's last part: give it a path
	// that ends in the folder's name (for --out . or dir/. that is the absolute path).
	upload := filepath.Clean(b.out)
	if filepath.Base(upload) != name {
		upload = abs
	}
	fmt.Fprintf(stdout, `
Upload it to every Finesse node (primary and secondary):
  sftp 3rdpartygadget@<finesse-node>
  sftp> cd /files
  sftp> put -r %s
Then add this to the desktop layout of the team or role (Finesse administration, Desktop Layout):
  %s
Agents see it after they sign in again. After an update, clear Finesse's gadget cache
(utils webproxy cache clear shindig, or load the desktop with ?nocache) on every node.
`, shell.Quote(upload), gadget.LayoutSnippet(name, query))
	return 0
}
