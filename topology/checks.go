package topology

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// checkFile is one entry of checks: as written. Which of resolve, url, requests and
// after it has decides its kind; without any it is a reachability check.
type checkFile struct {
	Name     string            `json:"name"`
	From     string            `json:"from"`
	To       string            `json:"to"`
	Port     *int              `json:"port"`
	Protocol string            `json:"protocol"`
	Resolve  string            `json:"resolve"`
	Type     string            `json:"type"`
	URL      string            `json:"url"`
	Headers  map[string]string `json:"headers"`
	Requests *int              `json:"requests"`
	After    *afterFile        `json:"after"`
	Within   string            `json:"within"`
	Checks   []checkFile       `json:"checks"`
	Expect   checkExpect       `json:"expect"`
}

// checkExpect's shape depends on the check's kind: the walker lets it through and the
// check builder walks it again with the kind's type.
type checkExpect struct{}

func (*checkExpect) UnmarshalJSON([]byte) error { return nil }

type afterFile struct {
	Delete         string `json:"delete"`
	Scale          string `json:"scale"`
	Apply          string `json:"apply"`
	DeleteManifest string `json:"deleteManifest"`
	Label          string `json:"label"`
	BreakReadiness string `json:"breakReadiness"`
	Namespace      string `json:"namespace"`
}

type dnsExpectFile struct {
	Addresses []string `json:"addresses"`
	Answers   []string `json:"answers"`
	CNAME     string   `json:"cname"`
	Rcode     string   `json:"rcode"`
}

type httpExpectFile struct {
	Status   *int              `json:"status"`
	Body     string            `json:"body"`
	BodyJSON map[string]string `json:"bodyJSON"`
	Headers  map[string]string `json:"headers"`
}

type spreadExpectFile struct {
	AllEndpoints *bool `json:"allEndpoints"`
	Endpoints    *int  `json:"endpoints"`
}

// checksFile is a checks-only file (`podlab check -f FILE`).
type checksFile struct {
	Checks []checkFile `json:"checks"`
}

// DNSTypes are the query types a DNS check may ask (those `podlab dns` asks).
var DNSTypes = []string{"A", "AAAA", "SRV", "PTR", "TXT", "CNAME", "MX", "NS", "SOA", "ANY"}

// Defaults of checks.
const (
	DefaultWithin   = 10 * time.Second
	DefaultRequests = 20
	maxRequests     = 1000
	maxWithin       = 10 * time.Minute
)

// fieldsOfKind are the fields each kind of check may have, beside name and expect.
var fieldsOfKind = map[CheckKind][]string{
	CheckReach:  {"from", "to", "port", "protocol"},
	CheckDNS:    {"from", "resolve", "type"},
	CheckHTTP:   {"from", "url", "headers"},
	CheckSpread: {"from", "to", "port", "protocol", "requests"},
	CheckStep:   {"after", "within", "checks"},
}

const checkExample = "e.g.\nchecks:\n  - name: web answers\n    from: client\n    to: web.default\n    port: 80"

// ParseChecks reads a checks-only file (one key, checks:) and validates it against
// names, the live lab's. readFile reads the manifests steps apply (nil: none can be).
func ParseChecks(file string, data []byte, names *CheckNames, readFile func(string) ([]byte, error)) ([]Check, error) {
	var e errs
	docs, perr := parseYAML(file, data)
	switch {
	case perr != nil:
		return nil, Errors{perr}
	case len(docs) != 1 || deref(docs[0]).Kind != yaml.MappingNode:
		e.add(Pos{File: file}, "", checkExample, "a checks file is one map with a checks: list")
		return nil, e.err()
	}
	root := deref(docs[0])
	for i := 0; i+1 < len(root.Content); i += 2 {
		if k := root.Content[i]; k.Value == "nodes" {
			e.add(pos(file, k), "", "podlab check runs the deployed lab file's checks without -f; -f takes a file with only a checks: list", "this is a lab file, not a checks file")
			return nil, e.err()
		}
	}
	w := newWalker(file, "", &e)
	w.walk(root, reflect.TypeFor[checksFile](), "", 0)
	if !e.empty() {
		sortErrors(e.list, []string{file})
		return nil, e.err()
	}
	var raw checksFile
	if err := decodeNode(root, &raw); err != nil {
		return nil, Errors{{Pos: pos(file, root), Msg: "cannot decode: " + err.Error()}}
	}
	c := &checkBuilder{d: &doc{file: file, root: root, idx: w.index, e: &e}, names: names, readFile: readFile}
	checks := c.list("checks", raw.Checks, false)
	sortErrors(e.list, append([]string{file}, c.files...))
	if err := e.err(); err != nil {
		return nil, err
	}
	return checks, nil
}

