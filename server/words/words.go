// Package words holds the sentences a diagnosis is told in, in the languages of the gadget:
// English, Dutch and Korean. Every sentence has a key (reason.MissingAllowOriginHeader,
// network.dns, warning.origin-reflected, fix.origin-not-allowed.summary, label.fix, …) and may
// name placeholders in braces ({node}, {origin}). The catalogues are JSON files in catalog/, so a
// translator can correct them without reading Go; a test checks that every catalogue has every
// key and, for each, the same placeholders as English. A key ending in .noValue is said instead
// of the key without it when a value that sentence names is empty (see Say).
//
// What is not translated: Cisco CLI commands, product names, the DevTools reason names and the
// console lines browsers print (always in English).
package words

import (
	"embed"
	"encoding/json"
	"errors"
	"regexp"
	"strconv"
	"strings"
)

// Lang is a language the diagnosis can be told in.
type Lang string

// The languages.
const (
	English Lang = "en"
	Dutch   Lang = "nl"
	Korean  Lang = "ko"
)

// Langs lists the languages, English first.
var Langs = []Lang{English, Dutch, Korean}

//go:embed catalog/*.json
var catalogFiles embed.FS

var catalogs = load()

func load() map[Lang]map[string]string {
	out := map[Lang]map[string]string{}
	for _, l := range Langs {
		b, err := catalogFiles.ReadFile("catalog/" + string(l) + ".json")
		if err != nil {
			panic("words: " + err.Error())
		}
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			panic("words: catalog/" + string(l) + ".json: " + err.Error())
		}
		out[l] = m
	}
	return out
}

// Parse accepts a language or locale this package speaks (en, nl_NL, ko-KR, …) and refuses any
// other, for settings and requests where a wrong value should be said rather than ignored.
func Parse(s string) (Lang, error) {
	l := Pick(s)
	if tag, _, _ := strings.Cut(strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "_", "-"), "-"); tag != string(l) {
		return "", errors.New("language " + strconv.Quote(s) + " must be en, nl or ko (a locale such as nl_NL is fine)")
	}
	return l, nil
}

// Pick returns the language a locale or language tag asks for (nl, nl_NL, nl-BE, ko-KR, KO),
// English when it is none of them.
func Pick(s string) Lang {
	tag, _, _ := strings.Cut(strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "_", "-"), "-")
	for _, l := range Langs {
		if tag == string(l) {
			return l
		}
	}
	return English
}

// Has reports whether key has a sentence.
func Has(key string) bool {
	_, ok := catalogs[English][key]
	return ok
}

// Say returns the sentence of key in l with its placeholders filled from vars (name → value,
// without braces); a key the language lacks falls back to English, an unknown key to itself.
// Values are inserted as they are: they are never read as placeholders themselves. When the
// sentence names a placeholder whose value is empty and the catalogue has key+".noValue", that
// sentence, which names no value, is said instead.
func Say(l Lang, key string, vars map[string]string) string {
	if Has(key+".noValue") && namesEmpty(catalogs[English][key], vars) {
		key += ".noValue"
	}
	s, ok := catalogs[l][key]
	if !ok {
		if s, ok = catalogs[English][key]; !ok {
			return key
		}
	}
	return Fill(s, vars)
}

// placeholder is a placeholder of a sentence: {name}.
var placeholder = regexp.MustCompile(`\{[a-zA-Z]+\}`)

// namesEmpty says whether s names a placeholder whose value is given empty (a parameter the
// browser did not name: Firefox's "Multiple CORS header" names no value).
func namesEmpty(s string, vars map[string]string) bool {
	for _, p := range placeholder.FindAllString(s, -1) {
		if v, ok := vars[p[1:len(p)-1]]; ok && v == "" {
			return true
		}
	}
	return false
}

// Fill replaces the placeholders of s ({name}) with their values, in one pass: a value is never
// read as a placeholder itself. A placeholder without a value stays as it is.
func Fill(s string, vars map[string]string) string {
	if len(vars) == 0 || !strings.Contains(s, "{") {
		return s
	}
	pairs := make([]string, 0, 2*len(vars))
	for k, v := range vars {
		pairs = append(pairs, "{"+k+"}", v)
	}
	return strings.NewReplacer(pairs...).Replace(s)
}
