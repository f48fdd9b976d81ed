package plan

import (
	"fmt"
	"net/netip"
	"strings"
)

// DNSAddr is the cluster DNS address: the .10 of the service range, as kubeadm does.
func (p *Plan) DNSAddr() netip.Addr {
	a := p.Cluster.ServiceCIDR.Masked().Addr()
	for range 10 {
		a = a.Next()
	}
	return a
}

// ResolvConf is the pod's /etc/resolv.conf as kubelet writes it for dnsPolicy
// ClusterFirst.
func (p *Plan) ResolvConf(pod *Pod) string {
	d := p.Cluster.Domain
	return fmt.Sprintf("search %s.svc.%s svc.%s %s\nnameserver %s\noptions ndots:5\n", pod.Namespace, d, d, d, p.DNSAddr())
}

// HostsFile is the pod's /etc/hosts as kubelet writes it.
func HostsFile(pod *Pod) string {
	return fmt.Sprintf("# Kubernetes-managed hosts file (podlab).\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n%s\t%s\n", pod.IP, pod.Name)
}

// RunsOwnImage says whether pod runs the image it names, which then serves its own
// ports, rather than podlab's built-in servers: only in the Docker runtime, and not
// for podlab's own images (podlab/...).
func (p *Plan) RunsOwnImage(pod *Pod) bool {
	return p.Runtime == "docker" && pod.Image != "" && !strings.HasPrefix(pod.Image, "podlab/")
}
