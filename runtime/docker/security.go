package docker

import (
	"fmt"
	"strconv"
	"strings"

	podruntime "podlab.dev/podlab/runtime"
)

// machineCaps are what podlab does inside a node, host or underlay container through
// `podlab exec` and the lab's tools: links, routes and nftables (NET_ADMIN), raw
// sockets (NET_RAW) and mounts (SYS_ADMIN). A pod's container never gets them unless
// its securityContext asks: podlab wires a pod from outside, through its namespace.
var machineCaps = []string{"NET_ADMIN", "NET_RAW", "SYS_ADMIN"}

// security is how a sandbox's container is confined.
type security struct {
	CapAdd, CapDrop []string
	User            string // user[:group], "" for the image's
	ReadonlyRootfs  bool
}

// securityFor is the confinement of sandbox s's container. A pod gets the engine's
// default capability set changed by its securityContext, as a Kubernetes pod gets its
// container runtime's; imageUser is the image's USER, used only when the pod sets
// runAsGroup without runAsUser. A privileged pod is refused: Docker's --privileged
// is not permitted on the machines podlab runs on.
func securityFor(s podruntime.Sandbox, imageUser string) (security, error) {
	if s.Kind != podruntime.KindPod {
		return security{CapAdd: machineCaps}, nil
	}
	sec := s.Security
	if sec == nil {
		return security{}, nil
	}
	if sec.Privileged {
		return security{}, fmt.Errorf("pod %s: privileged containers are not supported by podlab (Docker's --privileged is not permitted here); grant only what the pod needs instead, e.g. securityContext.capabilities.add: [NET_ADMIN]", podName(s))
	}
	add, drop := capabilities(sec.CapAdd, sec.CapDrop)
	return security{
		CapAdd: add, CapDrop: drop,
		User:           userSpec(sec.RunAsUser, sec.RunAsGroup, imageUser),
		ReadonlyRootfs: sec.ReadOnlyRootFilesystem,
	}, nil
}

// needsImageUser says whether securityFor needs the image's USER for s.
func needsImageUser(s podruntime.Sandbox) bool {
	sec := s.Security
	return s.Kind == podruntime.KindPod && sec != nil && sec.RunAsUser == nil && sec.RunAsGroup != nil
}

// capabilities turns a pod's capabilities.add and drop into Docker's CapAdd and CapDrop
// with Kubernetes' meaning. Both start from their runtime's default set, but the CRI
// applies add ALL, drop ALL, each add, then each drop, so a drop always wins, while
// Docker lets an add win and, given add ALL, ignores drop ALL. Leaving out of CapAdd
// what is dropped gives Docker's answer Kubernetes' one in every case.
func capabilities(add, drop []string) (capAdd, capDrop []string) {
	capDrop = capNames(drop)
	dropped := map[string]bool{}
	for _, c := range capDrop {
		dropped[c] = true
	}
	for _, c := range capNames(add) {
		if !dropped[c] {
			capAdd = append(capAdd, c)
		}
	}
	return capAdd, capDrop
}

// capNames writes capabilities as the engine lists them, CAP_NET_ADMIN, accepting
// them with or without the prefix and in any case as Kubernetes' runtimes do; ALL
// stays ALL. Duplicates are dropped; an unknown name is left for the engine to refuse.
func capNames(cs []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range cs {
		c = strings.ToUpper(c)
		if c != "ALL" && !strings.HasPrefix(c, "CAP_") {
			c = "CAP_" + c
		}
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

// userSpec is Docker's user[:group] for runAsUser and runAsGroup. A group without a
// user goes with the image's user (root when it names none), as kubelet does.
func userSpec(uid, gid *int64, imageUser string) string {
	var user string
	switch {
	case uid != nil:
		user = strconv.FormatInt(*uid, 10)
	case gid == nil:
		return ""
	default:
		user, _, _ = strings.Cut(imageUser, ":")
		if user == "" {
			user = "0"
		}
	}
	if gid != nil {
		user += ":" + strconv.FormatInt(*gid, 10)
	}
	return user
}

// podName is namespace/name of a pod sandbox, read back from its namespace name
// (podlab_<lab>_pod_<namespace>_<name>: neither part holds '_').
func podName(s podruntime.Sandbox) string {
	rest := strings.TrimPrefix(s.Name, "podlab_"+s.Lab+"_pod_")
	if ns, name, ok := strings.Cut(rest, "_"); ok && rest != s.Name {
		return ns + "/" + name
	}
	return ContainerName(s)
}
