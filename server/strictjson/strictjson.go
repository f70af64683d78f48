// Package strictjson decodes the JSON that reaches the service from outside: API request bodies,
// the configuration file, the catalogue file and the targets page's editor. It is strict where
// encoding/json is lenient:
//
//   - a key must match a field's name exactly, case included ("VERDICT" is not "verdict", nor
//     "gadgetVerſion" "gadgetVersion");
//   - a key may appear once in an object;
//   - unknown keys are refused;
//   - the text must be valid UTF-8, and escapes must not name lone surrogates (encoding/json
//     replaces both with U+FFFD);
//   - nothing but white space may follow the value.
//
// Every error names the field it is in.
package strictjson

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Error is JSON that could not be decoded.
type Error struct {
	// Field is where the problem is, as "targets[0].nodes[1]" (or "[2].verdict" in an array);
	// empty when it concerns the whole text.
	Field string
	// Offset is the byte offset of the problem in the text.
	Offset int64
	// Problem says what is wrong, e.g. "unknown field", "must be a string". It never quotes
	// what a string holds (the string may be a secret); only a syntax error outside strings
	// ("invalid character 'h' at start of value") quotes one character of the text.
	Problem string
}

func (e *Error) Error() string {
	switch {
	case e.Field != "":
		return e.Field + ": " + e.Problem
	case strings.HasPrefix(e.Problem, "must ") || strings.HasPrefix(e.Problem, "is "):
		return "the JSON value " + e.Problem
	}
	return e.Problem
}

// Unmarshal decodes data, one JSON value, into v. Its errors are *Error.
func Unmarshal(data []byte, v any) error {
	err := json.Unmarshal(data, v, json.RejectUnknownMembers(true))
	if err == nil {
		return nil
	}
	var (
		semantic  *json.SemanticError
		syntactic *jsontext.SyntacticError
	)
	switch {
	case errors.As(err, &semantic):
		e := &Error{Field: field(string(semantic.JSONPointer)), Offset: semantic.ByteOffset}
		switch {
		case errors.Is(semantic.Err, json.ErrUnknownName):
			e.Problem = "unknown field"
		case semantic.Err != nil && strings.Contains(semantic.Err.Error(), "out of range"):
			e.Problem = "is out of range"
		default:
			e.Problem = "must be " + kind(semantic.GoType)
			if got := jsonKind(semantic.JSONKind); got != "" {
				e.Problem += ", not " + got
			}
		}
		return e
	case errors.As(err, &syntactic):
		e := &Error{Field: field(string(syntactic.JSONPointer)), Offset: syntactic.ByteOffset}
		switch cause := syntactic.Err; {
		case errors.Is(cause, jsontext.ErrDuplicateName):
			e.Problem = "appears twice"
		case errors.Is(cause, io.ErrUnexpectedEOF) && len(strings.TrimSpace(string(data))) == 0:
			e.Problem = "the text is empty"
		case errors.Is(cause, io.ErrUnexpectedEOF):
			e.Problem = "the text ends too early: a closing } or ] or \" is missing"
		case cause != nil && cause.Error() == "invalid UTF-8":
			e.Problem = "is not valid UTF-8"
		case cause != nil && strings.HasSuffix(cause.Error(), "after top-level value"):
			e.Problem = "there is more text after the JSON value"
		case cause != nil && strings.HasPrefix(cause.Error(), "invalid surrogate pair "):
			e.Problem = "holds an invalid surrogate pair escape (a \\u escape of half a character)"
		case cause != nil && strings.HasPrefix(cause.Error(), "invalid escape sequence "):
			e.Problem = "holds an invalid escape sequence"
		case cause != nil && strings.HasSuffix(cause.Error(), " in string (expecting non-control character)"):
			e.Problem = "holds a control character; write it as an escape such as \\n"
		case cause != nil && strings.HasPrefix(cause.Error(), "invalid "):
			e.Problem = cause.Error() // "invalid character '}' at start of value", …
		default:
			e.Problem = "is not valid JSON"
		}
		return e
	}
	return &Error{Problem: strings.TrimPrefix(err.Error(), "json: ")}
}

// field turns a JSON Pointer (/targets/0/nodes/1) into the name the service uses in its errors
// (targets[0].nodes[1]).
func field(pointer string) string {
	if pointer == "" {
		return ""
	}
	var b strings.Builder
	for _, token := range strings.Split(pointer[1:], "/") {
		token = strings.NewReplacer("~1", "/", "~0", "~").Replace(token)
		if _, err := strconv.ParseUint(token, 10, 64); err == nil {
			fmt.Fprintf(&b, "[%s]", token)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(token)
	}
	return b.String()
}

// jsonKind names a kind of JSON value, as found in the text.
func jsonKind(k jsontext.Kind) string {
	switch k {
	case '"':
		return "a string"
	case '0':
		return "a number"
	case 't', 'f':
		return "true or false"
	case 'n':
		return "null"
	case '{':
		return "an object"
	case '[':
		return "an array"
	}
	return ""
}

// kind names what a Go type takes in JSON.
func kind(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Bool:
		return "true or false"
	}
	return "a " + t.String()
}
