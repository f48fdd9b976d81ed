package proxy

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"sigs.k8s.io/knftables"
)

// netlinkSteps are syncs of a small cluster: the first full, the others partial,
// with every element and rule shape a partial sync writes: 1, 2 and 3 endpoints, no
// endpoints (an element with a comment), a NodePort, a Service gone, UDP; then 600
// Services at once.
func netlinkSteps() [][2]any {
	svcs, slices := bigCluster(12)
	versioned(svcs, slices)
	bigSvcs, bigSlices := bigCluster(600)
	versioned(bigSvcs, bigSlices)
	np := svcs[7].DeepCopy()
	np.Spec.Type = v1.ServiceTypeNodePort
	np.Spec.Ports[0].NodePort = 30080
	np.ResourceVersion = "500"
	udp := makeService("default", "dns", func(s *v1.Service) {
		s.Spec.ClusterIP = "10.96.5.5"
		s.Spec.Ports = []v1.ServicePort{{Name: "dns", Port: 53, Protocol: v1.ProtocolUDP}}
		s.ResourceVersion = "501"
	})
	udpSlice := makeSlice("default", "dns", slicePort("dns", 53, v1.ProtocolUDP), ep{ip: "10.0.5.5", node: "other-node"}, ep{ip: "10.0.5.6", node: testNodeName})
	udpSlice.ResourceVersion = "502"
	set := func(i int, rv string, ips ...string) []*discoveryv1.EndpointSlice {
		out := append([]*discoveryv1.EndpointSlice(nil), slices...)
		out[i] = webSlice(fmt.Sprintf("svc-%d", i), ips...)
		out[i].ResourceVersion = rv
		return out
	}
	step2 := set(3, "600", "10.0.0.3", "10.0.9.3")
	step2[4] = webSlice("svc-4", "10.0.0.4")
	step2[4].ResourceVersion = "601"
	step2[5] = webSlice("svc-5")
	step2[5].ResourceVersion = "602"
	svcs2 := append(append([]*v1.Service(nil), svcs[:6]...), svcs[7:]...)
	svcs2[6] = np
	bigStep := append([]*discoveryv1.EndpointSlice(nil), bigSlices...)
	bigStep[3] = webSlice("svc-3", "10.0.0.3", "10.0.1.3", "10.0.2.3", "10.0.3.3")
	bigStep[3].ResourceVersion = "800"
	return [][2]any{
		{svcs, slices},
		{svcs2, step2},
		{append(svcs2, udp), append(step2, udpSlice)},
		{svcs, set(3, "700", "10.0.0.3", "10.0.1.3", "10.0.2.3", "10.0.8.3")},
		{bigSvcs, bigSlices}, // about 6,000 operations, 1 MB: more than a socket's default buffer
		// More than netlinkRuleChoiceAbove Services: every chain picks by rules
		// (pickByRules); fewer again: back to numgen maps.
		{bigSvcs, bigStep},
		{svcs, slices},
	}
}

// netlinkRuleChoiceAbove makes netlinkSteps' 600 Services a large table.
const netlinkRuleChoiceAbove = 100

// The same syncs through Netlink and through nft leave the same table, as
// `nft list table` shows it, and the partial ones went through netlink.
func TestKernelNetlinkMatchesNFT(t *testing.T) {
	listings := map[bool][]string{}
	for _, viaNetlink := range []bool{false, true} {
		name := map[bool]string{false: "nft-only", true: "netlink"}[viaNetlink]
		t.Run(name, func(t *testing.T) { // kernelNS names the namespace after the test
			path := kernelNS(t)
			inNS(t, path, func() error {
				nft, err := knftables.New(knftables.IPv4Family, tableName)
				if err != nil {
					return err
				}
				if viaNetlink {
					if nft, err = Netlink(nft, nil); err != nil {
						return err
					}
				}
				p := New(nft, testNode)
				p.ruleChoiceAbove = netlinkRuleChoiceAbove
				for i, st := range netlinkSteps() {
					sent := 0
					if n, ok := nft.(*netlinkNFT); ok {
						sent = n.sent
					}
					if err := p.Sync(context.Background(), st[0].([]*v1.Service), st[1].([]*discoveryv1.EndpointSlice)); err != nil {
						return fmt.Errorf("step %d: %w", i, err)
					}
					if n, ok := nft.(*netlinkNFT); ok && i > 0 && n.sent == sent {
						t.Errorf("step %d went to nft, not through netlink", i)
					}
					out, err := exec.Command("nft", "list", "table", "ip", tableName).CombinedOutput()
					if err != nil {
						return fmt.Errorf("nft list: %v\n%s", err, out)
					}
					listings[viaNetlink] = append(listings[viaNetlink], string(out))
				}
				return nil
			})
		})
	}
	for i := range listings[false] {
		if a, b := listings[false][i], listings[true][i]; a != b {
			t.Errorf("step %d: the table differs:\n%s", i, lineDiff(a, b))
		}
	}
}

// lineDiff lists the lines only one of a (nft) and b (netlink) has.
func lineDiff(a, b string) string {
	count := map[string]int{}
	for _, l := range strings.Split(a, "\n") {
		count[l]++
	}
	for _, l := range strings.Split(b, "\n") {
		count[l]--
	}
	var out []string
	for l, n := range count {
		if n > 0 {
			out = append(out, "nft only:     "+l)
		} else if n < 0 {
			out = append(out, "netlink only: "+l)
		}
	}
	return strings.Join(out, "\n")
}

