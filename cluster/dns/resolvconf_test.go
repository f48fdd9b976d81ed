package dns

import (
	"net/netip"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestResolvConf(t *testing.T) {
	const node = "# the node's\nnameserver 192.168.1.1\nnameserver 192.168.1.2\nsearch lan. corp.example\noptions edns0 timeout:2\ndomain ignored\n"
	dns := netip.MustParseAddr("10.96.0.10")
	two := "2"
	long := strings.Repeat("a", 254)
	var many []string
	for i := range 40 {
		many = append(many, strings.Repeat(string(rune('a'+i%26)), 60)+".example")
	}
	for _, tc := range []struct {
		name   string
		spec   corev1.PodSpec
		node   string
		noDNS  bool
		want   string
		errHas string
	}{
		{name: "ClusterFirst, node without search", node: "nameserver 1.1.1.1\n",
			want: "search shop.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n"},
		{name: "unset policy is ClusterFirst", node: "",
			want: "search shop.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n"},
		{name: "ClusterFirst appends the node's search, drops its options", spec: corev1.PodSpec{DNSPolicy: corev1.DNSClusterFirst}, node: node,
			want: "search shop.svc.cluster.local svc.cluster.local cluster.local lan corp.example\nnameserver 10.96.0.10\noptions ndots:5\n"},
		{name: "ClusterFirst on the host network is Default", spec: corev1.PodSpec{DNSPolicy: corev1.DNSClusterFirst, HostNetwork: true}, node: node,
			want: "search lan corp.example\nnameserver 192.168.1.1\nnameserver 192.168.1.2\noptions edns0 timeout:2\n"},
		{name: "ClusterFirstWithHostNet", spec: corev1.PodSpec{DNSPolicy: corev1.DNSClusterFirstWithHostNet, HostNetwork: true}, node: node,
			want: "search shop.svc.cluster.local svc.cluster.local cluster.local lan corp.example\nnameserver 10.96.0.10\noptions ndots:5\n"},
		{name: "Default", spec: corev1.PodSpec{DNSPolicy: corev1.DNSDefault}, node: node,
			want: "search lan corp.example\nnameserver 192.168.1.1\nnameserver 192.168.1.2\noptions edns0 timeout:2\n"},
		{name: "Default without a node resolv.conf (--resolv-conf=\"\")", spec: corev1.PodSpec{DNSPolicy: corev1.DNSDefault},
			want: "search .\nnameserver 127.0.0.1\n"},
		{name: "ClusterFirst without a cluster DNS falls back to Default", noDNS: true, node: node,
			want: "search lan corp.example\nnameserver 192.168.1.1\nnameserver 192.168.1.2\noptions edns0 timeout:2\n"},
		{name: "None", spec: corev1.PodSpec{DNSPolicy: corev1.DNSNone, DNSConfig: &corev1.PodDNSConfig{Nameservers: []string{"1.2.3.4"}, Searches: []string{"a.example"},
			Options: []corev1.PodDNSConfigOption{{Name: "ndots", Value: &two}, {Name: "edns0"}}}}, node: node,
			want: "search a.example\nnameserver 1.2.3.4\noptions ndots:2 edns0\n"},
		{name: "dnsConfig merged into ClusterFirst", spec: corev1.PodSpec{DNSConfig: &corev1.PodDNSConfig{
			Nameservers: []string{"1.2.3.4", "10.96.0.10"}, Searches: []string{"svc.cluster.local", "my.example"},
			Options: []corev1.PodDNSConfigOption{{Name: "ndots", Value: &two}, {Name: "single-request-reopen"}}}}, node: node,
			want: "search shop.svc.cluster.local svc.cluster.local cluster.local lan corp.example my.example\nnameserver 10.96.0.10\nnameserver 1.2.3.4\noptions ndots:2 single-request-reopen\n"},
		{name: "at most 3 nameservers", spec: corev1.PodSpec{DNSPolicy: corev1.DNSDefault, DNSConfig: &corev1.PodDNSConfig{Nameservers: []string{"1.0.0.1", "1.0.0.2"}}}, node: node,
			want: "search lan corp.example\nnameserver 192.168.1.1\nnameserver 192.168.1.2\nnameserver 1.0.0.1\noptions edns0 timeout:2\n"},
		{name: "a search domain over 253 characters is dropped", spec: corev1.PodSpec{DNSPolicy: corev1.DNSDefault}, node: "search " + long + " ok.example\nnameserver 1.1.1.1\n",
			want: "search ok.example\nnameserver 1.1.1.1\n"},
		{name: "search list cut to 2048 characters", spec: corev1.PodSpec{DNSPolicy: corev1.DNSDefault}, node: "nameserver 1.1.1.1\nsearch " + strings.Join(many, " ") + "\n",
			want: "search " + strings.Join(many[:29], " ") + "\nnameserver 1.1.1.1\n"},
		{name: "None without dnsConfig", spec: corev1.PodSpec{DNSPolicy: corev1.DNSNone},
			errHas: "pod shop/web: spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None"},
		{name: "None without nameservers", spec: corev1.PodSpec{DNSPolicy: corev1.DNSNone, DNSConfig: &corev1.PodDNSConfig{Searches: []string{"a"}}},
			errHas: "spec.dnsConfig.nameservers: Required value"},
		{name: "bad policy", spec: corev1.PodSpec{DNSPolicy: "Cluster"}, errHas: `spec.dnsPolicy: Unsupported value: "Cluster"`},
		{name: "bad nameserver", spec: corev1.PodSpec{DNSConfig: &corev1.PodDNSConfig{Nameservers: []string{"dns.example"}}},
			errHas: `spec.dnsConfig.nameservers[0]: Invalid value: "dns.example"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"}, Spec: tc.spec}
			addr := dns
			if tc.noDNS {
				addr = netip.Addr{}
			}
			got, err := ResolvConf(pod, "cluster.local", addr, tc.node)
			if tc.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errHas) {
					t.Fatalf("error %v, want one with %q", err, tc.errHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}
