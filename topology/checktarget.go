package topology

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// from reads a check's source: NS/POD, POD (in default) or a host's name.
func (c *checkBuilder) from(path, s string, hosts bool) *Endpoint {
	d, n := c.d, c.names
	fp := join(path, "from")
	what := "POD, NS/POD or a host's name"
	if !hosts {
		what = "POD or NS/POD (a host has no cluster resolver)"
	}
	if !d.has(fp) || s == "" {
		d.add(fp, "where the packets leave: "+what+", e.g. from: client", "required")
		return nil
	}
	if ns, name, ok := strings.Cut(s, "/"); ok {
		if validation.IsDNS1123Label(ns) != nil || validation.IsDNS1123Subdomain(name) != nil {
			d.add(fp, "write "+what, "invalid pod %q", s)
			return nil
		}
		if !n.Pods[s] && !c.unknown {
			d.add(fp, c.podHint(name), "the lab has no pod %s", s)
			return nil
		}
		return &Endpoint{Kind: EndpointPod, Namespace: ns, Name: name, Text: s}
	}
	pod, host := n.Pods["default/"+s], n.Hosts[s]
	switch {
	case pod && host && hosts:
		d.add(fp, "write default/"+s+" for the pod", "%q is both a host and a pod of namespace default", s)
		return nil
	case host && hosts:
		return &Endpoint{Kind: EndpointHost, Name: s, Text: s}
	case host:
		d.add(fp, "ask from a pod: a host has no cluster resolver (its DNS server answers its own zones)", "a DNS check runs from a pod, %s is a host", s)
		return nil
	case pod || c.unknown:
		return &Endpoint{Kind: EndpointPod, Namespace: "default", Name: s, Text: s}
	}
	d.add(fp, c.podHint(s), "the lab has no pod default/%s%s", s, map[bool]string{true: " and no host " + s}[hosts])
	return nil
}

// podHint suggests a pod of that name in another namespace, or a close name.
func (c *checkBuilder) podHint(name string) string {
	var same, all []string
	for _, k := range sortedKeys(c.names.Pods) {
		ns, pn, _ := strings.Cut(k, "/")
		if pn == name {
			same = append(same, k)
		}
		if ns == "default" {
			k = pn // as a check writes it
		}
		all = append(all, k)
	}
	all = append(all, sortedKeys(c.names.Hosts)...)
	switch {
	case len(same) > 0:
		return "write it with its namespace: " + strings.Join(same, " or ")
	case Suggest(name, all) != "":
		return "did you mean " + strconv.Quote(Suggest(name, all)) + "?"
	}
	return "pods and hosts of the lab: see podlab get pods -A, or the lab file"
}

