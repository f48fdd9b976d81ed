package cni

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/containernetworking/cni/pkg/types"
)

const testConf = `{"cniVersion":"1.1.0","name":"podlab","type":"podlab-bridge","ipam":{"type":"host-local","ranges":[[{"subnet":"10.244.1.0/24"}]],"dataDir":"%s"}}`

func TestCmdArgsFromEnv(t *testing.T) {
	env := []string{
		"PATH=/usr/bin", "CNI_COMMAND=ADD", "CNI_CONTAINERID=abc", "CNI_NETNS=/run/netns/x",
		"CNI_IFNAME=eth0", "CNI_PATH=/usr/lib/cni",
		"CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-1;IP=10.244.1.7",
		"CNI_IFNAME=eth1", // later wins, as with a deduplicated environment
	}
	cmd, args, cerr := cmdArgsFromEnv(env, []byte(`{"name":"podlab"}`))
	if cerr != nil {
		t.Fatal(cerr)
	}
	if cmd != "ADD" || args.ContainerID != "abc" || args.Netns != "/run/netns/x" || args.IfName != "eth1" ||
		!strings.Contains(args.Args, "IP=10.244.1.7") || args.Path != "/usr/lib/cni" {
		t.Errorf("got %s %+v", cmd, args)
	}
}

func TestCmdArgsFromEnvErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		env   []string
		stdin string
		code  uint
	}{
		{"no command", nil, `{"name":"p"}`, types.ErrInvalidEnvironmentVariables},
		{"unknown command", []string{"CNI_COMMAND=FOO"}, `{"name":"p"}`, types.ErrInvalidEnvironmentVariables},
		{"add without netns", []string{"CNI_COMMAND=ADD", "CNI_CONTAINERID=a", "CNI_IFNAME=eth0", "CNI_PATH=/x"}, `{"name":"p"}`, types.ErrInvalidEnvironmentVariables},
		{"bad container id", []string{"CNI_COMMAND=DEL", "CNI_CONTAINERID=-a", "CNI_IFNAME=eth0", "CNI_PATH=/x"}, `{"name":"p"}`, types.ErrInvalidEnvironmentVariables},
		{"bad ifname", []string{"CNI_COMMAND=DEL", "CNI_CONTAINERID=a", "CNI_IFNAME=a/b", "CNI_PATH=/x"}, `{"name":"p"}`, types.ErrInvalidEnvironmentVariables},
		{"no network name", []string{"CNI_COMMAND=STATUS"}, `{}`, types.ErrInvalidNetworkConfig},
		{"bad json", []string{"CNI_COMMAND=STATUS"}, `{`, types.ErrDecodingFailure},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, cerr := cmdArgsFromEnv(tc.env, []byte(tc.stdin))
			if cerr == nil || cerr.Code != tc.code {
				t.Fatalf("got %v, want code %d", cerr, tc.code)
			}
		})
	}
}

func TestDispatchVersion(t *testing.T) {
	out, cerr := Dispatch([]string{"CNI_COMMAND=VERSION"}, nil)
	if cerr != nil {
		t.Fatal(cerr)
	}
	var v struct {
		Supported []string `json:"supportedVersions"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatal(err)
	}
	if strings.Join(v.Supported, ",") != "0.4.0,1.0.0,1.1.0" {
		t.Errorf("supportedVersions = %v", v.Supported)
	}
}

func TestDispatchVersionRules(t *testing.T) {
	conf := func(v string) []byte {
		return []byte(`{"cniVersion":"` + v + `","name":"podlab","type":"podlab-bridge","ipam":{"type":"host-local"}}`)
	}
	gc := []string{"CNI_COMMAND=GC", "CNI_PATH=/x"}
	if _, cerr := Dispatch(gc, conf("1.0.0")); cerr == nil || cerr.Code != types.ErrIncompatibleCNIVersion {
		t.Errorf("GC with 1.0.0 config: got %v, want incompatible version", cerr)
	}
	if _, cerr := Dispatch([]string{"CNI_COMMAND=STATUS"}, conf("0.3.1")); cerr == nil || cerr.Code != types.ErrIncompatibleCNIVersion {
		t.Errorf("0.3.1 config: got %v, want incompatible version", cerr)
	}
}

// DEL must succeed with nothing to delete: no netns, no veth, no allocation.
func TestDelIdempotentWithoutState(t *testing.T) {
	requireRoot(t)
	node := newNetns(t, fmt.Sprintf("podlabcni%d_delnode", os.Getpid()))
	conf := strings.ReplaceAll(testConf, "%s", t.TempDir())
	env := []string{"CNI_COMMAND=DEL", "CNI_CONTAINERID=gone", "CNI_IFNAME=eth0", "CNI_PATH=/x",
		"CNI_NETNS=/run/netns/podlab-cni-test-does-not-exist"}
	inNS(t, node, func() error {
		for i := 0; i < 2; i++ {
			if _, cerr := Dispatch(env, []byte(conf)); cerr != nil {
				return fmt.Errorf("DEL #%d: %w", i+1, cerr)
			}
		}
		if _, cerr := Dispatch(env[:4], []byte(conf)); cerr != nil {
			return fmt.Errorf("DEL without CNI_NETNS: %w", cerr)
		}
		return nil
	})
}
