package cluster

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/client-go/tools/remotecommand"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/cluster/defaults"
	"podlab.dev/podlab/cluster/kubeapi"
	"podlab.dev/podlab/cluster/kubeapi/stream"
	"podlab.dev/podlab/cluster/store"
	"podlab.dev/podlab/plan"
	"podlab.dev/podlab/runtime/netns"
	"podlab.dev/podlab/topology"
)

// KubeAPI is the lab's Kubernetes API (package kubeapi) over its store: what the
// lab's HTTPS listener serves to kubectl.
func (s *Supervisor) KubeAPI() http.Handler {
	return kubeapi.New(kubeBackend{s}, kubeapi.Options{})
}

// kubeBackend is the supervisor as kubeapi.Backend: a write through the Kubernetes
// API is admitted, stored, announced and settled exactly as `podlab apply` and
// `podlab delete` do it (Apply, DeleteObjects).
type kubeBackend struct{ s *Supervisor }

func (b kubeBackend) Objects() store.Reader { return b.s.store }

// topologyObject is o as Apply takes it.
func topologyObject(o store.Object) (topology.Object, error) {
	raw, err := json.Marshal(o)
	if err != nil {
		return topology.Object{}, apierrors.NewBadRequest(err.Error())
	}
	gvk := o.GetObjectKind().GroupVersionKind()
	return topology.Object{APIVersion: gvk.GroupVersion().String(), Kind: store.KindOf(o), Namespace: o.GetNamespace(),
		Name: o.GetName(), Applied: true, Raw: raw}, nil
}

func (b kubeBackend) Create(ctx context.Context, o store.Object, dryRun bool) (store.Object, error) {
	kind := store.KindOf(o)
	o = o.DeepCopyObject().(store.Object)
	if o.GetName() == "" && o.GetGenerateName() != "" {
		for range 5 { // the API server retries a generated name that is taken
			o.SetName(o.GetGenerateName() + rand.String(5))
			if _, taken := b.s.store.Get(kind, o.GetNamespace(), o.GetName()); !taken {
				break
			}
		}
	}
	if o.GetName() == "" {
		return nil, invalid(kind, "", "metadata.name: Required value: name or generateName is required")
	}
	if _, exists := b.s.store.Get(kind, o.GetNamespace(), o.GetName()); exists {
		return nil, apierrors.NewAlreadyExists(kubeapi.GroupResource(kind), o.GetName())
	}
	o.SetResourceVersion("")
	return b.write(ctx, kind, o, dryRun)
}

func (b kubeBackend) Update(ctx context.Context, o store.Object, dryRun bool) (store.Object, error) {
	kind := store.KindOf(o)
	cur, ok := b.s.store.Get(kind, o.GetNamespace(), o.GetName())
	if !ok {
		return nil, apierrors.NewNotFound(kubeapi.GroupResource(kind), o.GetName())
	}
	if rv := o.GetResourceVersion(); rv != "" && rv != cur.GetResourceVersion() {
		return nil, apierrors.NewConflict(kubeapi.GroupResource(kind), o.GetName(),
			errors.New("the object has been modified; please apply your changes to the latest version and try again"))
	}
	return b.write(ctx, kind, o, dryRun)
}