// A transaction with anything the encoder does not know goes to nft whole.
func TestEncodeBatchRefusesUnknown(t *testing.T) {
	for _, line := range []string{
		"add table ip kube-proxy { comment \"rules for kube-proxy\" ; }",
		"add set ip kube-proxy affinity-X { type ipv4_addr ; flags dynamic,timeout ; timeout 10800s ; }",
		"add rule ip kube-proxy external-X ip saddr 10.0.0.0/14 goto cluster-X comment \"short-circuit pod traffic\"",
		"add element ip kube-proxy other-map { 10.0.0.1 : drop }",
		"add element ip kube-proxy service-ips { 10.0.0.1 . icmp . 80 : drop }",
		"add rule ip other-table c meta l4proto tcp dnat to 10.0.0.1:80",
	} {
		if _, _, err := encodeBatch("add chain ip kube-proxy a\n" + line + "\n"); err == nil {
			t.Errorf("encoded %q", line)
		}
	}
	if _, lines, err := encodeBatch("add chain ip kube-proxy a\nadd rule ip kube-proxy a meta l4proto tcp dnat ip addr . port to numgen random mod 2 map { 0 : 10.0.0.1 . 80 , 1 : 10.0.0.2 . 80 }\n"); err != nil || len(lines) != 4 {
		t.Errorf("a numgen rule: %d messages, %v; want 4 (chain, set, elements, rule)", len(lines), err)
	}
}

// parseElement splits elements as the regular expression it replaced did, on every
// element a sync of many Services writes and on odd ones.
func TestParseElementMatchesRegexp(t *testing.T) {
	re := regexp.MustCompile(`^(\S+) \{ ([^":]*?)(?: comment ("(?:[^"\\]|\\.)*"))?(?: : (.*))? \}$`)
	nft, p := newFakeProxier()
	svcs, eps := bigCluster(50)
	svcs = append(svcs, makeService("default", "empty", func(s *v1.Service) { s.Spec.ClusterIP = "172.30.9.9" }))
	mustSync(t, p, svcs, eps)
	lines := []string{
		`cluster-ips { 10.0.0.1 }`,
		`no-endpoint-services { 10.0.0.1 . tcp . 80 comment "default/x:http: no endpoints" : goto reject-chain }`,
		`no-endpoint-services { 10.0.0.1 . tcp . 80 comment "a \" quote" : drop }`,
		`endpoint-port-counters { 10.0.0.1 . tcp . 80 . 10.0.1.1 . 8080 : "endpoint-X/a:b" }`,
		`m { 1.2.3.4 comment "c" }`,
		`m { 1.2.3.4 : }`, `m { }`, `m 1.2.3.4`, `a b { 1 }`, `m { 1 : 2 : 3 }`, `m { 1 comment "x" junk }`,
	}
	for _, l := range strings.Split(nft.Dump(), "\n") {
		if after, ok := strings.CutPrefix(l, "add element ip kube-proxy "); ok {
			lines = append(lines, after)
		}
	}
	if len(lines) < 200 {
		t.Fatalf("only %d elements", len(lines))
	}
	for _, l := range lines {
		want, got := re.FindStringSubmatch(l), parseElement(l)
		if (want == nil) != (got == nil) || (want != nil && !slices.Equal(want, got)) {
			t.Errorf("%q: got %q, want %q", l, got, want)
		}
	}
}

// splitComment and splitDNAT match as the regular expressions they stand in for.
func TestSplitRuleMatchesRegexp(t *testing.T) {
	dnatRe := regexp.MustCompile(`^meta l4proto (tcp|udp|sctp) (?:numgen random mod (\d+) 0 )?dnat to (\d+\.\d+\.\d+\.\d+):(\d+)$`)
	nft, p := newFakeProxier()
	p.ruleChoiceAbove = 20
	svcs, eps := bigCluster(30)
	mustSync(t, p, svcs, eps)
	bodies := []string{
		`meta l4proto tcp dnat to 10.0.0.1:80`, `meta l4proto udp numgen random mod 3 0 dnat to 10.0.0.1:53`,
		`meta l4proto tcp numgen random mod 0 dnat to 10.0.0.1:80`, `meta l4proto tcp numgen random mod 3 1 dnat to 10.0.0.1:80`,
		`meta l4proto icmp dnat to 10.0.0.1:80`, `meta l4proto tcp dnat to 10.0.0.1`, `meta l4proto tcp dnat to :80`,
		`meta l4proto tcp dnat to 10.0.0.1:80 comment "x"`, `goto x comment "a comment \" quoted"`,
		`goto x comment "holds comment \"inside"`, `goto x comment "unterminated`, `goto x`,
	}
	for _, l := range strings.Split(nft.Dump(), "\n") {
		if after, ok := strings.CutPrefix(l, "add rule ip kube-proxy "); ok {
			_, body, _ := strings.Cut(after, " ")
			bodies = append(bodies, body)
		}
	}
	for _, b := range bodies {
		for name, pair := range map[string][2][]string{
			"comment": {commentRe.FindStringSubmatch(b), splitComment(b)},
			"dnat":    {dnatRe.FindStringSubmatch(b), splitDNAT(b)},
		} {
			if want, got := pair[0], pair[1]; (want == nil) != (got == nil) || (want != nil && !slices.Equal(want, got)) {
				t.Errorf("%s of %q: got %q, want %q", name, b, got, want)
			}
		}
	}
}
