package explain

import (
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/corsquickcheck/corscheck/server/cors"
)

// Redacted replaces every secret value explain shows.
const Redacted = "REDACTED"

// secretParam says whether a query parameter carries a credential: tokens, keys, passwords,
// sessions, signatures and codes, by the names web applications give them.
var secretParam = regexp.MustCompile(`(?i)(token|key|pass|pwd|secret|session|sid|auth|sig|code|jwt|ticket|credential|assertion)`)

// secretHeaders are never shown with their values.
var secretHeaders = []string{"authorization", "cookie", "set-cookie", "proxy-authorization"}

func isSecretHeader(name string) bool {
	return slices.Contains(secretHeaders, strings.ToLower(strings.TrimSpace(name)))
}

// isSecretName says whether a parameter name (as written, percent-encoded or not) names a
// credential.
func isSecretName(name string) bool {
	if secretParam.MatchString(name) {
		return true
	}
	u, err := url.QueryUnescape(name)
	return err == nil && secretParam.MatchString(u)
}

// redactURL redacts one URL, as written, without parsing it (a URL a browser recorded may hold
// characters a parser refuses): the user name and password, and the values of secret
// parameters in the query and in the fragment (OAuth puts tokens there), whatever characters the
// values hold. A value runs to the next & or ; (or # in the query).
func redactURL(s string) string {
	if i := strings.Index(s, "://"); i >= 0 {
		rest := s[i+3:]
		authority := rest
		if j := strings.IndexAny(rest, "/?#"); j >= 0 {
			authority = rest[:j]
		}
		if at := strings.LastIndex(authority, "@"); at >= 0 {
			s = s[:i+3] + Redacted + "@" + rest[at+1:]
		}
	}
	base, fragment, hasFragment := strings.Cut(s, "#")
	base, query, hasQuery := strings.Cut(base, "?")
	if hasQuery {
		base += "?" + redactParams(query)
	}
	if hasFragment {
		base += "#" + redactParams(fragment)
	}
	return base
}

// redactParams redacts the values of secret parameters in a query or fragment.
func redactParams(q string) string {
	var b strings.Builder
	for len(q) > 0 {
		part := q
		sep := ""
		if i := strings.IndexAny(q, "&;"); i >= 0 {
			part, sep, q = q[:i], q[i:i+1], q[i+1:]
		} else {
			q = ""
		}
		if name, _, ok := strings.Cut(part, "="); ok && isSecretName(name) {
			part = name + "=" + Redacted
		}
		b.WriteString(part + sep)
	}
	return b.String()
}

var (
	// paramInText is a name=value pair anywhere in free text; the value runs to white space or
	// the next & ; #.
	paramInText = regexp.MustCompile(`([^\s=&;#?'"“”‘’<>(),/]+)=([^\s&;#]*)`)
	// userInText is the user name and password of a URL in free text.
	userInText = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*://)([^\s/?#@'"<>]+)@`)
)

// valueTail is what may close a value quoted in a sentence ('…', “…”, (…), a full stop); it is
// kept after REDACTED so that the sentence still reads.
const valueTail = `'"’”>).,]`

// redactText redacts free text (a console line, an explanation, a fix, a header value): the
// user name and password of every URL, and the value of every name=value pair whose name
// names a credential, wherever it stands, whatever quotes or brackets surround the URL.
func redactText(s string) string {
	if !strings.Contains(s, "=") && !strings.Contains(s, "@") {
		return s
	}
	s = userInText.ReplaceAllString(s, "${1}"+Redacted+"@")
	ms := paramInText.FindAllStringSubmatchIndex(s, -1)
	if ms == nil {
		return s
	}
	var b strings.Builder
	last := 0
	for _, m := range ms {
		name, value := s[m[2]:m[3]], s[m[4]:m[5]]
		if !isSecretName(name) {
			continue
		}
		tail := len(strings.TrimRight(value, valueTail))
		if tail == 0 || value[:tail] == Redacted {
			continue
		}
		b.WriteString(s[last:m[4]])
		b.WriteString(Redacted)
		b.WriteString(value[tail:])
		last = m[5]
	}
	b.WriteString(s[last:])
	return b.String()
}

// redactHeaderValue is a header's value as explain keeps it: REDACTED for the secret headers,
// redactString for the others.
func redactHeaderValue(name, value string) string {
	if isSecretHeader(name) {
		return Redacted
	}
	return redactString(value)
}

// redactString redacts a string that may be a URL (a Location or Referer header, a page's
// title): as a URL when it is one, and as text in any case.
func redactString(s string) string {
	if t := strings.TrimSpace(s); strings.Contains(t, "://") && !strings.ContainsAny(t, " \t") {
		s = redactURL(s)
	}
	return redactText(s)
}

var (
	headerType      = reflect.TypeFor[http.Header]()
	corsHeaderType  = reflect.TypeFor[cors.Header]()
	stringSliceType = reflect.TypeFor[[]string]()
)

// Redact removes every secret from a result before it is shown or stored. It is one pass over
// every string the result holds, whatever field it is in, so that no field is forgotten and a
// finding read back from a form (see the admin's saved cases) gets the same treatment as one
// explain made: headers named Authorization, Cookie, Set-Cookie or Proxy-Authorization lose their
// values, and every other string is redacted as text (user names and passwords in URLs, the
// values of credential parameters). explain redacts each URL and header as it reads it, so this
// pass finds nothing left in what it made itself.
func (r *Result) Redact() {
	redactValue(reflect.ValueOf(r).Elem())
}

func redactValue(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		if v.CanSet() {
			v.SetString(redactText(v.String()))
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			redactValue(v.Elem())
		}
	case reflect.Struct:
		if v.Type() == corsHeaderType && v.CanSet() {
			h := v.Addr().Interface().(*cors.Header)
			h.Value = redactHeaderValue(h.Name, h.Value)
			h.Name = redactText(h.Name)
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				redactValue(v.Field(i))
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			redactValue(v.Index(i))
		}
	case reflect.Map:
		if v.Type() == headerType || (v.Type().Key().Kind() == reflect.String && v.Type().Elem() == stringSliceType) {
			for _, k := range v.MapKeys() {
				vs := slices.Clone(v.MapIndex(k).Interface().([]string))
				for i := range vs {
					vs[i] = redactHeaderValue(k.String(), vs[i])
				}
				v.SetMapIndex(k, reflect.ValueOf(vs).Convert(v.Type().Elem()))
			}
			return
		}
		for _, k := range v.MapKeys() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			redactValue(e)
			v.SetMapIndex(k, e)
		}
	}
}
