package checks

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"syscall"
	"testing"

	mdns "github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/netprobe"
	"podlab.dev/podlab/topology"
)

// fakeLab is a lab's supervisor and network in memory: the Client answers from st and
// svcs, and dial sends each flow to a local server standing in for the pod that would
// answer, or drops or refuses it as a policy or an empty port would.
type fakeLab struct {
	mu      sync.Mutex
	st      api.LabState
	svcs    []json.RawMessage
	actions []string
	// routes: destination address -> the pods that answer there, in kube-proxy's
	// rotation; blocked: "netns>address" flows that are dropped.
	routes  map[string][]string
	next    map[string]int
	blocked map[string]bool
	servers map[string]string // pod name -> its local HTTP server's address
	dns     string            // the local DNS server, standing in for 10.96.0.10:53
	// onDelete runs when a pod is deleted, to change what the network does.
	onDelete func(f *fakeLab, name string)
}

func (f *fakeLab) State(context.Context) (*api.LabState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.st
	st.Pods = append([]api.PodState(nil), f.st.Pods...)
	return &st, nil
}

func (f *fakeLab) Objects(_ context.Context, kind, _ string) ([]*api.StoredObject, error) {
	if kind == "EndpointSlice" {
		return f.slices(), nil
	}
	var out []*api.StoredObject
	for _, raw := range f.svcs {
		out = append(out, &api.StoredObject{Kind: kind, Object: raw})
	}
	return out, nil
}

// slices is Service web's EndpointSlice as the endpoints controller writes it: its
// pods (app=web), ready or not.
func (f *fakeLab) slices() []*api.StoredObject {
	f.mu.Lock()
	defer f.mu.Unlock()
	es := discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web-abcde", Labels: map[string]string{discoveryv1.LabelServiceName: "web"}}}
	for _, p := range f.st.Pods {
		if p.Labels["app"] == "web" {
			ready := p.Ready
			es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{Addresses: []string{p.IP.String()}, Conditions: discoveryv1.EndpointConditions{Ready: &ready},
				TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: p.Namespace, Name: p.Name}})
		}
	}
	raw, _ := json.Marshal(es)
	return []*api.StoredObject{{Kind: "EndpointSlice", Namespace: "default", Name: es.Name, Object: raw}}
}

func (f *fakeLab) PodEtc(_ context.Context, ns, name string) (*api.PodEtc, error) {
	return &api.PodEtc{Namespace: ns, Name: name, ResolvConf: "nameserver 10.96.0.10\nsearch " + ns + ".svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n"}, nil
}

func (f *fakeLab) record(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.actions = append(f.actions, s)
}

func (f *fakeLab) DeletePod(_ context.Context, ns, name string) error {
	f.record("delete " + ns + "/" + name)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.onDelete != nil {
		f.onDelete(f, name)
	}
	return nil
}

func (f *fakeLab) Scale(_ context.Context, req api.ScaleRequest) (api.ApplyResult, error) {
	f.record(fmt.Sprintf("scale %s %s/%s=%d", req.Kind, req.Namespace, req.Name, req.Replicas))
	return api.ApplyResult{}, nil
}

func (f *fakeLab) Apply(_ context.Context, objs []topology.Object) ([]api.ApplyResult, error) {
	f.record(fmt.Sprintf("apply %d objects", len(objs)))
	return nil, nil
}

func (f *fakeLab) DeleteObjects(_ context.Context, refs []api.ObjectRef) ([]api.ApplyResult, error) {
	f.record(fmt.Sprintf("delete %d objects", len(refs)))
	return []api.ApplyResult{{Kind: "NetworkPolicy", Name: "deny", Error: "not found"}}, nil
}

func (f *fakeLab) SetLabels(_ context.Context, ns, name string, labels map[string]string) error {
	f.record(fmt.Sprintf("label %s/%s %v", ns, name, labels))
	return nil
}

