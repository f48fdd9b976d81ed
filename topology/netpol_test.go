package topology

import "testing"

// NetworkPolicies the API server rejects, with its messages, a file position and a hint.
func TestNetworkPolicyErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{name: "ipBlock", yaml: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p}
spec:
  podSelector: {}
  ingress:
  - from:
    - ipBlock: {cidr: 10.0.0.0/33}
    - ipBlock: {cidr: 10.0.0.0/16, except: [10.1.0.0/24, 10.0.0.0/16, 10.0.0.0/8, 10.0.1.0/240]}
    - ipBlock: {cidr: 10.0.0.0/8}
      podSelector: {}
    - {}
    - ipBlock: {cidr: ""}
`, want: []string{
			"np.yaml:8:23: documents[0] (NetworkPolicy default/p): spec.ingress[0].from[0].ipBlock.cidr: Invalid value: \"10.0.0.0/33\": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)\n  hint: write an address block with its prefix length, e.g. 10.244.0.0/16, or 10.244.1.5/32 for one address",
			"np.yaml:9:45: documents[0] (NetworkPolicy default/p): spec.ingress[0].from[1].ipBlock.except[0]: Invalid value: \"10.1.0.0/24\": must be a strict subset of `cidr`\n  hint: an except block must be smaller than cidr and inside it, e.g. cidr: 10.0.0.0/16, except: [10.0.1.0/24]",
			"np.yaml:9:58: documents[0] (NetworkPolicy default/p): spec.ingress[0].from[1].ipBlock.except[1]: Invalid value: \"10.0.0.0/16\": must be a strict subset of `cidr`\n  hint: an except block must be smaller than cidr and inside it, e.g. cidr: 10.0.0.0/16, except: [10.0.1.0/24]",
			"np.yaml:9:71: documents[0] (NetworkPolicy default/p): spec.ingress[0].from[1].ipBlock.except[2]: Invalid value: \"10.0.0.0/8\": must be a strict subset of `cidr`\n  hint: an except block must be smaller than cidr and inside it, e.g. cidr: 10.0.0.0/16, except: [10.0.1.0/24]",
			"np.yaml:9:83: documents[0] (NetworkPolicy default/p): spec.ingress[0].from[1].ipBlock.except[3]: Invalid value: \"10.0.1.0/240\": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)\n  hint: write an address block with its prefix length, e.g. 10.244.0.0/16, or 10.244.1.5/32 for one address",
			"np.yaml:10:7: documents[0] (NetworkPolicy default/p): spec.ingress[0].from[2]: Forbidden: may not specify both ipBlock and another peer\n  hint: ipBlock cannot be combined with selectors: write it as its own list item\n          - ipBlock: {cidr: 10.0.0.0/8}\n          - podSelector: {matchLabels: {app: web}}",
			"np.yaml:12:7: documents[0] (NetworkPolicy default/p): spec.ingress[0].from[3]: Required value: must specify a peer\n  hint: a peer is a podSelector, a namespaceSelector (both in one entry: pods of those namespaces) or an ipBlock;\n        to allow every peer, leave out from/to",
			"np.yaml:13:23: documents[0] (NetworkPolicy default/p): spec.ingress[0].from[4].ipBlock.cidr: Required value\n  hint: write an address block with its prefix length, e.g. 10.244.0.0/16, or 10.244.1.5/32 for one address",
		}},
		{name: "ports", yaml: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - ports:
    - {endPort: 90}
    - {port: web, endPort: 90}
    - {port: 90, endPort: 80}
    - {port: 0}
    - {port: 80, endPort: 70000}
    - {port: serve_80}
    - {port: 53, protocol: ICMP}
`, want: []string{
			"np.yaml:9:17: documents[0] (NetworkPolicy default/p): spec.egress[0].ports[0].endPort: Invalid value: 90: may not be specified when `port` is not specified\n  hint: endPort ends a range that starts at port: port: 32000, endPort: 32768",
			"np.yaml:10:28: documents[0] (NetworkPolicy default/p): spec.egress[0].ports[1].endPort: Invalid value: 90: may not be specified when `port` is non-numeric\n  hint: a range needs numbers: write the first port number instead of the name, or drop endPort",
			"np.yaml:11:27: documents[0] (NetworkPolicy default/p): spec.egress[0].ports[2].endPort: Invalid value: 80: must be greater than or equal to `port`\n  hint: endPort is the last port of the range that starts at port: swap them, or set endPort to at least port",
			"np.yaml:12:14: documents[0] (NetworkPolicy default/p): spec.egress[0].ports[3].port: Invalid value: 0: must be between 1 and 65535, inclusive",
			"np.yaml:13:27: documents[0] (NetworkPolicy default/p): spec.egress[0].ports[4].endPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
			"np.yaml:14:14: documents[0] (NetworkPolicy default/p): spec.egress[0].ports[5].port: Invalid value: \"serve_80\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
			"np.yaml:15:28: documents[0] (NetworkPolicy default/p): spec.egress[0].ports[6].protocol: unsupported value \"ICMP\"\n  hint: supported values: \"SCTP\", \"TCP\", \"UDP\"",
		}},
		{name: "selectors and policyTypes", yaml: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p}
