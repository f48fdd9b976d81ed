package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/state"
)

// fakeSupervisor serves h on the socket of lab "w", the only lab of a new state
// directory, as its supervisor would.
func fakeSupervisor(t *testing.T, h http.Handler) state.Dir {
	t.Helper()
	root := t.TempDir()
	t.Setenv("PODLAB_STATE_DIR", root)
	t.Setenv("PODLAB_LAB", "")
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	cfg.StateDir = root
	dir := state.For(root, "w")
	if err := dir.Create(); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("unix", dir.Socket())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return dir
}

// fakeWatch serves api.PathWatch: evs, then the end of the stream (a watch that the
// supervisor closes ends get -w as Ctrl-C would).
func fakeWatch(t *testing.T, evs ...api.WatchEvent) (asked *string) {
	t.Helper()
	asked = new(string)
	fakeSupervisor(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*asked = r.URL.String()
		enc := json.NewEncoder(w)
		for _, e := range evs {
			enc.Encode(e)
		}
	}))
	return asked
}

func watchedPod(t *testing.T, typ, name, phase string, l map[string]string) api.WatchEvent {
	t.Helper()
	p := &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: l},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}},
		Status:     corev1.PodStatus{Phase: corev1.PodPhase(phase)}}
	raw, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return api.WatchEvent{Type: typ, Object: &api.StoredObject{APIVersion: "v1", Kind: "Pod", Namespace: "default", Name: name, Object: raw}}
}

// get -w prints the table, then a row per change in kubectl's watch format: columns as
// wide as the table's unless a cell is wider (then wider from there on); a replaced pod
// shows its old row deleted and its new one added. --watch-only leaves the list out,
// --output-watch-events adds EVENT, -l filters the changes too.
func TestGetWatch(t *testing.T) {
	web := map[string]string{"app": "web"}
	asked := fakeWatch(t,
		watchedPod(t, "ADDED", "db", "Pending", nil),
		watchedPod(t, "ADDED", "web-1", "Running", web),
		api.WatchEvent{Type: api.WatchBookmark},
		watchedPod(t, "MODIFIED", "web-1", "Failed", web),
		watchedPod(t, "DELETED", "web-1", "Failed", web),
		watchedPod(t, "ADDED", "web-1-with-a-longer-name", "Pending", web),
		watchedPod(t, "MODIFIED", "db", "Running", nil),
	)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"get", "pods", "-w"}, `
NAME    READY   STATUS    RESTARTS   AGE
db      0/1     Pending   0          <unknown>
web-1   0/1     Running   0          <unknown>
web-1   0/1     Failed    0          <unknown>
web-1   0/1     Failed    0          <unknown>
web-1-with-a-longer-name   0/1     Pending   0          <unknown>
db                         0/1     Running   0          <unknown>
`},
		{[]string{"get", "pods", "--watch-only", "-l", "app=web", "--output-watch-events"}, `
EVENT      NAME    READY   STATUS   RESTARTS   AGE
MODIFIED   web-1   0/1     Failed   0          <unknown>
DELETED    web-1   0/1     Failed   0          <unknown>
ADDED      web-1-with-a-longer-name   0/1     Pending   0          <unknown>
`},
		{[]string{"get", "pod", "db", "-w", "-o", "name"}, `
pod/db
pod/db
`},
	} {
		if got := execute(t, tc.args...); got != strings.TrimPrefix(tc.want, "\n") {
			t.Errorf("podlab %s:\n%s\nwant:\n%s", strings.Join(tc.args, " "), got, strings.TrimPrefix(tc.want, "\n"))
		}
	}
	if *asked != api.PathWatch+"?kind=Pod&namespace=default" {
		t.Errorf("asked the supervisor for %q", *asked)
	}
}

// -w watches one kind: several, or all, are invalid input.
func TestGetWatchOneKind(t *testing.T) {
	fakeWatch(t)
	for _, args := range [][]string{{"get", "pods,svc", "-w"}, {"get", "all", "-w"}, {"get", "pods", "-w", "-o", "jsonpath={.items}"}} {
		root := newRoot()
		root.SetArgs(args)
		root.SetOut(new(bytes.Buffer))
		root.SetErr(new(bytes.Buffer))
		if err := root.Execute(); !errors.As(err, new(invalidInput)) {
			t.Errorf("podlab %s: %v, want invalid input", strings.Join(args, " "), err)
		}
	}
}
