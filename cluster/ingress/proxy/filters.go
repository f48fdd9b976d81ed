package proxy

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"podlab.dev/podlab/cluster/ingress/table"
)

// requestFilters applies fs to r in order; true when one of them answered (a
// redirect), so nothing is forwarded. Response header modifiers are left for the
// recorder, which applies them when the answer's headers are written.
func (h *handler) requestFilters(rec *recorder, r *http.Request, fs []table.Filter, rt *table.Route) bool {
	for i := range fs {
		f := &fs[i]
		switch f.Type {
		case table.FilterRequestHeaders:
			modifyHeaders(r.Header, f)
			if host := r.Header.Get("Host"); host != "" {
				// net/http sends r.Host, never a Host header: a filter that sets
				// Host means the request's.
				r.Host = host
				r.Header.Del("Host")
			}
		case table.FilterRewrite:
			if f.Hostname != "" {
				r.Host = f.Hostname
			}
			if f.PathType != "" {
				setPath(r.URL, rewritePath(r.URL.Path, f, rt))
			}
		case table.FilterMirror:
			h.mirror(r, f)
		case table.FilterRedirect:
			rec.Header().Set("Location", redirectLocation(r, h.port, f, rt))
			status := f.StatusCode
			if status == 0 {
				status = http.StatusFound
			}
			h.answer(rec, status)
			return true
		}
	}
	return false
}

// modifyHeaders is Gateway API's HTTPHeaderFilter: set replaces, add appends to the
// value ("foo" + add "bar" -> "foo,bar"), remove deletes; names case-insensitive.
func modifyHeaders(hd http.Header, f *table.Filter) {
	for _, x := range f.Set {
		hd.Set(x.Name, x.Value)
	}
	for _, x := range f.Add {
		k := http.CanonicalHeaderKey(x.Name)
		if old := hd[k]; len(old) > 0 {
			hd[k] = []string{strings.Join(old, ",") + "," + x.Value}
		} else {
			hd[k] = []string{x.Value}
		}
	}
	for _, n := range f.Remove {
		hd.Del(n)
	}
}

// redirectLocation is RequestRedirect's Location: each field of f left empty keeps
// the request's own; the port is left out where the scheme implies it.
func redirectLocation(r *http.Request, listenerPort int32, f *table.Filter, rt *table.Route) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if f.Scheme != "" {
		scheme = strings.ToLower(f.Scheme)
	}
	host := table.HostOnly(r.Host)
	if f.Hostname != "" {
		host = f.Hostname
	}
	port := listenerPort
	switch {
	case f.Port != 0:
		port = f.Port
	case f.Scheme != "" && scheme == "https":
		port = 443
	case f.Scheme != "":
		port = 80
	}
	var b strings.Builder
	b.WriteString(scheme)
	b.WriteString("://")
	b.WriteString(hostForURL(host))
	if !(scheme == "http" && port == 80) && !(scheme == "https" && port == 443) {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(int(port)))
	}
	if f.PathType == "" {
		b.WriteString(r.URL.EscapedPath())
	} else {
		u := *r.URL
		setPath(&u, rewritePath(r.URL.Path, f, rt))
		b.WriteString(u.EscapedPath())
		if u.RawQuery != "" {
			b.WriteByte('?')
			b.WriteString(u.RawQuery)
		}
		return b.String()
	}
	if r.URL.RawQuery != "" {
		b.WriteByte('?')
		b.WriteString(r.URL.RawQuery)
	}
	return b.String()
}

// rewritePath is the path f's path modifier makes of path; the query is kept by the
// caller except where a RegexReplace target brings its own (setPath).
func rewritePath(path string, f *table.Filter, rt *table.Route) string {
	switch f.PathType {
	case "ReplaceFullPath":
		return f.Path
	case "ReplacePrefixMatch":
		// Drop the matched elements, prepend the replacement without its trailing
		// slash, keep the rest; "/" when nothing is left (§6b of SEMANTICS.md).
		prefix := strings.TrimRight(rt.Match.Path.Value, "/")
		if !strings.HasPrefix(path, prefix) {
			return path
		}
		out := strings.TrimRight(f.Path, "/") + path[len(prefix):]
		if out == "" {
			return "/"
		}
		return out
	case "RegexReplace":
		re := f.Regex
		if re == nil {
			re = rt.Match.Path.Regex
		}
		if re == nil {
			return f.Path
		}
		m := re.FindStringSubmatchIndex(path)
		if m == nil {
			return path
		}
		return expand(re, f.Path, path, m)
	}
	return path
}

// expand is nginx's rewrite replacement: $1..$9 are the groups of the match (empty
// when a group did not take part), anything else is literal, and the whole path is
// replaced. Go's Regexp.Expand would read "$1abc" as a group named "1abc".
func expand(re *regexp.Regexp, tmpl, src string, m []int) string {
	if !strings.Contains(tmpl, "$") {
		return tmpl
	}
	var b strings.Builder
	for i := 0; i < len(tmpl); i++ {
		c := tmpl[i]
		if c != '$' || i+1 >= len(tmpl) || tmpl[i+1] < '0' || tmpl[i+1] > '9' {
			b.WriteByte(c)
			continue
		}
		g := int(tmpl[i+1] - '0')
		i++
		if 2*g+1 < len(m) && m[2*g] >= 0 {
			b.WriteString(src[m[2*g]:m[2*g+1]])
		}
	}
	return b.String()
}

// setPath replaces u's path with p (a rewrite), which may carry a query of its own
// ("/x?a=1"): nginx then sends that query followed by the request's.
func setPath(u *url.URL, p string) {
	if i := strings.IndexByte(p, '?'); i >= 0 {
		q := p[i+1:]
		if u.RawQuery != "" {
			q += "&" + u.RawQuery
		}
		p, u.RawQuery = p[:i], q
	}
	u.Path, u.RawPath = p, ""
}
