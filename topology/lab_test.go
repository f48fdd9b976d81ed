package topology

import (
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

func TestLoadBasics(t *testing.T) {
	lab, err := Load("../labs/basics/lab.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if lab.Name != "basics" || len(lab.Nodes) != 3 || len(lab.Hosts) != 1 {
		t.Errorf("lab %s: %d nodes, %d hosts", lab.Name, len(lab.Nodes), len(lab.Hosts))
	}
	var pods []string
	for _, p := range lab.Pods {
		pods = append(pods, p.Namespace+"/"+p.Name)
	}
	if len(pods) != 4 || pods[0] != "default/web-1" || pods[1] != "default/web-2" {
		t.Errorf("pods = %v", pods)
	}
	if want := []string{"default", "shop"}; !reflect.DeepEqual(lab.Namespaces, want) {
		t.Errorf("namespaces = %v, want %v", lab.Namespaces, want)
	}
	var kinds []string
	for _, o := range lab.Objects {
		kinds = append(kinds, o.Kind+"/"+o.Name+"/"+map[bool]string{true: "applied", false: "kept"}[o.Applied])
	}
	if want := []string{"Namespace/shop/applied", "Deployment/api/applied", "Service/web/applied"}; !reflect.DeepEqual(kinds, want) {
		t.Errorf("objects = %v, want %v", kinds, want)
	}
	if !filepathIsAbs(lab.File) {
		t.Errorf("File = %q, want an absolute path", lab.File)
	}
}

func filepathIsAbs(p string) bool { return len(p) > 0 && p[0] == '/' }

// A lab file that is not there is invalid input (exit 2), named with a hint.
func TestLoadMissingFile(t *testing.T) {
	for _, tc := range []struct{ path, want string }{
		{"testdata/lab/nope.yaml", "testdata/lab/nope.yaml: no such lab file\n  hint: the path is relative to the current directory; YAML files in testdata/lab: lab.yaml"},
		{"testdata/lab/lab.yml", "testdata/lab/lab.yml: no such lab file; did you mean \"testdata/lab/lab.yaml\"?"},
		{"testdata/nodir/lab.yaml", "testdata/nodir/lab.yaml: no such lab file\n  hint: the path is relative to the current directory; testdata/nodir does not exist"},
		{"testdata/lab", "testdata/lab: expected a lab file, got a directory\n  hint: name the YAML file in it, e.g. testdata/lab/lab.yaml"},
	} {
		_, err := Load(tc.path)
		if got := strings.Join(render(err), "\n"); got != tc.want {
			t.Errorf("Load(%s):\ngot  %s\nwant %s", tc.path, got, tc.want)
		}
	}
}

func TestParseFull(t *testing.T) {
	lab, err := Load("testdata/lab/lab.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := lab.Cluster
	wantCluster := Cluster{
		PodCIDR: DefaultPodCIDR, NodeCIDRMaskSize: 24, ServiceCIDR: DefaultServiceCIDR, Domain: "cluster.local",
		Overlay: "vxlan", Underlay: DefaultUnderlay, CNI: "podlab", MTU: 1500,
	}
	if !reflect.DeepEqual(c, wantCluster) || lab.Runtime != "" { // "" = the configured default
		t.Errorf("cluster = %+v runtime %q", c, lab.Runtime)
	}
	cp := lab.Nodes[0]
	if cp.Role != "control-plane" || lab.Nodes[1].Role != "worker" || cp.PodCIDR != netip.MustParsePrefix("10.244.0.0/24") ||
		lab.Nodes[2].PodCIDR != netip.MustParsePrefix("10.244.2.0/24") {
		t.Errorf("nodes = %+v", lab.Nodes)
	}
	if want := map[string]string{"zone": "a", LabelHostname: "control-plane", LabelOS: "linux", LabelControlPlane: ""}; !reflect.DeepEqual(cp.Labels, want) {
		t.Errorf("control-plane labels = %v", cp.Labels)
	}
	web1 := lab.Pods[0]
	wantPorts := []Port{{"", 80, "TCP"}, {"", 81, "UDP"}, {"http", 8080, "TCP"}, {"", 8443, "TCP"}, {"dns", 53, "UDP"}}
	if web1.Namespace != "default" || web1.Node != "worker-1" || web1.IP != netip.MustParseAddr("10.244.1.50") ||
		web1.Image != "nginx:1.27" || !reflect.DeepEqual(web1.Ports, wantPorts) || web1.Pos.Line != 10 {
		t.Errorf("web-1 = %+v", web1)
	}
	if lab.Pods[1].Namespace != "front" {
		t.Errorf("web-2 = %+v", lab.Pods[1])
	}
	// Deployment replicas come next, in replica order, then the inline Pod.
	nameRE := regexp.MustCompile(`^api-[bcdfghjklmnpqrstvwxz2456789]{1,10}-[bcdfghjklmnpqrstvwxz2456789]{5}$`)
	hash := lab.Pods[2].Labels["pod-template-hash"]
	for _, p := range lab.Pods[2:5] {
		if !nameRE.MatchString(p.Name) || p.Namespace != "shop" || p.Owner != "Deployment/api" ||
			p.Labels["pod-template-hash"] != hash || p.Labels["tier"] != "backend" || p.Image != "podlab/workload" ||
			!reflect.DeepEqual(p.Ports, []Port{{"http", 8080, "TCP"}, {"", 9090, "UDP"}}) {
			t.Errorf("replica = %+v", p)
		}
	}
	if lab.Pods[2].Name == lab.Pods[3].Name || lab.Pods[3].Name == lab.Pods[4].Name {
		t.Errorf("replica names repeat")
	}
	db := lab.Pods[5]
	if db.Name != "db" || db.Namespace != "data" || db.Node != "worker-2" || db.IP != netip.MustParseAddr("10.244.2.40") ||
		!reflect.DeepEqual(db.Ports, []Port{{"", 5432, "TCP"}}) || db.Pos.Line != 21 {
		t.Errorf("db = %+v", db)
	}
	if want := []string{"data", "default", "front", "locked", "shop"}; !reflect.DeepEqual(lab.Namespaces, want) {
		t.Errorf("namespaces = %v", lab.Namespaces)
	}
	if len(lab.Objects) != 5 {
		t.Fatalf("%d objects", len(lab.Objects))
	}
	svc := lab.Objects[2]
	if svc.Kind != "Service" || svc.Namespace != "default" || !svc.Applied || svc.Pos.File != "testdata/lab/manifests/web.yaml" || svc.Pos.Line != 24 {
		t.Errorf("service = %+v", svc)
	}
	var raw map[string]any
	if err := json.Unmarshal(svc.Raw, &raw); err != nil || raw["kind"] != "Service" {
		t.Errorf("raw = %s (%v)", svc.Raw, err)
	}
	if np := lab.Objects[3]; np.Namespace != "locked" || !np.Applied {
		t.Errorf("networkpolicy = %+v", np)
	}
	// Names are deterministic: a second load gives the same pods.
	again, _ := Load("testdata/lab/lab.yaml")
	if !reflect.DeepEqual(again.Pods, lab.Pods) {
		t.Errorf("second load differs")
	}
}

// A manifest pod no node fits is what an API server accepts: a warning, and the pod
// stays Pending (not among the pods deploy builds).
func TestLabPendingWarnings(t *testing.T) {
	web := files{"manifests/web.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: web-1}\nspec:\n  nodeName: wrker-1\n  containers: [{name: a, image: b}]\n"}
	lab := "name: a\nnodes:\n  - name: worker-1\nmanifests:\n  - manifests/web.yaml\n" +
		"  - apiVersion: apps/v1\n    kind: Deployment\n    metadata: {name: web-2}\n    spec:\n      selector: {matchLabels: {app: x}}\n" +
		"      template: {metadata: {labels: {app: x}}, spec: {nodeSelector: {zone: z}, containers: [{name: a, image: b}]}}\n"
	l, err := Parse("lab.yaml", []byte(lab), web.read)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Pods) != 0 {
		t.Errorf("pending pods were planned: %+v", l.Pods)
	}
	var got []string
	for _, w := range l.Warnings {
		got = append(got, w.Error())
	}
	want := []string{
		"manifests/web.yaml:5:13: documents[0] (Pod default/web-1): spec.nodeName: no node named \"wrker-1\"; did you mean \"worker-1\"?: the pod is accepted and stays Pending, as on a cluster, until such a node exists\n  hint: nodes: worker-1",
		"lab.yaml:11:69: manifests[1] (Deployment default/web-2): spec.template.spec.nodeSelector: no node has the labels {zone: z}: the pod is accepted and stays Pending (0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector)\n  hint: node labels: worker-1 {}\n        once deployed, `podlab label node NAME KEY=VALUE` lets the scheduler place it",
	}
	if strings.Join(got, "\n---\n") != strings.Join(want, "\n---\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n---\n"), strings.Join(want, "\n---\n"))
	}
}

