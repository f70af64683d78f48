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

	"github.com/corsquickcheck/corscheck/server/strictjson"
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

// readJSON reads a body that must be uncompressed application/json of at most limit bytes. A
// body that announces more is refused before any of it is read: the client that waits for
// 100 Continue then gets the 413 rather than a connection reset halfway through its upload.
func readJSON(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, *decodeError) {
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != "application/json" {
		return nil, &decodeError{status: http.StatusUnsupportedMediaType, msg: "Content-Type must be application/json"}
	}
	if ce := r.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return nil, unsupportedEncoding()
	}
	if r.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return nil, tooLarge(limit)
	}
	if err != nil {
		return nil, &decodeError{status: http.StatusBadRequest, msg: "the body cannot be read: " + err.Error()}
	}
	if bytes.HasPrefix(body, gzipMagic) {
		return nil, unsupportedEncoding() // gzip without Content-Encoding
	}
	return body, nil
}

// gzipMagic starts every gzip stream.
var gzipMagic = []byte{0x1f, 0x8b}

func unsupportedEncoding() *decodeError {
	return &decodeError{status: http.StatusUnsupportedMediaType, msg: "the body must be sent uncompressed (no Content-Encoding)"}
}

// decodeStrict decodes one JSON value into v with the strictjson rules: exact-case keys, each
// once, no unknown ones, valid UTF-8, nothing after the value. The error names the field.
func decodeStrict(body []byte, v any) *decodeError {
	err := strictjson.Unmarshal(body, v)
	if err == nil {
		return nil
	}
	e, ok := errors.AsType[*strictjson.Error](err)
	switch {
	case !ok:
		return &decodeError{status: http.StatusBadRequest, msg: "the body cannot be read: " + err.Error()}
	case e.Field == "":
		return &decodeError{status: http.StatusBadRequest, msg: "the body is not usable JSON: " + e.Error()}
	case e.Problem == "unknown field":
		return &decodeError{status: http.StatusBadRequest, msg: "unknown field", fields: map[string]string{e.Field: e.Problem}}
	}
	return &decodeError{status: http.StatusBadRequest, msg: "invalid field", fields: map[string]string{e.Field: e.Problem}}
}

// tooLarge is the answer to a body above limit bytes.
func tooLarge(limit int64) *decodeError {
	return &decodeError{status: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("the body is larger than %d bytes", limit)}
}