// target classifies a destination: NS/POD, NODE:PORT or HOST:PORT, an address, POD,
// a host or node, SVC.NS of a lab namespace, or else a DNS name.
func (c *checkBuilder) target(path, s string, from *Endpoint) *Endpoint {
	d, n := c.d, c.names
	if strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") {
		u, err := url.Parse(s)
		if err != nil || u.Hostname() == "" {
			d.add(path, "e.g. to: http://web.default:80/", "invalid URL %q", s)
			return nil
		}
		e := c.target(path, u.Hostname(), from)
		if e != nil {
			e.Text, e.Port = s, 80
			if u.Scheme == "https" {
				e.Port = 443
			}
			if u.Port() != "" {
				e.Port, _ = strconv.Atoi(u.Port())
			}
		}
		return e
	}
	if ip, err := netip.ParseAddr(s); err == nil {
		if !ip.Is4() {
			d.add(path, "the lab's pods, Services and machines are IPv4", "address %s is not IPv4", s)
			return nil
		}
		return &Endpoint{Kind: EndpointIP, IP: ip, Text: s}
	}
	if ns, name, ok := strings.Cut(s, "/"); ok {
		if validation.IsDNS1123Label(ns) != nil || validation.IsDNS1123Subdomain(name) != nil {
			d.add(path, "write NS/POD, e.g. default/web-1", "invalid pod %q", s)
			return nil
		}
		if !n.Pods[s] && !c.unknown {
			d.add(path, c.podHint(name), "the lab has no pod %s", s)
			return nil
		}
		return &Endpoint{Kind: EndpointPod, Namespace: ns, Name: name, Text: s}
	}
	if host, port, ok := strings.Cut(s, ":"); ok {
		p, err := strconv.Atoi(port)
		if err != nil || p < 1 || p > 65535 {
			d.add(path, "write NODE:PORT, e.g. worker-1:30080", "invalid port %q", port)
			return nil
		}
		switch {
		case n.Nodes[host]:
			return &Endpoint{Kind: EndpointNode, Name: host, Port: p, Text: s}
		case n.Hosts[host]:
			return &Endpoint{Kind: EndpointHost, Name: host, Port: p, Text: s}
		}
		d.add(path, "nodes: "+strings.Join(sortedKeys(n.Nodes), ", "), "the lab has no node %s%s", host, didYouMean(host, sortedKeys(n.Nodes)))
		return nil
	}
	host := strings.TrimSuffix(s, ".")
	if host == "" || validation.IsDNS1123Subdomain(strings.ToLower(host)) != nil {
		d.add(path, "write POD, NS/POD, SVC.NS, a DNS name, NODE:PORT, an IP address or a URL", "invalid destination %q", s)
		return nil
	}
	e := &Endpoint{Kind: EndpointName, Name: host, Text: s}
	switch svc, ns, two := strings.Cut(host, "."); {
	case strings.HasSuffix(s, "."):
	case !two && n.Pods["default/"+s]:
		e.Kind, e.Namespace = EndpointPod, "default"
	case !two && n.Hosts[s]:
		e.Kind = EndpointHost
	case !two && n.Nodes[s]:
		e.Kind = EndpointNode
	case two && !strings.Contains(ns, ".") && n.Namespaces[ns]:
		if !n.Services[ns+"/"+svc] && !c.unknown {
			d.add(path, c.serviceHint(ns, svc), "namespace %s has no Service %s", ns, svc)
			return nil
		}
		e.Kind, e.Namespace, e.Name = EndpointService, ns, svc
	}
	if e.Kind == EndpointName && from != nil && from.Kind == EndpointHost {
		d.add(path, "from a host, name a pod, a Service (SVC.NS), NODE:PORT or an address: a host has no cluster resolver",
			"%s would be resolved by %s, a host", s, from.Name)
		return nil
	}
	return e
}

func (c *checkBuilder) serviceHint(ns, name string) string {
	var in []string
	for _, k := range sortedKeys(c.names.Services) {
		if n, s, _ := strings.Cut(k, "/"); n == ns {
			in = append(in, s)
		}
	}
	if len(in) == 0 {
		return "namespace " + ns + " has no Services; write SVC.NS, e.g. web.default"
	}
	return fmt.Sprintf("Services of namespace %s: %s%s", ns, strings.Join(in, ", "), didYouMean(name, in))
}

