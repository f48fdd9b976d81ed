package dns

import (
	"fmt"
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Limits kubelet applies to the resolv.conf it writes (pkg/apis/core/validation:
// MaxDNSNameservers, MaxDNSSearchPaths, MaxDNSSearchListChars, and a search domain
// longer than a DNS-1123 subdomain is dropped because glibc 2.28 aborts on it).
const (
	maxNameservers      = 3
	maxSearchPaths      = 32
	maxSearchListChars  = 2048
	maxSearchDomainChar = 253
)

// resolvConfig is what kubelet hands the runtime (CRI's DNSConfig).
type resolvConfig struct {
	servers, searches, options []string
}

// ResolvConf is a pod's /etc/resolv.conf as kubelet (pkg/kubelet/network/dns,
// GetPodDNS) makes it and the container runtime writes it: search, nameserver and
// options lines, in that order.
//
//   - ClusterFirst (also an unset policy, the API's default): clusterDNS as the only
//     nameserver; search <ns>.svc.<domain> svc.<domain> <domain> then the node's own
//     search domains, without duplicates; options ndots:5 only (the node's options are
//     dropped). Without a clusterDNS it falls back to Default, as kubelet does.
//   - ClusterFirst on a hostNetwork pod behaves as Default; ClusterFirstWithHostNet
//     is ClusterFirst whatever the pod's network.
//   - Default: the node's resolv.conf, nodeResolv, as kubelet parses it (nameservers
//     accumulate, the last search line and the last options line win, domain lines
//     are ignored). An empty nodeResolv is kubelet run with --resolv-conf="":
//     nameserver 127.0.0.1 and search ".".
//   - None: nothing but dnsConfig, which must then name a nameserver.
//
// dnsConfig is merged last: its nameservers and searches are appended and
// duplicates dropped, its options replace those of the same name. Then the limits: 3
// nameservers, 32 search domains, none longer than 253 characters, 2048 characters in
// all (domains cut from the end). Kubelet merges options through a Go map, so their
// order in its file is random; here they keep the order they first appear in.
//
// The error is the API server's validation of the pod's DNS fields, which a pod in a
// real cluster could not get past.
func ResolvConf(pod *corev1.Pod, domain string, clusterDNS netip.Addr, nodeResolv string) (string, error) {
	if err := validatePodDNS(pod); err != nil {
		return "", fmt.Errorf("pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	c := nodeConfig(nodeResolv)
	switch t := podDNSType(pod); {
	case t == corev1.DNSNone:
		c = resolvConfig{}
	case t == corev1.DNSClusterFirst && clusterDNS.IsValid():
		c.servers = []string{clusterDNS.String()}
		if domain != "" {
			c.searches = omitDuplicates(append([]string{pod.Namespace + ".svc." + domain, "svc." + domain, domain}, c.searches...))
		}
		c.options = []string{"ndots:5"}
	case nodeResolv == "": // Default, or ClusterFirst without a cluster DNS (kubelet's MissingClusterDNS)
		c = resolvConfig{servers: []string{"127.0.0.1"}, searches: []string{"."}}
	}
	if dc := pod.Spec.DNSConfig; dc != nil {
		c.servers = omitDuplicates(append(c.servers, dc.Nameservers...))
		c.searches = omitDuplicates(append(c.searches, dc.Searches...))
		c.options = mergeOptions(c.options, dc.Options)
	}
	c.servers = c.servers[:min(len(c.servers), maxNameservers)]
	c.searches = searchWithinLimits(c.searches)
	var b strings.Builder
	if len(c.searches) > 0 {
		fmt.Fprintf(&b, "search %s\n", strings.Join(c.searches, " "))
	}
	for _, s := range c.servers {
		fmt.Fprintf(&b, "nameserver %s\n", s)
	}
	if len(c.options) > 0 {
		fmt.Fprintf(&b, "options %s\n", strings.Join(c.options, " "))
	}
	return b.String(), nil
}

// podDNSType reduces the policy to what kubelet does: ClusterFirst (cluster DNS),
// Default (the node's) or None. The policy is valid (validatePodDNS).
func podDNSType(pod *corev1.Pod) corev1.DNSPolicy {
	switch pod.Spec.DNSPolicy {
	case corev1.DNSNone:
		return corev1.DNSNone
	case corev1.DNSDefault:
		return corev1.DNSDefault
	case corev1.DNSClusterFirst, "":
		if pod.Spec.HostNetwork {
			return corev1.DNSDefault
		}
	}
	return corev1.DNSClusterFirst
}

// validatePodDNS is the API server's check of dnsPolicy and dnsConfig
// (validateDNSPolicy, validatePodDNSConfig), in its words.
func validatePodDNS(pod *corev1.Pod) error {
	switch pod.Spec.DNSPolicy {
	case corev1.DNSClusterFirst, corev1.DNSClusterFirstWithHostNet, corev1.DNSDefault, corev1.DNSNone, "":
	default:
		return fmt.Errorf("spec.dnsPolicy: Unsupported value: %q: supported values: \"ClusterFirst\", \"ClusterFirstWithHostNet\", \"Default\", \"None\"", pod.Spec.DNSPolicy)
	}
	dc := pod.Spec.DNSConfig
	if pod.Spec.DNSPolicy == corev1.DNSNone {
		if dc == nil {
			return fmt.Errorf("spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None")
		}
		if len(dc.Nameservers) == 0 {
			return fmt.Errorf("spec.dnsConfig.nameservers: Required value: must provide at least one DNS nameserver when `dnsPolicy` is None")
		}
	}
	if dc == nil {
		return nil
	}
	if len(dc.Nameservers) > maxNameservers {
		return fmt.Errorf("spec.dnsConfig.nameservers: Invalid value: %q: must not have more than %d nameservers", dc.Nameservers, maxNameservers)
	}
	for i, ns := range dc.Nameservers {
		if _, err := netip.ParseAddr(ns); err != nil {
			return fmt.Errorf("spec.dnsConfig.nameservers[%d]: Invalid value: %q: must be a valid IP address", i, ns)
		}
	}
	if len(dc.Searches) > maxSearchPaths {
		return fmt.Errorf("spec.dnsConfig.searches: Invalid value: %q: must not have more than %d search paths", dc.Searches, maxSearchPaths)
	}
	if n := len(strings.Join(dc.Searches, " ")); n > maxSearchListChars {
		return fmt.Errorf("spec.dnsConfig.searches: Invalid value: %q: must not have more than %d characters (including spaces) in the search list", dc.Searches, maxSearchListChars)
	}
	for i, o := range dc.Options {
		if o.Name == "" {
			return fmt.Errorf("spec.dnsConfig.options[%d]: Required value: Option.Name must not be empty", i)
		}
	}
	return nil
}

// nodeConfig parses the node's resolv.conf as kubelet's parseResolvConf does.
func nodeConfig(text string) resolvConfig {
	var c resolvConfig
	for line := range strings.SplitSeq(text, "\n") {
		line = strings.TrimSpace(line)
		f := strings.Fields(line)
		if strings.HasPrefix(line, "#") || len(f) == 0 {
			continue
		}
		switch f[0] {
		case "nameserver":
			if len(f) > 1 {
				c.servers = append(c.servers, f[1])
			}
		case "search":
			c.searches = []string{}
			for _, s := range f[1:] {
				c.searches = append(c.searches, strings.TrimSuffix(s, "."))
			}
		case "options":
			c.options = f[1:]
		}
	}
	return c
}

func omitDuplicates(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// mergeOptions is kubelet's mergeDNSOptions: one option per name ("ndots" of
// "ndots:5"), the last given winning, dnsConfig's after the existing ones.
func mergeOptions(opts []string, with []corev1.PodDNSConfigOption) []string {
	var out []string
	set := func(name, value string) {
		v := name
		if value != "" {
			v += ":" + value
		}
		for i := range out {
			if n, _, _ := strings.Cut(out[i], ":"); n == name {
				out[i] = v
				return
			}
		}
		out = append(out, v)
	}
	for _, o := range opts {
		name, value, _ := strings.Cut(o, ":")
		set(name, value)
	}
	for _, o := range with {
		value := ""
		if o.Value != nil {
			value = *o.Value
		}
		set(o.Name, value)
	}
	return out
}

// searchWithinLimits is kubelet's formDNSSearchFitsLimits: the first 32 domains,
// without those longer than 253 characters, then domains cut from the end until
// the line has at most 2048 characters.
func searchWithinLimits(ss []string) []string {
	ss = ss[:min(len(ss), maxSearchPaths)]
	var out []string
	for _, s := range ss {
		if len(s) <= maxSearchDomainChar {
			out = append(out, s)
		}
	}
	for len(out) > 0 && len(strings.Join(out, " ")) > maxSearchListChars {
		out = out[:len(out)-1]
	}
	return out
}
