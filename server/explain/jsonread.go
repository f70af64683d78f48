package explain

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"unicode/utf8"
)

// maxDepth is the deepest nesting the reader checks bracket by bracket (encoding/json's limit
// too). A value nested deeper is read to its end with a counter alone and reported (errTooDeep),
// so that memory stays the same whatever the depth.
const maxDepth = 10000

var (
	// errTruncated is input that ends inside a value.
	errTruncated = errors.New("the file ends early (truncated JSON)")
	// errTooDeep is a value nested deeper than maxDepth; it was read past, not checked.
	errTooDeep = fmt.Errorf("nested deeper than %d levels", maxDepth)
	// errBadString is a string whose escapes or control characters are not JSON.
	errBadString = errors.New("not a valid JSON string")
)

// jsonReader reads one JSON text as a stream, for a HAR: the parts explain keeps are read field
// by field (object, array, readString, readInt) and everything else is skipped byte by byte,
// keeping nothing (skipValue). It holds one buffer, the bytes of the string or number being
// kept, and a fixed bit stack of maxDepth bits, whatever the size and depth of the input.
type jsonReader struct {
	r        io.Reader
	buf      []byte
	pos, end int   // the unread bytes are buf[pos:end]
	base     int64 // the offset in the input of buf[0]
	err      error // the error that ended the input (io.EOF at its end)
	raw      []byte
	// kinds holds, for each container open in skipValue, whether it is an object.
	kinds [maxDepth/64 + 1]uint64
}

func newJSONReader(r io.Reader) *jsonReader {
	return &jsonReader{r: r, buf: make([]byte, 256<<10)}
}

// more makes at least one unread byte available; it is false at the end of the input.
func (j *jsonReader) more() bool {
	if j.pos < j.end {
		return true
	}
	if j.err != nil {
		return false
	}
	j.base += int64(j.end)
	j.pos, j.end = 0, 0
	for tries := 0; j.end == 0 && j.err == nil; tries++ {
		if tries == 100 {
			j.err = io.ErrNoProgress
			break
		}
		j.end, j.err = j.r.Read(j.buf)
	}
	return j.end > 0
}

// endErr is the error for input that ended where more was needed.
func (j *jsonReader) endErr() error {
	if j.err == nil || errors.Is(j.err, io.EOF) || errors.Is(j.err, io.ErrUnexpectedEOF) {
		return errTruncated
	}
	return j.err
}

func (j *jsonReader) offset() int64 { return j.base + int64(j.pos) }

// peek skips white space and returns the next byte, unread.
func (j *jsonReader) peek() (byte, error) {
	for {
		for j.pos < j.end {
			switch c := j.buf[j.pos]; c {
			case ' ', '\t', '\n', '\r':
				j.pos++
			default:
				return c, nil
			}
		}
		if !j.more() {
			return 0, j.endErr()
		}
	}
}

// atEnd says whether nothing but white space is left.
func (j *jsonReader) atEnd() (bool, error) {
	_, err := j.peek()
	if errors.Is(err, errTruncated) {
		return true, nil
	}
	return false, err
}

// syntax is the error for byte c found where want belongs.
func (j *jsonReader) syntax(c byte, want string) error {
	found := strconv.QuoteRune(rune(c))
	if c >= utf8.RuneSelf {
		found = fmt.Sprintf("byte 0x%02x", c)
	}
	return fmt.Errorf("invalid JSON at byte %d: %s where %s belongs", j.offset(), found, want)
}

