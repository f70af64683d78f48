// Command corscheck tells why a Finesse gadget cannot read CUIC, Live Data or another server
// across origins, and what to run to fix it.
//
// Usage:
//
//	corscheck probe [flags] URL   the diagnosis from a terminal
//	corscheck explain FILE        explain a HAR file or console text the browser recorded
//	corscheck serve [flags]       the service (API for the gadget, results, diagnosis)
//	corscheck gadget build        the folder to upload to Finesse
//	corscheck demo [--once]       lab targets on loopback and their diagnoses
//	corscheck version             (or corscheck --version)
//	corscheck help [command]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/corsquickcheck/corscheck/server/cliflag"
	"github.com/corsquickcheck/corscheck/server/probe"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `usage: corscheck <command> [arguments]

Commands:
  probe    send what Chromium sends for a cross-origin fetch() and say why it is blocked
  explain  read a HAR file or console text the agent's browser recorded and explain each request
  serve    run the service: target catalogue, results collector, server-side diagnosis
  gadget   build the folder to upload to Finesse (corscheck gadget build --service URL)
  demo     start lab targets on loopback that reproduce the field cases, and diagnose them
  version  print the version (also corscheck --version)
  help     print this help, or a command's (corscheck help probe)

Exit status of probe: 0 allowed, 1 blocked by CORS, 3 unreachable, 2 usage error.
`

// command runs one of corscheck's commands with the arguments after its name; self is the
// program as the user called it (argv[0]). Given --help, each prints its help on stdout and
// returns 0.
type command func(ctx context.Context, self string, args []string, getenv func(string) string, stdout, stderr io.Writer) int

// commands are the commands of the usage, but help.
var commands = map[string]command{
	"probe": func(ctx context.Context, _ string, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
		return runProbe(ctx, args, getenv, stdout, stderr)
	},
	"explain": func(ctx context.Context, _ string, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
		return runExplain(ctx, args, getenv, os.Stdin, stdout, stderr)
	},
	"serve": func(ctx context.Context, _ string, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
		return runServe(ctx, args, getenv, stdout, stderr)
	},
	"gadget": func(_ context.Context, _ string, args []string, _ func(string) string, stdout, stderr io.Writer) int {
		return runGadget(args, stdout, stderr)
	},
	"demo": func(ctx context.Context, self string, args []string, _ func(string) string, stdout, stderr io.Writer) int {
		return runDemo(ctx, self, args, stdout, stderr)
	},
	"version": func(_ context.Context, _ string, args []string, _ func(string) string, stdout, stderr io.Writer) int {
		return runVersion(args, stdout, stderr)
	},
}

// run is the whole program, so tests can run it in-process: args includes the program name,
// getenv replaces os.Getenv, and the exit code is returned instead of exiting.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) < 2 {
		fmt.Fprint(stderr, usage)
		return probe.ExitUsage
	}
	name, rest := args[1], args[2:]
	switch name {
	case "help", "-h", "-help", "--help":
		return runHelp(ctx, rest, stdout, stderr)
	case "--version", "-version":
		name = "version"
	}
	if cmd, ok := commands[name]; ok {
		return cmd(ctx, args[0], rest, getenv, stdout, stderr)
	}
	fmt.Fprintf(stderr, "corscheck: unknown command %q\n\n%s", name, usage)
	return probe.ExitUsage
}

// runHelp prints the usage, or with a command's name the help that command --help prints.
func runHelp(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stdout, usage)
		return 0
	}
	switch name := args[0]; name {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		if cmd, ok := commands[name]; ok {
			return cmd(ctx, "corscheck", []string{"--help"}, func(string) string { return "" }, stdout, stderr)
		}
		fmt.Fprintf(stderr, "corscheck help: unknown command %q\n\n%s", name, usage)
		return probe.ExitUsage
	}
}

const versionUsage = `usage: corscheck version (or corscheck --version)

Prints the version of corscheck and of the Go it was built with. The gadget corscheck builds
(gadget build, serve's /gadget/) reports the same version with its results and in its Copy report.
`

func runVersion(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		if args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
			fmt.Fprint(stdout, versionUsage)
			return 0
		}
		fmt.Fprintf(stderr, "corscheck version: unexpected argument %q\n", args[0])
		return probe.ExitUsage
	}
	fmt.Fprintf(stdout, "corscheck %s %s\n", version(), runtime.Version())
	return 0
}

// buildVersion is stamped at link time: make build sets it from git describe
// (-ldflags "-X main.buildVersion=v1.2.3-4-gabcdef0").
var buildVersion string

// version is the one version of corscheck: what corscheck version prints, and what the gadget it
// builds (gadget build, serve's /gadget/, the demo) reports with its results and in its Copy
// report. See versionOf.
func version() string {
	module := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		module = bi.Main.Version
	}
	return versionOf(buildVersion, module)
}

// pseudoTime is the time in a Go pseudo-version (v0.0.0-20260213210345-44df1a37e875), which
// go build and go install record for a commit without a tag.
var pseudoTime = regexp.MustCompile(`([-.])[0-9]{14}-([0-9a-f]{12})\b`)

// versionOf is the build's stamp, else the module version go build or go install recorded, else
// "devel". A pseudo-version loses its time and keeps its commit (v0.0.0-44df1a37e875+dirty), so
// that the gadget's version fits the 32 bytes the service keeps of it (gadget.MaxVersion).
func versionOf(stamp, module string) string {
	v := stamp
	if v == "" && module != "(devel)" {
		v = module
	}
	if v == "" {
		return "devel"
	}
	return pseudoTime.ReplaceAllString(v, "$1$2")
}

// commandName is how to call this program again in a command the user pastes: as they called
// it when that was a path (./bin/corscheck, as make run does), else by its name on the PATH.
func commandName(argv0 string) string {
	if strings.ContainsRune(argv0, '/') {
		return argv0
	}
	return "corscheck"
}

// printUsage writes a command's help: head, the flags of fs listed as every command lists them
// (cliflag.PrintFlags), and foot.
func printUsage(w io.Writer, head string, fs *flag.FlagSet, foot string) {
	fmt.Fprint(w, head)
	cliflag.PrintFlags(w, fs)
	fmt.Fprint(w, foot)
}
