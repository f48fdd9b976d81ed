package topology

// The lab file as written, before defaults: what the walker checks shapes against and
// what the JSON decode fills. Pointers mark values whose zero is meaningful.
type labFile struct {
	Name      string        `json:"name"`
	Runtime   string        `json:"runtime"`
	Cluster   clusterFile   `json:"cluster"`
	Nodes     []nodeFile    `json:"nodes"`
	Hosts     []hostFile    `json:"hosts"`
	Pods      []podFile     `json:"pods"`
	Manifests []manifestRef `json:"manifests"`
	Checks    []checkFile   `json:"checks"`
}

type clusterFile struct {
	PodCIDR          string   `json:"podCIDR"`
	NodeCIDRMaskSize *int     `json:"nodeCIDRMaskSize"`
	ServiceCIDR      string   `json:"serviceCIDR"`
	Domain           string   `json:"domain"`
	Overlay          string   `json:"overlay"`
	Underlay         string   `json:"underlay"`
	CNI              string   `json:"cni"`
	MTU              *int     `json:"mtu"`
	LoadBalancerPool []string `json:"loadBalancerPool"`
	DNS              struct {
		Upstream string `json:"upstream"`
	} `json:"dns"`
	NetworkPolicy struct {
		EnforceEstablished bool `json:"enforceEstablished"`
	} `json:"networkPolicy"`
	Ingress struct {
		Controller bool `json:"controller"`
	} `json:"ingress"`
}

type nodeFile struct {
	Name   string            `json:"name"`
	Role   string            `json:"role"`
	Labels map[string]string `json:"labels"`
	IP     string            `json:"ip"`
}

type hostFile struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels"`
	IP     string            `json:"ip"`
	Ports  []portSpec        `json:"ports"`
	DNS    struct {
		Zones zoneTexts `json:"zones"`
	} `json:"dns"`
}

// zoneTexts is a host's zones: name -> master-file text.
type zoneTexts map[string]string

type podFile struct {
	Name         string            `json:"name"`
	Namespace    string            `json:"namespace"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	Node         string            `json:"node"`
	NodeSelector map[string]string `json:"nodeSelector"`
	IP           string            `json:"ip"`
	Image        string            `json:"image"`
	Ports        []portSpec        `json:"ports"`
}

// portSpec and manifestRef take several shapes; the walker lets them through (they
// decode themselves) and parsePorts / the manifests loader read their YAML nodes.
type portSpec struct{}

func (*portSpec) UnmarshalJSON([]byte) error { return nil }

type manifestRef struct{}

func (*manifestRef) UnmarshalJSON([]byte) error { return nil }
