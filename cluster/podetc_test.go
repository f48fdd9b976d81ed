package cluster

import (
	"context"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/plan"
)

// Every stored pod has its /etc files, a controller's (not in the plan) too, with its
// own DNS policy.
func TestAPIPodEtc(t *testing.T) {
	s := newSupervisor(t)
	serve(t, s)
	for _, p := range []*corev1.Pod{
		{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web-7d9-abcde"}, Spec: corev1.PodSpec{NodeName: "w2", DNSPolicy: corev1.DNSNone,
			DNSConfig: &corev1.PodDNSConfig{Nameservers: []string{"1.1.1.1"}, Searches: []string{"example.com"}}},
			Status: corev1.PodStatus{PodIP: "10.244.2.9"}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "broken"}, Spec: corev1.PodSpec{DNSPolicy: corev1.DNSNone}},
	} {
		if _, err := s.store.Create(p); err != nil {
			t.Fatal(err)
		}
	}
	c := api.NewClient(s.dir)
	ctx := context.Background()
	e, err := c.PodEtc(ctx, "shop", "api")
	if err != nil {
		t.Fatal(err)
	}
	if e.Node != "w1" || e.IP.String() != "10.244.1.3" || e.Netns != plan.PodNetns("x", "shop", "api") ||
		e.ResolvConf != "search shop.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n" ||
		!strings.Contains(e.Hosts, "10.244.1.3\tapi\n") {
		t.Errorf("pod of the plan: %+v", e)
	}
	e, err = c.PodEtc(ctx, "shop", "web-7d9-abcde")
	if err != nil {
		t.Fatal(err)
	}
	if e.Node != "w2" || e.ResolvConf != "search example.com\nnameserver 1.1.1.1\n" || !strings.Contains(e.Hosts, "10.244.2.9\tweb-7d9-abcde\n") {
		t.Errorf("a controller's pod: %+v", e)
	}
	if e, err := c.PodEtc(ctx, "shop", "nosuch"); !errors.Is(err, api.ErrNotFound) || e != nil {
		t.Errorf("no such pod: %v %v, want ErrNotFound and nothing", e, err)
	}
	if _, err := c.PodEtc(ctx, "shop", "broken"); err == nil || !strings.Contains(err.Error(), "must provide `dnsConfig`") {
		t.Errorf("dnsPolicy None without dnsConfig: %v", err)
	}
}
