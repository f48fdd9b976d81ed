package topology

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	mdns "github.com/miekg/dns"
	"k8s.io/apimachinery/pkg/util/validation"
)

// DefaultZoneTTL is the TTL of a lab zone's records that name none, when no $TTL does.
const DefaultZoneTTL = 300

// ZoneError is one problem in a zone's master-file text, at a line and column of that
// text (1-based; 0 when it is the zone as a whole).
type ZoneError struct {
	Line, Col int
	Msg, Hint string
}

func (e ZoneError) Error() string {
	if e.Line == 0 {
		return e.Msg
	}
	return fmt.Sprintf("line %d:%d: %s", e.Line, e.Col, e.Msg)
}

// ZoneName is a zone name as a lab writes it ("example.com", "Example.COM.") in its
// canonical form: lower case, no final dot.
func ZoneName(s string) (string, error) {
	name := strings.ToLower(strings.TrimSuffix(s, "."))
	switch {
	case name == "":
		return "", fmt.Errorf("%q is the root zone: a lab zone is a domain such as example.com", s)
	case isAddr(name):
		return "", fmt.Errorf("%q is an address, not a domain", s)
	}
	if msgs := validation.IsDNS1123Subdomain(name); len(msgs) > 0 {
		return "", fmt.Errorf("%q is not a domain: %s", s, strings.Join(msgs, "; "))
	}
	return name, nil
}

func isAddr(s string) bool { _, err := netip.ParseAddr(s); return err == nil }