// write admits and stores o through Apply (a dry run checks its namespace only) and
// returns the object stored.
func (b kubeBackend) write(ctx context.Context, kind string, o store.Object, dryRun bool) (store.Object, error) {
	if ns := o.GetNamespace(); ns != "" {
		if _, ok := b.s.store.Get("Namespace", "", ns); !ok {
			return nil, apierrors.NewNotFound(kubeapi.GroupResource("Namespace"), ns)
		}
	}
	if dryRun { // what the write would store: the stored identity, a new object's stamps
		o = o.DeepCopyObject().(store.Object)
		defaults.Object(o)
		if cur, ok := b.s.store.Get(kind, o.GetNamespace(), o.GetName()); ok {
			o.SetUID(cur.GetUID())
			o.SetResourceVersion(cur.GetResourceVersion())
			o.SetCreationTimestamp(cur.GetCreationTimestamp())
			o.SetGeneration(cur.GetGeneration())
		} else if ts := o.GetCreationTimestamp(); ts.IsZero() {
			o.SetCreationTimestamp(metav1.Now())
			o.SetUID(types.UID(uuid.NewUUID()))
		}
		return o, nil
	}
	t, err := topologyObject(o)
	if err != nil {
		return nil, err
	}
	r := b.s.Apply(ctx, api.ApplyRequest{Objects: []topology.Object{t}})
	if len(r) == 1 && r[0].Error != "" {
		return nil, admissionError(kind, o.GetName(), r[0].Error)
	}
	n, ok := b.s.store.Get(kind, o.GetNamespace(), o.GetName())
	if !ok { // deleted again before we looked
		return nil, apierrors.NewNotFound(kubeapi.GroupResource(kind), o.GetName())
	}
	return n, nil
}

// admissionError is an admission failure of Apply as the API server's Status: a
// missing namespace is NotFound, the rest 422 Invalid with topology's message.
func admissionError(kind, name, msg string) error {
	if strings.HasPrefix(msg, "namespaces \"") && strings.HasSuffix(msg, "\" not found") {
		return apierrors.NewNotFound(kubeapi.GroupResource("Namespace"), strings.TrimSuffix(strings.TrimPrefix(msg, "namespaces \""), "\" not found"))
	}
	return invalid(kind, name, msg)
}

func invalid(kind, name, msg string) error {
	gr := kubeapi.GroupResource(kind)
	if !strings.Contains(msg, " is invalid") {
		msg = fmt.Sprintf("%s %q is invalid: %s", kind, name, msg)
	}
	return &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure, Code: http.StatusUnprocessableEntity,
		Reason: metav1.StatusReasonInvalid, Message: msg, Details: &metav1.StatusDetails{Name: name, Group: gr.Group, Kind: kind}}}
}

func (b kubeBackend) UpdateStatus(ctx context.Context, o store.Object) (store.Object, error) {
	n, err := b.s.store.UpdateStatus(o)
	if err != nil {
		return nil, err
	}
	b.s.settle(ctx, b.s.store.Generation())
	return n, nil
}

func (b kubeBackend) Delete(ctx context.Context, kind, namespace, name string, opts metav1.DeleteOptions) (store.Object, error) {
	cur, ok := b.s.store.Get(kind, namespace, name)
	if !ok {
		return nil, apierrors.NewNotFound(kubeapi.GroupResource(kind), name)
	}
	if p := opts.PropagationPolicy; p != nil && *p == metav1.DeletePropagationOrphan {
		b.orphan(cur)
	}
	r := b.s.DeleteObjects(ctx, []api.ObjectRef{{Kind: kind, Namespace: namespace, Name: name}})
	if len(r) == 1 && r[0].Error != "" {
		switch {
		case strings.Contains(r[0].Error, "forbidden"):
			return nil, apierrors.NewForbidden(kubeapi.GroupResource(kind), name, errImmortal)
		case strings.HasSuffix(r[0].Error, "not found"):
			return nil, apierrors.NewNotFound(kubeapi.GroupResource(kind), name)
		}
		return nil, apierrors.NewInternalError(errors.New(r[0].Error))
	}
	last := cur.DeepCopyObject().(store.Object)
	if last.GetDeletionTimestamp() == nil {
		now := metav1.Now()
		last.SetDeletionTimestamp(&now)
	}
	return last, nil
}

// orphan takes o out of its dependents' ownerReferences, so that the garbage
// collector leaves them (propagationPolicy=Orphan, kubectl delete --cascade=orphan).
func (b kubeBackend) orphan(o store.Object) {
	for _, kind := range b.s.store.Kinds() {
		for _, d := range b.s.store.List(kind, o.GetNamespace()) {
			refs := d.GetOwnerReferences()
			var keep []metav1.OwnerReference
			for _, ref := range refs {
				if ref.UID != o.GetUID() {
					keep = append(keep, ref)
				}
			}
			if len(keep) == len(refs) {
				continue
			}
			n := d.DeepCopyObject().(store.Object)
			n.SetOwnerReferences(keep)
			b.s.store.Update(n)
		}
	}
}

