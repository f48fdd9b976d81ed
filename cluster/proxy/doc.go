// Package proxy is podlab's kube-proxy: for one node it turns Services and their
// EndpointSlices into the `ip kube-proxy` nftables table, in the layout of upstream
// kube-proxy's nftables mode as of Kubernetes v1.37 (pkg/proxy/nftables), programmed
// through sigs.k8s.io/knftables in incremental transactions. Netlink (netlink.go)
// delivers the transactions of partial syncs to the kernel itself, without an nft
// process and its listing of the table; README.md says why and what it saves.
//
// It owns exactly that table in the node's network namespace and nothing else: it
// never touches other tables, routes, links or conntrack, and it never reads the
// object store itself; its caller hands it the current objects on every Sync.
//
// The one addition to upstream's layout is per-endpoint accounting (named counters,
// the endpoint-port-counters map and the count-endpoints chain, see counters.go), which
// upstream does not have and which never changes a verdict. The one departure is in
// tables of more than 1,000 Services, whose Service chains pick an endpoint with a
// rule per endpoint instead of an anonymous numgen map (pickByRules, README.md).
package proxy
