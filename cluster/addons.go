package cluster

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"podlab.dev/podlab/cluster/defaults"
	"podlab.dev/podlab/cluster/ingress"
	"podlab.dev/podlab/cluster/services"
	"podlab.dev/podlab/cluster/store"
	"podlab.dev/podlab/plan"
	"podlab.dev/podlab/topology"
)

// What kubeadm installs in every cluster and podlab reproduces: the `kubernetes`
// Service of the API server and the CoreDNS add-on (its ConfigMap, Deployment and the
// kube-dns Service), named, labelled and configured as kubeadm v1.32 writes them.
const (
	CoreDNSImage   = "registry.k8s.io/coredns/coredns:v1.11.3"
	coreDNSName    = "coredns"
	APIServerPort  = 6443
	dnsTTL         = 30
	kubeDNSAppName = "kube-dns"
)

// corefile is kubeadm's default Corefile for the lab's domain. The server answers as
// it says; `forward . /etc/resolv.conf` is the lab's upstream (cluster.dns.upstream).
func corefile(domain string) string {
	return `.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes ` + domain + ` in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30 {
       disable success ` + domain + `
       disable denial ` + domain + `
    }
    loop
    reload
    loadbalance
}
`
}

// isCoreDNS says whether the cluster DNS serves pod p in-process: a kube-system pod of
// the kube-dns app running the CoreDNS image, as kubeadm's add-on makes them.
func isCoreDNS(p *corev1.Pod) bool {
	if p.Namespace != metav1.NamespaceSystem || p.Labels["k8s-app"] != kubeDNSAppName || len(p.Spec.Containers) == 0 {
		return false
	}
	return strings.Contains(p.Spec.Containers[0].Image, "coredns/coredns")
}

// seedAddons writes the kubernetes Service and its endpoints, and the CoreDNS add-on,
// into a new store, before the lab file's objects so that they get their addresses.
func (s *Supervisor) seedAddons() error {
	p := s.plan
	cp := controlPlane(p).IP.Addr().String()
	first := p.Cluster.ServiceCIDR.Masked().Addr().Next()

	api := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: metav1.NamespaceDefault, Name: "kubernetes",
		Labels: map[string]string{"component": "apiserver", "provider": "kubernetes"}},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: first.String(), SessionAffinity: corev1.ServiceAffinityNone,
			Ports: []corev1.ServicePort{{Name: "https", Protocol: corev1.ProtocolTCP, Port: 443, TargetPort: intstr.FromInt32(APIServerPort)}}}}
	dnsSvc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: metav1.NamespaceSystem, Name: services.DNSName,
		Labels:      map[string]string{"k8s-app": kubeDNSAppName, "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "CoreDNS"},
		Annotations: map[string]string{"prometheus.io/port": "9153", "prometheus.io/scrape": "true"}},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: p.DNSAddr().String(), Selector: map[string]string{"k8s-app": kubeDNSAppName},
			Ports: []corev1.ServicePort{
				{Name: "dns", Protocol: corev1.ProtocolUDP, Port: 53, TargetPort: intstr.FromInt32(53)},
				{Name: "dns-tcp", Protocol: corev1.ProtocolTCP, Port: 53, TargetPort: intstr.FromInt32(53)},
				{Name: "metrics", Protocol: corev1.ProtocolTCP, Port: 9153, TargetPort: intstr.FromInt32(9153)},
			}}}
	for _, svc := range []*corev1.Service{api, dnsSvc} {
		s.regMu.Lock()
		admitted, err := s.reg.Apply(svc, topology.Pos{})
		s.regMu.Unlock()
		if err != nil {
			return fmt.Errorf("Service %s/%s: %w", svc.Namespace, svc.Name, err)
		}
		if _, err := s.store.Create(admitted); err != nil {
			return err
		}
	}
	// The API server keeps its own endpoints: the control plane's address, port 6443.
	ready := true
	port, proto, name := int32(APIServerPort), corev1.ProtocolTCP, "https"
	objs := []store.Object{
		&corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Namespace: metav1.NamespaceDefault, Name: "kubernetes",
			Labels: map[string]string{discoveryv1.LabelSkipMirror: "true"}},
			Subsets: []corev1.EndpointSubset{{Addresses: []corev1.EndpointAddress{{IP: cp}}, Ports: []corev1.EndpointPort{{Name: name, Port: port, Protocol: proto}}}}},
		&discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: metav1.NamespaceDefault, Name: "kubernetes",
			Labels: map[string]string{discoveryv1.LabelServiceName: "kubernetes"}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{cp}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}}},
			Ports:       []discoveryv1.EndpointPort{{Name: &name, Port: &port, Protocol: &proto}}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: metav1.NamespaceSystem, Name: coreDNSName},
			Data: map[string]string{"Corefile": corefile(p.Cluster.Domain)}},
		coreDNSDeployment(),
		// The ingress and gateway controller's classes, before the lab's Ingresses so
		// that admission gives a class-less Ingress the default class.
		ingress.IngressClass(),
		ingress.GatewayClass(),
	}
	for _, o := range objs {
		defaults.Object(o) // as kubeadm's objects are, through the API server
		if _, err := s.store.Create(o); err != nil {
			return err
		}
	}
	return nil
}

