package topology

import (
	"net/netip"
	"strings"
	"time"
)

// CheckKind is what a check looks at; the fields a check has decide it.
type CheckKind string

// Kinds of checks.
const (
	CheckReach  CheckKind = "reach"  // to: + port: packets from a pod or host, allowed or blocked
	CheckDNS    CheckKind = "dns"    // resolve: a name as a pod's resolver does
	CheckHTTP   CheckKind = "http"   // url: one request, its status, body and headers
	CheckSpread CheckKind = "spread" // requests: N requests to a Service reach every ready endpoint
	CheckStep   CheckKind = "step"   // after: an action, then checks retried until they pass
)

// Check is one self-check of a lab, validated and classified against the lab's names.
// `podlab check` runs it with real packets.
type Check struct {
	Name string    `json:"name"`
	Kind CheckKind `json:"kind"`
	// From is where the packets leave: a pod or a host (nil for steps).
	From *Endpoint `json:"from,omitempty"`
	// To is where they go (reach, spread, and the URL's host for HTTP), with its port.
	To       *Endpoint `json:"to,omitempty"`
	Protocol string    `json:"protocol,omitempty"` // TCP | UDP (reach, spread)

	// Expect is reach's verdict: one of ReachVerdicts, allowed by default.
	Expect string `json:"expect,omitempty"`

	Resolve string     `json:"resolve,omitempty"` // DNS: the name asked
	Type    string     `json:"type,omitempty"`    // DNS: A (default), AAAA, SRV...
	DNS     *DNSExpect `json:"dns,omitempty"`

	URL     string            `json:"url,omitempty"` // HTTP: as written
	Headers map[string]string `json:"headers,omitempty"`
	HTTP    *HTTPExpect       `json:"http,omitempty"`

	Requests int `json:"requests,omitempty"` // spread
	// Endpoints is how many ready endpoints the Service must have (spread; 0: any).
	Endpoints int `json:"endpoints,omitempty"`

	After  *StepAction   `json:"after,omitempty"` // step
	Within time.Duration `json:"within,omitempty"`
	Checks []Check       `json:"checks,omitempty"`

	Pos Pos `json:"pos"`
}

// ReachVerdicts are what a reachability check may expect, as netprobe tells them
// apart: a connection (allowed), no answer to two tries (blocked: a NetworkPolicy drops
// silently), a reset or port unreachable (refused: nothing listens, or kube-proxy
// rejects a Service without ready endpoints).
var ReachVerdicts = []string{"allowed", "blocked", "refused"}

// DNSExpect is what a DNS check's answer must be: one of Rcode, or the answer's values.
type DNSExpect struct {
	Addresses []netip.Addr `json:"addresses,omitempty"` // A/AAAA values, as a set
	Answers   []string     `json:"answers,omitempty"`   // other types' data as dig prints it, as a set
	CNAME     string       `json:"cname,omitempty"`     // the name's canonical name (no final dot)
	Rcode     string       `json:"rcode,omitempty"`     // NXDOMAIN | NODATA
}

// HTTPExpect is what an HTTP check's answer must be; empty fields are not checked.
type HTTPExpect struct {
	Status   int               `json:"status,omitempty"`
	Body     string            `json:"body,omitempty"`     // a substring of the body
	BodyJSON map[string]string `json:"bodyJSON,omitempty"` // fields of an echo server's JSON answer
	Headers  map[string]string `json:"headers,omitempty"`  // response headers, exact values
}

// EchoFields are the string fields of echo-basic's JSON answer a check may compare.
var EchoFields = []string{"host", "method", "namespace", "path", "pod", "proto", "service"}

// EndpointKind is what a check's from or to names.
type EndpointKind string

// Kinds of endpoints.
const (
	EndpointPod     EndpointKind = "pod"     // Namespace/Name
	EndpointHost    EndpointKind = "host"    // Name
	EndpointNode    EndpointKind = "node"    // Name
	EndpointService EndpointKind = "service" // Namespace/Name: its ClusterIP
	EndpointIP      EndpointKind = "ip"      // IP
	EndpointName    EndpointKind = "name"    // Name, resolved by the source pod's resolver
)

