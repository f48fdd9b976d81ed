// Package probe runs the kubelet's probes (readinessProbe, livenessProbe,
// startupProbe) and keeps their thresholds: Run makes one attempt of a probe as the
// kubelet would, and a Worker is the state of one probe of one container instance,
// driven by the caller's clock.
//
// It owns nothing but that arithmetic. It never touches a network namespace (the
// caller's Env dials and execs from the right one), never reads or writes the object
// store, never restarts a container and never records an event: it says what the
// kubelet should do and the kubelet does it.
package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Env is where probes run: the kubelet supplies one that dials from the pod's node and
// execs inside the pod. Both must give up when ctx ends.
type Env interface {
	Dial(ctx context.Context, network, addr string) (net.Conn, error)
	// Exec runs cmd and returns its exit code and combined output; err is for a
	// command that could not be run at all.
	Exec(ctx context.Context, cmd []string) (exitCode int, output string, err error)
}

// Result is the outcome of one attempt. Message is what the kubelet's event says after
// "Readiness probe failed: " (for a success, what the probe answered).
type Result struct {
	Success bool
	Message string
}

// userAgent is the kubelet's, for the Kubernetes version whose API podlab speaks.
const userAgent = "kube-probe/1.37"

// maxBody is how much of a response body the kubelet reads.
const maxBody = 10 << 10

// Run makes one attempt of p against a container whose pod has podIP and declares
// ports, giving up after p's timeoutSeconds. A nil probe succeeds, as an absent probe
// does in the kubelet.
func Run(ctx context.Context, p *corev1.Probe, podIP string, ports []corev1.ContainerPort, env Env) Result {
	if p == nil {
		return Result{Success: true}
	}
	timeout := seconds(p.TimeoutSeconds, 1)
	if h := p.HTTPGet; h != nil {
		// http.Client keeps the time itself, and says so as the kubelet's does.
		return runHTTP(ctx, h, podIP, ports, env, timeout)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	switch h := p.ProbeHandler; {
	case h.Exec != nil:
		return runExec(ctx, h.Exec.Command, env)
	case h.TCPSocket != nil:
		return runTCP(ctx, h.TCPSocket, podIP, ports, env)
	case h.GRPC != nil:
		return Result{Message: "grpc probes are not supported by podlab yet: use httpGet, tcpSocket or exec"}
	}
	return Result{Message: "the probe has no handler: give it one of httpGet, tcpSocket or exec"}
}

func runHTTP(ctx context.Context, g *corev1.HTTPGetAction, podIP string, ports []corev1.ContainerPort, env Env, timeout time.Duration) Result {
	if g.Scheme != "" && g.Scheme != corev1.URISchemeHTTP {
		return Result{Message: fmt.Sprintf("scheme %s is not supported by podlab's probes: its servers speak plain HTTP; use scheme: HTTP or a tcpSocket probe", g.Scheme)}
	}
	addr, err := target(g.Host, g.Port, podIP, ports)
	if err != nil {
		return Result{Message: err.Error()}
	}
	u, err := url.Parse(g.Path)
	if err != nil {
		u = &url.URL{Path: g.Path} // as the kubelet does: too late to reject it
	}
	u.Scheme, u.Host = "http", addr
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Result{Message: err.Error()}
	}
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Accept", "*/*")
	for _, h := range g.HTTPHeaders {
		if strings.EqualFold(h.Name, "Host") {
			req.Host = h.Value
			continue
		}
		req.Header.Add(h.Name, h.Value)
	}
	client := &http.Client{
		Timeout:   timeout,
		Transport: &http.Transport{DialContext: env.Dial, DisableKeepAlives: true},
		// The kubelet follows redirects on the same host only.
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Hostname() != via[0].URL.Hostname() {
				return http.ErrUseLastResponse
			}
			if len(via) >= 10 {
				return errors.New("stopped after 10 redirects")
			}
			return nil
		},
	}
	resp, err := client.Do(req)
	if err != nil {
		return Result{Message: err.Error()}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return Result{Success: true, Message: "Probe terminated redirects, Response body: " + string(body)}
	case resp.StatusCode >= 200 && resp.StatusCode < 400:
		return Result{Success: true, Message: string(body)}
	}
	return Result{Message: fmt.Sprintf("HTTP probe failed with statuscode: %d", resp.StatusCode)}
}

func runTCP(ctx context.Context, t *corev1.TCPSocketAction, podIP string, ports []corev1.ContainerPort, env Env) Result {
	addr, err := target(t.Host, t.Port, podIP, ports)
	if err != nil {
		return Result{Message: err.Error()}
	}
	c, err := env.Dial(ctx, "tcp", addr)
	if err != nil {
		var op *net.OpError
		switch {
		case errors.As(err, &op):
			return Result{Message: err.Error()}
		case ctx.Err() != nil:
			return Result{Message: fmt.Sprintf("dial tcp %s: i/o timeout", addr)}
		}
		return Result{Message: fmt.Sprintf("dial tcp %s: %v", addr, err)}
	}
	c.Close()
	return Result{Success: true}
}

func runExec(ctx context.Context, cmd []string, env Env) Result {
	code, out, err := env.Exec(ctx, cmd)
	switch {
	case ctx.Err() != nil:
		return Result{Message: fmt.Sprintf("command %q timed out", strings.Join(cmd, " "))}
	case err != nil:
		return Result{Message: err.Error()}
	case code == 0:
		return Result{Success: true, Message: out}
	case out == "":
		// The kubelet's event would be empty here; the exit code is more use to a learner.
		return Result{Message: fmt.Sprintf("command %q exited with code %d", strings.Join(cmd, " "), code)}
	}
	return Result{Message: out}
}

// target is the host:port a probe reaches: its host, by default the pod's IP, and its
// port.
func target(host string, port intstr.IntOrString, podIP string, ports []corev1.ContainerPort) (string, error) {
	n, err := resolvePort(port, ports)
	if err != nil {
		return "", err
	}
	if host == "" {
		host = podIP
	}
	return net.JoinHostPort(host, strconv.Itoa(n)), nil
}

// resolvePort is a probe's port: a number, or the name of one of the container's
// ports.
func resolvePort(p intstr.IntOrString, ports []corev1.ContainerPort) (int, error) {
	port := p.IntValue()
	if p.Type == intstr.String {
		port = -1
		var names []string
		for _, cp := range ports {
			if cp.Name == p.StrVal {
				port = int(cp.ContainerPort)
			}
			if cp.Name != "" {
				names = append(names, cp.Name)
			}
		}
		if n, err := strconv.Atoi(p.StrVal); port < 0 && err == nil {
			port = n
		}
		if port < 0 && len(names) == 0 {
			return 0, fmt.Errorf("port %q is not a number and the container names none of its ports", p.StrVal)
		}
		if port < 0 {
			return 0, fmt.Errorf("port %q is not a number nor the name of one of the container's ports (%s)", p.StrVal, strings.Join(names, ", "))
		}
	}
	if port < 1 || port > 65535 {
		return 0, fmt.Errorf("invalid port number: %d (want 1 to 65535)", port)
	}
	return port, nil
}

// seconds is n seconds, or def seconds when n is not set.
func seconds(n int32, def int32) time.Duration {
	if n <= 0 {
		n = def
	}
	return time.Duration(n) * time.Second
}
