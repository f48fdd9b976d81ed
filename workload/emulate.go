package workload

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
)

// kind is what one socket of a program answers.
type kind int

const (
	plainHTTP    kind = iota // podlab's own netexec-like server
	plainUDP                 // its UDP echo
	nginxHTTP                // nginx's default site
	httpdHTTP                // httpd's default site
	netexecHTTP              // agnhost netexec
	netexecUDP               // agnhost netexec's UDP commands
	hostnameHTTP             // agnhost serve-hostname
	hostnameTCP              // agnhost serve-hostname --tcp
	hostnameUDP              // agnhost serve-hostname --udp
	echoHTTP                 // Gateway API's echo-basic, HTTP
	echoH2C                  // echo-basic's h2c port
)

// socket is one port a program listens on.
type socket struct {
	Port
	kind kind
}

// program is what a container's image and command amount to once started: the
// sockets it opens, or the exit it makes at once.
type program struct {
	sockets []socket
	exit    *ExitError
	noUDP   bool        // agnhost netexec --udp-port=-1: its /healthz answers 412
	close   bool        // agnhost serve-hostname --close
	echo    echoContext // echo-basic: what its JSON says of where it runs
}

// ExitError says the emulated program exits as soon as it starts, as the real one
// would with these arguments (agnhost serve-hostname --tcp without --http=false, a
// flag value that is not a number, ...). The kubelet treats it as the container
// exiting with Code.
type ExitError struct {
	Code   int
	Reason string // what the program would have logged
}

func (e *ExitError) Error() string {
	return fmt.Sprintf("container exited with code %d: %s", e.Code, e.Reason)
}

// knownImage is what podlab knows of one image's defaults (its ENTRYPOINT and CMD) and
// the program names that mean the image's own server is what runs.
type knownImage struct {
	entrypoint, cmd []string
	programs        []string
}

var images = map[string]knownImage{
	"nginx":   {entrypoint: []string{"/docker-entrypoint.sh"}, cmd: []string{"nginx", "-g", "daemon off;"}, programs: []string{"nginx", "nginx-debug"}},
	"httpd":   {cmd: []string{"httpd-foreground"}, programs: []string{"httpd-foreground", "httpd"}},
	"agnhost": {entrypoint: []string{"/agnhost"}, cmd: []string{"pause"}, programs: []string{"agnhost"}},
	// Gateway API's conformance echo server, and its predecessor from the ingress
	// conformance suite (see echoImage).
	"echo-basic": {entrypoint: []string{"/echo-basic"}, programs: []string{"echo-basic", "echoserver"}},
	"echoserver": {entrypoint: []string{"/echoserver"}, programs: []string{"echoserver", "echo-basic"}},
}

// EmulatedPorts is the ports a container of image, run with the container spec's
// command and args, listens on in podlab: nginx listens on 80 and httpd on 80 whatever
// the spec declares; agnhost netexec and serve-hostname on the ports their flags say;
// any other image (or one whose command runs something else) on each declared TCP and
// UDP port. Declared ports that are not listed are refused, as they would be in a real
// cluster. A program that exits at once listens on nothing.
func EmulatedPorts(image string, command, args []string, declared []Port) []Port {
	return Options{Image: image, Command: command, Args: args, Ports: declared}.EmulatedPorts()
}

// EmulatedPorts is the package function EmulatedPorts for o, reading o.Env where the
// image does (echo-basic's HTTP_PORT).
func (o Options) EmulatedPorts() []Port {
	prog := emulate(o)
	out := make([]Port, 0, len(prog.sockets))
	for _, s := range prog.sockets {
		out = append(out, s.Port)
	}
	return out
}

func emulate(o Options) program {
	declared := o.Ports
	name := imageName(o.Image)
	img, known := images[name]
	if !known || name == "echoserver" && !strings.Contains(o.Image, "ingressconformance/") {
		// registry.k8s.io/echoserver is another image (nginx with a text echo).
		return plain(declared)
	}
	argv := containerArgv(img, o.Command, o.Args)
	if !slices.Contains(img.programs, path.Base(argv[0])) {
		return plain(declared)
	}
	switch name {
	case "nginx":
		return program{sockets: []socket{{Port{80, "TCP"}, nginxHTTP}}}
	case "httpd":
		return program{sockets: []socket{{Port{80, "TCP"}, httpdHTTP}}}
	case "echo-basic", "echoserver":
		return echoBasic(o)
	}
	if len(argv) < 2 {
		return program{exit: &ExitError{Code: 0, Reason: "agnhost: no subcommand given: it prints its help and exits"}}
	}
	switch argv[1] {
	case "netexec":
		return netexec(argv[2:])
	case "serve-hostname":
		return serveHostname(argv[2:])
	case "pause":
		return program{}
	}
	return plain(declared)
}