// Endpoint is a pod, host, node, Service, address or DNS name, as a check names it.
type Endpoint struct {
	Kind      EndpointKind `json:"kind"`
	Namespace string       `json:"namespace,omitempty"`
	Name      string       `json:"name,omitempty"`
	IP        netip.Addr   `json:"ip,omitzero"`
	Port      int          `json:"port,omitempty"`
	Text      string       `json:"text"` // as written
}

// Key is NS/NAME for pods and Services, the name for the rest.
func (e *Endpoint) Key() string {
	if e.Namespace != "" {
		return e.Namespace + "/" + e.Name
	}
	if e.Kind == EndpointIP {
		return e.IP.String()
	}
	return e.Name
}

// Step actions.
const (
	ActionDelete         = "delete"
	ActionScale          = "scale"
	ActionApply          = "apply"
	ActionDeleteManifest = "deleteManifest"
	ActionLabel          = "label"
	ActionBreakReadiness = "breakReadiness"
)

// StepAction is what a step does before its checks.
type StepAction struct {
	Verb      string `json:"verb"`
	Text      string `json:"text"`           // as written, for the report
	Kind      string `json:"kind,omitempty"` // Pod, Deployment, StatefulSet, ReplicaSet
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
	Replicas  int    `json:"replicas,omitempty"`
	// Labels are set (value) or removed (Remove) on the pod.
	Labels map[string]string `json:"labels,omitempty"`
	Remove []string          `json:"remove,omitempty"`
	// File and Objects: the manifest file applied or deleted, read at validation.
	File    string   `json:"file,omitempty"`
	Objects []Object `json:"objects,omitempty"`
}

// CheckNames is what checks may name, to find mistakes before anything runs. Pods,
// Services and Workloads are keyed NS/NAME (Workloads KIND/NS/NAME, KIND lower case).
type CheckNames struct {
	Pods, Hosts, Nodes, Services, Workloads, Namespaces map[string]bool
}

// NewCheckNames returns an empty set of names, with what every lab has: the cluster
// DNS's Service and namespace.
func NewCheckNames() *CheckNames {
	return &CheckNames{
		Pods: map[string]bool{}, Hosts: map[string]bool{}, Nodes: map[string]bool{},
		Services: map[string]bool{"kube-system/kube-dns": true}, Workloads: map[string]bool{},
		Namespaces: map[string]bool{"default": true, "kube-system": true},
	}
}

// CheckNames lists the lab's pods, hosts, nodes, Services, workloads and namespaces.
func (l *Lab) CheckNames() *CheckNames {
	n := NewCheckNames()
	for _, p := range l.Pods {
		n.Pods[p.Namespace+"/"+p.Name] = true
	}
	for _, h := range l.Hosts {
		n.Hosts[h.Name] = true
	}
	for _, nd := range l.Nodes {
		n.Nodes[nd.Name] = true
	}
	for _, ns := range l.Namespaces {
		n.Namespaces[ns] = true
	}
	n.addObjects(l.Objects)
	return n
}

func (n *CheckNames) addObjects(objs []Object) {
	for _, o := range objs {
		n.AddObject(o.Kind, o.Namespace, o.Name)
	}
}

// AddObject records a Service, workload or namespace a check may name; other kinds
// only add their namespace.
func (n *CheckNames) AddObject(kind, namespace, name string) {
	ns := namespace
	if ns == "" {
		ns = "default"
	}
	switch kind {
	case "Service":
		n.Services[ns+"/"+name] = true
	case "Deployment", "StatefulSet", "ReplicaSet":
		n.Workloads[strings.ToLower(kind)+"/"+ns+"/"+name] = true
	case "Namespace":
		n.Namespaces[name] = true
	}
	if namespace != "" {
		n.Namespaces[namespace] = true
	}
}
