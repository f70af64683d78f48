package web

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// breakParts cuts s after every '.', '/' and '-' that a letter follows: between the labels of
// a host name (cuicsub.<wbr>example.<wbr>com), the segments of a URL and the words of a
// network class (tls-<wbr>untrusted). Numbers (10.0.0.1, 2026-11-24, 12.5) and "//" stay whole.
// Joined, the parts are s.
func breakParts(s string) []string {
	var parts []string
	start := 0
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune("./-", rune(s[i])) {
			continue
		}
		if next, _ := utf8.DecodeRuneInString(s[i+1:]); unicode.IsLetter(next) {
			parts = append(parts, s[start:i+1])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}