spec:
  podSelector: {matchExpressions: [{key: app, operator: Equals, values: [a]}]}
  policyTypes: [Ingress, Egress, Ingress]
  ingress:
  - from:
    - namespaceSelector: {matchExpressions: [{key: team, operator: In}]}
      podSelector: {matchLabels: {"bad key!": x, app: "-bad"}}
    - podSelector: {matchExpressions: [{key: team, operator: Exists, values: [a]}]}
`, want: []string{
			"np.yaml:5:57: documents[0] (NetworkPolicy default/p): spec.podSelector.matchExpressions[0].operator: Invalid value: \"Equals\": not a valid selector operator\n  hint: operator is one of In, NotIn, Exists, DoesNotExist",
			"np.yaml:6:16: documents[0] (NetworkPolicy default/p): spec.policyTypes: Invalid value: [\"Ingress\",\"Egress\",\"Ingress\"]: may not specify more than two policyTypes\n  hint: policyTypes lists Ingress, Egress or both, once each",
			"np.yaml:9:46: documents[0] (NetworkPolicy default/p): spec.ingress[0].from[0].namespaceSelector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'\n  hint: In and NotIn need values: [a, b]",
			"np.yaml:10:47: documents[0] (NetworkPolicy default/p): spec.ingress[0].from[0].podSelector.matchLabels: Invalid value: \"bad key!\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
			"np.yaml:10:55: documents[0] (NetworkPolicy default/p): spec.ingress[0].from[0].podSelector.matchLabels: Invalid value: \"-bad\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
			"np.yaml:11:78: documents[0] (NetworkPolicy default/p): spec.ingress[0].from[1].podSelector.matchExpressions[0].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'\n  hint: Exists and DoesNotExist take no values: drop values",
		}},
	}
	for _, tc := range tests {
		_, _, err := LoadManifests("np.yaml", []byte(tc.yaml))
		t.Run(tc.name, func(t *testing.T) { checkErrors(t, err, tc.want) })
	}
}

// What the API server accepts passes: named ports, ranges, except inside cidr, host
// bits in a cidr (accepted unless the StrictIPCIDRValidation gate is on), empty lists.
func TestNetworkPolicyValid(t *testing.T) {
	yaml := `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: x}
spec:
  podSelector: {matchExpressions: [{key: app, operator: DoesNotExist}]}
  policyTypes: [Ingress, Egress]
  ingress:
  - {}
  - from:
    - ipBlock: {cidr: 10.0.0.1/16, except: [10.0.1.0/24, 10.0.2.7/32]}
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: "y"}}
      podSelector: {matchExpressions: [{key: pod, operator: In, values: [a, b]}]}
    ports: [{port: serve-80-tcp}, {port: 81, endPort: 81, protocol: UDP}, {protocol: SCTP}]
  egress: []
`
	objs, _, err := LoadManifests("np.yaml", []byte(yaml))
	if err != nil || len(objs) != 1 {
		t.Fatalf("LoadManifests: %v, %d objects", err, len(objs))
	}
}

// A lab file's manifests get the same checks (podlab validate and deploy).
func TestNetworkPolicyInLab(t *testing.T) {
	lab := "name: a\nnodes:\n  - name: worker-1\nmanifests:\n" +
		"  - apiVersion: networking.k8s.io/v1\n    kind: NetworkPolicy\n    metadata: {name: deny}\n" +
		"    spec: {podSelector: {}, egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8, except: [192.168.0.0/16]}}]}]}\n"
	_, err := Parse("lab.yaml", []byte(lab), files{}.read)
	checkErrors(t, err, []string{
		"lab.yaml:8:82: manifests[0] (NetworkPolicy default/deny): spec.egress[0].to[0].ipBlock.except[0]: Invalid value: \"192.168.0.0/16\": must be a strict subset of `cidr`\n  hint: an except block must be smaller than cidr and inside it, e.g. cidr: 10.0.0.0/16, except: [10.0.1.0/24]",
	})
}
