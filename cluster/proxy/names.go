package proxy

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"strings"

	"sigs.k8s.io/knftables"
)

// Names of the table and of its fixed objects, as upstream spells them.
const (
	tableName = "kube-proxy"

	filterPreroutingPreDNATChain = "filter-prerouting-pre-dnat"
	filterOutputPreDNATChain     = "filter-output-pre-dnat"
	filterInputChain             = "filter-input"
	filterForwardChain           = "filter-forward"
	filterOutputChain            = "filter-output"
	natPreroutingChain           = "nat-prerouting"
	natOutputChain               = "nat-output"
	natPostroutingChain          = "nat-postrouting"

	servicesChain               = "services"
	serviceEndpointsCheckChain  = "service-endpoints-check"
	nodePortEndpointsCheckChain = "nodeport-endpoints-check"
	firewallCheckChain          = "firewall-check"
	clusterIPsCheckChain        = "cluster-ips-check"
	masqueradingChain           = "masquerading"
	rejectChain                 = "reject-chain"

	serviceIPsMap          = "service-ips"
	serviceNodePortsMap    = "service-nodeports"
	noEndpointServicesMap  = "no-endpoint-services"
	noEndpointNodePortsMap = "no-endpoint-nodeports"
	firewallIPsMap         = "firewall-ips"
	clusterIPsSet          = "cluster-ips"
	nodePortIPsSet         = "nodeport-ips"
	hairpinConnectionsSet  = "hairpin-connections"

	// podlab's additions (not in upstream), see counters.go.
	countEndpointsChain = "count-endpoints"
	endpointCountersMap = "endpoint-port-counters"
	// legacyCountersMap is the map of podlab before the original port was in the
	// key; a table adopted from that version has it, and it must go (see reloadState).
	legacyCountersMap = "endpoint-counters"

	masqueradeMark = "0x4000"
	masqueradeRule = "mark set mark or " + masqueradeMark
)

const (
	clusterChainPrefix  = "service-"
	localChainPrefix    = "local-"
	externalChainPrefix = "external-"
	endpointChainPrefix = "endpoint-"
	affinitySetPrefix   = "affinity-"
	firewallChainPrefix = "firewall-"

	// chainNameBaseLengthMax mirrors upstream: the longest prefix is 16 characters.
	chainNameBaseLengthMax = knftables.NameLengthMax - 16
)

// hashAndTruncate is upstream's: "<8 chars of base32(sha256(name))>-<name>", cut to
// fit. The hash keeps names unique after truncation and tells near-identical
// endpoint chains apart at a glance.
func hashAndTruncate(name string) string {
	hash := sha256.Sum256([]byte(name))
	encoded := base32.StdEncoding.EncodeToString(hash[:])
	name = encoded[:8] + "-" + name
	if len(name) > chainNameBaseLengthMax {
		name = name[:chainNameBaseLengthMax-3] + "..."
	}
	return name
}

// servicePortChainBase is "HASH-ns/name/proto/port", e.g. "ULMVA6XW-ns1/svc1/tcp/p80".
func servicePortChainBase(ns, name, proto, port string) string {
	return hashAndTruncate(fmt.Sprintf("%s/%s/%s/%s", ns, name, proto, port))
}

// endpointChainBase is "HASH-ns/name/proto/port__ip/port"; IPv6 colons become dots.
func endpointChainBase(ns, name, proto, port, epIP string, epPort int) string {
	epIP = strings.ReplaceAll(epIP, ":", ".")
	return hashAndTruncate(fmt.Sprintf("%s/%s/%s/%s__%s/%d", ns, name, proto, port, epIP, epPort))
}

// isServiceChainName tells per-service chains (always containing a "/") from the
// fixed ones.
func isServiceChainName(chain string) bool { return strings.Contains(chain, "/") }

func truncateComment(s string) string {
	if len(s) > knftables.CommentLengthMax {
		return s[:knftables.CommentLengthMax]
	}
	return s
}