// kind names the type of the value that starts with c, as encoding/json names it.
func kind(c byte) string {
	switch c {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number"
}

// object reads an object, calling field with each key; field must read or skip the value.
func (j *jsonReader) object(field func(key string) error) error {
	c, err := j.peek()
	if err != nil {
		return err
	}
	if c != '{' {
		return j.syntax(c, "{")
	}
	j.pos++
	if c, err = j.peek(); err != nil {
		return err
	}
	if c == '}' {
		j.pos++
		return nil
	}
	for {
		if c != '"' {
			return j.syntax(c, "a key")
		}
		key, err := j.readString()
		if err != nil {
			return err
		}
		if c, err = j.peek(); err != nil {
			return err
		}
		if c != ':' {
			return j.syntax(c, "':'")
		}
		j.pos++
		if err := field(key); err != nil {
			return err
		}
		if c, err = j.peek(); err != nil {
			return err
		}
		switch c {
		case ',':
			j.pos++
			if c, err = j.peek(); err != nil {
				return err
			}
		case '}':
			j.pos++
			return nil
		default:
			return j.syntax(c, "',' or '}'")
		}
	}
}

// array reads an array, calling elem for each element; elem must read or skip it.
func (j *jsonReader) array(elem func() error) error {
	c, err := j.peek()
	if err != nil {
		return err
	}
	if c != '[' {
		return j.syntax(c, "[")
	}
	j.pos++
	if c, err = j.peek(); err != nil {
		return err
	}
	if c == ']' {
		j.pos++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		if c, err = j.peek(); err != nil {
			return err
		}
		switch c {
		case ',':
			j.pos++
		case ']':
			j.pos++
			return nil
		default:
			return j.syntax(c, "',' or ']'")
		}
	}
}

// scanString reads past the string at the reader (peek has found its opening quote). With keep,
// its content, escapes undecoded, is left in j.raw.
func (j *jsonReader) scanString(keep bool) error {
	j.pos++
	j.raw = j.raw[:0]
	for {
		if !j.more() {
			return j.endErr()
		}
		b := j.buf[j.pos:j.end]
		q := bytes.IndexByte(b, '"')
		seg := b
		if q >= 0 {
			seg = b[:q]
		}
		if k := bytes.IndexByte(seg, '\\'); k >= 0 {
			// An escape: the byte after the backslash is never the closing quote.
			if keep {
				j.raw = append(j.raw, b[:k+1]...)
			}
			j.pos += k + 1
			if !j.more() {
				return j.endErr()
			}
			if keep {
				j.raw = append(j.raw, j.buf[j.pos])
			}
			j.pos++
			continue
		}
		if keep {
			j.raw = append(j.raw, seg...)
		}
		if q >= 0 {
			j.pos += q + 1
			return nil
		}
		j.pos = j.end
	}
}

// readString reads a string; errBadString when it is not valid JSON (the reader is past it).
func (j *jsonReader) readString() (string, error) {
	if err := j.scanString(true); err != nil {
		return "", err
	}
	defer j.shrink()
	if bytes.IndexByte(j.raw, '\\') < 0 && utf8.Valid(j.raw) && !hasControl(j.raw) {
		return string(j.raw), nil
	}
	var s string
	quoted := make([]byte, 0, len(j.raw)+2)
	quoted = append(append(append(quoted, '"'), j.raw...), '"')
	if err := json.Unmarshal(quoted, &s); err != nil {
		return "", errBadString
	}
	return s, nil
}

// shrink lets a large kept value go.
func (j *jsonReader) shrink() {
	if cap(j.raw) > 1<<20 {
		j.raw = nil
	}
}

func hasControl(b []byte) bool {
	for _, c := range b {
		if c < 0x20 {
			return true
		}
	}
	return false
}

// number is JSON's number grammar.
var number = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// maxScalar is the longest number or literal whose bytes are kept to be checked; a longer run
// is checked byte by byte only.
const maxScalar = 64

// scanScalar reads past a number, true, false or null, and checks it. The bytes of a short one
// are left in j.raw.
func (j *jsonReader) scanScalar() error {
	start := j.offset()
	j.raw = j.raw[:0]
	n := 0
	for j.more() {
		c := j.buf[j.pos]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'E') {
			break
		}
		if n < maxScalar {
			j.raw = append(j.raw, c)
		}
		n++
		j.pos++
	}
	if n == 0 {
		if c, err := j.peek(); err == nil {
			return j.syntax(c, "a value")
		} else {
			return err
		}
	}
	if j.err != nil && j.pos >= j.end && !errors.Is(j.err, io.EOF) {
		return j.err
	}
	s := string(j.raw)
	switch {
	case s == "true" || s == "false" || s == "null":
		return nil
	case n <= maxScalar && number.MatchString(s):
		return nil
	case n > maxScalar && (s[0] == '-' || s[0] >= '0' && s[0] <= '9'):
		return nil // a number of absurd length: only its bytes were checked
	}
	return fmt.Errorf("invalid JSON at byte %d: %q is not a value", start, s)
}

