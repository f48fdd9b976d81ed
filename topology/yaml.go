package topology

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Limits that keep hostile input (alias bombs, deep nesting) from exhausting memory or stack.
const (
	maxDepth = 100
	maxNodes = 1 << 20
)

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseYAML splits data into its documents. Empty documents (only comments, or a
// bare "---") are dropped, as kubectl does. A syntax error is reported with its line.
func parseYAML(file string, data []byte) (docs []*yaml.Node, e *Error) {
	defer func() {
		// The parser is third-party code fed user input; never let it take podlab down.
		if r := recover(); r != nil {
			docs, e = nil, &Error{Pos: Pos{File: file}, Msg: fmt.Sprintf("yaml: cannot parse: %v", r)}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, syntaxError(file, data, err)
		}
		if n.Kind == yaml.DocumentNode && len(n.Content) == 1 && !isNull(n.Content[0]) {
			docs = append(docs, n.Content[0])
		}
	}
}

func syntaxError(file string, data []byte, err error) *Error {
	e := &Error{Pos: Pos{File: file}, Msg: err.Error()}
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Msg = "yaml: " + m[2]
	}
	// A tab in indentation produces an obscure parser message; say what it is.
	for i, line := range strings.Split(string(data), "\n") {
		indent := line[:len(line)-len(strings.TrimLeft(line, " \t"))]
		if c := strings.IndexByte(indent, '\t'); c >= 0 {
			return &Error{Pos: Pos{File: file, Line: i + 1, Col: c + 1}, Msg: "yaml: tab character in indentation",
				Hint: "YAML indents with spaces only: replace the tabs with spaces"}
		}
	}
	// So does a key a space off, and at the line where its block began.
	if bad := misindented(file, data, e.Line); bad != nil {
		return bad
	}
	return e
}

func pos(file string, n *yaml.Node) Pos {
	if n == nil {
		return Pos{File: file}
	}
	return Pos{File: file, Line: n.Line, Col: n.Column}
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// pair is one key/value of a mapping, merges ("<<") already applied.
type pair struct{ key, val *yaml.Node }

// resolver follows aliases with guards against cycles and exponential expansion.
type resolver struct {
	visited int
	active  map[*yaml.Node]bool
}

var errTooLarge = errors.New("the document is too large or nested too deeply (check YAML anchors and aliases)")

// enter resolves an alias and accounts for one more visited node; leave must follow
// when the returned node is done.
func (r *resolver) enter(n *yaml.Node, depth int) (*yaml.Node, error) {
	r.visited++
	if r.visited > maxNodes || depth > maxDepth {
		return nil, errTooLarge
	}
	for n.Kind == yaml.AliasNode {
		if n.Alias == nil || r.active[n.Alias] {
			return nil, fmt.Errorf("anchor %q refers to itself", n.Value)
		}
		n = n.Alias
	}
	if r.active == nil {
		r.active = map[*yaml.Node]bool{}
	}
	r.active[n] = true
	return n, nil
}

func (r *resolver) leave(n *yaml.Node) { delete(r.active, n) }

// pairs lists a mapping's entries with YAML merge keys expanded; explicit keys win.
func (r *resolver) pairs(n *yaml.Node) ([]pair, error) {
	var out []pair
	var merged []pair
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			srcs := []*yaml.Node{v}
			if v.Kind == yaml.SequenceNode {
				srcs = v.Content
			}
			for _, s := range srcs {
				m, err := r.enter(s, 0)
				if err != nil {
					return nil, err
				}
				if m.Kind != yaml.MappingNode {
					r.leave(m)
					return nil, errors.New("a merge key (<<) needs a map or a list of maps")
				}
				ps, err := r.pairs(m)
				r.leave(m)
				if err != nil {
					return nil, err
				}
				merged = append(merged, ps...)
			}
			continue
		}
		out = append(out, pair{k, v})
	}
	seen := map[string]bool{}
	for _, p := range out {
		seen[p.key.Value] = true
	}
	for _, p := range merged {
		if !seen[p.key.Value] {
			seen[p.key.Value] = true
			out = append(out, p)
		}
	}
	return out, nil
}

