// Package shell writes command lines that users paste into a POSIX shell.
package shell

import "strings"

// safe are the characters a shell word may have without quotes.
const safe = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-"

// Quote quotes s for a POSIX shell when it needs it: a word of safe characters stays as it is,
// anything else is put in single quotes, so that nothing in it ($, `, ;, spaces) is run.
func Quote(s string) string {
	if s != "" && strings.Trim(s, safe) == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
