package main

import (
	"encoding/json"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/state"
)

// Shell completion through cobra's __complete, as bash and zsh ask for it: names of
// the lab's pods, nodes, hosts and objects from the supervisor, labs for --name,
// kinds for get; nothing (and no error) when the supervisor does not answer.
func TestCompletion(t *testing.T) {
	objects := map[string][]string{
		"Pod/default":     {"web-1", "web-2"},
		"Pod/kube-system": {"coredns-a"},
		"Service/default": {"kubernetes", "web"},
		"Node/":           {"cp", "w1"},
		"Namespace/":      {"default", "kube-system"},
	}
	fakeSupervisor(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case api.PathState:
			json.NewEncoder(w).Encode(api.LabState{Lab: "w",
				Nodes: []api.NodeState{{Name: "cp"}, {Name: "w1"}},
				Hosts: []api.HostState{{Name: "client", IP: netip.MustParseAddr("10.0.0.9")}},
				Pods:  []api.PodState{{Namespace: "default", Name: "web-1"}, {Namespace: "kube-system", Name: "coredns-a"}}})
		case api.PathObjects:
			var out []api.StoredObject
			q := r.URL.Query()
			for _, n := range objects[q.Get("kind")+"/"+q.Get("namespace")] {
				out = append(out, api.StoredObject{Kind: q.Get("kind"), Name: n})
			}
			json.NewEncoder(w).Encode(out)
		default:
			http.NotFound(w, r)
		}
	}))
	if err := state.For(cfg.StateDir, "other").Create(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"exec", "--name", "w", ""}, "web-1 cp w1 client"},
		{[]string{"exec", "--name", "w", "-n", "kube-system", ""}, "coredns-a cp w1 client"},
		{[]string{"exec", "--name", "w", "web-1", "--", ""}, ""},
		{[]string{"logs", "--name", "w", ""}, "web-1 client"},
		{[]string{"get", "pods", "--name", "w", ""}, "web-1 web-2"},
		{[]string{"get", "svc", "--name", "w", ""}, "kubernetes web"},
		{[]string{"get", "nodes", "--name", "w", "-n", "x", ""}, "cp w1"},
		{[]string{"describe", "host", "--name", "w", ""}, "client"},
		{[]string{"delete", "pod", "web-1", "--name", "w", ""}, "web-2"},
		{[]string{"get", "--name", "w", "-n", ""}, "default kube-system"},
		{[]string{"get", "--name", ""}, "other w"},
		{[]string{"use", ""}, "other w"},
		{[]string{"get", "pods,deploy"}, "pods,deploy pods,deployment pods,deployments"},
		// A lab without a supervisor: nothing, quickly, and no error.
		{[]string{"get", "pods", "--name", "other", ""}, ""},
	} {
		out := execute(t, append([]string{"__complete"}, tc.args...)...)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		got := lines[:len(lines)-1] // the last line is cobra's directive, :4 or :0
		if strings.Join(got, " ") != tc.want {
			t.Errorf("podlab %s<TAB>: %q, want %q", strings.Join(tc.args, " "), got, tc.want)
		}
	}
}
