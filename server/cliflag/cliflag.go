// Package cliflag is what the corscheck subcommands share about their flags: parsing them
// wherever they appear among the arguments, errors that name the flag as users type it, duration
// values that say what a duration looks like when one is mistyped, and the help's list of flags.
package cliflag

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"
)

// Name is a flag as users type it and as help and errors show it: --timeout. A name of one
// letter is a short alias, as in curl (-H).
func Name(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// valueError is the error about a flag's or a setting's text: --timeout "abc": not a duration; ….
func valueError(name, text string, err error) error {
	return fmt.Errorf("%s %q: %w", name, text, err)
}

// errNotDuration says what a duration looks like.
var errNotDuration = errors.New("not a duration; use a number with a unit, like 10s or 1m30s")

// ParseDuration reads text as a duration for the flag or setting name, written as the user gave
// it (--timeout, CORSCHECK_MONITOR_TIMEOUT, config file c.json: monitorTimeout); the error names
// it, the text and the expected form:
//
//	--timeout "abc": not a duration; use a number with a unit, like 10s or 1m30s
func ParseDuration(name, text string) (time.Duration, error) {
	d, err := time.ParseDuration(text)
	if err != nil {
		return 0, valueError(name, text, errNotDuration)
	}
	return d, nil
}

// durationValue is a duration flag; Parse reports a bad value as ParseDuration does.
type durationValue time.Duration

func (d *durationValue) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return errNotDuration
	}
	*d = durationValue(v)
	return nil
}

// String is the duration as people write it (FormatDuration).
func (d *durationValue) String() string { return FormatDuration(time.Duration(*d)) }

// FormatDuration writes d as people write it: 1m, not Go's 1m0s; 2160h, not 2160h0m0s.
func FormatDuration(d time.Duration) string {
	s := d.String()
	if t, ok := strings.CutSuffix(s, "m0s"); ok {
		s = t + "m"
	}
	if t, ok := strings.CutSuffix(s, "h0m"); ok {
		s = t + "h"
	}
	return s
}

// Duration defines a duration flag on fs. Every duration flag of every subcommand is defined
// here, so that a mistyped one says what a duration looks like.
func Duration(fs *flag.FlagSet, name string, value time.Duration, usage string) *time.Duration {
	d := durationValue(value)
	fs.Var(&d, name, usage)
	return (*time.Duration)(&d)
}

// recorded keeps the error of a flag's value, which the flag package only passes on as text
// behind its own words (invalid value "abc" for flag -timeout: …).
type recorded struct {
	flag.Value
	name   string
	failed *error
}

func (r recorded) Set(s string) error {
	err := r.Value.Set(s)
	if err != nil {
		*r.failed = valueError(Name(r.name), s, err)
	}
	return err
}

// IsBoolFlag keeps a boolean flag one that needs no value.
func (r recorded) IsBoolFlag() bool {
	b, ok := r.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// Parse parses the flags in args wherever they appear among the positional arguments, which it
// returns, because users type both `probe --json URL` and `probe URL --json` (the flag package
// stops at the first positional argument). Everything after "--" is positional. A value a flag
// refuses is reported as --name "text": the value's own error.
func Parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var failed error
	fs.VisitAll(func(f *flag.Flag) {
		if _, done := f.Value.(recorded); !done {
			f.Value = recorded{Value: f.Value, name: f.Name, failed: &failed}
		}
	})
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if failed != nil {
				return nil, failed
			}
			return nil, err
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		if len(rest) == 0 {
			return positional, nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}
