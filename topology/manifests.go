package topology

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// LoadManifests decodes a multi-document Kubernetes YAML file on its own (kubectl
// apply -f), with the same checks as manifests in a lab file. Fields in errors are
// named documents[i] (0-based, empty documents not counted).
func LoadManifests(file string, data []byte) ([]Object, []Pod, error) {
	var e errs
	docs, perr := parseYAML(file, data)
	if perr != nil {
		e.addErr(perr)
		return nil, nil, e.err()
	}
	var m manifestSet
	for i, n := range docs {
		m.decode(file, fmt.Sprintf("documents[%d]", i), n, &e)
	}
	m.checkDuplicates(&e)
	var pods []Pod
	for _, p := range m.pods {
		pods = append(pods, p.Pod)
	}
	sortErrors(e.list, []string{file})
	return m.objects, pods, e.err()
}

// manifestSet accumulates decoded documents from every manifest source of a lab.
type manifestSet struct {
	objects []Object
	refs    []ref // where each object is named, parallel to objects
	pods    []podSource
}

// decode checks one document and, when it is valid, records its object and the pods
// it creates. Invalid documents are reported and left out.
func (m *manifestSet) decode(file, prefix string, n *yaml.Node, e *errs) {
	if n.Kind == yaml.AliasNode {
		n = deref(n)
	}
	if n.Kind != yaml.MappingNode {
		e.add(pos(file, n), prefix, "a manifest is a Kubernetes object with apiVersion, kind, metadata and spec",
			"expected a Kubernetes object (a map), got %s", shape(n))
		return
	}
	h := peek(n)
	d := &doc{file: file, label: prefix + h.label(), root: n, idx: map[string]*yaml.Node{}, e: e}
	kt := builtinKinds()
	if h.apiVersion == "" || h.kind == "" {
		if h.kind == "" {
			d.add("kind", "", "required")
		}
		if h.apiVersion == "" {
			hint := ""
			if _, ok := kt.versions[h.kind]; ok {
				hint = kt.servedBy(h.kind)
			}
			d.add("apiVersion", hint, "required")
		}
		return
	}
	d.idx["apiVersion"], d.idx["kind"] = h.apiVersionNode, h.kindNode
	t, msg, hint := kt.resolve(h.apiVersion, h.kind)
	if t == nil {
		field := "kind"
		if _, known := kt.versions[h.kind]; known || strings.HasPrefix(msg, "unknown apiVersion") || strings.HasPrefix(msg, "invalid apiVersion") {
			field = "apiVersion"
		}
		d.add(field, hint, "%s", msg)
		return
	}
	before := len(e.list)
	w := newWalker(file, d.label, e)
	w.walk(n, t, "", 0)
	d.idx = w.index
	if len(e.list) > before {
		return
	}
	raw, err := toJSON(n)
	obj := reflect.New(t).Interface()
	if err == nil {
		err = json.Unmarshal(raw, obj)
	}
	if err != nil {
		d.add("", "", "cannot decode: %v", err)
		return
	}
	meta := obj.(metav1.Object)
	d.checkMeta(h.apiVersion, h.kind, meta)
	d.checkEnums(enumsFor(h.apiVersion, h.kind))
	d.checkSecurity(podSpecPaths[groupKind(h.apiVersion, h.kind)])
	ns := meta.GetNamespace()
	if clusterScoped[h.kind] {
		ns = ""
	} else if ns == "" {
		ns = "default"
	}
	applied := NotEnforced(h.kind) == ""
	var pods []podSource
	switch groupKind(h.apiVersion, h.kind) {
	case "/Pod":
		pods = d.podManifest(obj, ns)
	case "apps/Deployment":
		pods = d.deployment(obj, ns)
	case "networking.k8s.io/NetworkPolicy":
		d.networkPolicy(obj)
	case "networking.k8s.io/Ingress":
		d.ingress(obj)
	case "networking.k8s.io/IngressClass":
		d.ingressClass(obj)
	default:
		d.gatewayAPI(obj)
	}
	if len(e.list) > before {
		return
	}
	m.objects = append(m.objects, Object{
		APIVersion: h.apiVersion, Kind: h.kind, Namespace: ns, Name: meta.GetName(),
		Applied: applied, Raw: raw, Pos: pos(file, n),
	})
	m.refs = append(m.refs, d.ref("metadata.name"))
	m.pods = append(m.pods, pods...)
}

