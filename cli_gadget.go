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
	"github.com/corsquickcheck/corscheck/server/probe"
	"github.com/corsquickcheck/corscheck/server/targets"
)

// gadgetXML is the gadget spec Finesse loads; the gadget package fills in the service URL.
//
//go:embed TestCORSgadget.xml
var gadgetXML []byte

// gadgetHead goes before the list of gadget build's flags in the help of gadget.
const gadgetHead = `usage: corscheck gadget build [--service URL] [--out FOLDER] [--nodes KIND=FQDN,FQDN]...

Writes the folder to upload to Finesse's 3rdpartygadget/files/ (TestCORSgadget.xml with the
service URL and the start-up script filled in, and its minified JS and CSS, which the XML names
with a hash of their content), and prints the layout snippet and the upload steps.

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

// gadgetBuildFlags defines the flags of gadget build.
func gadgetBuildFlags() (fs *flag.FlagSet, service, out *string, nodes nodesFlag) {
	fs = flag.NewFlagSet("gadget build", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	service = fs.String("service", "", "the `URL` where agents' browsers reach corscheck serve (its --public-url); "+
		"without it the gadget shows browser verdicts only")
	out = fs.String("out", "corscheck-gadget", "the `folder` to write")
	nodes = nodesFlag{}
	fs.Var(nodes, "nodes", "default nodes for a target in the layout snippet, as `KIND=FQDN,FQDN`, e.g. "+
		"--nodes cuic=cuicpub.example.com,cuicsub.example.com (repeatable)")
	return fs, service, out, nodes
}

func runGadget(args []string, stdout, stderr io.Writer) int {
	fs, service, out, nodes := gadgetBuildFlags()
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
	folder, err := gadget.Build(gadgetXML, gadget.Options{Service: *service, Version: version()})
	if err != nil {
		fmt.Fprintf(stderr, "corscheck gadget build: %v\n", err)
		return probe.ExitUsage
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintf(stderr, "corscheck gadget build: %v\n", err)
		return 1
	}
	if err := folder.Write(*out); err != nil {
		fmt.Fprintf(stderr, "corscheck gadget build: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "Wrote %s (%d files; a browser loads %d bytes of the gadget's JS and CSS, minified).\n", *out, len(folder), folder.LoadedBytes())
	if *service == "" {
		fmt.Fprintln(stdout, "No --service: the gadget will show browser verdicts only, without diagnoses or collected results.")
	} else {
		fmt.Fprintf(stdout, "The gadget reports to %s; list every Finesse origin in that service's --origins.\n", *service)
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
`, *out, gadget.LayoutSnippet(filepath.Base(*out), strings.ReplaceAll(url.Values(nodes).Encode(), "%2C", ",")))
	return 0
}
