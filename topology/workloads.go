package topology

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/netip"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/rand"

	"podlab.dev/podlab/cluster/defaults"
)

// maxReplicas bounds one Deployment: every replica is a real network namespace.
const maxReplicas = 1000

// podSource is a Pod with the places it was declared, for errors found later.
type podSource struct {
	Pod
	refs map[string]ref // "name", "node", "ip", "nodeSelector"
	// manifest: declared in Kubernetes YAML, which an API server accepts even when no
	// node fits (the pod stays Pending); pending says this one will.
	manifest, pending bool
}

func (p *podSource) ref(key string) ref {
	if r, ok := p.refs[key]; ok {
		return r
	}
	return p.refs["name"]
}

// podManifest turns a v1 Pod into the lab's Pod.
func (d *doc) podManifest(obj any, ns string) []podSource {
	pod := obj.(*corev1.Pod)
	p := d.podFromSpec(pod.ObjectMeta, &pod.Spec, "metadata", "spec")
	p.Namespace, p.Name = ns, pod.Name
	p.refs["name"] = d.ref("metadata.name")
	return []podSource{p}
}

// deployment turns an apps/v1 Deployment into its replicas, named as the Deployment
// and ReplicaSet controllers would name them (deterministically here).
func (d *doc) deployment(obj any, ns string) []podSource {
	dep := obj.(*appsv1.Deployment)
	tmpl := &dep.Spec.Template
	d.checkLabels("spec.template.metadata.labels", tmpl.Labels)
	d.checkAnnotations("spec.template.metadata.annotations", tmpl.Annotations)
	replicas := 1
	if dep.Spec.Replicas != nil {
		replicas = int(*dep.Spec.Replicas)
	}
	switch {
	case replicas < 0:
		d.add("spec.replicas", "", "invalid value %d: must be greater than or equal to 0", replicas)
	case replicas > maxReplicas:
		d.add("spec.replicas", "", "%d replicas is more than podlab runs for one Deployment (%d)", replicas, maxReplicas)
	}
	d.checkSelector(dep.Spec.Selector, tmpl.Labels)
	base := d.podFromSpec(tmpl.ObjectMeta, &tmpl.Spec, "spec.template.metadata", "spec.template.spec")
	if _, pinned := tmpl.Annotations[AnnotationIP]; pinned && replicas > 1 {
		d.add("spec.template.metadata.annotations["+AnnotationIP+"]",
			"pin addresses on Pod manifests, one per pod", "every replica would get the same address")
	}
	if replicas < 0 || replicas > maxReplicas {
		return nil
	}
	hash := podTemplateHash(tmpl)
	used := map[string]bool{}
	pods := make([]podSource, 0, replicas)
	for i := 0; i < replicas; i++ {
		var name string
		for attempt := 0; ; attempt++ {
			name = dep.Name + "-" + hash + "-" + replicaSuffix(dep.Name, i, attempt)
			if !used[name] {
				break
			}
		}
		used[name] = true
		p := base
		p.Namespace, p.Name, p.Owner = ns, name, "Deployment/"+dep.Name
		p.Labels = map[string]string{}
		for k, v := range tmpl.Labels {
			p.Labels[k] = v
		}
		p.Labels[appsv1.DefaultDeploymentUniqueLabelKey] = hash
		p.refs = map[string]ref{}
		for k, v := range base.refs {
			p.refs[k] = v
		}
		p.refs["name"] = d.ref("metadata.name")
		pods = append(pods, p)
	}
	return pods
}