// Scalar classes as kubectl sees them: YAML 1.2 tags from yaml.v3, except that plain
// yes/no/on/off are booleans, as they are to sigs.k8s.io/yaml (YAML 1.1).
const (
	classNull   = "null"
	classBool   = "boolean"
	classInt    = "number"
	classFloat  = "float"
	classString = "string"
)

var yaml11Bools = map[string]bool{
	"y": true, "Y": true, "yes": true, "Yes": true, "YES": true, "on": true, "On": true, "ON": true,
	"n": false, "N": false, "no": false, "No": false, "NO": false, "off": false, "Off": false, "OFF": false,
}

func scalarClass(n *yaml.Node) string {
	switch n.Tag {
	case "!!null":
		return classNull
	case "!!bool":
		return classBool
	case "!!int":
		return classInt
	case "!!float":
		return classFloat
	}
	if n.Style == 0 {
		if _, ok := yaml11Bools[n.Value]; ok && n.Tag == "!!str" {
			return classBool
		}
	}
	return classString
}

// class is scalarClass for scalars and "" for anything else.
func class(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode {
		return ""
	}
	return scalarClass(n)
}

// shape names what a node is, for "expected X, got Y" messages.
func shape(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a map"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch scalarClass(n) {
		case classNull:
			return "null"
		case classBool:
			return "a boolean"
		case classInt, classFloat:
			return "a number"
		}
		return "a string"
	}
	return "an alias"
}

// toJSON converts a node to JSON with the same scalar rules as scalarClass.
func toJSON(n *yaml.Node) ([]byte, error) {
	var b bytes.Buffer
	r := &resolver{}
	if err := r.json(&b, n, 0); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func (r *resolver) json(b *bytes.Buffer, n *yaml.Node, depth int) error {
	n, err := r.enter(n, depth)
	if err != nil {
		return err
	}
	defer r.leave(n)
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			b.WriteString("null")
			return nil
		}
		return r.json(b, n.Content[0], depth+1)
	case yaml.MappingNode:
		ps, err := r.pairs(n)
		if err != nil {
			return err
		}
		b.WriteByte('{')
		for i, p := range ps {
			if i > 0 {
				b.WriteByte(',')
			}
			k, err := r.enter(p.key, depth+1)
			if err != nil {
				return err
			}
			r.leave(k)
			writeString(b, k.Value)
			b.WriteByte(':')
			if err := r.json(b, p.val, depth+1); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case yaml.SequenceNode:
		b.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := r.json(b, c, depth+1); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	default:
		writeScalar(b, n)
	}
	return nil
}

func writeScalar(b *bytes.Buffer, n *yaml.Node) {
	switch scalarClass(n) {
	case classNull:
		b.WriteString("null")
		return
	case classBool:
		var v bool
		if err := n.Decode(&v); err != nil {
			v = yaml11Bools[n.Value]
		}
		b.WriteString(strconv.FormatBool(v))
		return
	case classInt:
		var i int64
		if n.Decode(&i) == nil {
			b.WriteString(strconv.FormatInt(i, 10))
			return
		}
		var u uint64
		if n.Decode(&u) == nil {
			b.WriteString(strconv.FormatUint(u, 10))
			return
		}
	case classFloat:
		var f float64
		if n.Decode(&f) == nil {
			if s := strconv.FormatFloat(f, 'g', -1, 64); !strings.ContainsAny(s, "IN") { // not Inf/NaN
				b.WriteString(s)
				return
			}
		}
	}
	writeString(b, n.Value)
}

func writeString(b *bytes.Buffer, s string) {
	enc, _ := json.Marshal(s) // cannot fail for a string; invalid UTF-8 becomes U+FFFD
	b.Write(enc)
}
