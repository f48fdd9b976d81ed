package gateways

import "strings"

// Hostname patterns as Gateway API has them: "" is every host, "*.example.com" one
// or more labels under example.com (never example.com itself), anything else itself.

// covers says whether every host matched by q is matched by p.
func covers(p, q string) bool {
	switch {
	case p == "":
		return true
	case q == "":
		return false
	case !strings.HasPrefix(p, "*."):
		return p == q
	}
	suffix := p[1:] // ".example.com"
	if strings.HasPrefix(q, "*.") {
		return q == p || strings.HasSuffix(q[1:], suffix)
	}
	return strings.HasSuffix(q, suffix)
}

// intersect is the hostnames a route hostname r serves on a listener with hostname l:
// the narrower of the two when one covers the other, else none.
func intersect(l, r string) (string, bool) {
	switch {
	case covers(l, r):
		return r, true
	case covers(r, l):
		return l, true
	}
	return "", false
}

// specificity orders hostname patterns: precise names first, then wildcards with more
// characters (more labels right of the "*"), then "". Lower sorts first.
func specificity(h string) (rank, length int) {
	switch {
	case h == "":
		return 2, 0
	case strings.HasPrefix(h, "*."):
		return 1, -len(h)
	}
	return 0, -len(h)
}

// moreSpecific reports whether pattern a is served before pattern b.
func moreSpecific(a, b string) bool {
	ra, la := specificity(a)
	rb, lb := specificity(b)
	if ra != rb {
		return ra < rb
	}
	if la != lb {
		return la < lb
	}
	return a < b
}
