package kubeapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"podlab.dev/podlab/cluster/store"
)

// fakeBackend is a Backend over a bare store: no admission, no components.
type fakeBackend struct {
	s      *store.Store
	events []*corev1.Event
}

func (f *fakeBackend) Objects() store.Reader { return f.s }
func (f *fakeBackend) Create(_ context.Context, o store.Object, dry bool) (store.Object, error) {
	if dry {
		return o, nil
	}
	if ns := o.GetNamespace(); ns != "" {
		if _, ok := f.s.Get("Namespace", "", ns); !ok {
			return nil, apierrors.NewNotFound(GroupResource("Namespace"), ns)
		}
	}
	return f.s.Create(o)
}
func (f *fakeBackend) Update(_ context.Context, o store.Object, dry bool) (store.Object, error) {
	if dry {
		return o, nil
	}
	return f.s.Update(o)
}
func (f *fakeBackend) UpdateStatus(_ context.Context, o store.Object) (store.Object, error) {
	return f.s.UpdateStatus(o)
}
func (f *fakeBackend) Delete(_ context.Context, kind, ns, name string, _ metav1.DeleteOptions) (store.Object, error) {
	return f.s.Delete(kind, ns, name)
}
func (f *fakeBackend) Events(ns string) []*corev1.Event {
	var out []*corev1.Event
	for _, e := range f.events {
		if ns == "" || e.Namespace == ns {
			out = append(out, e)
		}
	}
	return out
}
func (f *fakeBackend) PodLogs(_ context.Context, w io.Writer, ns, name string, o *corev1.PodLogOptions) error {
	lines := []string{"one", "two", "three"}
	if o.TailLines != nil {
		lines = lines[len(lines)-int(*o.TailLines):]
	}
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
	return nil
}
func (f *fakeBackend) PodStream(sub, ns, name string) (http.Handler, error) {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, sub+" "+ns+"/"+name) }), nil
}

var epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// lab is a store with two namespaces, a node, two pods and a deployment, served
// over TLS, and a clientset for it.
func lab(t *testing.T) (*fakeBackend, *kubernetes.Clientset, *httptest.Server) {
	t.Helper()
	s := store.New()
	for _, o := range []store.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}},
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "worker"}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-1", Namespace: "default", Labels: map[string]string{"app": "web"}},
			Spec:   corev1.PodSpec{NodeName: "worker", Containers: []corev1.Container{{Name: "nginx", Image: "nginx"}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.244.1.2"}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "db-1", Namespace: "shop", Labels: map[string]string{"app": "db"}},
			Spec:   corev1.PodSpec{Containers: []corev1.Container{{Name: "pg", Image: "postgres"}}},
			Status: corev1.PodStatus{Phase: corev1.PodPending}},
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
			Spec: appsv1.DeploymentSpec{Replicas: ptr(int32(2)), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}},
	} {
		if _, err := s.Create(o); err != nil {
			t.Fatal(err)
		}
	}
	b := &fakeBackend{s: s, events: []*corev1.Event{{
		ObjectMeta:     metav1.ObjectMeta{Name: "web-1.1", Namespace: "default"},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "web-1"}, Reason: "Scheduled", Type: "Normal"}}}
	srv := httptest.NewTLSServer(New(b, Options{Now: func() time.Time { return epoch.Add(time.Hour) }}))
	t.Cleanup(srv.Close)
	cs, err := kubernetes.NewForConfig(restConfig(srv))
	if err != nil {
		t.Fatal(err)
	}
	return b, cs, srv
}

func restConfig(srv *httptest.Server) *rest.Config {
	return &rest.Config{Host: srv.URL, TLSClientConfig: rest.TLSClientConfig{Insecure: true}, Timeout: 10 * time.Second}
}

func ptr[T any](v T) *T { return &v }