// checkDuplicates reports two objects with the same kind, namespace and name.
func (m *manifestSet) checkDuplicates(e *errs) {
	first := map[string]int{}
	reported := map[Pos]bool{}
	for i, o := range m.objects {
		key := groupKind(o.APIVersion, o.Kind) + " " + o.Namespace + "/" + o.Name
		if j, dup := first[key]; dup {
			reported[m.refs[i].pos] = true
			e.add(m.refs[i].pos, m.refs[i].field, "", "duplicate %s %s (first at %s)", o.Kind, nsName(o.Namespace, o.Name), where(m.refs[j].pos))
			continue
		}
		first[key] = i
	}
	seen := map[string]int{}
	for i, p := range m.pods {
		key := p.Namespace + "/" + p.Name
		if j, dup := seen[key]; dup {
			r, f := p.ref("name"), m.pods[j].ref("name")
			if reported[r.pos] {
				continue // the duplicate Pod object is already reported
			}
			e.add(r.pos, r.field, "", "duplicate pod %s (first at %s)", key, where(f.pos))
			continue
		}
		seen[key] = i
	}
}

// header is what a document says about itself before it is decoded: enough to name it.
type header struct {
	apiVersion, kind, name, namespace string
	apiVersionNode, kindNode          *yaml.Node
}

func peek(n *yaml.Node) header {
	var h header
	var r resolver
	ps, _ := r.pairs(n)
	str := func(v *yaml.Node) string {
		if v = deref(v); class(v) == classString {
			return v.Value
		}
		return ""
	}
	for _, p := range ps {
		switch p.key.Value {
		case "apiVersion":
			h.apiVersion, h.apiVersionNode = str(p.val), p.val
		case "kind":
			h.kind, h.kindNode = str(p.val), p.val
		case "metadata":
			if m := deref(p.val); m.Kind == yaml.MappingNode {
				mps, _ := r.pairs(m)
				for _, mp := range mps {
					switch mp.key.Value {
					case "name":
						h.name = str(mp.val)
					case "namespace":
						h.namespace = str(mp.val)
					}
				}
			}
		}
	}
	return h
}

// label names a document in error fields: " (Service default/web)".
func (h header) label() string {
	switch {
	case h.kind == "":
		return ""
	case h.name == "":
		return " (" + h.kind + ")"
	case clusterScoped[h.kind]:
		return " (" + h.kind + " " + h.name + ")"
	}
	ns := h.namespace
	if ns == "" {
		ns = "default"
	}
	return " (" + h.kind + " " + ns + "/" + h.name + ")"
}

// checkMeta validates metadata the way the API server does.
func (d *doc) checkMeta(apiVersion, kind string, meta metav1.Object) {
	d.checkObjectName("metadata", kind, meta.GetName(), meta.GetGenerateName())
	if ns := meta.GetNamespace(); ns != "" && !clusterScoped[kind] {
		if msgs := validation.IsDNS1123Label(ns); len(msgs) > 0 {
			d.add("metadata.namespace", "", "invalid value %q: %s", ns, strings.Join(msgs, "; "))
		}
	}
	d.checkLabels("metadata.labels", meta.GetLabels())
	d.checkAnnotations("metadata.annotations", meta.GetAnnotations())
}

func (d *doc) checkObjectName(metaPath, kind, name, generateName string) {
	path := metaPath + ".name"
	if name == "" {
		hint := ""
		if generateName != "" {
			hint = "podlab needs fixed names: replace generateName with name"
		}
		d.add(path, hint, "required")
		return
	}
	var msgs []string
	switch {
	case kind == "Service" || kind == "Namespace":
		msgs = validation.IsDNS1123Label(name)
	case strings.HasPrefix(kind, "Role") || strings.HasPrefix(kind, "ClusterRole"):
		msgs = pathSegmentName(name)
	default:
		msgs = validation.IsDNS1123Subdomain(name)
	}
	if len(msgs) > 0 {
		d.add(path, "", "invalid value %q: %s", name, strings.Join(msgs, "; "))
	}
}

// pathSegmentName is the API server's rule for RBAC names (they may contain ':').
func pathSegmentName(name string) []string {
	if name == "." || name == ".." {
		return []string{fmt.Sprintf("may not be %q", name)}
	}
	if strings.ContainsAny(name, "/%") {
		return []string{"may not contain '/' or '%'"}
	}
	return nil
}

func (d *doc) checkLabels(path string, labels map[string]string) {
	for _, k := range sortedKeys(labels) {
		p := path + "[" + k + "]"
		if msgs := validation.IsQualifiedName(k); len(msgs) > 0 {
			d.add(p, "", "invalid label key %q: %s", k, strings.Join(msgs, "; "))
		}
		if msgs := validation.IsValidLabelValue(labels[k]); len(msgs) > 0 {
			d.add(p, "", "invalid label value %q: %s", labels[k], strings.Join(msgs, "; "))
		}
	}
}

func (d *doc) checkAnnotations(path string, annotations map[string]string) {
	for _, k := range sortedKeys(annotations) {
		if msgs := validation.IsQualifiedName(strings.ToLower(k)); len(msgs) > 0 {
			d.add(path+"["+k+"]", "", "invalid annotation key %q: %s", k, strings.Join(msgs, "; "))
		}
	}
}

func nsName(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + "/" + name
}

// where renders a position for "first at" references: "lab.yaml:12".
func where(p Pos) string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d", p.File, p.Line)
}