// checks validates the lab file's checks against the lab it describes.
func (b *labBuilder) checks(readFile func(string) ([]byte, error)) {
	if len(b.raw.Checks) == 0 {
		return
	}
	c := &checkBuilder{d: b.d, names: b.lab.CheckNames(), readFile: readFile}
	b.lab.Checks = c.list("checks", b.raw.Checks, false)
	b.files = append(b.files, c.files...)
}

func decodeNode(n *yaml.Node, v any) error {
	data, err := toJSON(n)
	if err == nil {
		err = json.Unmarshal(data, v)
	}
	return err
}

// checkBuilder turns raw checks into Checks, reporting what is wrong with each.
type checkBuilder struct {
	d        *doc
	names    *CheckNames
	readFile func(string) ([]byte, error)
	seen     map[string]string // check name -> field of its first use
	files    []string          // manifests read for apply and deleteManifest
	// unknown: a step before applies a manifest, so names may exist that the lab file
	// does not have; they are looked up when the check runs.
	unknown bool
}

func (c *checkBuilder) list(path string, raws []checkFile, inStep bool) []Check {
	var out []Check
	for i := range raws {
		p := fmt.Sprintf("%s[%d]", path, i)
		if ch, ok := c.check(p, &raws[i], inStep); ok {
			out = append(out, ch)
		}
	}
	return out
}

// kindOf says which kind a check is from the keys it has; a second kind's key is an error.
func (c *checkBuilder) kindOf(path string) (CheckKind, bool) {
	d := c.d
	var kind CheckKind
	var first string
	for _, k := range []struct {
		key  string
		kind CheckKind
	}{{"after", CheckStep}, {"resolve", CheckDNS}, {"url", CheckHTTP}, {"requests", CheckSpread}} {
		if !d.has(join(path, k.key)) {
			continue
		}
		if kind != "" {
			d.add(join(path, k.key), "write two checks, one with "+first+": and one with "+k.key+":",
				"a check is of one kind: %s: makes it a %s check, %s: a %s check", first, kind, k.key, k.kind)
			return "", false
		}
		kind, first = k.kind, k.key
	}
	if kind == "" && (c.expectHas(path, "allEndpoints") || c.expectHas(path, "endpoints")) {
		kind = CheckSpread
	}
	if kind == "" {
		if !d.has(join(path, "to")) {
			d.add(path, "write to: (reachability), resolve: (DNS), url: (HTTP), requests: (spread over a Service's endpoints) or after: (a step)",
				"say what to check")
			return "", false
		}
		kind = CheckReach
	}
	return kind, true
}

func (c *checkBuilder) check(path string, raw *checkFile, inStep bool) (Check, bool) {
	d := c.d
	ch := Check{Name: raw.Name, Pos: d.at(path)}
	switch first, dup := c.seen[raw.Name]; {
	case !d.has(join(path, "name")) || strings.TrimSpace(raw.Name) == "":
		d.add(join(path, "name"), "name each check for the report, e.g. name: web reachable from client", "required")
	case dup:
		d.add(join(path, "name"), "give every check its own name: reports and JUnit list them by name", "duplicate check name %q (first at %s)", raw.Name, first)
	default:
		if c.seen == nil {
			c.seen = map[string]string{}
		}
		c.seen[raw.Name] = fmt.Sprintf("line %d", d.at(join(path, "name")).Line)
	}
	kind, ok := c.kindOf(path)
	if !ok {
		return ch, false
	}
	ch.Kind = kind
	before := len(d.e.list)
	c.onlyFields(path, kind)
	if len(d.e.list) > before {
		return ch, false
	}
	switch kind {
	case CheckReach, CheckSpread:
		c.reach(path, raw, &ch)
	case CheckDNS:
		c.dns(path, raw, &ch)
	case CheckHTTP:
		c.http(path, raw, &ch)
	case CheckStep:
		if inStep {
			d.add(join(path, "after"), "put the step after this one in the top-level checks list: steps run in order", "a step cannot hold steps")
			return ch, false
		}
		c.step(path, raw, &ch)
	}
	return ch, len(d.e.list) == before
}

