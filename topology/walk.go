package topology

import (
	"encoding/base64"
	"encoding/json"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// walker checks a YAML node tree against a Go type through its json tags, before the
// real decode, so that every unknown field and wrong shape is reported with its line,
// its path and a fix. It also indexes every node by path ("spec.ports[0].port") so that
// later checks can point at the line of any value.
type walker struct {
	file   string
	prefix string // field prefix, e.g. "manifests[0] (Service default/web)"
	errs   *errs
	index  map[string]*yaml.Node
	r      resolver
	failed bool // stop walking: the document is hostile or hopelessly broken
	count  int  // errors reported so far
}

// maxWalkErrors stops a walk that only repeats one mistake (e.g. through aliases).
const maxWalkErrors = 100

func newWalker(file, prefix string, e *errs) *walker {
	return &walker{file: file, prefix: prefix, errs: e, index: map[string]*yaml.Node{}}
}

func (w *walker) errorf(n *yaml.Node, path, hint, format string, args ...any) {
	if w.count++; w.count > maxWalkErrors {
		w.failed = true
		w.errs.add(pos(w.file, n), field(w.prefix, ""), "", "too many errors; fix the ones above first")
		return
	}
	w.errs.add(pos(w.file, n), field(w.prefix, path), hint, format, args...)
}

var (
	intOrStringType = reflect.TypeFor[intstr.IntOrString]()
	quantityType    = reflect.TypeFor[resource.Quantity]()
	timeType        = reflect.TypeFor[metav1.Time]()
	microTimeType   = reflect.TypeFor[metav1.MicroTime]()
	durationType    = reflect.TypeFor[metav1.Duration]()
	rawExtType      = reflect.TypeFor[runtime.RawExtension]()
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
)

func (w *walker) walk(n *yaml.Node, t reflect.Type, path string, depth int) {
	if w.failed {
		return
	}
	orig := n
	n, err := w.r.enter(n, depth)
	if err != nil {
		w.errorf(orig, path, "", "%v", err)
		w.failed = true
		return
	}
	defer w.r.leave(n)
	w.index[path] = n
	if isNull(n) {
		return // JSON null leaves the zero value, as the API server does
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case intOrStringType:
		if c := class(n); c != classInt && c != classString {
			w.errorf(n, path, "", "expected a number or a string, got %s", shape(n))
		}
		return
	case quantityType:
		w.quantity(n, path)
		return
	case timeType, microTimeType, durationType:
		if n.Kind != yaml.ScalarNode || scalarClass(n) != classString {
			w.errorf(n, path, "", "expected a string, got %s", shape(n))
		}
		return
	case rawExtType:
		return
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return // decodes itself from any JSON; its own parser judges it
	}
	if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
		w.bytes(n, path)
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		w.object(n, t, path, depth)
	case reflect.Map:
		w.mapping(n, t, path, depth)
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			w.errorf(n, path, listHint(t.Elem(), path, n), "expected a list, got %s", shape(n))
			return
		}
		for i, c := range n.Content {
			w.walk(c, t.Elem(), path+"["+strconv.Itoa(i)+"]", depth+1)
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode || scalarClass(n) != classString {
			hint := ""
			if n.Kind == yaml.ScalarNode {
				hint = `put the value in quotes: "` + n.Value + `"`
			}
			w.errorf(n, path, hint, "expected a string, got %s", shape(n))
		}
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || scalarClass(n) != classBool {
			hint := ""
			if v := strings.ToLower(strings.TrimSpace(n.Value)); n.Kind == yaml.ScalarNode && (v == "true" || v == "false") {
				hint = "remove the quotes: " + v
			}
			w.errorf(n, path, hint, "expected true or false, got %s", shape(n))
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		w.integer(n, t, path)
	case reflect.Float32, reflect.Float64:
		if c := class(n); c != classInt && c != classFloat {
			w.errorf(n, path, "", "expected a number, got %s", shape(n))
		}
	}
}

func (w *walker) object(n *yaml.Node, t reflect.Type, path string, depth int) {
	if n.Kind != yaml.MappingNode {
		w.errorf(n, path, "", "expected a map, got %s", shape(n))
		return
	}
	fields := fieldsOf(t)
	w.pairs(n, path, func(k string, kn, v *yaml.Node) {
		ft, ok := fields.types[k]
		if !ok {
			w.unknownField(kn, t, fields, path, k)
			return
		}
		w.walk(v, ft, join(path, k), depth+1)
	})
}

func (w *walker) mapping(n *yaml.Node, t reflect.Type, path string, depth int) {
	if n.Kind != yaml.MappingNode {
		hint := ""
		switch {
		case t == reflect.TypeFor[zoneTexts]():
			hint = "write each zone as its name and its records, e.g.\nzones:\n  example.com: |\n    api A 172.30.0.100"
		case t.Elem().Kind() == reflect.String && path != "":
			hint = "write it as a map, e.g. " + lastSegment(path) + ": {app: web}"
		}
		w.errorf(n, path, hint, "expected a map, got %s", shape(n))
		return
	}
	w.pairs(n, path, func(k string, _, v *yaml.Node) {
		w.walk(v, t.Elem(), path+"["+k+"]", depth+1)
	})
}

// pairs calls fn for each entry of a mapping, reporting non-string and duplicate keys.
func (w *walker) pairs(n *yaml.Node, path string, fn func(key string, kn, v *yaml.Node)) {
	ps, err := w.r.pairs(n)
	if err != nil {
		w.errorf(n, path, "", "%v", err)
		return
	}
	first := map[string]*yaml.Node{}
	for _, p := range ps {
		k := p.key
		if k.Kind != yaml.ScalarNode {
			w.errorf(k, path, "", "a key must be a string, got %s", shape(k))
			continue
		}
		if prev, dup := first[k.Value]; dup {
			w.errorf(k, join(path, k.Value), "", "duplicate key %q (first at line %d)", k.Value, prev.Line)
			continue
		}
		first[k.Value] = k
		fn(k.Value, k, p.val)
	}
}

func (w *walker) unknownField(kn *yaml.Node, t reflect.Type, fields *structFields, path, key string) {
	msg := "unknown field " + strconv.Quote(key) + didYouMean(key, fields.names)
	hint := ""
	if !strings.Contains(msg, "did you mean") {
		if where := findField(t, key); where != "" {
			hint = strconv.Quote(key) + " belongs under " + join(path, where)
		} else if len(fields.names) <= 12 {
			hint = "fields here: " + strings.Join(fields.names, ", ")
		}
	}
	w.errorf(kn, join(path, key), hint, "%s", msg)
}

func (w *walker) integer(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.ScalarNode {
		w.errorf(n, path, "", "expected a number, got %s", shape(n))
		return
	}
	switch scalarClass(n) {
	case classInt:
		v := reflect.New(t)
		if n.Decode(v.Interface()) != nil {
			w.errorf(n, path, "", "%s is out of range for this field", n.Value)
		}
	case classFloat:
		w.errorf(n, path, "", "expected a whole number, got %s", n.Value)
	case classString:
		hint := ""
		if _, err := strconv.ParseInt(strings.TrimSpace(n.Value), 10, 64); err == nil {
			hint = "remove the quotes: " + strings.TrimSpace(n.Value)
		}
		w.errorf(n, path, hint, "expected a number, got a string")
	default:
		w.errorf(n, path, "", "expected a number, got %s", shape(n))
	}
}

func (w *walker) quantity(n *yaml.Node, path string) {
	c := scalarClass(n)
	if n.Kind != yaml.ScalarNode || (c != classInt && c != classFloat && c != classString) {
		w.errorf(n, path, "", "expected a quantity such as 100m or 1Gi, got %s", shape(n))
		return
	}
	if _, err := resource.ParseQuantity(n.Value); err != nil {
		w.errorf(n, path, "write a number with an optional suffix: 100m, 0.5, 128Mi, 1Gi",
			"invalid quantity %q", n.Value)
	}
}

func (w *walker) bytes(n *yaml.Node, path string) {
	if n.Kind != yaml.ScalarNode || scalarClass(n) != classString {
		w.errorf(n, path, "", "expected a base64 string, got %s", shape(n))
		return
	}
	if _, err := base64.StdEncoding.DecodeString(n.Value); err != nil {
		w.errorf(n, path, "data holds base64; put plain text under stringData instead",
			"invalid base64: %v", err)
	}
}

// structFields is a struct's JSON field set, embedded (inline) structs flattened.
type structFields struct {
	types map[string]reflect.Type
	names []string // sorted
}

var fieldCache sync.Map // reflect.Type -> *structFields

func fieldsOf(t reflect.Type) *structFields {
	if f, ok := fieldCache.Load(t); ok {
		return f.(*structFields)
	}
	sf := &structFields{types: map[string]reflect.Type{}}
	collectFields(t, sf)
	for name := range sf.types {
		sf.names = append(sf.names, name)
	}
	sort.Strings(sf.names)
	fieldCache.Store(t, sf)
	return sf
}

func collectFields(t reflect.Type, sf *structFields) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			collectFields(ft, sf) // TypeMeta, ObjectMeta inline
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if _, ok := sf.types[name]; !ok {
			sf.types[name] = f.Type
		}
	}
}