func (b kubeBackend) Events(namespace string) []*corev1.Event {
	var out []*corev1.Event
	for _, so := range b.s.kubeEvents(namespace) {
		e := &corev1.Event{}
		if json.Unmarshal(so.Object, e) != nil {
			continue
		}
		// kubectl describe selects a pod's events by its uid too.
		ref := &e.InvolvedObject
		if o, ok := b.s.store.Get(ref.Kind, ref.Namespace, ref.Name); ok {
			ref.UID = o.GetUID()
			ref.APIVersion = o.GetObjectKind().GroupVersionKind().GroupVersion().String()
		}
		out = append(out, e)
	}
	return out
}

// PodLogs reads the pod's log from the supervisor's log route (the same lines
// `podlab logs` prints) and writes them as text.
func (b kubeBackend) PodLogs(ctx context.Context, w io.Writer, namespace, name string, opts *corev1.PodLogOptions) error {
	mux := http.NewServeMux() // the supervisor's own log routes (logs.go)
	b.s.logRoutes(mux)
	q := url.Values{}
	if opts.Follow {
		q.Set("follow", "1")
	}
	if opts.TailLines != nil {
		q.Set("tail", strconv.FormatInt(*opts.TailLines, 10))
	}
	switch {
	case opts.SinceTime != nil:
		q.Set("since", opts.SinceTime.UTC().Format(time.RFC3339Nano))
	case opts.SinceSeconds != nil:
		q.Set("since", time.Now().Add(-time.Duration(*opts.SinceSeconds)*time.Second).UTC().Format(time.RFC3339Nano))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, api.PathLogs+"pod/"+url.PathEscape(namespace)+"/"+url.PathEscape(name)+"?"+q.Encode(), nil)
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	pr, pw := io.Pipe()
	rw := &pipeWriter{header: http.Header{}, w: pw}
	go func() {
		mux.ServeHTTP(rw, req)
		pw.Close()
	}()
	defer pr.Close()
	sc := bufio.NewScanner(pr)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if rw.code >= 400 {
			var e api.Error
			json.Unmarshal(sc.Bytes(), &e)
			if rw.code == http.StatusNotFound {
				return apierrors.NewNotFound(kubeapi.GroupResource("Pod"), name)
			}
			return apierrors.NewBadRequest(e.Error)
		}
		var l api.LogLine
		if json.Unmarshal(sc.Bytes(), &l) != nil {
			continue
		}
		text := l.Line
		if l.Note != "" {
			text = l.Note
		}
		if opts.Timestamps {
			text = l.Time.UTC().Format(time.RFC3339Nano) + " " + text
		}
		if _, err := io.WriteString(w, text+"\n"); err != nil {
			return nil
		}
	}
	return nil
}

// pipeWriter is an http.ResponseWriter into a pipe, for reading a route in process.
type pipeWriter struct {
	header http.Header
	code   int
	w      io.Writer
}

func (p *pipeWriter) Header() http.Header { return p.header }
func (p *pipeWriter) WriteHeader(code int) {
	if p.code == 0 {
		p.code = code
	}
}
func (p *pipeWriter) Write(b []byte) (int, error) {
	if p.code == 0 {
		p.code = http.StatusOK
	}
	return p.w.Write(b)
}
func (p *pipeWriter) Flush() {}

