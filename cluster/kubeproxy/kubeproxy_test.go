package kubeproxy

import (
	"context"
	"net/netip"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/knftables"

	"podlab.dev/podlab/cluster/proxy"
	"podlab.dev/podlab/cluster/store"
)

type fakes struct {
	mu     sync.Mutex
	nft    map[string]*knftables.Fake
	opened int
}

func (f *fakes) open(node string) (*proxy.Proxier, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.opened++
	nft := knftables.NewFake(knftables.IPv4Family, "kube-proxy")
	f.nft[node] = nft
	return proxy.New(nft, proxy.Node{Name: node, IPs: []netip.Addr{netip.MustParseAddr("172.30.0.11")}}), nil
}

func TestKubeProxyProgramsEveryNodeOnlyWhenNeeded(t *testing.T) {
	s := store.New()
	f := &fakes{nft: map[string]*knftables.Fake{}}
	k := New([]string{"n1", "n2"}, f.open, nil, nil)
	ctx := context.Background()
	k.Sync(ctx, s)
	if f.opened != 0 {
		t.Fatal("kube-proxy started without any Service")
	}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"},
		Spec: corev1.ServiceSpec{ClusterIP: "10.96.0.20", Ports: []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(8080)}}}}
	s.Create(svc)
	ready, name, port, proto := true, "http", int32(8080), corev1.ProtocolTCP
	sl := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web-abc", Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.244.1.2"}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}}},
		Ports:       []discoveryv1.EndpointPort{{Name: &name, Port: &port, Protocol: &proto}}}
	s.Create(sl)
	k.Sync(ctx, s)
	if f.opened != 2 {
		t.Fatalf("%d proxiers, want one per node", f.opened)
	}
	for node, nft := range f.nft {
		if dump := nft.Dump(); !strings.Contains(dump, "10.96.0.20") || !strings.Contains(dump, "10.244.1.2 . 8080") {
			t.Errorf("node %s lacks the Service:\n%s", node, dump)
		}
	}
	// A write that changes no Service or slice (a pod's status) costs no transaction.
	before := f.nft["n1"].LastTransaction
	s.Create(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "p"}})
	k.Sync(ctx, s)
	if f.nft["n1"].LastTransaction != before {
		t.Error("an unrelated write ran a transaction")
	}
}

func TestSpeakerAnnouncesOnOneNode(t *testing.T) {
	s := store.New()
	type call struct {
		node string
		ip   netip.Addr
		add  bool
	}
	var calls []call
	sp := NewSpeaker([]string{"n1", "n2", "n3"}, func(node string, ip netip.Addr, add bool) error {
		calls = append(calls, call{node, ip, add})
		return nil
	}, nil)
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "lb"}, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer}}
	svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "172.30.0.240"}}
	s.Create(svc)
	sp.Sync(s)
	sp.Sync(s)
	if len(calls) != 1 || !calls[0].add || calls[0].ip.String() != "172.30.0.240" {
		t.Fatalf("announcements %+v, want one", calls)
	}
	s.Delete("Service", "default", "lb")
	sp.Sync(s)
	if len(calls) != 2 || calls[1].add || calls[1].node != calls[0].node {
		t.Fatalf("after the Service went: %+v", calls)
	}
}
