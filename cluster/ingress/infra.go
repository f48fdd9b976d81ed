package ingress

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// The names podlab's controllers answer to, and what they run as in the lab.
const (
	// IngressClassName is podlab's IngressClass (the default class of every lab).
	IngressClassName = "podlab"
	// IngressController is its spec.controller.
	IngressController = "podlab.dev/ingress-controller"
	// GatewayClassName is podlab's GatewayClass.
	GatewayClassName = "podlab"
	// GatewayController is its spec.controllerName.
	GatewayController = "podlab.dev/gateway-controller"

	// IngressNamespace holds the ingress controller's Deployment and its LoadBalancer
	// Service, as ingress-nginx's namespace holds ingress-nginx-controller.
	IngressNamespace = "podlab-ingress"
	// IngressControllerName names the Deployment and the Service.
	IngressControllerName = "podlab-ingress-controller"
	// GatewayNamespace holds one Deployment and one LoadBalancer Service per Gateway,
	// as envoy-gateway-system holds Envoy Gateway's proxies.
	GatewayNamespace = "podlab-gateway-system"

	// HealthPort serves /healthz on every proxy pod (ingress-nginx's 10254).
	HealthPort = 10254

	ingressImage = "podlab.dev/ingress-controller:v1"
	gatewayImage = "podlab.dev/gateway-proxy:v1"

	labelName      = "app.kubernetes.io/name"
	labelComponent = "app.kubernetes.io/component"
	labelManagedBy = "app.kubernetes.io/managed-by"
	labelGatewayNS = "podlab.dev/gateway-namespace"
	nameIngress    = "podlab-ingress"
	nameGateway    = "podlab-gateway"
	managedBy      = "podlab"
)

// FrontendOf says which frontend a proxy pod serves ("" when p is no proxy pod):
// the key of table.Table.Frontends.
func FrontendOf(p *corev1.Pod) string {
	if len(p.Spec.Containers) == 0 {
		return ""
	}
	img := p.Spec.Containers[0].Image
	switch {
	case p.Namespace == IngressNamespace && p.Labels[labelName] == nameIngress && img == ingressImage:
		return "ingress"
	case p.Namespace == GatewayNamespace && p.Labels[labelName] == nameGateway && img == gatewayImage:
		return "gateway/" + p.Labels[labelGatewayNS] + "/" + p.Labels[gatewayv1.GatewayNameLabelKey]
	}
	return ""
}

// gatewayInfraName is the name of a Gateway's Deployment and Service: namespace-name,
// shortened with a hash when that is longer than a DNS label allows.
func gatewayInfraName(namespace, name string) string {
	n := namespace + "-" + name
	if len(n) <= 63 {
		return n
	}
	sum := sha256.Sum256([]byte(namespace + "/" + name))
	return strings.TrimRight(n[:54], "-.") + "-" + hex.EncodeToString(sum[:])[:8]
}

func infraNamespace(name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name,
		Labels: map[string]string{corev1.LabelMetadataName: name, labelManagedBy: managedBy}},
		Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}}
}

// proxyDeployment is a Deployment of one proxy pod: the proxy itself runs in the
// supervisor with its sockets in the pod's namespace; the pod gives it an address,
// a readiness probe and a place in the Services dataplane.
func proxyDeployment(namespace, name, image string, labels map[string]string, ports []corev1.ContainerPort) *appsv1.Deployment {
	replicas := int32(1)
	ports = append(ports, corev1.ContainerPort{Name: "healthz", ContainerPort: HealthPort, Protocol: corev1.ProtocolTCP})
	probe := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(HealthPort), Scheme: corev1.URISchemeHTTP}},
		PeriodSeconds: 10, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 3}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{{
						Name: "proxy", Image: image, ImagePullPolicy: corev1.PullIfNotPresent,
						Ports:          ports,
						ReadinessProbe: probe,
						LivenessProbe:  probe.DeepCopy(),
					}},
				},
			},
		},
	}
}

