package defaults

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// The core/v1 defaults' values, named as upstream names them.
const (
	DefaultSchedulerName                 = corev1.DefaultSchedulerName
	DefaultTerminationGracePeriodSeconds = corev1.DefaultTerminationGracePeriodSeconds
	// DefaultTolerationSeconds is the DefaultTolerationSeconds admission plugin's
	// --default-not-ready-toleration-seconds and --default-unreachable-toleration-seconds.
	DefaultTolerationSeconds int64 = 300
	// defaultMode is a configMap, secret, projected or downwardAPI volume's file mode.
	defaultMode int32 = 0o644
)

// systemPriorities are the Priority plugin's values of the built-in classes, "" being
// the priority of a pod that names none.
var systemPriorities = map[string]int32{"": 0, "system-cluster-critical": 2000000000, "system-node-critical": 2000001000}

// Pod is SetDefaults_Pod and SetDefaults_PodSpec, then what the DefaultTolerationSeconds
// and Priority admission plugins add to every Pod they admit (create and update).
func Pod(p *corev1.Pod) {
	PodSpec(&p.Spec)
	s := &p.Spec
	if s.EnableServiceLinks == nil {
		yes := corev1.DefaultEnableServiceLinks
		s.EnableServiceLinks = &yes
	}
	for _, cs := range [][]corev1.Container{s.InitContainers, s.Containers} {
		for i := range cs {
			requestsFromLimits(&cs[i])
		}
	}
	if s.HostNetwork {
		hostNetworkPorts(s.InitContainers)
		hostNetworkPorts(s.Containers)
	}
	tolerate(s, corev1.TaintNodeNotReady)
	tolerate(s, corev1.TaintNodeUnreachable)
	// Priority: the two system classes every cluster has; no priorityClassName and no
	// globalDefault PriorityClass (podlab serves none) is priority 0.
	if s.Priority == nil {
		if v, ok := systemPriorities[s.PriorityClassName]; ok {
			s.Priority = &v
		}
	}
	if s.PreemptionPolicy == nil {
		p := corev1.PreemptLowerPriority
		s.PreemptionPolicy = &p
	}
}

// PodTemplate defaults a workload's template: SetDefaults_PodSpec and the containers',
// not the Pod-only defaults (enableServiceLinks, tolerations, priority), which a
// template does not get and the Pods made from it do.
func PodTemplate(t *corev1.PodTemplateSpec) { PodSpec(&t.Spec) }

// PodSpec is SetDefaults_PodSpec with the defaults of what a spec holds (containers,
// probes, volumes).
func PodSpec(s *corev1.PodSpec) {
	if s.DNSPolicy == "" {
		s.DNSPolicy = corev1.DNSClusterFirst
	}
	if s.RestartPolicy == "" {
		s.RestartPolicy = corev1.RestartPolicyAlways
	}
	if s.SecurityContext == nil {
		s.SecurityContext = &corev1.PodSecurityContext{}
	}
	if s.TerminationGracePeriodSeconds == nil {
		g := int64(DefaultTerminationGracePeriodSeconds)
		s.TerminationGracePeriodSeconds = &g
	}
	if s.SchedulerName == "" {
		s.SchedulerName = DefaultSchedulerName
	}
	for i := range s.InitContainers {
		Container(&s.InitContainers[i])
	}
	for i := range s.Containers {
		Container(&s.Containers[i])
	}
	for i := range s.EphemeralContainers {
		ec := &s.EphemeralContainers[i].EphemeralContainerCommon
		c := corev1.Container(*ec)
		Container(&c)
		*ec = corev1.EphemeralContainerCommon(c)
	}
	for i := range s.Volumes {
		volume(&s.Volumes[i])
	}
}

// Container is SetDefaults_Container, SetDefaults_ContainerPort, SetDefaults_Probe and
// the handlers' and field selectors' defaults.
func Container(c *corev1.Container) {
	if c.ImagePullPolicy == "" {
		c.ImagePullPolicy = PullPolicy(c.Image)
	}
	if c.TerminationMessagePath == "" {
		c.TerminationMessagePath = corev1.TerminationMessagePathDefault
	}
	if c.TerminationMessagePolicy == "" {
		c.TerminationMessagePolicy = corev1.TerminationMessageReadFile
	}
	for i := range c.Ports {
		if c.Ports[i].Protocol == "" {
			c.Ports[i].Protocol = corev1.ProtocolTCP
		}
	}
	for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
		probe(p)
	}
	if l := c.Lifecycle; l != nil {
		handler(l.PostStart)
		handler(l.PreStop)
	}
	for i := range c.Env {
		if vf := c.Env[i].ValueFrom; vf != nil && vf.FieldRef != nil && vf.FieldRef.APIVersion == "" {
			vf.FieldRef.APIVersion = "v1"
		}
	}
}