func (d *doc) checkSelector(sel *metav1.LabelSelector, tmplLabels map[string]string) {
	if sel == nil {
		d.add("spec.selector", "select the template's labels, e.g. selector: {matchLabels: {app: web}}", "required")
		return
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	switch {
	case err != nil:
		d.add("spec.selector", "", "invalid selector: %v", err)
	case s.Empty():
		d.add("spec.selector", "", "empty selector is invalid for deployment")
	case !s.Matches(labels.Set(tmplLabels)):
		if tmplLabels == nil {
			tmplLabels = map[string]string{}
		}
		d.add("spec.template.metadata.labels",
			"every spec.selector.matchLabels entry must also be in spec.template.metadata.labels",
			"Invalid value: %#v: selector does not match template labels", tmplLabels)
	}
}

// podFromSpec reads what a pod spec tells podlab; metaPath and specPath locate the
// metadata and spec in the document for errors.
func (d *doc) podFromSpec(meta metav1.ObjectMeta, spec *corev1.PodSpec, metaPath, specPath string) podSource {
	p := podSource{manifest: true, Pod: Pod{
		Labels: meta.Labels, Annotations: meta.Annotations, Pos: pos(d.file, d.root),
		Node: spec.NodeName, NodeSelector: spec.NodeSelector, SecurityContext: spec.SecurityContext,
	}, refs: map[string]ref{
		"node":         d.ref(specPath + ".nodeName"),
		"nodeSelector": d.ref(specPath + ".nodeSelector"),
	}}
	if len(spec.Containers) == 0 {
		d.add(specPath+".containers", "containers:\n  - name: app\n    image: nginx", "required: a pod needs at least one container")
	} else {
		p.Image = spec.Containers[0].Image
		p.ContainerSecurity = spec.Containers[0].SecurityContext
	}
	var where []string
	for i, c := range spec.Containers {
		cp := fmt.Sprintf("%s.containers[%d]", specPath, i)
		if c.Name == "" {
			d.add(cp+".name", "", "required")
		}
		if c.Image == "" {
			d.add(cp+".image", "", "required")
		}
		for j, port := range c.Ports {
			pp := fmt.Sprintf("%s.ports[%d]", cp, j)
			ok := true
			if port.ContainerPort < 1 || port.ContainerPort > 65535 {
				d.add(pp+".containerPort", "", "port %d is out of range 1..65535", port.ContainerPort)
				ok = false
			}
			if port.Name != "" {
				ok = checkPortName(d.file, d.idx[pp+".name"], field(d.label, pp+".name"), port.Name, d.e) && ok
			}
			proto := string(port.Protocol)
			if proto == "" {
				proto = "TCP"
			}
			if ok && contains(protocols, proto) {
				p.Ports = append(p.Ports, Port{Name: port.Name, Port: int(port.ContainerPort), Protocol: proto})
				where = append(where, pp)
			}
		}
	}
	checkDuplicatePorts(p.Ports, func(i int) (Pos, string) { return d.at(where[i]), field(d.label, where[i]) }, d.e)
	if s, ok := meta.Annotations[AnnotationIP]; ok {
		path := metaPath + ".annotations[" + AnnotationIP + "]"
		p.refs["ip"] = d.ref(path)
		if ip, ok := d.parseIP(path, s); ok {
			p.IP = ip
		}
	}
	return p
}

// parseIP parses a pinned address; podlab is IPv4-only for now.
func (d *doc) parseIP(path, s string) (netip.Addr, bool) {
	ip, err := netip.ParseAddr(s)
	switch {
	case err != nil:
		d.add(path, "write an IPv4 address such as 10.244.1.50", "invalid IP address %q", s)
	case !ip.Is4():
		d.add(path, "use an IPv4 address", "IPv6 is not supported yet: %q", s)
	default:
		return ip, true
	}
	return netip.Addr{}, false
}

// podTemplateHash is a stable hash of the template, rendered like the Deployment
// controller's pod-template-hash (FNV-32a, then SafeEncodeString of its decimal form).
// It hashes the template as the API server stores it (defaulted), because that is the
// template the controllers hash: the pods deploy names from the lab file and the
// ReplicaSet the controller finds must carry the same hash. Defaulting is idempotent,
// so a stored template hashes the same here.
func podTemplateHash(tmpl *corev1.PodTemplateSpec) string {
	tmpl = tmpl.DeepCopy()
	defaults.PodTemplate(tmpl)
	data, _ := json.Marshal(tmpl) // a decoded template always marshals
	h := fnv.New32a()
	h.Write(data)
	return rand.SafeEncodeString(strconv.FormatUint(uint64(h.Sum32()), 10))
}

// The ReplicaSet controller's random-suffix alphabet (no vowels, no look-alikes).
const suffixAlphabet = "bcdfghjklmnpqrstvwxz2456789"

// replicaSuffix is a deterministic stand-in for the ReplicaSet's random 5-character
// suffix, so a lab gets the same pod names on every deploy.
func replicaSuffix(deploy string, i, attempt int) string {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/%d/%d", deploy, i, attempt)
	v := h.Sum64()
	b := make([]byte, 5)
	for k := range b {
		b[k] = suffixAlphabet[v%uint64(len(suffixAlphabet))]
		v /= uint64(len(suffixAlphabet))
	}
	return string(b)
}