// onlyFields reports fields that belong to another kind of check.
func (c *checkBuilder) onlyFields(path string, kind CheckKind) {
	d := c.d
	allowed := append([]string{"name", "expect"}, fieldsOfKind[kind]...)
	if kind == CheckStep {
		allowed = append([]string{"name"}, fieldsOfKind[kind]...) // a step's expectations are its checks'
	}
	for _, f := range fieldsOf(reflect.TypeFor[checkFile]()).names {
		if d.has(join(path, f)) && !slices.Contains(allowed, f) {
			d.add(join(path, f), "fields of a "+string(kind)+" check: "+strings.Join(allowed, ", "),
				"%s is not a field of a %s check", f, kind)
		}
	}
}

// expectHas says whether the check's expect: is a map with key (the walker does not
// index inside expect: before the kind is known).
func (c *checkBuilder) expectHas(path, key string) bool {
	n := c.d.idx[join(path, "expect")]
	if n == nil || n.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return true
		}
	}
	return false
}

// walkExpect checks expect: against t and decodes it into v; false when absent or wrong.
func (c *checkBuilder) walkExpect(path string, t reflect.Type, v any) bool {
	d := c.d
	p := join(path, "expect")
	n := d.idx[p]
	if n == nil || isNull(n) {
		return false
	}
	before := len(d.e.list)
	w := newWalker(d.file, d.label, d.e)
	w.walk(n, t, p, 0)
	for k, v := range w.index {
		d.idx[k] = v
	}
	if len(d.e.list) > before {
		return false
	}
	if err := decodeNode(n, v); err != nil {
		d.add(p, "", "cannot decode: %v", err)
		return false
	}
	return true
}

func (c *checkBuilder) reach(path string, raw *checkFile, ch *Check) {
	d := c.d
	ch.From = c.from(path, raw.From, true)
	ch.Protocol = "TCP"
	if raw.Protocol != "" {
		switch p := strings.ToUpper(raw.Protocol); p {
		case "TCP", "UDP":
			ch.Protocol = p
		default:
			d.add(join(path, "protocol"), "write tcp or udp", "unsupported protocol %q", raw.Protocol)
		}
	}
	if !d.has(join(path, "to")) || raw.To == "" {
		hint := "where the packets go: POD, NS/POD, SVC.NS, a DNS name, NODE:PORT, an IP address or a URL"
		if ch.Kind == CheckSpread {
			hint = "the Service whose endpoints must all answer, as SVC.NS, e.g. to: web.default"
		}
		d.add(join(path, "to"), hint, "required")
		return
	}
	ch.To = c.target(join(path, "to"), raw.To, ch.From)
	if ch.To == nil {
		return
	}
	if raw.Port != nil {
		if ch.To.Port != 0 {
			d.add(join(path, "port"), "write the port once", "to: %s already says port %d", raw.To, ch.To.Port)
		} else if *raw.Port < 1 || *raw.Port > 65535 {
			d.add(join(path, "port"), "a port is 1-65535", "invalid port %d", *raw.Port)
		} else {
			ch.To.Port = *raw.Port
		}
	} else if ch.To.Port == 0 {
		d.add(join(path, "port"), "the destination port, e.g. port: 80 (a Service's port for a Service)", "required")
	}
	if ch.Kind == CheckSpread {
		c.spread(path, raw, ch)
		return
	}
	ch.Expect = "allowed"
	var v string
	if c.walkExpect(path, reflect.TypeFor[string](), &v) {
		if !slices.Contains(ReachVerdicts, v) {
			d.add(join(path, "expect"), "allowed: connected; blocked: no answer (a NetworkPolicy drops); refused: nothing listens, or a Service without ready endpoints",
				"unsupported value %q%s", v, didYouMean(v, ReachVerdicts))
		}
		ch.Expect = v
	}
}

