package cluster

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"syscall"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"podlab.dev/podlab/cluster/defaults"
	"podlab.dev/podlab/cluster/kubelet"
	"podlab.dev/podlab/cluster/store"
	"podlab.dev/podlab/events"
	"podlab.dev/podlab/plan"
	"podlab.dev/podlab/topology"
)

// KubeletVersion is the Kubernetes version podlab's nodes report (kubectl's VERSION).
const KubeletVersion = "v1.32.0"

// seed fills a new store with what deploy built: the namespaces, a Node per node, the
// lab file's objects (Services through admission), and a Pod per planned pod, placed
// and addressed as the plan says, so that kubelet adopts the pods deploy attaches and
// the controllers adopt them as their own.
func (s *Supervisor) seed() error {
	p := s.plan
	nss := map[string]bool{"default": true, "kube-system": true, "kube-public": true, "kube-node-lease": true}
	for _, ns := range p.Namespaces {
		nss[ns] = true
	}
	for _, pod := range p.Pods {
		nss[pod.Namespace] = true
	}
	for _, o := range p.Objects {
		if o.Namespace != "" {
			nss[o.Namespace] = true
		}
		if o.Kind == "Namespace" {
			delete(nss, o.Name) // created from its manifest below
		}
	}
	names := make([]string, 0, len(nss))
	for ns := range nss {
		names = append(names, ns)
	}
	sort.Strings(names)
	for _, ns := range names {
		if _, err := s.store.Create(namespace(ns)); err != nil {
			return err
		}
	}
	for _, n := range p.Nodes {
		if _, err := s.store.Create(s.node(&n)); err != nil {
			return err
		}
	}
	if err := s.seedAddons(); err != nil {
		return err
	}
	manifests := map[string]topology.Object{}
	for _, o := range p.Objects {
		if o.Kind == "Pod" {
			manifests[o.Namespace+"/"+o.Name] = o
			continue
		}
		if r := s.admitAndStore(o); r.Error != "" {
			s.events.emit(events.Event{Type: events.Warning, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name, Message: r.Error})
		}
	}
	pods := make([]store.Object, 0, len(p.Pods))
	for i := range p.Pods {
		pod, err := s.seedPod(&p.Pods[i], manifests)
		if err != nil {
			return err
		}
		pods = append(pods, pod)
		delete(manifests, p.Pods[i].Key())
	}
	if err := s.store.CreateMany(pods); err != nil { // one write for a thousand pods
		return err
	}
	// Manifest pods deploy built nothing for (no node fits them): the scheduler keeps
	// them Pending and says why.
	for _, o := range p.Objects {
		if _, left := manifests[o.Namespace+"/"+o.Name]; !left || o.Kind != "Pod" {
			continue
		}
		pod := &corev1.Pod{}
		if err := json.Unmarshal(o.Raw, pod); err != nil {
			return fmt.Errorf("pod %s/%s: %w", o.Namespace, o.Name, err)
		}
		pod.TypeMeta = metav1.TypeMeta{}
		pod.Namespace = o.Namespace
		defaults.Pod(pod)
		pod.Status = corev1.PodStatus{Phase: corev1.PodPending}
		if _, err := s.store.Create(pod); err != nil {
			return err
		}
	}
	return s.store.Err()
}

func namespace(name string) *corev1.Namespace {
	ns := &corev1.Namespace{}
	ns.Name = name
	ns.Labels = map[string]string{"kubernetes.io/metadata.name": name}
	ns.Status.Phase = corev1.NamespaceActive
	return ns
}

// node is the Node object of a planned node, as kubeadm and kubelet register it.
func (s *Supervisor) node(n *plan.Node) *corev1.Node {
	p := s.plan
	o := &corev1.Node{}
	o.Name = n.Name
	o.Labels = map[string]string{}
	for k, v := range n.Labels {
		o.Labels[k] = v
	}
	o.Labels["kubernetes.io/arch"] = runtime.GOARCH
	o.Labels["kubernetes.io/os"] = "linux"
	o.Labels["kubernetes.io/hostname"] = n.Name
	workers := 0
	for _, m := range p.Nodes {
		if m.Role != topology.RoleControlPlane {
			workers++
		}
	}
	// kubeadm taints the control plane; kind leaves a lone one schedulable.
	if n.Role == topology.RoleControlPlane && workers > 0 {
		o.Spec.Taints = []corev1.Taint{{Key: "node-role.kubernetes.io/control-plane", Effect: corev1.TaintEffectNoSchedule}}
	}
	o.Spec.PodCIDR = n.PodCIDR.String()
	o.Spec.PodCIDRs = []string{o.Spec.PodCIDR}
	pods := resource.MustParse(fmt.Sprint(plan.PodCapacity(p.Cluster.NodeCIDRMaskSize)))
	o.Status.Capacity = machineResources(pods)
	o.Status.Allocatable = machineResources(pods)
	o.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: n.IP.Addr().String()}, {Type: corev1.NodeHostName, Address: n.Name}}
	o.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", Message: "kubelet is posting ready status",
		LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now()}}
	kernel := ""
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = strings.TrimSpace(string(b))
	}
	o.Status.NodeInfo = corev1.NodeSystemInfo{KubeletVersion: KubeletVersion, KubeProxyVersion: KubeletVersion, OperatingSystem: "linux", Architecture: runtime.GOARCH,
		OSImage: "podlab " + p.Runtime, KernelVersion: kernel, ContainerRuntimeVersion: "podlab://" + p.Runtime}
	return o
}

