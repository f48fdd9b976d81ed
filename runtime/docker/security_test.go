package docker

import (
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	podruntime "podlab.dev/podlab/runtime"
)

func TestCapabilities(t *testing.T) {
	for _, tc := range []struct {
		name              string
		add, drop         []string
		wantAdd, wantDrop []string
	}{
		{name: "none"},
		{name: "prefix and case", add: []string{"NET_ADMIN", "cap_net_raw", "CAP_SYS_TIME", "net_admin"}, drop: []string{"chown"},
			wantAdd: []string{"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_SYS_TIME"}, wantDrop: []string{"CAP_CHOWN"}},
		{name: "drop all keeps the adds", add: []string{"NET_BIND_SERVICE"}, drop: []string{"ALL"},
			wantAdd: []string{"CAP_NET_BIND_SERVICE"}, wantDrop: []string{"ALL"}},
		{name: "add all but some", add: []string{"all"}, drop: []string{"SYS_ADMIN"},
			wantAdd: []string{"ALL"}, wantDrop: []string{"CAP_SYS_ADMIN"}},
		// Kubernetes: add ALL, then drop ALL, then the single adds: only NET_RAW.
		{name: "add all and drop all", add: []string{"ALL", "NET_RAW"}, drop: []string{"ALL"},
			wantAdd: []string{"CAP_NET_RAW"}, wantDrop: []string{"ALL"}},
		// Kubernetes applies drops last: a capability both added and dropped is gone.
		{name: "drop wins", add: []string{"NET_ADMIN", "KILL"}, drop: []string{"CAP_NET_ADMIN"},
			wantAdd: []string{"CAP_KILL"}, wantDrop: []string{"CAP_NET_ADMIN"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			add, drop := capabilities(tc.add, tc.drop)
			if !reflect.DeepEqual(add, tc.wantAdd) || !reflect.DeepEqual(drop, tc.wantDrop) {
				t.Errorf("capabilities(%q, %q) = %q, %q; want %q, %q", tc.add, tc.drop, add, drop, tc.wantAdd, tc.wantDrop)
			}
		})
	}
}

func TestUserSpec(t *testing.T) {
	id := func(v int64) *int64 { return &v }
	for _, tc := range []struct {
		uid, gid  *int64
		imageUser string
		want      string
	}{
		{nil, nil, "nginx", ""},
		{id(1000), nil, "", "1000"},
		{id(0), id(0), "", "0:0"},
		{id(1000), id(3000), "nginx", "1000:3000"},
		{nil, id(3000), "nginx:nginx", "nginx:3000"},
		{nil, id(3000), "", "0:3000"},
	} {
		if got := userSpec(tc.uid, tc.gid, tc.imageUser); got != tc.want {
			t.Errorf("userSpec(%v, %v, %q) = %q, want %q", deref(tc.uid), deref(tc.gid), tc.imageUser, got, tc.want)
		}
	}
}

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

// A pod spec's securityContext through SecurityFromPod to what the container gets.
func TestSecurityFor(t *testing.T) {
	id := func(v int64) *int64 { return &v }
	yes := func() *bool { b := true; return &b }
	pod := func(podSC *corev1.PodSecurityContext, sc *corev1.SecurityContext) podruntime.Sandbox {
		spec := &corev1.PodSpec{SecurityContext: podSC, Containers: []corev1.Container{
			{Name: "app", Image: "nginx", SecurityContext: sc},
			{Name: "sidecar", Image: "busybox", SecurityContext: &corev1.SecurityContext{Privileged: yes()}},
		}}
		return podruntime.Sandbox{Lab: "l", Name: "podlab_l_pod_shop_api-1", Kind: podruntime.KindPod, Security: podruntime.SecurityFromPod(spec)}
	}
	for _, tc := range []struct {
		name string
		s    podruntime.Sandbox
		want security
	}{
		{"node keeps what podlab needs", podruntime.Sandbox{Kind: podruntime.KindNode}, security{CapAdd: []string{"NET_ADMIN", "NET_RAW", "SYS_ADMIN"}}},
		{"host", podruntime.Sandbox{Kind: podruntime.KindHost}, security{CapAdd: machineCaps}},
		{"underlay", podruntime.Sandbox{Kind: podruntime.KindUnderlay}, security{CapAdd: machineCaps}},
		{"pod without securityContext", pod(nil, nil), security{}},
		{"pod and container contexts merged", pod(
			&corev1.PodSecurityContext{RunAsUser: id(1), RunAsGroup: id(2000)},
			&corev1.SecurityContext{RunAsUser: id(1000), ReadOnlyRootFilesystem: yes(),
				Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_ADMIN"}, Drop: []corev1.Capability{"ALL"}}}),
			security{CapAdd: []string{"CAP_NET_ADMIN"}, CapDrop: []string{"ALL"}, User: "1000:2000", ReadonlyRootfs: true}},
		{"pod context only", pod(&corev1.PodSecurityContext{RunAsUser: id(1000)}, nil), security{User: "1000"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := securityFor(tc.s, "")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("securityFor = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestPrivilegedRefused(t *testing.T) {
	b := true
	spec := &corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx", SecurityContext: &corev1.SecurityContext{Privileged: &b}}}}
	s := podruntime.Sandbox{Lab: "l", Name: "podlab_l_pod_shop_api-1", Kind: podruntime.KindPod, Security: podruntime.SecurityFromPod(spec)}
	_, err := securityFor(s, "")
	if err == nil {
		t.Fatal("a privileged pod was accepted")
	}
	for _, want := range []string{"pod shop/api-1", "privileged", "capabilities.add"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}