// PullPolicy is the imagePullPolicy an image gets when it names none: Always for the
// tag latest or no tag (which means latest), else IfNotPresent. An image pinned by
// digest alone is IfNotPresent (parsers.ParseImageName gives it no tag).
func PullPolicy(image string) corev1.PullPolicy {
	name, _, pinned := strings.Cut(image, "@")
	tag := ""
	if i := strings.LastIndex(name, ":"); i >= 0 && !strings.Contains(name[i:], "/") {
		tag = name[i+1:]
	}
	if tag == "latest" || (tag == "" && !pinned) {
		return corev1.PullAlways
	}
	return corev1.PullIfNotPresent
}

// probe is SetDefaults_Probe and its handler's defaults.
func probe(p *corev1.Probe) {
	if p == nil {
		return
	}
	if p.TimeoutSeconds == 0 {
		p.TimeoutSeconds = 1
	}
	if p.PeriodSeconds == 0 {
		p.PeriodSeconds = 10
	}
	if p.SuccessThreshold == 0 {
		p.SuccessThreshold = 1
	}
	if p.FailureThreshold == 0 {
		p.FailureThreshold = 3
	}
	httpGet(p.HTTPGet)
	if p.GRPC != nil && p.GRPC.Service == nil {
		empty := ""
		p.GRPC.Service = &empty
	}
}

func handler(h *corev1.LifecycleHandler) {
	if h != nil {
		httpGet(h.HTTPGet)
	}
}

// httpGet is SetDefaults_HTTPGetAction.
func httpGet(g *corev1.HTTPGetAction) {
	if g == nil {
		return
	}
	if g.Path == "" {
		g.Path = "/"
	}
	if g.Scheme == "" {
		g.Scheme = corev1.URISchemeHTTP
	}
}

// volume is SetDefaults_Volume (a volume naming no source is an emptyDir) and the
// sources' file modes.
func volume(v *corev1.Volume) {
	vs := &v.VolumeSource
	if (*vs == corev1.VolumeSource{}) {
		vs.EmptyDir = &corev1.EmptyDirVolumeSource{}
	}
	mode := func(m **int32) {
		if *m == nil {
			d := defaultMode
			*m = &d
		}
	}
	switch {
	case vs.ConfigMap != nil:
		mode(&vs.ConfigMap.DefaultMode)
	case vs.Secret != nil:
		mode(&vs.Secret.DefaultMode)
	case vs.Projected != nil:
		mode(&vs.Projected.DefaultMode)
	case vs.DownwardAPI != nil:
		mode(&vs.DownwardAPI.DefaultMode)
		for i := range vs.DownwardAPI.Items {
			if f := vs.DownwardAPI.Items[i].FieldRef; f != nil && f.APIVersion == "" {
				f.APIVersion = "v1"
			}
		}
	case vs.HostPath != nil:
		if vs.HostPath.Type == nil {
			t := corev1.HostPathUnset
			vs.HostPath.Type = &t
		}
	}
}

// requestsFromLimits is SetDefaults_Pod's: a limit with no request is also the request.
func requestsFromLimits(c *corev1.Container) {
	for name, q := range c.Resources.Limits {
		if _, ok := c.Resources.Requests[name]; ok {
			continue
		}
		if c.Resources.Requests == nil {
			c.Resources.Requests = corev1.ResourceList{}
		}
		c.Resources.Requests[name] = q.DeepCopy()
	}
}

// hostNetworkPorts is SetDefaults_Pod's for hostNetwork: a port's hostPort is its
// containerPort.
func hostNetworkPorts(cs []corev1.Container) {
	for i := range cs {
		for j := range cs[i].Ports {
			if cs[i].Ports[j].HostPort == 0 {
				cs[i].Ports[j].HostPort = cs[i].Ports[j].ContainerPort
			}
		}
	}
}

// tolerate is the DefaultTolerationSeconds plugin for one taint: a pod that does not
// already tolerate key's NoExecute taint tolerates it for 300 s.
func tolerate(s *corev1.PodSpec, key string) {
	for _, t := range s.Tolerations {
		if (t.Key == key || t.Key == "") && (t.Effect == corev1.TaintEffectNoExecute || t.Effect == "") {
			return
		}
	}
	secs := DefaultTolerationSeconds
	s.Tolerations = append(s.Tolerations, corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists,
		Effect: corev1.TaintEffectNoExecute, TolerationSeconds: &secs})
}

// Endpoints is SetDefaults_Endpoints: a port's protocol is TCP.
func Endpoints(e *corev1.Endpoints) {
	for i := range e.Subsets {
		for j := range e.Subsets[i].Ports {
			if p := &e.Subsets[i].Ports[j]; p.Protocol == "" {
				p.Protocol = corev1.ProtocolTCP
			}
		}
	}
}

// Secret is SetDefaults_Secret: a Secret of no type is Opaque.
func Secret(s *corev1.Secret) {
	if s.Type == "" {
		s.Type = corev1.SecretTypeOpaque
	}
}
