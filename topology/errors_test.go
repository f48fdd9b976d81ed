package topology

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
)

// files is an in-memory directory for Parse's readFile.
type files map[string]string

func (f files) read(name string) ([]byte, error) {
	if s, ok := f[name]; ok {
		return []byte(s), nil
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

// render lists each error as the user sees it.
func render(err error) []string {
	var es Errors
	if !errors.As(err, &es) {
		if err == nil {
			return nil
		}
		return []string{"not Errors: " + err.Error()}
	}
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Error()
	}
	return out
}

func checkErrors(t *testing.T, got error, want []string) {
	t.Helper()
	g := render(got)
	if strings.Join(g, "\n---\n") != strings.Join(want, "\n---\n") {
		var b strings.Builder
		for _, s := range g {
			fmt.Fprintf(&b, "\t\t\t%q,\n", s)
		}
		t.Errorf("errors differ\ngot:\n%s\nwant:\n%s", b.String(), strings.Join(want, "\n"))
	}
}

const twoNodes = "nodes:\n  - name: n1\n  - name: n2\n"

func TestLabErrors(t *testing.T) {
	tests := []struct {
		name  string
		lab   string
		files files // extra files, relative to the lab file
		want  []string
	}{
		{name: "load balancer pool", lab: "name: a\ncluster:\n  loadBalancerPool: [172.30.0.240/28, 10.0.0.1, 172.30.0.1/33]\n" + twoNodes, want: []string{
			"lab.yaml:3:39: cluster.loadBalancerPool[1]: 10.0.0.1/32 is not inside cluster.underlay 172.30.0.0/24\n  hint: LoadBalancer IPs are answered on the underlay: pick a range inside 172.30.0.0/24, e.g. its top addresses",
			"lab.yaml:3:49: cluster.loadBalancerPool[2]: invalid CIDR \"172.30.0.1/33\": prefix length \"33\" is out of range\n  hint: the prefix length of an IPv4 range is 0..32, e.g. 172.30.0.240/28",
		}},
		{name: "syntax", lab: "name: a\nnodes:\n  - name: n1\n    role: worker: x\n", want: []string{
			"lab.yaml:4: yaml: mapping values are not allowed in this context",
		}},
		{name: "key one space out", lab: "name: a\n" + twoNodes + "manifests:\n  - apiVersion: v1\n    kind: Service\n    metadata: {name: web}\n    spec:\n      ports:\n      - port: 80\n       targetPort: 8080\n      type: ClusterIP\n", want: []string{
			"lab.yaml:12:8: yaml: bad indentation: targetPort (7 spaces) lines up with no key above it\n  hint: YAML nests by indentation: indent targetPort 8 spaces, as port on line 11",
		}},
		{name: "key one space in", lab: "name: a\n" + twoNodes + "manifests:\n  - apiVersion: v1\n    kind: Service\n    metadata: {name: web}\n    spec:\n      ports:\n        - port: 80\n          protocol: TCP\n           targetPort: 8080\n", want: []string{
			"lab.yaml:13:12: yaml: bad indentation: targetPort (11 spaces) is deeper than protocol above it, which has a value\n  hint: YAML nests by indentation: indent targetPort 10 spaces, as protocol on line 12",
		}},
		{name: "list item key out", lab: "name: a\nnodes:\n  - name: n1\n   role: worker\n", want: []string{
			"lab.yaml:4:4: yaml: bad indentation: role (3 spaces) lines up with no key above it\n  hint: YAML nests by indentation: indent role 4 spaces, as name on line 3",
		}},
		{name: "kubernetes manifest", lab: "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n", want: []string{
			"lab.yaml:2:7: this is a Kubernetes manifest (Deployment default/web), not a lab file\n  hint: list it under manifests: in a lab file\n          name: basics\n          nodes:\n            - name: worker-1\n          manifests:\n            - lab.yaml\n        or apply it to a running lab: podlab apply -f lab.yaml",
		}},
		{name: "kubernetes manifests", lab: "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\n", want: []string{
			"lab.yaml:2:7: this is a Kubernetes manifest (Service default/web and 1 more object), not a lab file\n  hint: list it under manifests: in a lab file\n          name: basics\n          nodes:\n            - name: worker-1\n          manifests:\n            - lab.yaml\n        or apply it to a running lab: podlab apply -f lab.yaml",
		}},
		{name: "tab", lab: "name: a\nnodes:\n\t- name: n1\n", want: []string{
			"lab.yaml:3:1: yaml: tab character in indentation\n  hint: YAML indents with spaces only: replace the tabs with spaces",
		}},
		{name: "empty", lab: "", want: []string{
			"lab.yaml: empty lab file\n  hint: a lab needs at least a name and nodes, e.g.\n        name: basics\n        nodes:\n          - name: worker-1",
		}},
		{name: "only comments", lab: "# nothing yet\n", want: []string{
			"lab.yaml: empty lab file\n  hint: a lab needs at least a name and nodes, e.g.\n        name: basics\n        nodes:\n          - name: worker-1",
		}},
		{name: "two documents", lab: "name: a\n" + twoNodes + "---\nname: b\n", want: []string{
			"lab.yaml:6:1: a lab file holds one YAML document, found 2\n  hint: put Kubernetes objects in a manifests file and list it under manifests:",
		}},
		{name: "not a map", lab: "- name: a\n", want: []string{
			"lab.yaml:1:1: expected a map, got a list\n  hint: a lab file is a map, e.g.\n        name: basics\n        nodes:\n          - name: worker-1",
		}},
		{name: "unknown field", lab: "name: a\nnode:\n  - name: n1\n", want: []string{
			"lab.yaml:2:1: node: unknown field \"node\"; did you mean \"nodes\"?",
		}},
		{name: "unknown field no suggestion", lab: "name: a\n" + twoNodes + "colour: red\n", want: []string{
			"lab.yaml:5:1: colour: unknown field \"colour\"\n  hint: fields here: checks, cluster, hosts, manifests, name, nodes, pods, runtime",
		}},
		{name: "unknown nested field", lab: "name: a\nnodes:\n  - name: n1\n    lables: {zone: a}\n", want: []string{
			"lab.yaml:4:5: nodes[0].lables: unknown field \"lables\"; did you mean \"labels\"?",
		}},
		{name: "ports as map", lab: "name: a\n" + twoNodes + "pods:\n  - name: p0\n  - name: p1\n    ports: {port: 80}\n", want: []string{
			"lab.yaml:8:12: pods[1].ports: expected a list, got a map\n  hint: write ports as a list, e.g. ports: [80, \"81/udp\"]",
		}},
		{name: "nodes as map", lab: "name: a\nnodes:\n  name: n1\n", want: []string{
			"lab.yaml:3:3: nodes: expected a list, got a map\n  hint: write each node as a list item: nodes:\n          - name: worker-1",
		}},
		{name: "number for string", lab: "name: 123\n" + twoNodes, want: []string{
			"lab.yaml:1:7: name: expected a string, got a number\n  hint: put the value in quotes: \"123\"",
		}},
		{name: "string for number", lab: "name: a\ncluster:\n  mtu: \"1500\"\n" + twoNodes, want: []string{
			"lab.yaml:3:8: cluster.mtu: expected a number, got a string\n  hint: remove the quotes: 1500",
		}},
		{name: "network policy settings", lab: "name: a\ncluster:\n  networkPolicy:\n    enforceEstablished: \"true\"\n    enforceEstablishd: true\n" + twoNodes, want: []string{
			"lab.yaml:4:25: cluster.networkPolicy.enforceEstablished: expected true or false, got a string\n  hint: remove the quotes: true",
			"lab.yaml:5:5: cluster.networkPolicy.enforceEstablishd: unknown field \"enforceEstablishd\"; did you mean \"enforceEstablished\"?",
		}},
		{name: "network policy as a boolean", lab: "name: a\ncluster:\n  networkPolicy: true\n" + twoNodes, want: []string{
			"lab.yaml:3:18: cluster.networkPolicy: expected a map, got a boolean",
		}},
		{name: "yes is a boolean", lab: "name: a\nnodes:\n  - name: n1\n    labels: {enabled: yes, version: 1.0}\n", want: []string{
			"lab.yaml:4:23: nodes[0].labels[enabled]: expected a string, got a boolean\n  hint: put the value in quotes: \"yes\"",
			"lab.yaml:4:37: nodes[0].labels[version]: expected a string, got a number\n  hint: put the value in quotes: \"1.0\"",
		}},
		{name: "duplicate key", lab: "name: a\nname: b\n" + twoNodes, want: []string{
			"lab.yaml:2:1: name: duplicate key \"name\" (first at line 1)",
		}},
		{name: "missing name and nodes", lab: "runtime: netns\n", want: []string{
			"lab.yaml:1:1: name: required\n  hint: name the lab, e.g. name: basics",
			"lab.yaml:1:1: nodes: required: a lab needs at least one node\n  hint: nodes:\n          - name: control-plane\n            role: control-plane\n          - name: worker-1",
		}},
		{name: "no nodes", lab: "name: a\nnodes: []\n", want: []string{
			"lab.yaml:2:8: nodes: a lab needs at least one node\n  hint: nodes:\n          - name: control-plane\n            role: control-plane\n          - name: worker-1",
		}},
		{name: "bad lab name", lab: "name: My Lab\n" + twoNodes, want: []string{
			"lab.yaml:1:7: name: invalid lab name \"My Lab\": use 1 to 24 lowercase letters, digits and '-', starting and ending with a letter or digit\n  hint: e.g. name: my-lab",
		}},
		{name: "enums", lab: "name: a\nruntime: Docker\ncluster:\n  overlay: vxlann\n  cni: calico\nnodes:\n  - name: n1\n    role: master\n", want: []string{
			"lab.yaml:2:10: runtime: unsupported value \"Docker\"; did you mean \"docker\"?\n  hint: supported values: \"docker\", \"netns\"",
			"lab.yaml:4:12: cluster.overlay: unsupported value \"vxlann\"; did you mean \"vxlan\"?\n  hint: supported values: \"host-gw\", \"vxlan\"",
			"lab.yaml:5:8: cluster.cni: unsupported value \"calico\"\n  hint: supported values: \"bridge\", \"podlab\"",
			"lab.yaml:8:11: nodes[0].role: unsupported value \"master\"; did you mean \"control-plane\"?\n  hint: supported values: \"control-plane\", \"worker\"",
		}},
		{name: "cidr syntax", lab: "name: a\ncluster:\n  podCIDR: 10.244.0.0/33\n  serviceCIDR: 10.96.1.0/12\n  underlay: 172.30.0.0\n" + twoNodes, want: []string{
			"lab.yaml:3:12: cluster.podCIDR: invalid CIDR \"10.244.0.0/33\": prefix length \"33\" is out of range\n  hint: the prefix length of an IPv4 range is 0..32, e.g. 10.244.0.0/16",
			"lab.yaml:4:16: cluster.serviceCIDR: \"10.96.1.0/12\" has host bits set\n  hint: did you mean 10.96.0.0/12?",
			"lab.yaml:5:13: cluster.underlay: invalid CIDR \"172.30.0.0\": missing prefix length\n  hint: write address/length, e.g. 172.30.0.0/24",
		}},
		{name: "cidr ipv6 and garbage", lab: "name: a\ncluster:\n  podCIDR: fd00::/48\n  serviceCIDR: ten/8\n" + twoNodes, want: []string{
			"lab.yaml:3:12: cluster.podCIDR: IPv6 is not supported yet: \"fd00::/48\"\n  hint: use an IPv4 range such as 10.244.0.0/16",
			"lab.yaml:4:16: cluster.serviceCIDR: invalid CIDR \"ten/8\": \"ten\" is not an IP address\n  hint: write an IPv4 range such as 10.96.0.0/12",
		}},
		{name: "cidr overlap", lab: "name: a\ncluster:\n  podCIDR: 10.96.0.0/16\n  underlay: 10.96.5.0/24\n" + twoNodes, want: []string{
			"lab.yaml:3:12: cluster.podCIDR: 10.96.0.0/16 overlaps cluster.serviceCIDR 10.96.0.0/12\n  hint: pod, service and underlay ranges must not overlap; the defaults are podCIDR 10.244.0.0/16, serviceCIDR 10.96.0.0/12 and underlay 172.30.0.0/24",
			"lab.yaml:4:13: cluster.underlay: 10.96.5.0/24 overlaps cluster.podCIDR 10.96.0.0/16\n  hint: pod, service and underlay ranges must not overlap; the defaults are podCIDR 10.244.0.0/16, serviceCIDR 10.96.0.0/12 and underlay 172.30.0.0/24",
			"lab.yaml:4:13: cluster.underlay: 10.96.5.0/24 overlaps cluster.serviceCIDR 10.96.0.0/12\n  hint: pod, service and underlay ranges must not overlap; the defaults are podCIDR 10.244.0.0/16, serviceCIDR 10.96.0.0/12 and underlay 172.30.0.0/24",
		}},
		{name: "node mask too small", lab: "name: a\ncluster:\n  podCIDR: 10.244.0.0/24\n" + twoNodes, want: []string{
			"lab.yaml:3:3: cluster.nodeCIDRMaskSize: 24 (the default) must be larger than podCIDR's prefix length 24 and at most 28\n  hint: node subnets must be smaller than the podCIDR and hold at least a few pods: pick 25..28",
		}},
		{name: "node mask too large", lab: "name: a\ncluster:\n  nodeCIDRMaskSize: 30\n  mtu: 100\n  domain: Cluster_Local\n" + twoNodes, want: []string{
			"lab.yaml:3:21: cluster.nodeCIDRMaskSize: 30 must be larger than podCIDR's prefix length 16 and at most 28\n  hint: node subnets must be smaller than the podCIDR and hold at least a few pods: pick 17..28",
			"lab.yaml:4:8: cluster.mtu: mtu 100 is out of range 1280..9000",
			"lab.yaml:5:11: cluster.domain: invalid domain \"Cluster_Local\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
		}},
		{name: "too many nodes", lab: "name: a\ncluster:\n  podCIDR: 10.244.0.0/23\nnodes:\n  - name: n1\n  - name: n2\n  - name: n3\n", want: []string{
			"lab.yaml:5:3: nodes: 3 nodes, but podCIDR 10.244.0.0/23 split into /24 node subnets gives only 2\n  hint: use a larger podCIDR (e.g. 10.244.0.0/22) or a larger nodeCIDRMaskSize for smaller node subnets (e.g. 25)",
		}},
		{name: "duplicate names", lab: "name: a\nnodes:\n  - name: n1\n  - name: n1\n  - name: Worker_1\nhosts:\n  - name: n1\n  - name: h1\n  - name: h1\n  - {}\n", want: []string{
			"lab.yaml:4:11: nodes[1].name: duplicate node name \"n1\" (first at lab.yaml:3)",
			"lab.yaml:5:11: nodes[2].name: invalid node name \"Worker_1\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
			"lab.yaml:7:11: hosts[0].name: \"n1\" is already the name of a node (lab.yaml:3)\n  hint: nodes and hosts share one set of names: each is a machine on the underlay",
			"lab.yaml:9:11: hosts[2].name: duplicate host name \"h1\" (first at lab.yaml:8)",
			"lab.yaml:10:5: hosts[3].name: required",
		}},
		{name: "node labels", lab: "name: a\nnodes:\n  - name: n1\n    labels: {\"bad key!\": a, zone: \"-x\"}\n", want: []string{
			"lab.yaml:4:26: nodes[0].labels[bad key!]: invalid label key \"bad key!\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
			"lab.yaml:4:35: nodes[0].labels[zone]: invalid label value \"-x\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
		}},
		{name: "underlay pins", lab: "name: a\nnodes:\n  - {name: n1, ip: 10.0.0.5}\n  - {name: n2, ip: 172.30.0.1}\n  - {name: n3, ip: 172.30.0.10}\nhosts:\n  - {name: h1, ip: 172.30.0.10}\n  - {name: h2, ip: 172.30.0.255}\n  - {name: h3, ip: 172.30.0.x}\n", want: []string{
			"lab.yaml:3:20: nodes[0].ip: 10.0.0.5 is outside the underlay 172.30.0.0/24\n  hint: pick an address in 172.30.0.0/24, e.g. 172.30.0.10",
			"lab.yaml:4:20: nodes[1].ip: 172.30.0.1 is reserved for the underlay gateway",
			"lab.yaml:7:20: hosts[0].ip: 172.30.0.10 is already pinned by nodes[2].ip (lab.yaml:5)",
			"lab.yaml:8:20: hosts[1].ip: 172.30.0.255 is the underlay's network or broadcast address",
			"lab.yaml:9:20: hosts[2].ip: invalid IP address \"172.30.0.x\"\n  hint: write an IPv4 address such as 10.244.1.50",
		}},
		{name: "underlay too small", lab: "name: a\ncluster:\n  underlay: 172.30.0.0/30\n" + twoNodes + "hosts:\n  - name: client\n", want: []string{
			"lab.yaml:3:13: cluster.underlay: 172.30.0.0/30 has 1 address for nodes and hosts, but the lab has 2 nodes and 1 host\n  hint: use a larger underlay, e.g. 172.30.0.0/24",
		}},
		{name: "missing node", lab: "name: a\nnodes:\n  - name: worker-1\n  - name: worker-2\npods:\n  - {name: p, node: worker-3}\n", want: []string{
			"lab.yaml:6:21: pods[0].node: no node named \"worker-3\"; did you mean \"worker-1\"?\n  hint: nodes: worker-1, worker-2",
		}},
		{name: "selector matches no node", lab: "name: a\nnodes:\n  - {name: n1, labels: {zone: a}}\n  - name: n2\npods:\n  - {name: p, nodeSelector: {zone: b}}\n  - {name: q, node: n2, nodeSelector: {zone: a}}\n  - {name: r, nodeSelector: {kubernetes.io/hostname: n2}}\n", want: []string{
			"lab.yaml:6:29: pods[0].nodeSelector: no node has the labels {zone: b}\n  hint: node labels: n1 {zone: a}, n2 {}",
			"lab.yaml:7:39: pods[1].nodeSelector: node n2 does not have the labels {zone: a}",
		}},
		{name: "pod pins", lab: "name: a\n" + twoNodes + "pods:\n" +
			"  - {name: p0, ip: 10.245.0.5}\n" +
			"  - {name: p1, ip: 10.244.0.1}\n" +
			"  - {name: p2, ip: 10.244.1.255}\n" +
			"  - {name: p3, ip: 10.244.1.50, node: n1}\n" +
			"  - {name: p4, ip: 10.244.0.50}\n" +
			"  - {name: p5, ip: 10.244.0.50}\n" +
			"  - {name: p6, ip: 10.244.7.5}\n" +
			"  - {name: p7, ip: \"fd00::1\"}\n", want: []string{
			"lab.yaml:6:20: pods[0].ip: 10.245.0.5 is outside podCIDR 10.244.0.0/16\n  hint: pick an address in 10.244.0.0/16, e.g. 10.244.0.10",
			"lab.yaml:7:20: pods[1].ip: 10.244.0.1 is the gateway of n1's pod subnet 10.244.0.0/24\n  hint: pods get 10.244.0.2 .. 10.244.0.254",
			"lab.yaml:8:20: pods[2].ip: 10.244.1.255 is the network or broadcast address of n2's pod subnet 10.244.1.0/24\n  hint: pods get 10.244.1.2 .. 10.244.1.254",
			"lab.yaml:9:20: pods[3].ip: 10.244.1.50 is in n2's pod subnet 10.244.1.0/24, but the pod is on n1\n  hint: pick an address in n1's subnet 10.244.0.0/24",
			"lab.yaml:11:20: pods[5].ip: 10.244.0.50 is already pinned by pod default/p4 (lab.yaml:10)",
			"lab.yaml:12:20: pods[6].ip: 10.244.7.5 is in node subnet 10.244.7.0/24, but only 2 nodes exist, owning 10.244.0.0/24 .. 10.244.1.0/24",
			"lab.yaml:13:20: pods[7].ip: IPv6 is not supported yet: \"fd00::1\"\n  hint: use an IPv4 address",
		}},
		{name: "node full", lab: "name: a\ncluster:\n  nodeCIDRMaskSize: 28\n" + twoNodes + "pods:\n" + podList(14, ", node: n1"), want: []string{
			"lab.yaml:21:23: pods[13].node: node n1 is full: it holds at most 13 pods (its /28 subnet has 10.244.0.2 .. 10.244.0.14)\n  hint: spread the pods over more nodes, or use larger node subnets (a smaller nodeCIDRMaskSize)",
		}},
		{name: "nodes full", lab: "name: a\ncluster:\n  nodeCIDRMaskSize: 28\n" + twoNodes + "pods:\n" + podList(27, ""), want: []string{
			"lab.yaml:34:12: pods[26].name: no room for pod default/p26: 27 pods to place on 2 nodes with room for 26 more\n  hint: add nodes, or use larger node subnets (a smaller nodeCIDRMaskSize)",
		}},
		{name: "ports", lab: "name: a\n" + twoNodes + "pods:\n  - name: p\n    ports:\n" +
			"      - \"81/udpp\"\n" +
			"      - 70000\n" +
			"      - {HTTP: 80}\n" +
			"      - {name: dns, prot: UDP}\n" +
			"      - {name: dns}\n" +
			"      - http\n" +
			"      - 80\n" +
			"      - \"80/TCP\"\n" +
			"      - {name: dns, port: 53, protocol: udp}\n" +
			"      - {dns: 54}\n" +
			"      - [1]\n", want: []string{
			"lab.yaml:8:9: pods[0].ports[0]: invalid port \"81/udpp\": unknown protocol \"udpp\"; did you mean \"UDP\"?\n  hint: write a port as 80, \"81/udp\", \"53/sctp\", {http: 8080} or {name: dns, port: 53, protocol: UDP}",
			"lab.yaml:9:9: pods[0].ports[1]: port 70000 is out of range 1..65535",
			"lab.yaml:10:10: pods[0].ports[2]: invalid port name \"HTTP\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-); must contain at least one letter (a-z)",
			"lab.yaml:11:21: pods[0].ports[3].prot: unknown field \"prot\"; did you mean \"port\"?\n  hint: write a port as 80, \"81/udp\", \"53/sctp\", {http: 8080} or {name: dns, port: 53, protocol: UDP}",
			"lab.yaml:12:9: pods[0].ports[4].port: required\n  hint: write a port as 80, \"81/udp\", \"53/sctp\", {http: 8080} or {name: dns, port: 53, protocol: UDP}",
			"lab.yaml:13:9: pods[0].ports[5]: invalid port \"http\": \"http\" is not a number\n  hint: write a port as 80, \"81/udp\", \"53/sctp\", {http: 8080} or {name: dns, port: 53, protocol: UDP}",
			"lab.yaml:15:9: pods[0].ports[7]: duplicate port 80/TCP (also ports[6])",
			"lab.yaml:17:9: pods[0].ports[9]: duplicate port name \"dns\" (also ports[8])",
			"lab.yaml:18:9: pods[0].ports[10]: expected a port, got a list\n  hint: write a port as 80, \"81/udp\", \"53/sctp\", {http: 8080} or {name: dns, port: 53, protocol: UDP}",
		}},
		{name: "duplicate pods", lab: "name: a\n" + twoNodes + "pods:\n  - name: p\n  - name: p\n  - {name: p, namespace: other}\n  - {name: P_1, namespace: Bad}\n", want: []string{
			"lab.yaml:7:11: pods[1].name: duplicate pod default/p (first at lab.yaml:6)",
			"lab.yaml:9:12: pods[3].name: invalid pod name \"P_1\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
			"lab.yaml:9:28: pods[3].namespace: invalid namespace \"Bad\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
		}},
		{name: "privileged pod template", lab: "name: a\n" + twoNodes + "manifests:\n  - manifests/app.yaml\n", files: files{"manifests/app.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: router}
spec:
  selector: {matchLabels: {app: router}}
  template:
    metadata: {labels: {app: router}}
    spec:
      containers:
        - name: frr
          image: frr
          securityContext:
            privileged: true
            capabilities: {add: [NET_ADMN]}
`}, want: []string{
			"manifests/app.yaml:13:25: documents[0] (Deployment default/router): spec.template.spec.containers[0].securityContext.privileged: privileged containers are not supported by podlab\n  hint: grant only what the pod needs: securityContext.capabilities.add: [NET_ADMIN]",
			"manifests/app.yaml:14:34: documents[0] (Deployment default/router): spec.template.spec.containers[0].securityContext.capabilities.add[0]: unknown capability \"NET_ADMN\"; did you mean \"NET_ADMIN\"?",
		}},
		{name: "missing manifest file", lab: "name: a\n" + twoNodes + "manifests:\n  - manifests/nope.yaml\n  - 42\n", want: []string{
			"lab.yaml:6:5: manifests[0]: cannot read manifest file manifests/nope.yaml: file does not exist\n  hint: paths are relative to the lab file's directory",
			"lab.yaml:7:5: manifests[1]: expected a file path or an inline object, got a number\n  hint: write a file path (manifests/app.yaml) or a Kubernetes object (apiVersion: v1 ...)",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := files{}
			for k, v := range tc.files {
				fs[k] = v
			}
			lab, err := Parse("lab.yaml", []byte(tc.lab), fs.read)
			if err == nil {
				t.Fatalf("no error; lab %+v", lab)
			}
			checkErrors(t, err, tc.want)
		})
	}
}

func podList(n int, extra string) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "  - {name: p%d%s}\n", i, extra)
	}
	return b.String()
}

// What a Kubernetes runtime takes is accepted: capabilities with or without CAP_, in
// any case, ALL, and privileged: false.
func TestSecurityContextAccepted(t *testing.T) {
	lab := "name: a\n" + twoNodes + "manifests:\n" +
		"  - apiVersion: v1\n    kind: Pod\n    metadata: {name: p}\n    spec:\n" +
		"      securityContext: {runAsUser: 1000, runAsGroup: 1000}\n" +
		"      containers:\n        - name: a\n          image: b\n          securityContext:\n" +
		"            privileged: false\n            readOnlyRootFilesystem: true\n" +
		"            capabilities: {add: [NET_ADMIN, cap_net_raw, CAP_SYS_TIME], drop: [ALL, all]}\n"
	l, err := Parse("lab.yaml", []byte(lab), files{}.read)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Pods) != 1 {
		t.Errorf("pods = %+v, want p", l.Pods)
	}
}
