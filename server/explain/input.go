package explain

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"unicode/utf16"
	"unicode/utf8"
)

var (
	// ErrEmpty is input with nothing in it but white space.
	ErrEmpty = errors.New("nothing to explain: the input is empty")
	// ErrNotText is input that is neither a HAR file nor text: binary data.
	ErrNotText = errors.New("unreadable input: binary data, neither a HAR file nor text")
)

// sniffSize is how much of the input is looked at to tell text from binary data.
const sniffSize = 8 << 10

// input is a recording as explain reads it: UTF-8 text, whatever encoding or compression it came
// in.
type input struct {
	*bufio.Reader
	utf16    *utf16Reader   // set when the input is UTF-16
	inflated *limitedReader // set when the input is gzip: the decompressed bytes, bounded
}

// openInput makes UTF-8 text of a recording: it drops a UTF-8 byte order mark (HAR 1.2 says
// readers must ignore one); decodes UTF-16 with its byte order mark (Notepad's "Unicode",
// PowerShell 5's > and Out-File); and decompresses gzip (a .har.gz), at most limit bytes of it
// when limit >= 0, so that a small file that inflates to gigabytes stops at the same limit as
// any other. It refuses input that is empty or binary.
func openInput(r io.Reader, limit int64) (*input, error) {
	in := &input{Reader: bufio.NewReaderSize(r, 64<<10)}
	if magic, _ := in.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		gz, err := gzip.NewReader(in.Reader)
		if err != nil {
			return nil, fmt.Errorf("unreadable input: a gzip file that cannot be decompressed (%v)", err)
		}
		gz.Multistream(false)
		left := limit
		if left < 0 {
			left = 1<<63 - 1
		}
		in.inflated = &limitedReader{r: gz, left: left}
		in.Reader = bufio.NewReaderSize(in.inflated, 64<<10)
	}
	bom, _ := in.Peek(3)
	switch {
	case bytes.HasPrefix(bom, []byte{0xef, 0xbb, 0xbf}):
		in.Discard(3)
	case bytes.HasPrefix(bom, []byte{0xff, 0xfe}), bytes.HasPrefix(bom, []byte{0xfe, 0xff}):
		in.Discard(2)
		in.utf16 = &utf16Reader{r: in.Reader, bigEndian: bom[0] == 0xfe, in: make([]byte, 32<<10)}
		in.Reader = bufio.NewReaderSize(in.utf16, 64<<10)
	}
	head, err := in.Peek(sniffSize)
	if in.utf16 != nil && in.utf16.err != nil && !errors.Is(in.utf16.err, io.EOF) {
		return nil, in.utf16.err
	}
	if len(head) == 0 && err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if len(bytes.TrimSpace(head)) == 0 && len(head) < sniffSize {
		return nil, ErrEmpty
	}
	if binary(head) {
		return nil, ErrNotText
	}
	return in, nil
}

// binary says whether the start of the input is binary data rather than text: a NUL byte, or
// more control characters than text has.
func binary(head []byte) bool {
	if bytes.IndexByte(head, 0) >= 0 {
		return true
	}
	controls := 0
	for _, c := range head {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v' && c != 0x1b {
			controls++
		}
	}
	return controls > len(head)/10
}

// err is the error that makes the whole input unreadable, found while it was read: UTF-16 that
// is not valid. (A gzip stream cut short is a read error the readers name, like a file cut
// short.)
func (in *input) err() error {
	if in.utf16 != nil && in.utf16.err != nil && !errors.Is(in.utf16.err, io.EOF) {
		return in.utf16.err
	}
	return nil
}

// tooLarge says whether the decompressed input went past the limit.
func (in *input) tooLarge() bool { return in.inflated != nil && in.inflated.over }

// utf16Reader decodes UTF-16 to UTF-8, strictly: an odd number of bytes or a lone surrogate is
// an error, not a replacement character.
type utf16Reader struct {
	r         io.Reader
	bigEndian bool
	in        []byte // raw bytes read, not yet decoded: in[:n]
	n         int
	out       []byte // decoded: out[done:] is not yet returned
	done      int
	read      int64 // raw bytes decoded so far, for error messages
	err       error
}

func (u *utf16Reader) Read(p []byte) (int, error) {
	for u.done == len(u.out) {
		if u.err != nil {
			return 0, u.err
		}
		u.out, u.done = u.out[:0], 0
		m, err := u.r.Read(u.in[u.n:])
		u.n += m
		u.decode(err != nil)
		if err != nil && u.err == nil {
			u.err = err
		}
	}
	n := copy(p, u.out[u.done:])
	u.done += n
	return n, nil
}

// decode turns the complete code units of u.in into UTF-8; at the end, what is left over is an
// error.
func (u *utf16Reader) decode(end bool) {
	unit := func(i int) uint16 {
		if u.bigEndian {
			return uint16(u.in[i])<<8 | uint16(u.in[i+1])
		}
		return uint16(u.in[i+1])<<8 | uint16(u.in[i])
	}
	i := 0
	for ; i+1 < u.n; i += 2 {
		c := unit(i)
		switch {
		case !utf16.IsSurrogate(rune(c)):
			u.out = utf8.AppendRune(u.out, rune(c))
		case c < 0xdc00 && i+3 < u.n:
			r := utf16.DecodeRune(rune(c), rune(unit(i+2)))
			if r == utf8.RuneError {
				u.err = fmt.Errorf("unreadable input: not valid UTF-16 text (a lone surrogate at byte %d)", u.read+int64(i)+2)
				return
			}
			u.out = utf8.AppendRune(u.out, r)
			i += 2
		case c < 0xdc00 && !end:
			// The second half of the pair is not read yet.
			u.keep(i)
			return
		default:
			u.err = fmt.Errorf("unreadable input: not valid UTF-16 text (a lone surrogate at byte %d)", u.read+int64(i)+2)
			return
		}
	}
	if end && i < u.n {
		u.err = errors.New("unreadable input: not valid UTF-16 text (an odd number of bytes)")
		return
	}
	u.keep(i)
}

// keep moves the undecoded bytes from i on to the start of the buffer.
func (u *utf16Reader) keep(i int) {
	u.read += int64(i)
	u.n = copy(u.in, u.in[i:u.n])
}