func ingressLabels() map[string]string {
	return map[string]string{labelName: nameIngress, labelComponent: "controller", labelManagedBy: managedBy}
}

// ingressDeployment and ingressService are the ingress controller, as
// ingress-nginx's manifests make it: ports 80 and 443 behind a LoadBalancer Service
// with externalTrafficPolicy Local, so the address announced from the controller's
// node keeps the client's address for X-Forwarded-For (Envoy Gateway's Services do
// the same).
func ingressDeployment() *appsv1.Deployment {
	return proxyDeployment(IngressNamespace, IngressControllerName, ingressImage, ingressLabels(), []corev1.ContainerPort{
		{Name: "http", ContainerPort: 80, Protocol: corev1.ProtocolTCP},
		{Name: "https", ContainerPort: 443, Protocol: corev1.ProtocolTCP},
	})
}

func ingressService() *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: IngressNamespace, Name: IngressControllerName, Labels: ingressLabels()},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Selector: ingressLabels(),
			ExternalTrafficPolicy: corev1.ServiceExternalTrafficPolicyLocal,
			Ports: []corev1.ServicePort{
				{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80, TargetPort: intstr.FromString("http")},
				{Name: "https", Protocol: corev1.ProtocolTCP, Port: 443, TargetPort: intstr.FromString("https")},
			}},
	}
}

func gatewayLabels(namespace, name string) map[string]string {
	return map[string]string{labelName: nameGateway, labelComponent: "proxy", labelManagedBy: managedBy,
		gatewayv1.GatewayNameLabelKey: name, labelGatewayNS: namespace}
}

// gatewayDeployment and gatewayService serve one Gateway: its Service carries a port
// for each distinct listener port, so that the Gateway's own address from the pool
// answers on exactly the ports it declares. The pod template declares no listener
// ports, so a listener added later changes the Service, not the pods.
func gatewayDeployment(namespace, name string) *appsv1.Deployment {
	return proxyDeployment(GatewayNamespace, gatewayInfraName(namespace, name), gatewayImage, gatewayLabels(namespace, name), nil)
}

func gatewayService(namespace, name string, ports []int32) *corev1.Service {
	sort.Slice(ports, func(i, j int) bool { return ports[i] < ports[j] })
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: GatewayNamespace, Name: gatewayInfraName(namespace, name), Labels: gatewayLabels(namespace, name)},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Selector: gatewayLabels(namespace, name),
			ExternalTrafficPolicy: corev1.ServiceExternalTrafficPolicyLocal},
	}
	for _, p := range ports {
		svc.Spec.Ports = append(svc.Spec.Ports, corev1.ServicePort{Name: "tcp-" + itoa(p), Protocol: corev1.ProtocolTCP, Port: p, TargetPort: intstr.FromInt32(p)})
	}
	return svc
}

func itoa(p int32) string { return strconv.Itoa(int(p)) }

// podlab's IngressClass (the default, as a cluster's installed controller marks its
// own) and GatewayClass are written into every lab, before its objects.
// IngressClass is podlab's IngressClass, marked the default class.
func IngressClass() *networkingv1.IngressClass {
	return &networkingv1.IngressClass{
		ObjectMeta: metav1.ObjectMeta{Name: IngressClassName,
			Labels:      map[string]string{labelName: nameIngress, labelManagedBy: managedBy},
			Annotations: map[string]string{networkingv1.AnnotationIsDefaultIngressClass: "true"}},
		Spec: networkingv1.IngressClassSpec{Controller: IngressController},
	}
}

// GatewayClass is podlab's GatewayClass.
func GatewayClass() *gatewayv1.GatewayClass {
	desc := "podlab's built-in gateway: one proxy pod and one LoadBalancer address per Gateway"
	return &gatewayv1.GatewayClass{
		ObjectMeta: metav1.ObjectMeta{Name: GatewayClassName, Labels: map[string]string{labelManagedBy: managedBy}},
		Spec:       gatewayv1.GatewayClassSpec{ControllerName: GatewayController, Description: &desc},
	}
}