func TestLabManifestErrors(t *testing.T) {
	web := files{"manifests/web.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: web-1}\nspec:\n  nodeName: wrker-1\n  containers: [{name: a, image: b}]\n",
		"manifests/bad.yaml":  "apiVersion: v1\nkind: [\n",
		"manifests/many.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: b}\nspec: {type: Nodeport}\n"}
	lab := "name: a\nnodes:\n  - name: worker-1\npods:\n  - name: web-1\nmanifests:\n  - manifests/web.yaml\n  - manifests/bad.yaml\n" +
		"  - apiVersion: v1\n    kind: Service\n    metadata: {name: web}\n    spec: {type: NodePrt}\n" +
		"  - apiVersion: apps/v1\n    kind: Deployment\n    metadata: {name: web-1}\n    spec:\n      selector: {matchLabels: {app: x}}\n" +
		"      template: {metadata: {labels: {app: x}}, spec: {nodeSelector: {zone: z}, containers: [{name: a, image: b}]}}\n" +
		"  - manifests/many.yaml\n"
	_, err := Parse("lab.yaml", []byte(lab), web.read)
	checkErrors(t, err, []string{
		"lab.yaml:12:18: manifests[2] (Service default/web): spec.type: unsupported value \"NodePrt\"; did you mean \"NodePort\"?\n  hint: supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\"",
		"manifests/web.yaml:3:18: documents[0] (Pod default/web-1): metadata.name: duplicate pod default/web-1 (first at lab.yaml:5)",
		"manifests/bad.yaml:2: yaml: did not find expected node content",
		"manifests/many.yaml:8:14: documents[1] (Service default/b): spec.type: unsupported value \"Nodeport\"; did you mean \"NodePort\"?\n  hint: supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\"",
	})
	var es Errors
	if !errors.As(err, &es) {
		t.Fatal("not Errors")
	}
	e := es[0]
	if e.File != "lab.yaml" || e.Line != 12 || e.Col != 18 || e.Field != "manifests[2] (Service default/web): spec.type" ||
		e.Msg != `unsupported value "NodePrt"; did you mean "NodePort"?` || e.Hint == "" {
		t.Errorf("error fields = %+v", *e)
	}
}