func TestDiscoveryThroughClientGo(t *testing.T) {
	_, cs, _ := lab(t)
	v, err := cs.Discovery().ServerVersion()
	if err != nil || v.GitVersion != "v1.32.0" || v.Major != "1" || v.Minor != "32" {
		t.Fatalf("version = %+v, %v", v, err)
	}
	_, lists, err := cs.Discovery().ServerGroupsAndResources()
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]metav1.APIResource{}
	for _, l := range lists {
		for _, r := range l.APIResources {
			found[l.GroupVersion+"/"+r.Name] = r
		}
	}
	for _, c := range []struct {
		key, short string
		all        bool
	}{
		{"v1/pods", "po", true}, {"v1/services", "svc", true}, {"apps/v1/deployments", "deploy", true},
		{"networking.k8s.io/v1/networkpolicies", "netpol", false}, {"gateway.networking.k8s.io/v1/gateways", "gtw", false},
		{"gateway.networking.k8s.io/v1beta1/httproutes", "", false}, {"v1/nodes", "no", false},
	} {
		r, ok := found[c.key]
		if !ok {
			t.Errorf("%s: not discovered", c.key)
			continue
		}
		if c.short != "" && (len(r.ShortNames) == 0 || r.ShortNames[0] != c.short) {
			t.Errorf("%s: shortNames %v, want %s", c.key, r.ShortNames, c.short)
		}
		if all := len(r.Categories) == 1 && r.Categories[0] == "all"; all != c.all {
			t.Errorf("%s: categories %v", c.key, r.Categories)
		}
	}
	for _, sub := range []string{"v1/pods/log", "v1/pods/exec", "apps/v1/deployments/scale", "apps/v1/statefulsets/scale"} {
		if _, ok := found[sub]; !ok {
			t.Errorf("%s: not discovered", sub)
		}
	}
}

func TestAggregatedDiscovery(t *testing.T) {
	_, _, srv := lab(t)
	for path, group := range map[string]string{"/api": "", "/apis": "apps"} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.Header.Set("Accept", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var list apidiscoveryv2.APIGroupDiscoveryList
		json.NewDecoder(resp.Body).Decode(&list)
		resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); ct != aggregatedV2 {
			t.Errorf("%s: Content-Type %q", path, ct)
		}
		var got *apidiscoveryv2.APIGroupDiscovery
		for i := range list.Items {
			if list.Items[i].Name == group {
				got = &list.Items[i]
			}
		}
		if got == nil || len(got.Versions) == 0 || len(got.Versions[0].Resources) == 0 {
			t.Fatalf("%s: no group %q in %+v", path, group, list)
		}
	}
}

func TestCreateGetListSelectors(t *testing.T) {
	_, cs, _ := lab(t)
	ctx := context.Background()
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{GenerateName: "api-", Labels: map[string]string{"app": "api"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
	made, err := cs.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(made.Name, "api-") || made.Namespace != "default" || made.UID == "" {
		t.Fatalf("created %s/%s uid %q", made.Namespace, made.Name, made.UID)
	}
	got, err := cs.CoreV1().Pods("default").Get(ctx, made.Name, metav1.GetOptions{})
	if err != nil || got.Spec.Containers[0].Image != "busybox" {
		t.Fatalf("get: %v %v", got, err)
	}
	for _, c := range []struct {
		ns, labels, fields string
		want               []string
	}{
		{"", "", "", []string{"web-1", made.Name, "db-1"}},
		{"default", "app=web", "", []string{"web-1"}},
		{"", "app in (web,db)", "", []string{"web-1", "db-1"}},
		{"", "", "spec.nodeName=worker", []string{"web-1"}},
		{"", "", "status.phase=Pending", []string{"db-1"}},
		{"shop", "", "metadata.name=db-1", []string{"db-1"}},
	} {
		list, err := cs.CoreV1().Pods(c.ns).List(ctx, metav1.ListOptions{LabelSelector: c.labels, FieldSelector: c.fields})
		if err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		var names []string
		for _, p := range list.Items {
			names = append(names, p.Name)
		}
		if strings.Join(names, ",") != strings.Join(sorted(c.want, list.Items), ",") || list.ResourceVersion == "" {
			t.Errorf("%+v: got %v (rv %q)", c, names, list.ResourceVersion)
		}
	}
	_, err = cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "spec.foo=1"})
	if !apierrors.IsBadRequest(err) || !strings.Contains(err.Error(), "field label not supported: spec.foo") {
		t.Errorf("unknown field label: %v", err)
	}
	_, err = cs.CoreV1().Pods("nowhere").Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{})
	if !apierrors.IsNotFound(err) || err.Error() != `namespaces "nowhere" not found` {
		t.Errorf("create in a missing namespace: %v", err)
	}
	_, err = cs.CoreV1().Pods("default").Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-1"}}, metav1.CreateOptions{})
	if !apierrors.IsAlreadyExists(err) {
		t.Errorf("create twice: %v", err)
	}
}