// dialer opens the flow a pod's socket would: to the answering pod's server, or not.
func (f *fakeLab) dialer(netns string) netprobe.Dial {
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		f.mu.Lock()
		blocked := f.blocked[netns+">"+address]
		pods := f.routes[address]
		var pod string
		if len(pods) > 0 {
			pod = pods[f.next[address]%len(pods)]
			f.next[address]++
		}
		f.mu.Unlock()
		var d net.Dialer
		switch {
		case address == "10.96.0.10:53":
			return d.DialContext(ctx, network, f.dns)
		case blocked:
			<-ctx.Done()
			return nil, ctx.Err()
		case pod == "":
			return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
		}
		return d.DialContext(ctx, network, f.servers[pod])
	}
}

// newFakeLab is lab "demo": host client, pods web-1 and web-2 (app=web, ready) behind
// Service web (10.96.0.20:80), pod db (10.244.1.9) whose port 5432 clients cannot reach.
func newFakeLab(t *testing.T) *fakeLab {
	f := &fakeLab{
		st: api.LabState{Lab: "demo", Supervisor: api.SupervisorState{Running: true},
			Hosts: []api.HostState{{Name: "client", IP: netip.MustParseAddr("172.30.0.10"), Netns: "ns-client"}},
			Nodes: []api.NodeState{{Name: "worker-1", IP: netip.MustParseAddr("172.30.0.2")}},
			Pods: []api.PodState{
				{Namespace: "default", Name: "web-1", IP: netip.MustParseAddr("10.244.1.2"), Ready: true, Labels: map[string]string{"app": "web"}, Ports: "http:80", Netns: "ns-web-1"},
				{Namespace: "default", Name: "web-2", IP: netip.MustParseAddr("10.244.1.3"), Ready: true, Labels: map[string]string{"app": "web"}, Ports: "80,81/udp", Netns: "ns-web-2"},
				{Namespace: "default", Name: "db", IP: netip.MustParseAddr("10.244.1.9"), Ready: true, Labels: map[string]string{"app": "db"}, Ports: "5432", Netns: "ns-db"},
			}},
		svcs: []json.RawMessage{json.RawMessage(`{"metadata":{"name":"web","namespace":"default"},"spec":{"clusterIP":"10.96.0.20","selector":{"app":"web"},"ports":[{"port":80}]}}`)},
		routes: map[string][]string{
			"10.96.0.20:80": {"web-1", "web-2"}, "10.244.1.2:80": {"web-1"}, "10.244.1.3:80": {"web-2"},
			"10.244.1.9:5432": {"db"}, "172.30.0.2:30080": {"web-2"},
		},
		next:    map[string]int{},
		blocked: map[string]bool{"ns-client>10.244.1.9:5432": true},
		servers: map[string]string{},
	}
	for _, pod := range []string{"web-1", "web-2", "db"} {
		mux := http.NewServeMux()
		mux.HandleFunc("/hostname", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, pod) })
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]string{"path": r.URL.Path, "host": r.Host, "pod": pod, "method": r.Method})
		})
		mux.HandleFunc("/podlab/fail-readiness", func(w http.ResponseWriter, _ *http.Request) { f.record("fail-readiness " + pod) })
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)
		f.servers[pod] = srv.Listener.Addr().String()
	}
	f.dns = serveDNS(t)
	return f
}

// serveDNS answers web.default.svc.cluster.local with the Service's address and
// NXDOMAIN for the rest, on a local UDP port.
func serveDNS(t *testing.T) string {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &mdns.Server{PacketConn: pc, Handler: mdns.HandlerFunc(func(w mdns.ResponseWriter, req *mdns.Msg) {
		m := new(mdns.Msg)
		m.SetReply(req)
		q := req.Question[0]
		switch {
		case q.Name == "web.default.svc.cluster.local." && q.Qtype == mdns.TypeA:
			rr, _ := mdns.NewRR(q.Name + " 30 IN A 10.96.0.20")
			m.Answer = append(m.Answer, rr)
		case q.Name == "web.default.svc.cluster.local.":
		default:
			m.Rcode = mdns.RcodeNameError
		}
		w.WriteMsg(m)
	})}
	started := make(chan struct{})
	s.NotifyStartedFunc = func() { close(started) }
	go s.ActivateAndServe()
	<-started
	t.Cleanup(func() { s.Shutdown() })
	return pc.LocalAddr().String()
}