func TestLoadManifests(t *testing.T) {
	data, err := os.ReadFile("testdata/lab/manifests/web.yaml")
	if err != nil {
		t.Fatal(err)
	}
	objs, pods, err := LoadManifests("web.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 4 || len(pods) != 3 || !objs[1].Applied || !objs[2].Applied || !objs[3].Applied {
		t.Errorf("objects %+v, pods %+v", objs, pods)
	}
}

func TestErrorFormat(t *testing.T) {
	e := &Error{Pos: Pos{File: "lab.yaml", Line: 12, Col: 7}, Field: "pods[1].ports", Msg: "expected a list, got a map",
		Hint: "write ports as a list, e.g. ports: [80, \"81/udp\"]"}
	want := "lab.yaml:12:7: pods[1].ports: expected a list, got a map\n  hint: write ports as a list, e.g. ports: [80, \"81/udp\"]"
	if e.Error() != want {
		t.Errorf("got %q", e.Error())
	}
	es := Errors{e, {Pos: Pos{File: "lab.yaml", Line: 4}, Msg: "yaml: mapping values are not allowed in this context"}}
	if got := es.Error(); got != want+"\nlab.yaml:4: yaml: mapping values are not allowed in this context" {
		t.Errorf("got %q", got)
	}
	var wrapped error = es
	if !errors.As(wrapped, &Errors{}) {
		t.Error("errors.As failed")
	}
}

