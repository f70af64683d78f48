package strictjson

import (
	"errors"
	"strings"
	"testing"
)

type endpoint struct {
	Port int    `json:"port"`
	Path string `json:"path"`
}

type doc struct {
	Verdict   string     `json:"verdict"`
	Gadget    string     `json:"gadgetVersion"`
	Duration  float64    `json:"durationMs"`
	Nodes     []string   `json:"nodes"`
	Endpoints []endpoint `json:"endpoints"`
	On        bool       `json:"on"`
}

func TestUnmarshalRefuses(t *testing.T) {
	for _, tt := range []struct {
		name, in, field, problem string
	}{
		{"upper-case key overriding", `{"verdict":"allowed","VERDICT":"blocked"}`, "VERDICT", "unknown field"},
		{"Unicode case folding", `{"gadgetVerſion":"1"}`, "gadgetVerſion", "unknown field"},
		{"duplicate key", `{"verdict":"allowed","verdict":"blocked"}`, "verdict", "appears twice"},
		{"duplicate nested key", `{"endpoints":[{"port":1,"port":2}]}`, "endpoints[0].port", "appears twice"},
		{"invalid UTF-8", "{\"verdict\":\"a\xffb\"}", "verdict", "is not valid UTF-8"},
		{"lone surrogate", `{"verdict":"\udc00"}`, "verdict", "invalid surrogate pair"},
		{"trailing object", `{"verdict":"a"} {}`, "", "there is more text after the JSON value"},
		{"trailing text", `{"verdict":"a"}x`, "", "there is more text after the JSON value"},
		{"unknown nested field", `{"endpoints":[{"port":1},{"prt":2}]}`, "endpoints[1].prt", "unknown field"},
		{"wrong type", `{"nodes":["a",1]}`, "nodes[1]", "must be a string, not a number"},
		{"fraction for an int", `{"endpoints":[{"port":1.5}]}`, "endpoints[0].port", "must be a whole number"},
		{"number out of range", `{"durationMs":1e999}`, "durationMs", "is out of range"},
		{"string for a bool", `{"on":"yes"}`, "on", "must be true or false"},
		{"truncated", `{"nodes":["a"`, "nodes", "ends too early"},
		{"empty", "  \n", "", "the text is empty"},
		{"not an object", `["a"]`, "", "must be an object"},
		{"a trailing comma", `{"on":true,}`, "", "invalid character ','"},
		// What a string holds is never quoted: it may be a secret.
		{"surrogate and text", `{"verdict":"\ud800abcdefghijkl"}`, "verdict", "invalid surrogate pair escape"},
		{"unknown escape", `{"verdict":"abc\qdef"}`, "verdict", "invalid escape sequence"},
		{"bad unicode escape", `{"verdict":"a\u00zz"}`, "verdict", "invalid escape sequence"},
		{"control character", "{\"verdict\":\"abc\ndef\"}", "verdict", "holds a control character"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var d doc
			err := Unmarshal([]byte(tt.in), &d)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T), want *Error", err, err)
			}
			if e.Field != tt.field || !strings.Contains(e.Problem, tt.problem) {
				t.Fatalf("field %q problem %q, want %q and %q", e.Field, e.Problem, tt.field, tt.problem)
			}
			if strings.Contains(e.Error(), "abc") || strings.Contains(e.Error(), "00zz") {
				t.Errorf("the message %q quotes the string", e.Error())
			}
			if tt.field != "" && !strings.Contains(e.Error(), tt.field) {
				t.Errorf("the message %q does not name the field", e.Error())
			}
		})
	}
}

func TestUnmarshalAccepts(t *testing.T) {
	var d doc
	err := Unmarshal([]byte(` {"verdict":"blocked","nodes":["ä","\u00e9"],"endpoints":[{"port":8444,"path":"/x"}],"durationMs":1.5,"on":true}`+"\n"), &d)
	if err != nil || d.Verdict != "blocked" || d.Nodes[1] != "é" || d.Endpoints[0].Port != 8444 || !d.On || d.Duration != 1.5 {
		t.Fatalf("%+v %v", d, err)
	}
	var batch []doc
	if err := Unmarshal([]byte(`[{"verdict":"a"},{"verdict":"b","x":1}]`), &batch); err == nil || err.(*Error).Field != "[1].x" {
		t.Fatalf("an array's element: %v", err)
	}
}
