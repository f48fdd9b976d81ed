package topology

import (
	"strings"

	"go.yaml.in/yaml/v3"
)

// linuxCapabilities are the capability names a securityContext may add or drop,
// without the CAP_ prefix (capability(7), up to CAP_CHECKPOINT_RESTORE).
var linuxCapabilities = []string{
	"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID",
	"SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST",
	"NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO",
	"SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
	"SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE",
	"AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM",
	"BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
}

// checkSecurity checks the securityContext of every container of the pod spec at
// specPath ("" when the kind has none): podlab runs no privileged container (its
// Docker runtime is not allowed --privileged), and a capability must be one Linux
// has, written with or without CAP_ in any case, or ALL, as Kubernetes' runtimes take it.
func (d *doc) checkSecurity(specPath string) {
	if specPath == "" {
		return
	}
	options := append([]string{"ALL"}, linuxCapabilities...)
	for _, p := range sortedKeys(d.idx) {
		rest, ok := strings.CutPrefix(p, specPath+".")
		if !ok {
			continue
		}
		n := d.idx[p]
		if n.Kind != yaml.ScalarNode || isNull(n) {
			continue
		}
		switch indexRE.ReplaceAllString(rest, "[*]") {
		case "containers[*].securityContext.privileged", "initContainers[*].securityContext.privileged":
			var privileged bool
			if n.Decode(&privileged) == nil && privileged {
				d.add(p, "grant only what the pod needs: securityContext.capabilities.add: [NET_ADMIN]",
					"privileged containers are not supported by podlab")
			}
		case "containers[*].securityContext.capabilities.add[*]", "containers[*].securityContext.capabilities.drop[*]",
			"initContainers[*].securityContext.capabilities.add[*]", "initContainers[*].securityContext.capabilities.drop[*]":
			if knownCapability(n.Value) {
				continue
			}
			suggestion := didYouMean(trimCap(n.Value), options)
			hint := ""
			if suggestion == "" {
				hint = "write a Linux capability such as NET_ADMIN, NET_RAW or NET_BIND_SERVICE (the CAP_ prefix is optional), or ALL"
			}
			d.add(p, hint, "unknown capability %q%s", n.Value, suggestion)
		}
	}
}

func knownCapability(c string) bool {
	return strings.EqualFold(c, "ALL") || contains(linuxCapabilities, strings.ToUpper(trimCap(c)))
}

// trimCap drops a CAP_ prefix in any case.
func trimCap(c string) string {
	if len(c) > 4 && strings.EqualFold(c[:4], "CAP_") {
		return c[4:]
	}
	return c
}