// seedPod is the Pod object of a planned pod: its manifest (a Pod, or its Deployment's
// template), else the shorthand's one container; bound to its node with its address.
func (s *Supervisor) seedPod(pp *plan.Pod, manifests map[string]topology.Object) (*corev1.Pod, error) {
	pod := &corev1.Pod{}
	if o, ok := manifests[pp.Key()]; ok {
		if err := json.Unmarshal(o.Raw, pod); err != nil {
			return nil, fmt.Errorf("pod %s: %w", pp.Key(), err)
		}
	} else if kind, name, ok := strings.Cut(pp.Owner, "/"); ok && kind == "Deployment" {
		if d, ok := s.store.Get("Deployment", pp.Namespace, name); ok {
			tmpl := d.(*appsv1.Deployment).Spec.Template.DeepCopy()
			pod.ObjectMeta = tmpl.ObjectMeta
			pod.Spec = tmpl.Spec
		}
	}
	if len(pod.Spec.Containers) == 0 {
		c := corev1.Container{Name: "app", Image: pp.Image}
		if c.Image == "" {
			c.Image = "podlab/pod"
		}
		for _, pt := range pp.Ports {
			c.Ports = append(c.Ports, corev1.ContainerPort{Name: pt.Name, ContainerPort: int32(pt.Port), Protocol: corev1.Protocol(pt.Protocol)})
		}
		pod.Spec.Containers = []corev1.Container{c}
	}
	pod.TypeMeta = metav1.TypeMeta{}
	pod.Namespace, pod.Name = pp.Namespace, pp.Name
	pod.GenerateName = ""
	pod.Labels = pp.Labels
	pod.Spec.NodeName = pp.Node
	if pod.Spec.RestartPolicy == "" {
		pod.Spec.RestartPolicy = corev1.RestartPolicyAlways
	}
	if pod.Spec.SchedulerName == "" {
		pod.Spec.SchedulerName = "default-scheduler"
	}
	// Running, not ready yet: the status kubelet reports once it adopts the pod deploy
	// attaches, so that adopting a thousand pods writes nothing.
	var node kubelet.Node
	if n, ok := s.plan.Node(pp.Node); ok {
		node = kubelet.Node{Name: n.Name, IP: n.IP.Addr().String()}
	}
	defaults.Pod(pod) // as admission would have: these pods skip it, being a thousand at once
	pod.Status = kubelet.AdoptedStatus(pod, node, pp.IP, plan.ContainerID(s.plan.Lab, pp.Namespace, pp.Name), s.started)
	return pod, nil
}

// readmit rebuilds the Service registry's allocations from the stored Services after a
// restart, oldest first, so that no ClusterIP, NodePort or LoadBalancer IP moves.
func (s *Supervisor) readmit() {
	objs := s.store.List("Service", "")
	sort.SliceStable(objs, func(i, j int) bool {
		a, b := objs[i].GetCreationTimestamp(), objs[j].GetCreationTimestamp()
		return a.Before(&b)
	})
	s.regMu.Lock()
	defer s.regMu.Unlock()
	for _, o := range objs {
		svc := o.(*corev1.Service).DeepCopy()
		if _, err := s.reg.Apply(svc, topology.Pos{}); err != nil {
			s.log.Warn("re-admitting Service", "service", svc.Namespace+"/"+svc.Name, "err", err)
		}
	}
}

// machineResources is a node's capacity: its pods, and the machine's CPUs, memory
// and root filesystem, which every node of a lab shares (as kind's nodes report
// theirs), so that kubectl describe node can say what share the pods request.
func machineResources(pods resource.Quantity) corev1.ResourceList {
	l := corev1.ResourceList{corev1.ResourcePods: pods,
		corev1.ResourceCPU: *resource.NewQuantity(int64(runtime.NumCPU()), resource.DecimalSI)}
	var si syscall.Sysinfo_t
	if syscall.Sysinfo(&si) == nil {
		l[corev1.ResourceMemory] = *resource.NewQuantity(int64(si.Totalram)*int64(si.Unit), resource.BinarySI)
	}
	var fs syscall.Statfs_t
	if syscall.Statfs("/", &fs) == nil {
		l[corev1.ResourceEphemeralStorage] = *resource.NewQuantity(int64(fs.Blocks)*fs.Bsize, resource.BinarySI)
	}
	return l
}