// imageName is the last path element of an image reference, without tag or digest:
// "registry.k8s.io/e2e-test-images/agnhost:2.53" -> "agnhost".
func imageName(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	ref = ref[strings.LastIndex(ref, "/")+1:]
	ref, _, _ = strings.Cut(ref, ":")
	return strings.ToLower(ref)
}

// containerArgv is the command line a container runs, by Kubernetes' rule: command
// replaces the image's ENTRYPOINT (and drops its CMD), args replace its CMD. A wrapper
// entrypoint that execs its arguments (nginx's docker-entrypoint.sh) is skipped.
func containerArgv(img knownImage, command, args []string) []string {
	entry, cmd := img.entrypoint, img.cmd
	if len(command) > 0 {
		entry, cmd = command, nil
	}
	if len(args) > 0 {
		cmd = args
	}
	argv := append(slices.Clone(entry), cmd...)
	if len(argv) > 1 && path.Base(argv[0]) == "docker-entrypoint.sh" {
		argv = argv[1:]
	}
	if len(argv) == 0 {
		return []string{""}
	}
	return argv
}

// plain is podlab's own server on each declared port (SCTP is not served: this kernel
// has no SCTP sockets).
func plain(declared []Port) program {
	var p program
	for _, d := range declared {
		switch strings.ToUpper(d.Protocol) {
		case "", "TCP":
			p.sockets = append(p.sockets, socket{Port{d.Port, "TCP"}, plainHTTP})
		case "UDP":
			p.sockets = append(p.sockets, socket{Port{d.Port, "UDP"}, plainUDP})
		}
	}
	return p
}

func netexec(args []string) program {
	f, err := parseFlags(args, nil)
	httpPort, err1 := f.int("http-port", 8080)
	udpPort, err2 := f.int("udp-port", 8081)
	if err := firstErr(err, err1, err2); err != nil {
		return program{exit: &ExitError{Code: 1, Reason: "agnhost netexec: " + err.Error()}}
	}
	p := program{sockets: []socket{{Port{httpPort, "TCP"}, netexecHTTP}}, noUDP: udpPort == -1}
	if udpPort != -1 {
		p.sockets = append(p.sockets, socket{Port{udpPort, "UDP"}, netexecUDP})
	}
	return p
}

func serveHostname(args []string) program {
	f, err := parseFlags(args, []string{"tcp", "udp", "http", "close"})
	port, err1 := f.int("port", 9376)
	doTCP, err2 := f.bool("tcp", false)
	doUDP, err3 := f.bool("udp", false)
	doHTTP, err4 := f.bool("http", true)
	doClose, err5 := f.bool("close", false)
	if err := firstErr(err, err1, err2, err3, err4, err5); err != nil {
		return program{exit: &ExitError{Code: 1, Reason: "agnhost serve-hostname: " + err.Error()}}
	}
	if doHTTP && (doTCP || doUDP) {
		// The real message, typo included; the fix is --http=false.
		return program{exit: &ExitError{Code: 1, Reason: "agnhost serve-hostname: Can't server TCP/UDP mode and HTTP mode at the same time (add --http=false)"}}
	}
	p := program{close: doClose}
	if doTCP {
		p.sockets = append(p.sockets, socket{Port{port, "TCP"}, hostnameTCP})
	}
	if doUDP {
		p.sockets = append(p.sockets, socket{Port{port, "UDP"}, hostnameUDP})
	}
	if doHTTP {
		p.sockets = append(p.sockets, socket{Port{port, "TCP"}, hostnameHTTP})
	}
	return p
}

// flags are a command line's --name=value and --name value pairs, the way agnhost's
// cobra reads them. Flags podlab does not emulate are kept and never asked for.
type flags map[string]string

func parseFlags(args []string, bools []string) (flags, error) {
	f := flags{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "--") {
			return f, fmt.Errorf("unexpected argument %q", a)
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		switch {
		case hasValue:
		case slices.Contains(bools, name):
			value = "true"
		case i+1 < len(args):
			i++
			value = args[i]
		default:
			return f, fmt.Errorf("flag needs an argument: --%s", name)
		}
		f[name] = value
	}
	return f, nil
}

func (f flags) int(name string, def int) (int, error) {
	return flagValue(f, name, def, strconv.Atoi, "not a whole number")
}

func (f flags) bool(name string, def bool) (bool, error) {
	return flagValue(f, name, def, strconv.ParseBool, "not true or false")
}

// flagValue is flag name read by parse, or def when the command line does not give it.
func flagValue[T any](f flags, name string, def T, parse func(string) (T, error), want string) (T, error) {
	v, ok := f[name]
	if !ok {
		return def, nil
	}
	x, err := parse(v)
	if err != nil {
		return def, fmt.Errorf("invalid argument %q for \"--%s\" flag: %s", v, name, want)
	}
	return x, nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