// controlPlane is the node the API server runs on: the first control-plane node, else
// the first node.
func controlPlane(p *plan.Plan) *plan.Node {
	for i := range p.Nodes {
		if p.Nodes[i].Role == topology.RoleControlPlane {
			return &p.Nodes[i]
		}
	}
	return &p.Nodes[0]
}

// coreDNSDeployment is kubeadm's CoreDNS Deployment: two replicas spread over nodes,
// tolerating the control plane, probed on /health and /ready.
func coreDNSDeployment() *appsv1.Deployment {
	replicas := int32(2)
	maxUnavailable := intstr.FromInt32(1)
	labels := map[string]string{"k8s-app": kubeDNSAppName}
	probe := func(path string, port int32) corev1.ProbeHandler {
		return corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromInt32(port), Scheme: corev1.URISchemeHTTP}}
	}
	no, yes := false, true
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: metav1.NamespaceSystem, Name: coreDNSName, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxUnavailable: &maxUnavailable}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					PriorityClassName:  "system-cluster-critical",
					ServiceAccountName: coreDNSName,
					DNSPolicy:          corev1.DNSDefault,
					NodeSelector:       map[string]string{"kubernetes.io/os": "linux"},
					Tolerations: []corev1.Toleration{
						{Key: "CriticalAddonsOnly", Operator: corev1.TolerationOpExists},
						{Key: "node-role.kubernetes.io/control-plane", Effect: corev1.TaintEffectNoSchedule},
					},
					Affinity: &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
						PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{Weight: 100,
							PodAffinityTerm: corev1.PodAffinityTerm{TopologyKey: "kubernetes.io/hostname",
								LabelSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
									{Key: "k8s-app", Operator: metav1.LabelSelectorOpIn, Values: []string{kubeDNSAppName}}}}}}}}},
					Volumes: []corev1.Volume{{Name: "config-volume", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
						LocalObjectReference: corev1.LocalObjectReference{Name: coreDNSName},
						Items:                []corev1.KeyToPath{{Key: "Corefile", Path: "Corefile"}}}}}},
					Containers: []corev1.Container{{
						Name: coreDNSName, Image: CoreDNSImage, ImagePullPolicy: corev1.PullIfNotPresent,
						Args: []string{"-conf", "/etc/coredns/Corefile"},
						Resources: corev1.ResourceRequirements{
							Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("170Mi")},
							Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("70Mi")},
						},
						VolumeMounts: []corev1.VolumeMount{{Name: "config-volume", MountPath: "/etc/coredns", ReadOnly: true}},
						Ports: []corev1.ContainerPort{
							{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP},
							{Name: "dns-tcp", ContainerPort: 53, Protocol: corev1.ProtocolTCP},
							{Name: "metrics", ContainerPort: 9153, Protocol: corev1.ProtocolTCP},
						},
						LivenessProbe: &corev1.Probe{ProbeHandler: probe("/health", 8080),
							InitialDelaySeconds: 60, TimeoutSeconds: 5, SuccessThreshold: 1, FailureThreshold: 5},
						ReadinessProbe: &corev1.Probe{ProbeHandler: probe("/ready", 8181)},
						SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: &no, ReadOnlyRootFilesystem: &yes,
							Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_BIND_SERVICE"}, Drop: []corev1.Capability{"ALL"}}},
					}},
				},
			},
		},
	}
}