// readInt reads an integer; ok is false (the reader past the value) for any other number.
func (j *jsonReader) readInt() (v int, ok bool, err error) {
	if err := j.scanScalar(); err != nil {
		return 0, false, err
	}
	v, convErr := strconv.Atoi(string(j.raw))
	return v, convErr == nil, nil
}

// skipValue reads past one value of any size and depth, keeping nothing and checking its
// syntax. Nesting is followed with a counter; the kinds of the open containers (so that each is
// closed by its own bracket) are kept in the fixed bit stack. A container nested deeper than
// maxDepth is read to its end by counting brackets alone, and the value is reported with
// errTooDeep once the reader is past it.
func (j *jsonReader) skipValue() error {
	depth := 0
	deep := false
	for {
		c, err := j.peek()
		if err != nil {
			return err
		}
		// One value; containers open here, and the loop reads their first element.
		switch c {
		case '{', '[':
			j.pos++
			if depth == maxDepth {
				deep = true
				if err := j.skipDeep(); err != nil {
					return err
				}
				break
			}
			depth++
			j.setKind(depth, c == '{')
			next, err := j.peek()
			if err != nil {
				return err
			}
			if next == '}' && c == '{' || next == ']' && c == '[' {
				j.pos++
				depth--
				break
			}
			if c == '{' {
				if err := j.skipKey(); err != nil {
					return err
				}
			}
			continue
		case '"':
			if err := j.scanString(false); err != nil {
				return err
			}
		default:
			if err := j.scanScalar(); err != nil {
				return err
			}
		}
		// After a value: close what it ends, or go on to the next element.
	after:
		for {
			if depth == 0 {
				if deep {
					return errTooDeep
				}
				return nil
			}
			c, err := j.peek()
			if err != nil {
				return err
			}
			obj := j.isObject(depth)
			switch {
			case c == ',':
				j.pos++
				if obj {
					if err := j.skipKey(); err != nil {
						return err
					}
				}
				break after
			case obj && c == '}', !obj && c == ']':
				j.pos++
				depth--
			case obj:
				return j.syntax(c, "',' or '}'")
			default:
				return j.syntax(c, "',' or ']'")
			}
		}
	}
}

// skipKey reads past an object's key and its colon.
func (j *jsonReader) skipKey() error {
	c, err := j.peek()
	if err != nil {
		return err
	}
	if c != '"' {
		return j.syntax(c, "a key")
	}
	if err := j.scanString(false); err != nil {
		return err
	}
	if c, err = j.peek(); err != nil {
		return err
	}
	if c != ':' {
		return j.syntax(c, "':'")
	}
	j.pos++
	return nil
}

// skipDeep reads past the rest of a container opened beyond maxDepth: brackets are counted and
// strings skipped, nothing else is checked.
func (j *jsonReader) skipDeep() error {
	open := 1
	for open > 0 {
		if !j.more() {
			return j.endErr()
		}
		for j.pos < j.end && open > 0 {
			switch j.buf[j.pos] {
			case '{', '[':
				open++
				j.pos++
			case '}', ']':
				open--
				j.pos++
			case '"':
				if err := j.scanString(false); err != nil {
					return err
				}
			default:
				j.pos++
			}
		}
	}
	return nil
}

func (j *jsonReader) setKind(depth int, object bool) {
	i, bit := (depth-1)/64, uint64(1)<<((depth-1)%64)
	if object {
		j.kinds[i] |= bit
	} else {
		j.kinds[i] &^= bit
	}
}

func (j *jsonReader) isObject(depth int) bool {
	return j.kinds[(depth-1)/64]&(uint64(1)<<((depth-1)%64)) != 0
}