// ParseZone reads a zone's RFC 1035 master-file text, as a lab host serves it: $ORIGIN
// starts as the zone, names without a final dot are relative to it, records without a
// TTL get $TTL or DefaultZoneTTL, and $INCLUDE and $GENERATE are refused. It checks
// what an authoritative server would refuse to load (records outside the zone, a CNAME
// beside other data, SOA away from the apex, delegations, classes other than IN) and
// adds a SOA and an apex NS when the text has none, so every negative answer can
// carry one. The records come back with the SOA first; errors name lines of text.
func ParseZone(zone, text string) ([]mdns.RR, []ZoneError) {
	origin := mdns.Fqdn(zone)
	entries := scanEntries(text)
	var errs []ZoneError
	var records []entry // the entries that are records, in order
	for _, e := range entries {
		switch e.directive {
		case "":
			records = append(records, e)
		case "$GENERATE", "$INCLUDE":
			errs = append(errs, ZoneError{Line: e.line, Col: e.col, Msg: e.directive + " is not supported in a lab zone",
				Hint: "write the records out in the zone itself"})
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if !strings.HasSuffix(text, "\n") {
		text += "\n" // the parser drops a last line without one
	}
	zp := mdns.NewZoneParser(strings.NewReader(text), origin, "")
	zp.SetDefaultTTL(DefaultZoneTTL)
	var rrs []mdns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		rrs = append(rrs, rr)
	}
	if err := zp.Err(); err != nil {
		return nil, []ZoneError{parseError(err, text)}
	}
	if len(records) != len(rrs) {
		records = make([]entry, len(rrs)) // cannot tell which line wrote which record
	}
	z := zoneCheck{origin: origin, types: map[string]map[uint16]int{}}
	for i, rr := range rrs {
		z.check(rr, records[i])
	}
	return z.complete(rrs), z.errs
}

// zoneCheck is what ParseZone has seen of a zone so far.
type zoneCheck struct {
	origin string
	soa    *mdns.SOA
	apexNS bool
	types  map[string]map[uint16]int // owner (lower case) -> type -> count
	errs   []ZoneError
}

func (z *zoneCheck) check(rr mdns.RR, at entry) {
	bad := func(hint, format string, args ...any) {
		z.errs = append(z.errs, ZoneError{Line: at.line, Col: at.col, Msg: fmt.Sprintf(format, args...), Hint: hint})
	}
	h := rr.Header()
	owner := strings.ToLower(h.Name)
	typ := mdns.TypeToString[h.Rrtype]
	if typ == "" {
		typ = fmt.Sprintf("TYPE%d", h.Rrtype)
	}
	switch {
	case h.Class != mdns.ClassINET:
		bad("leave the class out, or write IN", "class %s is not supported: lab zones are IN", mdns.Class(h.Class))
		return
	case !mdns.IsSubDomain(z.origin, owner):
		bad(relativeHint(z.origin), "%s is outside the zone %s", h.Name, strings.TrimSuffix(z.origin, "."))
		return
	case strings.HasSuffix(owner, "."+z.origin+z.origin):
		bad(relativeHint(z.origin), "%s names the zone twice", h.Name)
		return
	case strings.TrimSpace(strings.TrimPrefix(rr.String(), h.String())) == "":
		bad(zoneExample(typ), "the %s record has no data", typ)
		return
	}
	switch r := rr.(type) {
	case *mdns.SOA:
		switch {
		case owner != z.origin:
			bad("write the SOA at the zone's apex, @", "a SOA belongs at the zone's apex %s, not at %s", z.origin, h.Name)
		case z.soa != nil:
			bad("", "the zone has a second SOA")
		default:
			z.soa = r
		}
	case *mdns.NS:
		if owner != z.origin {
			bad("NS records belong at the zone's apex, @; serve the child zone from its own host instead",
				"delegations are not supported: NS at %s", h.Name)
			return
		}
		z.apexNS = true
	case *mdns.CNAME:
		if strings.HasSuffix(strings.ToLower(r.Target), "."+z.origin+z.origin) {
			bad(relativeHint(z.origin), "the CNAME target %s names the zone twice", r.Target)
		}
	}
	seen := z.types[owner]
	if seen == nil {
		seen = map[uint16]int{}
		z.types[owner] = seen
	}
	others := len(seen) > 0 && (seen[mdns.TypeCNAME] == 0 || len(seen) > 1)
	switch {
	case h.Rrtype == mdns.TypeCNAME && owner == z.origin:
		bad("point a name below the apex at the target instead, e.g. www CNAME api", "a CNAME cannot be at the zone's apex, which has its SOA and NS")
	case h.Rrtype == mdns.TypeCNAME && seen[mdns.TypeCNAME] > 0:
		bad("", "%s has a second CNAME; a name has at most one", h.Name)
	case h.Rrtype == mdns.TypeCNAME && others, h.Rrtype != mdns.TypeCNAME && seen[mdns.TypeCNAME] > 0:
		bad("a CNAME makes its name an alias: give the records to the target instead",
			"%s has a CNAME and other records; a CNAME must be alone at its name", h.Name)
	}
	seen[h.Rrtype]++
}

// complete puts the SOA first, adding one (and an apex NS) when the text has none.
func (z *zoneCheck) complete(rrs []mdns.RR) []mdns.RR {
	if len(z.errs) > 0 {
		return nil
	}
	soa := z.soa
	if soa == nil {
		soa = &mdns.SOA{Hdr: mdns.RR_Header{Name: z.origin, Rrtype: mdns.TypeSOA, Class: mdns.ClassINET, Ttl: DefaultZoneTTL},
			Ns: "ns." + z.origin, Mbox: "hostmaster." + z.origin, Serial: 1, Refresh: 3600, Retry: 600, Expire: 86400, Minttl: DefaultZoneTTL}
	}
	out := []mdns.RR{soa}
	if !z.apexNS {
		out = append(out, &mdns.NS{Hdr: mdns.RR_Header{Name: z.origin, Rrtype: mdns.TypeNS, Class: mdns.ClassINET, Ttl: soa.Hdr.Ttl}, Ns: soa.Ns})
	}
	for _, rr := range rrs {
		if rr != mdns.RR(z.soa) {
			out = append(out, rr)
		}
	}
	return out
}

func relativeHint(origin string) string {
	zone := strings.TrimSuffix(origin, ".")
	return fmt.Sprintf("names without a final dot are relative to the zone: write api for api.%s, or end a full name with a dot (api.%s.)", zone, zone)
}

// zoneExamples show each common record type written in a lab zone.
var zoneExamples = map[string]string{
	"A":     "api A 172.30.0.100",
	"AAAA":  "api AAAA fd00::100",
	"CNAME": "www CNAME api",
	"MX":    "@ MX 10 mail",
	"NS":    "@ NS ns",
	"PTR":   "100 PTR api.example.com.",
	"SOA":   "@ SOA ns hostmaster 1 3600 600 86400 300",
	"SRV":   "_http._tcp SRV 10 5 80 api",
	"TXT":   `@ TXT "v=spf1 -all"`,
	"CAA":   `@ CAA 0 issue "letsencrypt.org"`,
}

func zoneExample(typ string) string {
	if ex, ok := zoneExamples[typ]; ok {
		return "write e.g. " + ex
	}
	return "a record is NAME [TTL] [IN] TYPE DATA, e.g. api 300 IN A 172.30.0.100"
}

// The parser reports `dns: <what>: "<token>" at line: L:C`.
var zoneParseErrRE = regexp.MustCompile(`dns: (.*): ("(?:[^"\\]|\\.)*") at line: (\d+):(\d+)$`)

// parseError turns the parser's error into a ZoneError in podlab's words.
func parseError(err error, text string) ZoneError {
	m := zoneParseErrRE.FindStringSubmatch(err.Error())
	if m == nil {
		return ZoneError{Msg: strings.TrimPrefix(err.Error(), "dns: ")}
	}
	what, tok := m[1], m[2]
	if s, err := strconv.Unquote(tok); err == nil {
		tok = s
	}
	line, _ := strconv.Atoi(m[3])
	col, _ := strconv.Atoi(m[4])
	// The parser points at the token's end or just past it: find where it starts.
	if lines := strings.Split(text, "\n"); line >= 1 && line <= len(lines) {
		l := lines[line-1]
		if i := strings.LastIndex(l[:min(col, len(l))], tok); i >= 0 && tok != "" {
			col = i + 1
		}
	}
	ze := ZoneError{Line: line, Col: col, Msg: fmt.Sprintf("%s: %q", what, tok)}
	switch {
	case what == "not a TTL" && tok != "":
		ze.Msg = fmt.Sprintf("unknown record type %q%s", tok, didYouMean(strings.ToUpper(tok), recordTypes()))
		ze.Hint = "a record is NAME [TTL] [IN] TYPE DATA, e.g. api 300 IN A 172.30.0.100;\na line that starts with a space or a tab continues the name above it"
	case strings.HasPrefix(what, "bad "):
		if f := strings.Fields(what); len(f) > 1 {
			ze.Msg = fmt.Sprintf("invalid %s record: %s %q", f[1], what, tok)
			ze.Hint = zoneExample(f[1])
		}
	}
	return ze
}

func recordTypes() []string { return sortedKeys(mdns.StringToType) }

// entry is where one logical entry of a master file starts: a record or a directive.
type entry struct {
	line, col int
	directive string // "$TTL", "$ORIGIN", ...; "" for a record
}

// scanEntries finds where each record and directive starts, for errors found after
// parsing: the parser does not say which line wrote a record. An entry ends at a line
// break outside parentheses; comments and quoted text are skipped.
func scanEntries(text string) []entry {
	var out []entry
	line, col, depth := 1, 0, 0
	inQuote, inComment, started := false, false, false
	for i := 0; i < len(text); i++ {
		c := text[i]
		col++
		switch {
		case c == '\n':
			line, col, inComment = line+1, 0, false
			inQuote = false
			if depth == 0 {
				started = false
			}
			continue
		case inComment:
			continue
		case inQuote:
			if c == '\\' {
				i, col = i+1, col+1
			} else if c == '"' {
				inQuote = false
			}
			continue
		case c == ';':
			inComment = true
			continue
		case c == ' ' || c == '\t' || c == '\r':
			continue
		}
		if !started {
			started = true
			e := entry{line: line, col: col}
			if c == '$' {
				end := strings.IndexAny(text[i:], " \t\r\n;")
				if end < 0 {
					end = len(text) - i
				}
				e.directive = strings.ToUpper(text[i : i+end])
			}
			out = append(out, e)
		}
		switch c {
		case '"':
			inQuote = true
		case '(':
			depth++
		case ')':
			depth = max(depth-1, 0)
		case '\\':
			i, col = i+1, col+1
		}
	}
	return out
}
