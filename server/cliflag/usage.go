package cliflag

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Help layout: the flag, then its help from this column, wrapped at width.
const (
	helpColumn = 22
	width      = 100
)

// PrintFlags writes fs's flags for a command's help, in name order, each as users type it:
// --name PLACEHOLDER, two dashes and the placeholder in upper case, then its help. The
// placeholder is the word in backquotes in the flag's usage, as for the flag package ("the
// page's `origin`" shows --origin ORIGIN), else VALUE; a boolean flag has none. A default other
// than the zero value is added as (default X). A flag with no usage is an alias, left out (its
// flag's help names it).
func PrintFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		if f.Usage == "" {
			return
		}
		head := "  " + Name(f.Name)
		placeholder, usage := unquote(f.Usage)
		if placeholder != "" {
			head += " " + strings.ToUpper(placeholder)
		} else if b, ok := f.Value.(interface{ IsBoolFlag() bool }); !ok || !b.IsBoolFlag() {
			head += " VALUE"
		}
		switch f.DefValue {
		case "", "false", "0", "0s":
		default:
			usage += " (default " + f.DefValue + ")"
		}
		line := head
		if len(head) > helpColumn-2 {
			fmt.Fprintln(w, head)
			line = ""
		}
		n := utf8.RuneCountInString // the columns a line takes
		for _, word := range strings.Fields(usage) {
			switch {
			case n(line) < helpColumn:
				line += strings.Repeat(" ", helpColumn-n(line)) + word
			case n(line)+1+n(word) > width:
				fmt.Fprintln(w, line)
				line = strings.Repeat(" ", helpColumn) + word
			default:
				line += " " + word
			}
		}
		fmt.Fprintln(w, line)
	})
}

// unquote takes the word in backquotes out of usage: the placeholder and the usage without the
// backquotes.
func unquote(usage string) (placeholder, text string) {
	before, rest, ok := strings.Cut(usage, "`")
	if !ok {
		return "", usage
	}
	name, after, ok := strings.Cut(rest, "`")
	if !ok {
		return "", usage
	}
	return name, before + name + after
}