// findField looks below t (breadth first, a few levels) for a field named key, for the
// hint on a field written at the wrong level, e.g. containers directly under a
// Deployment's spec. It returns the path relative to t, or "".
func findField(t reflect.Type, key string) string {
	type item struct {
		t    reflect.Type
		path string
	}
	queue := []item{{t, ""}}
	for depth := 0; depth < 3 && len(queue) > 0; depth++ {
		var next []item
		for _, it := range queue {
			fs := fieldsOf(it.t)
			for _, name := range fs.names {
				ft, p := fs.types[name], join(it.path, name)
				for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice || ft.Kind() == reflect.Map {
					if ft.Kind() == reflect.Slice {
						p += "[]"
					}
					ft = ft.Elem()
				}
				if ft.Kind() != reflect.Struct || ft == timeType || ft == quantityType || ft == intOrStringType {
					continue
				}
				if _, ok := fieldsOf(ft).types[key]; ok {
					return p
				}
				next = append(next, item{ft, p})
			}
		}
		queue = next
	}
	return ""
}

// listHints are the fixes for the classic "wrote a map where a list belongs" mistake,
// keyed by the list's element type.
var listHints = map[reflect.Type]string{
	reflect.TypeFor[corev1.ServicePort]():   "write each port as a list item: ports:\n  - port: 80\n    targetPort: 8080",
	reflect.TypeFor[corev1.ContainerPort](): "write each port as a list item: ports:\n  - containerPort: 80",
	reflect.TypeFor[corev1.Container]():     "write each container as a list item: containers:\n  - name: app\n    image: nginx",
	reflect.TypeFor[portSpec]():             `write ports as a list, e.g. ports: [80, "81/udp"]`,
	reflect.TypeFor[nodeFile]():             "write each node as a list item: nodes:\n  - name: worker-1",
	reflect.TypeFor[hostFile]():             "write each host as a list item: hosts:\n  - name: client",
	reflect.TypeFor[podFile]():              "write each pod as a list item: pods:\n  - name: web-1",
	reflect.TypeFor[manifestRef]():          "write each manifest as a list item: manifests:\n  - manifests/app.yaml",
	reflect.TypeFor[checkFile]():            "write each check as a list item: checks:\n  - name: web answers\n    from: client\n    to: web.default\n    port: 80",
}

func listHint(elem reflect.Type, path string, got *yaml.Node) string {
	for elem.Kind() == reflect.Pointer {
		elem = elem.Elem()
	}
	if h, ok := listHints[elem]; ok {
		return h
	}
	if got.Kind != yaml.MappingNode || path == "" {
		return ""
	}
	return `write each item as a list entry starting with "- ", e.g.` + "\n" + lastSegment(path) + ":\n  - ..."
}

func lastSegment(path string) string {
	path = path[strings.LastIndex(path, ".")+1:]
	if i := strings.IndexByte(path, '['); i > 0 {
		path = path[:i]
	}
	return path
}
