package topology

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Protocols a port can use, as Kubernetes spells them.
var protocols = []string{"TCP", "UDP", "SCTP"}

const portSyntaxHint = `write a port as 80, "81/udp", "53/sctp", {http: 8080} or {name: dns, port: 53, protocol: UDP}`

// parsePorts reads the lab file's port shorthand from the sequence at path:
// 80 | "81/udp" | {http: 8080} | {name: dns, port: 53, protocol: UDP}.
func parsePorts(file string, idx map[string]*yaml.Node, path string, e *errs) []Port {
	n := idx[path]
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	var ports []Port
	var paths []string
	var nodes []*yaml.Node
	for i, c := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		c = deref(c)
		port, ok := parsePort(file, c, p, e)
		if !ok {
			continue
		}
		ports = append(ports, port)
		paths = append(paths, p)
		nodes = append(nodes, c)
	}
	checkDuplicatePorts(ports, func(i int) (Pos, string) { return pos(file, nodes[i]), paths[i] }, e)
	return ports
}

// deref follows a (bounded) alias chain; the walker has already rejected cycles.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func parsePort(file string, n *yaml.Node, path string, e *errs) (Port, bool) {
	bad := func(hint, format string, args ...any) (Port, bool) {
		e.add(pos(file, n), path, hint, format, args...)
		return Port{}, false
	}
	switch {
	case n.Kind == yaml.ScalarNode && scalarClass(n) == classInt:
		num, err := strconv.Atoi(n.Value)
		if err != nil || num < 1 || num > 65535 {
			return bad("", "port %s is out of range 1..65535", n.Value)
		}
		return Port{Port: num, Protocol: "TCP"}, true
	case n.Kind == yaml.ScalarNode && scalarClass(n) == classString:
		numS, proto, hasProto := strings.Cut(n.Value, "/")
		num, err := strconv.Atoi(numS)
		if err != nil {
			return bad(portSyntaxHint, "invalid port %q: %q is not a number", n.Value, numS)
		}
		if num < 1 || num > 65535 {
			return bad("", "port %d is out of range 1..65535", num)
		}
		p := Port{Port: num, Protocol: "TCP"}
		if hasProto {
			p.Protocol = strings.ToUpper(proto)
			if !contains(protocols, p.Protocol) {
				return bad(portSyntaxHint, "invalid port %q: unknown protocol %q%s", n.Value, proto, didYouMean(proto, protocols))
			}
		}
		return p, true
	case n.Kind == yaml.MappingNode:
		return parsePortMap(file, n, path, e)
	}
	return bad(portSyntaxHint, "expected a port, got %s", shape(n))
}

func parsePortMap(file string, n *yaml.Node, path string, e *errs) (Port, bool) {
	var r resolver
	ps, err := r.pairs(n)
	if err != nil {
		e.add(pos(file, n), path, "", "%v", err)
		return Port{}, false
	}
	fields := []string{"name", "port", "protocol"}
	if len(ps) == 1 && !contains(fields, ps[0].key.Value) {
		// {http: 8080}: a named TCP port.
		name, v := ps[0].key.Value, deref(ps[0].val)
		ok := checkPortName(file, ps[0].key, path, name, e)
		num, ok2 := portNumber(file, v, path, e)
		return Port{Name: name, Port: num, Protocol: "TCP"}, ok && ok2
	}
	p := Port{Protocol: "TCP"}
	ok, havePort := true, false
	for _, kv := range ps {
		k, v := kv.key, deref(kv.val)
		switch k.Value {
		case "name":
			if class(v) != classString {
				e.add(pos(file, v), path+".name", "", "expected a string, got %s", shape(v))
				ok = false
				continue
			}
			p.Name = v.Value
			ok = checkPortName(file, v, path+".name", p.Name, e) && ok
		case "port":
			var good bool
			p.Port, good = portNumber(file, v, path+".port", e)
			ok, havePort = ok && good, true
		case "protocol":
			p.Protocol = strings.ToUpper(v.Value)
			if class(v) != classString || !contains(protocols, p.Protocol) {
				e.add(pos(file, v), path+".protocol", "supported values: "+quoteList(protocols),
					"unsupported value %q%s", v.Value, didYouMean(v.Value, protocols))
				ok = false
			}
		default:
			e.add(pos(file, k), path+"."+k.Value, portSyntaxHint, "unknown field %q%s", k.Value, didYouMean(k.Value, fields))
			ok = false
		}
	}
	if !havePort && ok {
		e.add(pos(file, n), path+".port", portSyntaxHint, "required")
		ok = false
	}
	return p, ok
}

func portNumber(file string, v *yaml.Node, path string, e *errs) (int, bool) {
	if class(v) != classInt {
		e.add(pos(file, v), path, "", "expected a port number, got %s", shape(v))
		return 0, false
	}
	num, err := strconv.Atoi(v.Value)
	if err != nil || num < 1 || num > 65535 {
		e.add(pos(file, v), path, "", "port %s is out of range 1..65535", v.Value)
		return 0, false
	}
	return num, true
}

func checkPortName(file string, n *yaml.Node, path, name string, e *errs) bool {
	if msgs := validation.IsValidPortName(name); len(msgs) > 0 {
		e.add(pos(file, n), path, "", "invalid port name %q: %s", name, strings.Join(msgs, "; "))
		return false
	}
	return true
}

// checkDuplicatePorts reports a port number+protocol served twice by one pod or host,
// and a port name used twice.
func checkDuplicatePorts(ports []Port, where func(i int) (Pos, string), e *errs) {
	byNum := map[string]int{}
	byName := map[string]int{}
	for i, p := range ports {
		key := fmt.Sprintf("%d/%s", p.Port, p.Protocol)
		if j, dup := byNum[key]; dup {
			pos, field := where(i)
			_, first := where(j)
			e.add(pos, field, "", "duplicate port %s (also %s)", key, lastSegment2(first))
			continue
		}
		byNum[key] = i
		if p.Name == "" {
			continue
		}
		if j, dup := byName[p.Name]; dup {
			pos, field := where(i)
			_, first := where(j)
			e.add(pos, field, "", "duplicate port name %q (also %s)", p.Name, lastSegment2(first))
			continue
		}
		byName[p.Name] = i
	}
}

// lastSegment2 trims a field path to the part that tells ports apart: "ports[0]", or
// "containers[1].ports[0]" in a pod spec.
func lastSegment2(path string) string {
	if i := strings.LastIndex(path, "containers["); i >= 0 {
		return path[i:]
	}
	if i := strings.LastIndexAny(path, ".:"); i >= 0 {
		return strings.TrimSpace(path[i+1:])
	}
	return path
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