// sorted is want in the store's order (namespace, name), as the list has it.
func sorted(want []string, items []corev1.Pod) []string {
	var out []string
	for _, p := range items {
		for _, w := range want {
			if p.Name == w {
				out = append(out, w)
			}
		}
	}
	if len(out) != len(want) {
		return want
	}
	return out
}

func TestWatchSeesChanges(t *testing.T) {
	b, cs, _ := lab(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	list, err := cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := cs.CoreV1().Pods("default").Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion, LabelSelector: "app=web"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	b.s.Create(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "db-2", Namespace: "default", Labels: map[string]string{"app": "db"}}}) // not selected
	b.s.Create(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-2", Namespace: "default", Labels: map[string]string{"app": "web"}}})
	b.s.Create(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-9", Namespace: "shop", Labels: map[string]string{"app": "web"}}}) // other namespace
	p, _ := b.s.Get("Pod", "default", "web-2")
	np := p.DeepCopyObject().(*corev1.Pod)
	np.Labels["tier"] = "front"
	b.s.Update(np)
	b.s.Delete("Pod", "default", "web-2")
	p, _ = b.s.Get("Pod", "default", "db-2") // comes to match, then stops
	np = p.DeepCopyObject().(*corev1.Pod)
	np.Labels["app"] = "web"
	u, _ := b.s.Update(np)
	np = u.(*corev1.Pod).DeepCopy()
	np.Labels["app"] = "db"
	b.s.Update(np)
	var got []string
	for len(got) < 5 {
		select {
		case e := <-w.ResultChan():
			got = append(got, fmt.Sprintf("%s %s", e.Type, e.Object.(*corev1.Pod).Name))
		case <-ctx.Done():
			t.Fatalf("watch: got %v before the timeout", got)
		}
	}
	if want := "ADDED web-2,MODIFIED web-2,DELETED web-2,ADDED db-2,DELETED db-2"; strings.Join(got, ",") != want {
		t.Errorf("events %v, want %s", got, want)
	}
}

func TestWatchFromZeroListsFirst(t *testing.T) {
	_, cs, _ := lab(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	w, err := cs.CoreV1().Namespaces().Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	var names []string
	for len(names) < 2 {
		e := <-w.ResultChan()
		if e.Type != watch.Added {
			t.Fatalf("event %s", e.Type)
		}
		names = append(names, e.Object.(*corev1.Namespace).Name)
	}
	if strings.Join(names, ",") != "default,shop" {
		t.Errorf("initial events %v", names)
	}
}

func TestUpdateConflictAndDelete(t *testing.T) {
	_, cs, _ := lab(t)
	ctx := context.Background()
	d, err := cs.AppsV1().Deployments("default").Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d.Spec.Replicas = ptr(int32(3))
	n, err := cs.AppsV1().Deployments("default").Update(ctx, d, metav1.UpdateOptions{})
	if err != nil || *n.Spec.Replicas != 3 || n.ResourceVersion == d.ResourceVersion {
		t.Fatalf("update: %v %v", n, err)
	}
	d.Spec.Replicas = ptr(int32(4)) // d still has the old resourceVersion
	_, err = cs.AppsV1().Deployments("default").Update(ctx, d, metav1.UpdateOptions{})
	if !apierrors.IsConflict(err) {
		t.Fatalf("stale update: %v", err)
	}
	if err := cs.AppsV1().Deployments("default").Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err = cs.AppsV1().Deployments("default").Get(ctx, "web", metav1.GetOptions{})
	if !apierrors.IsNotFound(err) || err.Error() != `deployments.apps "web" not found` {
		t.Errorf("get after delete: %v", err)
	}
	_, err = cs.AppsV1().Deployments("default").Update(ctx, d, metav1.UpdateOptions{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("update of a deleted deployment: %v", err)
	}
	err = cs.CoreV1().Pods("default").Delete(ctx, "nope", metav1.DeleteOptions{})
	if !apierrors.IsNotFound(err) || err.Error() != `pods "nope" not found` {
		t.Errorf("delete a missing pod: %v", err)
	}
}

func TestScaleSubresource(t *testing.T) {
	_, cs, _ := lab(t)
	ctx := context.Background()
	sc, err := cs.AppsV1().Deployments("default").GetScale(ctx, "web", metav1.GetOptions{})
	if err != nil || sc.Spec.Replicas != 2 || sc.Status.Selector != "app=web" {
		t.Fatalf("scale: %+v %v", sc, err)
	}
	sc.Spec.Replicas = 5
	if _, err := cs.AppsV1().Deployments("default").UpdateScale(ctx, "web", sc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	d, _ := cs.AppsV1().Deployments("default").Get(ctx, "web", metav1.GetOptions{})
	if *d.Spec.Replicas != 5 {
		t.Errorf("replicas %d after scale", *d.Spec.Replicas)
	}
}

func TestLogsEventsAndStreams(t *testing.T) {
	_, cs, srv := lab(t)
	ctx := context.Background()
	raw, err := cs.CoreV1().Pods("default").GetLogs("web-1", &corev1.PodLogOptions{TailLines: ptr(int64(2))}).DoRaw(ctx)
	if err != nil || string(raw) != "two\nthree\n" {
		t.Errorf("logs %q %v", raw, err)
	}
	evs, err := cs.CoreV1().Events("default").List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=web-1,involvedObject.kind=Pod"})
	if err != nil || len(evs.Items) != 1 || evs.Items[0].Reason != "Scheduled" {
		t.Errorf("events %+v %v", evs, err)
	}
	resp, err := srv.Client().Post(srv.URL+"/api/v1/namespaces/default/pods/web-1/exec?command=ls", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "exec default/web-1" {
		t.Errorf("exec routed to %q", body)
	}
}

// get does a raw request and decodes its JSON answer into v.
func get(t *testing.T, srv *httptest.Server, method, path, accept, ctype string, body []byte, v any) int {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, bytes.NewReader(body))
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if v != nil {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return resp.StatusCode
}

func TestTable(t *testing.T) {
	_, _, srv := lab(t)
	var tab metav1.Table
	get(t, srv, http.MethodGet, "/api/v1/pods", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json", "", nil, &tab)
	var heads, wide []string
	for _, c := range tab.ColumnDefinitions {
		heads = append(heads, c.Name)
		if c.Priority > 0 {
			wide = append(wide, c.Name)
		}
	}
	if strings.Join(heads[:5], ",") != "Name,Ready,Status,Restarts,Age" || !contains(wide, "IP") || !contains(wide, "Node") {
		t.Errorf("columns %v (wide %v)", heads, wide)
	}
	if len(tab.Rows) != 2 || tab.Rows[0].Cells[0] != "web-1" || tab.Rows[0].Cells[2] != "Running" {
		t.Fatalf("rows %+v", tab.Rows)
	}
	var m metav1.PartialObjectMetadata
	if err := json.Unmarshal(tab.Rows[0].Object.Raw, &m); err != nil || m.Name != "web-1" || m.Kind != "PartialObjectMetadata" {
		t.Errorf("row object %s: %v", tab.Rows[0].Object.Raw, err)
	}
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func TestErrorsAreStatuses(t *testing.T) {
	_, _, srv := lab(t)
	for _, c := range []struct {
		method, path, ctype, body string
		code                      int
		msg                       string
	}{
		{"GET", "/api/v1/widgets", "", "", 404, "the server could not find the requested resource"},
		{"GET", "/apis/batch/v1/jobs", "", "", 404, "the server could not find the requested resource"},
		{"GET", "/api/v1/namespaces/default/pods/nope", "", "", 404, `pods "nope" not found`},
		{"POST", "/apis/apps/v1/namespaces/default/deployments?fieldValidation=Strict", "application/json",
			`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"x"},"spec":{"foo":1}}`, 400,
			`Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.foo"`},
		{"POST", "/api/v1/namespaces/default/pods", "application/yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: yaml-pod\n", 201, ""},
		{"POST", "/api/v1/namespaces/default/pods", "text/csv", "a,b", 415, ""},
	} {
		var st metav1.Status
		var into any = &st
		if c.msg == "" {
			into = nil
		}
		code := get(t, srv, c.method, c.path, "", c.ctype, []byte(c.body), into)
		if code != c.code || c.msg != "" && (st.Message != c.msg || st.Kind != "Status" || int(st.Code) != c.code) {
			t.Errorf("%s %s: %d %+v, want %d %q", c.method, c.path, code, st, c.code, c.msg)
		}
	}
}

func TestOpenAPIV3(t *testing.T) {
	_, cs, srv := lab(t)
	paths, err := cs.Discovery().OpenAPIV3().Paths()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"api/v1", "apis/apps/v1", "apis/networking.k8s.io/v1", "apis/gateway.networking.k8s.io/v1"} {
		gv, ok := paths[p]
		if !ok {
			t.Errorf("no %s in the index", p)
			continue
		}
		raw, err := gv.Schema("application/json")
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		var doc struct {
			Paths      map[string]map[string]any `json:"paths"`
			Components struct {
				Schemas map[string]map[string]any `json:"schemas"`
			} `json:"components"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		if p == "api/v1" {
			pod := doc.Components.Schemas["io.k8s.api.core.v1.Pod"]
			if pod == nil || pod["x-kubernetes-group-version-kind"] == nil || !strings.Contains(fmt.Sprint(pod["description"]), "Pod is a collection of containers") {
				t.Errorf("Pod's schema: %v", pod)
			}
			patch := doc.Paths["/api/v1/namespaces/{namespace}/pods/{name}"]["patch"]
			if !strings.Contains(fmt.Sprint(patch), "fieldValidation") {
				t.Errorf("pods' PATCH has no fieldValidation parameter: %v", patch)
			}
		}
	}
	var idx struct {
		Paths map[string]struct {
			URL string `json:"serverRelativeURL"`
		} `json:"paths"`
	}
	get(t, srv, http.MethodGet, "/openapi/v3", "", "", nil, &idx)
	u := idx.Paths["api/v1"].URL
	req, _ := http.NewRequest(http.MethodGet, srv.URL+strings.Replace(u, "hash=", "hash=0", 1), nil)
	resp, err := srv.Client().Transport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != u {
		t.Errorf("a stale hash: %d to %q, want 301 to %q", resp.StatusCode, resp.Header.Get("Location"), u)
	}
}

func TestPatchAndManagedFields(t *testing.T) {
	_, cs, srv := lab(t)
	ctx := context.Background()
	d, err := cs.AppsV1().Deployments("default").Patch(ctx, "web", types.StrategicMergePatchType,
		[]byte(`{"metadata":{"labels":{"tier":"front"}},"spec":{"replicas":4}}`), metav1.PatchOptions{FieldManager: "tester"})
	if err != nil || d.Labels["tier"] != "front" || *d.Spec.Replicas != 4 {
		t.Fatalf("patch: %v %v", d, err)
	}
	var st metav1.Status
	code := get(t, srv, http.MethodPatch, "/apis/apps/v1/namespaces/default/deployments/web?fieldValidation=Strict", "",
		string(types.MergePatchType), []byte(`{"spec":{"foo":1}}`), &st)
	if code != http.StatusUnprocessableEntity && code != http.StatusBadRequest || !strings.Contains(st.Message, `unknown field "spec.foo"`) {
		t.Errorf("strict patch: %d %q", code, st.Message)
	}
	made, err := cs.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm"}, Data: map[string]string{"a": "b"}},
		metav1.CreateOptions{FieldManager: "tester"})
	if err != nil || len(made.ManagedFields) != 1 || made.ManagedFields[0].Manager != "tester" {
		t.Errorf("create's managedFields: %+v %v", made.ManagedFields, err)
	}
}

func TestAuthReviews(t *testing.T) {
	_, cs, _ := lab(t)
	ctx := context.Background()
	r, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
		Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "get", Resource: "pods"}}}, metav1.CreateOptions{})
	if err != nil || !r.Status.Allowed || r.Spec.ResourceAttributes.Resource != "pods" {
		t.Errorf("access review: %+v %v", r, err)
	}
	who, err := cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil || who.Status.UserInfo.Username != "kubernetes-admin" {
		t.Errorf("whoami: %+v %v", who, err)
	}
}

func TestWatchListInitialEvents(t *testing.T) {
	_, _, srv := lab(t)
	resp, err := srv.Client().Get(srv.URL + "/api/v1/namespaces?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	var got []string
	for {
		var e struct {
			Type   string `json:"type"`
			Object struct {
				Metadata metav1.ObjectMeta `json:"metadata"`
			} `json:"object"`
		}
		if dec.Decode(&e) != nil {
			break
		}
		got = append(got, e.Type+" "+e.Object.Metadata.Name+e.Object.Metadata.Annotations[metav1.InitialEventsAnnotationKey])
	}
	if strings.Join(got, ",") != "ADDED default,ADDED shop,BOOKMARK true" {
		t.Errorf("events %v", got)
	}
}

func TestEviction(t *testing.T) {
	b, cs, _ := lab(t)
	err := cs.PolicyV1().Evictions("default").Evict(context.Background(), &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: "web-1", Namespace: "default"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := b.s.Get("Pod", "default", "web-1"); ok {
		t.Errorf("the evicted pod is still there")
	}
}

func TestWatchAsTableAndStatus(t *testing.T) {
	b, cs, srv := lab(t)
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/namespaces/shop/pods?watch=1&timeoutSeconds=1", nil)
	req.Header.Set("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var e struct {
		Type   string       `json:"type"`
		Object metav1.Table `json:"object"`
	}
	err = json.NewDecoder(resp.Body).Decode(&e)
	resp.Body.Close()
	if err != nil || e.Type != "ADDED" || e.Object.Kind != "Table" || len(e.Object.Rows) != 1 || e.Object.Rows[0].Cells[0] != "db-1" {
		t.Errorf("table watch event %+v: %v", e, err)
	}
	p, _ := cs.CoreV1().Pods("shop").Get(context.Background(), "db-1", metav1.GetOptions{})
	p.Status.Phase = corev1.PodSucceeded
	p.Labels["ignored"] = "yes" // status writes change the status only
	if _, err := cs.CoreV1().Pods("shop").UpdateStatus(context.Background(), p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	o, _ := b.s.Get("Pod", "shop", "db-1")
	if got := o.(*corev1.Pod); got.Status.Phase != corev1.PodSucceeded || got.Labels["ignored"] != "" {
		t.Errorf("after UpdateStatus: phase %s, labels %v", got.Status.Phase, got.Labels)
	}
}
