package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
)

// Problem is the body of every error answer: a sentence, and for invalid input every bad field
// with what is wrong with it.
type Problem struct {
	Error  string            `json:"error"`
	Fields map[string]string `json:"fields,omitempty"`
}

// encode writes v as JSON with the status.
func encode(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// fail answers with a Problem.
func fail(w http.ResponseWriter, status int, msg string, fields map[string]string) {
	encode(w, status, Problem{Error: msg, Fields: fields})
}

// internal logs an unexpected error with the request and answers 500 without details.
func internal(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	fail(w, http.StatusInternalServerError, "internal error; the service log has the details", nil)
}

// decodeError is a request body that cannot be used; status says why.
type decodeError struct {
	status int
	msg    string
	fields map[string]string
}

func (e *decodeError) Error() string { return e.msg }

// decodeJSON reads a JSON body of at most limit bytes into v, refusing other content types,
// unknown fields and trailing data, and says which field is wrong where it can.
func decodeJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) *decodeError {
	body, derr := readJSON(w, r, limit)
	if derr != nil {
		return derr
	}
	return decodeStrict(body, v)
}

// readJSON reads a body that must be application/json of at most limit bytes.
func readJSON(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, *decodeError) {
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != "application/json" {
		return nil, &decodeError{status: http.StatusUnsupportedMediaType, msg: "Content-Type must be application/json"}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		return nil, jsonProblem(err, limit)
	}
	return body, nil
}

// decodeStrict decodes one JSON value into v: no unknown fields, nothing after it.
func decodeStrict(body []byte, v any) *decodeError {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonProblem(err, int64(len(body)))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &decodeError{status: http.StatusBadRequest, msg: "the body must hold one JSON value, with nothing after it"}
	}
	return nil
}

func jsonProblem(err error, limit int64) *decodeError {
	var (
		tooBig  *http.MaxBytesError
		syntax  *json.SyntaxError
		typeErr *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &tooBig):
		return &decodeError{status: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("the body is larger than %d bytes", limit)}
	case errors.Is(err, io.EOF):
		return &decodeError{status: http.StatusBadRequest, msg: "the body is empty; send a JSON object"}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &decodeError{status: http.StatusBadRequest, msg: "the JSON body is truncated"}
	case errors.As(err, &syntax):
		return &decodeError{status: http.StatusBadRequest, msg: fmt.Sprintf("the body is not valid JSON (at byte %d)", syntax.Offset)}
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "body"
		}
		return &decodeError{status: http.StatusBadRequest, msg: "invalid field type",
			fields: map[string]string{field: "must be " + jsonKind(typeErr.Type.Kind().String())}}
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		return &decodeError{status: http.StatusBadRequest, msg: "unknown field", fields: map[string]string{name: "unknown field"}}
	}
	return &decodeError{status: http.StatusBadRequest, msg: "the body cannot be read: " + err.Error()}
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	case "bool":
		return "true or false"
	case "ptr":
		return "an object"
	}
	return "a number"
}