func (c *checkBuilder) spread(path string, raw *checkFile, ch *Check) {
	d := c.d
	if ch.To.Kind != EndpointService && ch.To.Kind != EndpointName {
		d.add(join(path, "to"), "name the Service as SVC.NS, e.g. to: web.default", "a spread check goes to a Service, got %s %s", ch.To.Kind, raw.To)
	}
	ch.Requests = DefaultRequests
	if raw.Requests != nil {
		if *raw.Requests < 1 || *raw.Requests > maxRequests {
			d.add(join(path, "requests"), "enough to reach every endpoint, e.g. requests: 20", "%d requests: expected 1 to %d", *raw.Requests, maxRequests)
		}
		ch.Requests = *raw.Requests
	}
	var v spreadExpectFile
	if !c.walkExpect(path, reflect.TypeFor[spreadExpectFile](), &v) {
		return
	}
	if v.AllEndpoints != nil && !*v.AllEndpoints {
		d.add(join(path, "expect.allEndpoints"), "a spread check passes when every ready endpoint answered: drop expect", "only allEndpoints: true can be checked")
	}
	if v.Endpoints != nil {
		if *v.Endpoints < 1 || *v.Endpoints > maxRequests {
			d.add(join(path, "expect.endpoints"), "how many ready endpoints the Service must have, e.g. endpoints: 3", "invalid count %d", *v.Endpoints)
		}
		ch.Endpoints = *v.Endpoints
		if ch.Requests < ch.Endpoints {
			d.add(join(path, "requests"), fmt.Sprintf("send at least as many requests as endpoints, e.g. requests: %d", 10*ch.Endpoints),
				"%d requests cannot reach %d endpoints", ch.Requests, ch.Endpoints)
		}
	}
}

func (c *checkBuilder) dns(path string, raw *checkFile, ch *Check) {
	d := c.d
	ch.From = c.from(path, raw.From, false)
	ch.Resolve = strings.TrimSpace(raw.Resolve)
	if n := ch.Resolve; n == "" || strings.Contains(n, "..") || strings.ContainsAny(n, " /:") || len(n) > 253 {
		d.add(join(path, "resolve"), "a DNS name such as web, web.shop or web.shop.svc.cluster.local", "invalid name %q", raw.Resolve)
	}
	ch.Type = "A"
	if raw.Type != "" {
		ch.Type = strings.ToUpper(raw.Type)
		if !slices.Contains(DNSTypes, ch.Type) {
			d.add(join(path, "type"), "supported types: "+strings.Join(DNSTypes, ", "), "unsupported type %q%s", raw.Type, didYouMean(raw.Type, DNSTypes))
		}
	}
	var v dnsExpectFile
	ep := join(path, "expect")
	if !c.walkExpect(path, reflect.TypeFor[dnsExpectFile](), &v) {
		if !d.has(ep) {
			d.add(ep, "e.g. expect: {addresses: [10.96.0.10]}, {cname: api.example.com} or {rcode: NXDOMAIN}", "required: what the answer must be")
		}
		return
	}
	x := &DNSExpect{CNAME: strings.TrimSuffix(v.CNAME, "."), Answers: v.Answers}
	switch {
	case v.Rcode != "" && (len(v.Addresses) > 0 || len(v.Answers) > 0 || v.CNAME != ""):
		d.add(join(ep, "rcode"), "an NXDOMAIN or NODATA answer has no records: write rcode alone", "rcode with answers")
	case v.Rcode != "":
		x.Rcode = strings.ToUpper(v.Rcode)
		if x.Rcode != "NXDOMAIN" && x.Rcode != "NODATA" {
			d.add(join(ep, "rcode"), "NXDOMAIN: no such name; NODATA: the name exists without records of this type", "unsupported rcode %q: expected NXDOMAIN or NODATA", v.Rcode)
		}
	case len(v.Addresses) == 0 && len(v.Answers) == 0 && v.CNAME == "":
		d.add(ep, "write addresses:, answers:, cname: or rcode:", "say what the answer must be")
	}
	if len(v.Addresses) > 0 && ch.Type != "A" && ch.Type != "AAAA" {
		d.add(join(ep, "addresses"), "compare other records with answers: [\"0 100 80 web.shop.svc.cluster.local.\"]", "addresses are the values of A and AAAA records, not %s", ch.Type)
	}
	for i, s := range v.Addresses {
		ip, err := netip.ParseAddr(s)
		switch {
		case err != nil:
			d.add(fmt.Sprintf("%s.addresses[%d]", ep, i), "write an address such as 10.96.0.10", "invalid address %q", s)
		case ch.Type == "A" && !ip.Is4(), ch.Type == "AAAA" && !ip.Is6():
			d.add(fmt.Sprintf("%s.addresses[%d]", ep, i), "A records are IPv4, AAAA records IPv6", "%s is not an address of an %s record", s, ch.Type)
		}
		x.Addresses = append(x.Addresses, ip)
	}
	ch.DNS = x
}

