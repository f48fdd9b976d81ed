package cni

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/cni/pkg/utils"
	"github.com/containernetworking/cni/pkg/version"
)

// inProcessPath is what FindInPath answers for podlab-bridge: a path that names no file,
// so nothing can exec it by accident.
const inProcessPath = "podlab:in-process/" + PluginType

// pluginExec is the invoke.Exec libcni uses: podlab-bridge runs in the calling
// goroutine (no process per pod), every other plugin type is exec'd from the CNI path.
type pluginExec struct {
	raw invoke.RawExec
	version.PluginDecoder
}

var _ invoke.Exec = (*pluginExec)(nil)

func (e *pluginExec) FindInPath(plugin string, paths []string) (string, error) {
	if plugin == PluginType {
		return inProcessPath, nil
	}
	return invoke.FindInPath(plugin, paths)
}

func (e *pluginExec) ExecPlugin(ctx context.Context, pluginPath string, stdin []byte, environ []string) ([]byte, error) {
	if pluginPath != inProcessPath {
		return e.raw.ExecPlugin(ctx, pluginPath, stdin, environ)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out, cerr := Dispatch(environ, stdin)
	if cerr != nil {
		return nil, cerr
	}
	return out, nil
}

// Dispatch runs one podlab-bridge command the way skel would for an exec'd plugin: the
// CNI_* variables come from environ (later entries win), the config from stdin. It
// returns the bytes the plugin would print on success, or the CNI error it would print.
func Dispatch(environ []string, stdin []byte) ([]byte, *types.Error) {
	cmd, args, cerr := cmdArgsFromEnv(environ, stdin)
	if cerr != nil {
		return nil, cerr
	}
	if cmd == "VERSION" {
		out, err := json.Marshal(supportedVersions)
		if err != nil {
			return nil, types.NewError(types.ErrIOFailure, err.Error(), "")
		}
		return out, nil
	}
	if cerr := checkConfigVersion(cmd, stdin); cerr != nil {
		return nil, cerr
	}
	var err error
	switch cmd {
	case "ADD":
		var r types.Result
		if r, err = Add(args); err == nil {
			out, merr := json.Marshal(r)
			if merr != nil {
				return nil, types.NewError(types.ErrInternal, merr.Error(), "")
			}
			return out, nil
		}
	case "DEL":
		err = Del(args)
	case "CHECK":
		err = Check(args)
	case "GC":
		err = GC(args)
	case "STATUS":
		err = Status(args)
	}
	if err != nil {
		return nil, asCNIError(err)
	}
	return nil, nil
}

// required lists the CNI_* variables each command needs (CNI spec section "Parameters").
var required = map[string][]string{
	"ADD":     {"CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_PATH"},
	"CHECK":   {"CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_PATH"},
	"DEL":     {"CNI_CONTAINERID", "CNI_IFNAME", "CNI_PATH"},
	"GC":      {"CNI_PATH"},
	"STATUS":  {},
	"VERSION": {},
}

// cmdArgsFromEnv parses a plugin environment into skel.CmdArgs and validates it.
func cmdArgsFromEnv(environ []string, stdin []byte) (string, *skel.CmdArgs, *types.Error) {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "CNI_") {
			env[k] = v
		}
	}
	cmd := env["CNI_COMMAND"]
	need, known := required[cmd]
	if !known {
		if cmd == "" {
			return "", nil, types.NewError(types.ErrInvalidEnvironmentVariables, "required env variables [CNI_COMMAND] missing", "")
		}
		return "", nil, types.NewError(types.ErrInvalidEnvironmentVariables, fmt.Sprintf("unknown CNI_COMMAND: %v", cmd), "")
	}
	var missing []string
	for _, k := range need {
		if env[k] == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return "", nil, types.NewError(types.ErrInvalidEnvironmentVariables,
			fmt.Sprintf("required env variables [%s] missing", strings.Join(missing, ",")), "")
	}
	if cmd == "ADD" || cmd == "DEL" || cmd == "CHECK" {
		if cerr := utils.ValidateContainerID(env["CNI_CONTAINERID"]); cerr != nil {
			return "", nil, cerr
		}
		if cerr := utils.ValidateInterfaceName(env["CNI_IFNAME"]); cerr != nil {
			return "", nil, cerr
		}
	}
	if cmd != "VERSION" {
		if cerr := validateNetworkName(stdin); cerr != nil {
			return "", nil, cerr
		}
	}
	return cmd, &skel.CmdArgs{
		ContainerID:   env["CNI_CONTAINERID"],
		Netns:         env["CNI_NETNS"],
		IfName:        env["CNI_IFNAME"],
		Args:          env["CNI_ARGS"],
		Path:          env["CNI_PATH"],
		NetnsOverride: env["CNI_NETNS_OVERRIDE"],
		StdinData:     stdin,
	}, nil
}

func validateNetworkName(stdin []byte) *types.Error {
	var conf struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(stdin, &conf); err != nil {
		return types.NewError(types.ErrDecodingFailure, fmt.Sprintf("error unmarshall network config: %v", err), "")
	}
	if conf.Name == "" {
		return types.NewError(types.ErrInvalidNetworkConfig, "missing network name", "")
	}
	return utils.ValidateNetworkName(conf.Name)
}

// checkConfigVersion applies skel's version rules: the config version must be one we
// support, CHECK needs >= 0.4.0, GC and STATUS need >= 1.1.0.
func checkConfigVersion(cmd string, stdin []byte) *types.Error {
	v, err := (&version.ConfigDecoder{}).Decode(stdin)
	if err != nil {
		return types.NewError(types.ErrDecodingFailure, err.Error(), "")
	}
	supported := false
	for _, s := range supportedVersions.SupportedVersions() {
		if s == v {
			supported = true
		}
	}
	if !supported {
		return types.NewError(types.ErrIncompatibleCNIVersion, "incompatible CNI versions",
			fmt.Sprintf("config is %q, plugin supports %v", v, supportedVersions.SupportedVersions()))
	}
	minimum := map[string]string{"CHECK": "0.4.0", "GC": "1.1.0", "STATUS": "1.1.0"}[cmd]
	if minimum != "" {
		if ok, _ := version.GreaterThanOrEqualTo(v, minimum); !ok {
			return types.NewError(types.ErrIncompatibleCNIVersion, fmt.Sprintf("config version %s does not allow %s", v, cmd), "")
		}
	}
	return nil
}

func asCNIError(err error) *types.Error {
	var e *types.Error
	if errors.As(err, &e) {
		return e
	}
	return types.NewError(types.ErrInternal, err.Error(), "")
}

// IsPluginName reports whether argv0 asks the podlab binary to act as the plugin: its
// basename is podlab-cni-bridge, or podlab-bridge (the name libcni looks for in a CNI
// path, e.g. the symlink in a node's bin/ dir).
func IsPluginName(argv0 string) bool {
	b := filepath.Base(argv0)
	return b == BinaryName || b == PluginType
}