func TestSuggest(t *testing.T) {
	for _, tc := range []struct {
		got     string
		options []string
		want    string
	}{
		{"ClusterIp", []string{"ClusterIP", "NodePort"}, "ClusterIP"},
		{"contaners", []string{"containers", "initContainers"}, "containers"},
		{"Deploymnet", []string{"DaemonSet", "Deployment"}, "Deployment"},
		{"worker-3", []string{"control-plane", "worker-1", "worker-2"}, "worker-1"},
		{"xyz", []string{"containers"}, ""},
		{"", []string{"a"}, ""},
		{"ab", []string{"id"}, ""},
	} {
		if s := Suggest(tc.got, tc.options); s != tc.want {
			t.Errorf("Suggest(%q) = %q, want %q", tc.got, s, tc.want)
		}
	}
}

// An alias bomb must fail fast instead of expanding ten million nodes.
func TestAliasBomb(t *testing.T) {
	bomb := `a: &a [x, x, x, x, x, x, x, x, x, x]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]
`
	docs, perr := parseYAML("b.yaml", []byte(bomb))
	if perr != nil {
		t.Fatal(perr)
	}
	if _, err := toJSON(docs[0]); err != errTooLarge {
		t.Errorf("toJSON: %v", err)
	}
	var e errs
	w := newWalker("b.yaml", "", &e)
	g := docs[0].Content[13]
	w.walk(g, reflect.TypeFor[[][][][][][][]string](), "g", 0)
	if len(e.list) != 1 || e.list[0].Msg != errTooLarge.Error() {
		t.Errorf("walk: %v", e.list)
	}
}

// cluster.networkPolicy.enforceEstablished is off unless the lab says so; YAML's other
// spellings of true are read as the API server reads them.
func TestNetworkPolicySettings(t *testing.T) {
	for _, tc := range []struct {
		cluster string
		want    bool
	}{
		{"", false},
		{"cluster:\n  networkPolicy: {}\n", false},
		{"cluster:\n  networkPolicy:\n    enforceEstablished: false\n", false},
		{"cluster:\n  networkPolicy:\n    enforceEstablished: true\n", true},
		{"cluster:\n  networkPolicy: {enforceEstablished: yes}\n", true},
	} {
		lab, err := Parse("lab.yaml", []byte("name: a\n"+tc.cluster+twoNodes), files{}.read)
		if err != nil {
			t.Fatalf("%q: %v", tc.cluster, err)
		}
		if got := lab.Cluster.NetworkPolicy.EnforceEstablished; got != tc.want {
			t.Errorf("%q: enforceEstablished = %v, want %v", tc.cluster, got, tc.want)
		}
	}
}

// cluster.ingress.controller brings the ingress controller up from the start.
func TestIngressSettings(t *testing.T) {
	for _, tc := range []struct {
		cluster string
		want    bool
	}{
		{"", false},
		{"cluster:\n  ingress: {}\n", false},
		{"cluster:\n  ingress:\n    controller: true\n", true},
	} {
		lab, err := Parse("lab.yaml", []byte("name: a\n"+tc.cluster+twoNodes), files{}.read)
		if err != nil {
			t.Fatalf("%q: %v", tc.cluster, err)
		}
		if got := lab.Cluster.Ingress.Controller; got != tc.want {
			t.Errorf("%q: ingress.controller = %v, want %v", tc.cluster, got, tc.want)
		}
	}
	if _, err := Parse("lab.yaml", []byte("name: a\ncluster:\n  ingress:\n    contoller: true\n"+twoNodes), files{}.read); err == nil || !strings.Contains(err.Error(), "controller") {
		t.Errorf("a misspelt key: %v", err)
	}
}