// action reads a step's after:, exactly one action and an optional namespace.
func (c *checkBuilder) action(path string, raw *afterFile) *StepAction {
	d := c.d
	var verbs []string
	for _, v := range []struct{ verb, val string }{
		{ActionDelete, raw.Delete}, {ActionScale, raw.Scale}, {ActionApply, raw.Apply},
		{ActionDeleteManifest, raw.DeleteManifest}, {ActionLabel, raw.Label}, {ActionBreakReadiness, raw.BreakReadiness},
	} {
		if d.has(join(path, v.verb)) {
			verbs = append(verbs, v.verb)
		}
	}
	if len(verbs) != 1 {
		if len(verbs) == 0 {
			d.add(path, "one of delete: pod/NAME, scale: deployment/NAME=N, apply: FILE, deleteManifest: FILE, label: pod/NAME k=v, breakReadiness: pod/NAME", "say what the step does")
		} else {
			d.add(join(path, verbs[1]), "write one step per action", "a step does one thing: %s and %s", verbs[0], verbs[1])
		}
		return nil
	}
	a := &StepAction{Verb: verbs[0], Namespace: "default"}
	ap := join(path, a.Verb)
	if raw.Namespace != "" {
		if validation.IsDNS1123Label(raw.Namespace) != nil {
			d.add(join(path, "namespace"), "", "invalid namespace %q", raw.Namespace)
		}
		a.Namespace = raw.Namespace
	}
	switch a.Verb {
	case ActionDelete, ActionBreakReadiness:
		a.Text = map[string]string{ActionDelete: raw.Delete, ActionBreakReadiness: raw.BreakReadiness}[a.Verb]
		c.podRef(ap, a.Text, a)
	case ActionScale:
		a.Text = raw.Scale
		ref, n, ok := strings.Cut(raw.Scale, "=")
		r, err := strconv.Atoi(strings.TrimSpace(n))
		kind, name, _ := strings.Cut(strings.TrimSpace(ref), "/")
		kinds := map[string]string{"deployment": "Deployment", "statefulset": "StatefulSet", "replicaset": "ReplicaSet"}
		switch {
		case !ok || err != nil || r < 0 || name == "":
			d.add(ap, "e.g. scale: deployment/web=3", "expected KIND/NAME=REPLICAS, got %q", raw.Scale)
		case kinds[strings.ToLower(kind)] == "":
			d.add(ap, "scale a deployment, statefulset or replicaset", "cannot scale a %s", kind)
		case !c.unknown && !c.names.Workloads[strings.ToLower(kind)+"/"+a.Namespace+"/"+name]:
			d.add(ap, "workloads of the lab: "+c.workloads(), "the lab has no %s %s in namespace %s", kind, name, a.Namespace)
		}
		a.Kind, a.Name, a.Replicas = kinds[strings.ToLower(kind)], name, r
	case ActionLabel:
		a.Text = raw.Label
		f := strings.Fields(raw.Label)
		if len(f) < 2 {
			d.add(ap, "e.g. label: pod/web-1 app=other (k- removes k)", "expected pod/NAME and at least one k=v, got %q", raw.Label)
			return a
		}
		c.podRef(ap, f[0], a)
		a.Labels = map[string]string{}
		for _, kv := range f[1:] {
			k, v, set := strings.Cut(kv, "=")
			if !set && strings.HasSuffix(kv, "-") {
				k = strings.TrimSuffix(kv, "-")
			}
			bad := validation.IsQualifiedName(k)
			if set {
				bad = append(bad, validation.IsValidLabelValue(v)...)
			} else if !strings.HasSuffix(kv, "-") {
				bad = append(bad, "write k=v to set a label, k- to remove it")
			}
			if len(bad) > 0 {
				d.add(ap, "e.g. label: pod/web-1 app=other (k- removes k)", "invalid label %q: %s", kv, strings.Join(bad, "; "))
				continue
			}
			if set {
				a.Labels[k] = v
			} else {
				a.Remove = append(a.Remove, k)
			}
		}
	case ActionApply, ActionDeleteManifest:
		a.Text = raw.Apply + raw.DeleteManifest
		c.manifest(ap, a)
		if a.Verb == ActionApply {
			c.unknown = true // what it makes is looked up when later checks run
		}
	}
	return a
}

func (c *checkBuilder) workloads() string {
	if len(c.names.Workloads) == 0 {
		return "none"
	}
	var out []string
	for _, k := range sortedKeys(c.names.Workloads) {
		kind, rest, _ := strings.Cut(k, "/")
		ns, name, _ := strings.Cut(rest, "/")
		out = append(out, kind+"/"+name+" (namespace "+ns+")")
	}
	return strings.Join(out, ", ")
}

// podRef reads pod/NAME into a.
func (c *checkBuilder) podRef(path, s string, a *StepAction) {
	kind, name, ok := strings.Cut(s, "/")
	a.Kind, a.Name = "Pod", name
	switch {
	case !ok || !strings.EqualFold(kind, "pod") && !strings.EqualFold(kind, "po") || validation.IsDNS1123Subdomain(name) != nil:
		c.d.add(path, "e.g. pod/web-1, and namespace: shop beside it for another namespace", "expected pod/NAME, got %q", s)
	case !c.unknown && !c.names.Pods[a.Namespace+"/"+name]:
		c.d.add(path, c.podHint(name), "the lab has no pod %s in namespace %s", name, a.Namespace)
	}
}

// manifest reads the file a step applies or deletes, relative to the checks' file.
func (c *checkBuilder) manifest(path string, a *StepAction) {
	name := a.Text
	if name == "" {
		c.d.add(path, "a manifest file, relative to this file, e.g. manifests/policy.yaml", "required")
		return
	}
	if !filepath.IsAbs(name) {
		name = filepath.Join(filepath.Dir(c.d.file), name)
	}
	a.File = name
	if c.readFile == nil {
		c.d.add(path, "", "cannot read manifest file %s here", name)
		return
	}
	data, err := c.readFile(name)
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	if err != nil {
		c.d.add(path, "paths are relative to the file's directory", "cannot read manifest file %s: %v", name, err)
		return
	}
	c.files = append(c.files, name)
	objs, _, err := LoadManifests(name, data)
	if err != nil {
		if es, ok := err.(Errors); ok {
			for _, e := range es {
				c.d.e.addErr(e)
			}
			return
		}
		c.d.add(path, "", "%v", err)
		return
	}
	if len(objs) == 0 {
		c.d.add(path, "", "manifest file %s has no objects", name)
	}
	a.Objects = objs
	if a.Verb == ActionApply {
		c.names.addObjects(objs)
	}
}