func (c *checkBuilder) http(path string, raw *checkFile, ch *Check) {
	d := c.d
	ch.From = c.from(path, raw.From, true)
	ch.URL, ch.Headers = raw.URL, raw.Headers
	up := join(path, "url")
	u, err := url.Parse(raw.URL)
	switch {
	case err != nil:
		d.add(up, "e.g. url: http://web.default/hostname", "invalid URL: %v", err)
		return
	case u.Scheme != "http" && u.Scheme != "https":
		d.add(up, "e.g. url: http://web.default/hostname", "a check's URL is http:// or https://, got %q", raw.URL)
		return
	case u.Hostname() == "":
		d.add(up, "e.g. url: http://web.default/hostname", "the URL has no host")
		return
	}
	ch.To = c.target(up, u.Hostname(), ch.From)
	if ch.To != nil {
		ch.To.Text = u.Host
		switch {
		case u.Port() != "":
			fmt.Sscan(u.Port(), &ch.To.Port)
		case u.Scheme == "https":
			ch.To.Port = 443
		default:
			ch.To.Port = 80
		}
		if ch.To.Port < 1 || ch.To.Port > 65535 {
			d.add(up, "a port is 1-65535", "invalid port %q", u.Port())
		}
	}
	ch.HTTP = &HTTPExpect{Status: 200}
	var v httpExpectFile
	if !c.walkExpect(path, reflect.TypeFor[httpExpectFile](), &v) {
		return
	}
	ep := join(path, "expect")
	ch.HTTP = &HTTPExpect{Body: v.Body, BodyJSON: v.BodyJSON, Headers: v.Headers}
	if v.Status != nil {
		if *v.Status < 100 || *v.Status > 599 {
			d.add(join(ep, "status"), "an HTTP status such as 200 or 404", "invalid status %d", *v.Status)
		}
		ch.HTTP.Status = *v.Status
	}
	for _, k := range sortedKeys(v.BodyJSON) {
		if !slices.Contains(EchoFields, k) {
			d.add(fmt.Sprintf("%s.bodyJSON[%s]", ep, k), "fields of an echo server's answer: "+strings.Join(EchoFields, ", "),
				"unknown echo field %q%s", k, didYouMean(k, EchoFields))
		}
	}
}

func (c *checkBuilder) step(path string, raw *checkFile, ch *Check) {
	d := c.d
	ch.Within = DefaultWithin
	if raw.Within != "" {
		w, err := time.ParseDuration(raw.Within)
		if err != nil || w <= 0 || w > maxWithin {
			d.add(join(path, "within"), "a duration up to 10m, such as 10s or 1m30s", "invalid duration %q", raw.Within)
		}
		ch.Within = w
	}
	if raw.After == nil {
		d.add(join(path, "after"), "e.g. after: {delete: pod/web-1}", "say what the step does")
		return
	}
	ch.After = c.action(join(path, "after"), raw.After)
	if len(raw.Checks) == 0 {
		d.add(join(path, "checks"), "list what must hold after the action, e.g.\nchecks:\n  - name: web still answers\n    from: client\n    to: web.default\n    port: 80",
			"required: a step needs checks")
		return
	}
	ch.Checks = c.list(join(path, "checks"), raw.Checks, true)
}