// PodStream hands exec, attach and port-forward to package kubeapi/stream: a
// command runs through the podlab binary's own exec (as `podlab exec`), a port is
// dialled from inside the pod's network namespace (as `podlab port-forward`).
func (b kubeBackend) PodStream(subresource, namespace, name string) (http.Handler, error) {
	lab := b.s.plan.Lab
	if subresource == "portforward" {
		return stream.PortForwardHandler(stream.NetnsForwarder{Pod: b.podAddr}, namespace, name), nil
	}
	o, ok := b.s.store.Get("Pod", namespace, name)
	if !ok {
		return nil, apierrors.NewNotFound(kubeapi.GroupResource("Pod"), name)
	}
	if phase := o.(*corev1.Pod).Status.Phase; phase != corev1.PodRunning {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("pod %s is not running: status %s", name, phase))
	}
	exec := stream.LabExec{Lab: lab, StateDir: b.s.dir.Root, InContainer: b.s.plan.Runtime == "docker"}
	if subresource == "attach" {
		// podlab's containers run no process of their own to attach to; attaching runs
		// the container's command (its shell for `kubectl run -it ... -- sh`), as if the
		// terminal had been there from the start.
		return stream.ExecHandler(attachExit{stream.AttachByExec{Executor: exec, Command: b.containerCommand}, b}, namespace, name), nil
	}
	return stream.ExecHandler(exec, namespace, name), nil
}

// attachExit ends the container when the command a client attached to ends, for a
// pod whose spec names its command (`kubectl run -it --restart=Never ... -- sh`):
// that command is the container's main process, so the pod completes (or restarts,
// per its restartPolicy), and `kubectl run --rm` sees it finish. A pod running an
// emulated image (nginx, agnhost) keeps its servers.
type attachExit struct {
	stream.AttachByExec
	b kubeBackend
}

func (a attachExit) Exec(ctx context.Context, namespace, pod, container string, cmd []string, in io.Reader, out, errOut io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize) error {
	err := a.AttachByExec.Exec(ctx, namespace, pod, container, cmd, in, out, errOut, tty, resize)
	if ctx.Err() != nil || !a.b.ownCommand(namespace, pod) {
		return err
	}
	code := int32(0)
	var ec interface{ ExitCode() int }
	if errors.As(err, &ec) {
		code = int32(ec.ExitCode())
	} else if err != nil {
		return err
	}
	if a.b.s.kubelet != nil {
		a.b.s.kubelet.ContainerExited(namespace, pod, code)
	}
	return err
}

// ownCommand says whether the pod's first container names its command (what a
// shell-like attach runs), rather than an image podlab emulates with its servers.
func (b kubeBackend) ownCommand(namespace, pod string) bool {
	o, ok := b.s.store.Get("Pod", namespace, pod)
	if !ok {
		return false
	}
	cs := o.(*corev1.Pod).Spec.Containers
	return len(cs) > 0 && len(cs[0].Command)+len(cs[0].Args) > 0
}

// containerCommand is a container's command and args, or sh when it has none.
func (b kubeBackend) containerCommand(_ context.Context, namespace, pod, container string) ([]string, error) {
	o, ok := b.s.store.Get("Pod", namespace, pod)
	if !ok {
		return nil, apierrors.NewNotFound(kubeapi.GroupResource("Pod"), pod)
	}
	for _, c := range o.(*corev1.Pod).Spec.Containers {
		if container == "" || c.Name == container {
			if cmd := append(append([]string{}, c.Command...), c.Args...); len(cmd) > 0 {
				return cmd, nil
			}
			break
		}
	}
	return []string{"sh"}, nil
}

// podAddr is a running pod's network namespace and address, for port-forward.
func (b kubeBackend) podAddr(_ context.Context, namespace, name string) (string, netip.Addr, error) {
	o, ok := b.s.store.Get("Pod", namespace, name)
	if !ok {
		return "", netip.Addr{}, apierrors.NewNotFound(kubeapi.GroupResource("Pod"), name)
	}
	pod := o.(*corev1.Pod)
	ip, err := netip.ParseAddr(pod.Status.PodIP)
	if err != nil || pod.Status.Phase != corev1.PodRunning {
		return "", netip.Addr{}, fmt.Errorf("unable to forward to pod %s: pod is not running: status %s", name, pod.Status.Phase)
	}
	if pod.Spec.HostNetwork {
		if n, ok := b.s.plan.Node(pod.Spec.NodeName); ok {
			return netns.Path(n.Netns), ip, nil
		}
	}
	return netns.Path(plan.PodNetns(b.s.plan.Lab, namespace, name)), ip, nil
}
