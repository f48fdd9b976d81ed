package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"

	"podlab.dev/podlab/runtime/netns"
)

func newPortForward() *cobra.Command {
	var namespace string
	cmd := &cobra.Command{
		Use:   "port-forward [--name LAB] [-n NS] POD|pod/NAME|svc/NAME LOCAL:REMOTE|PORT",
		Short: "Forward a port of this machine's loopback to a pod, as kubectl port-forward",
		Long: "Listens on 127.0.0.1:LOCAL only (never another address of the machine) and opens,\n" +
			"for each TCP connection, a socket inside the pod's network namespace to the pod's\n" +
			"address on REMOTE. svc/NAME picks the first ready pod of the Service and its\n" +
			"targetPort for REMOTE. Runs until Ctrl-C.",
		Example: `  podlab port-forward web-1 8080:80     # curl http://127.0.0.1:8080/
  podlab port-forward svc/web 8080:80 -n shop`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			local, remote, err := parsePorts(args[1])
			if err != nil {
				return err
			}
			c, _, err := client(cmd)
			if err != nil {
				return err
			}
			if err := needRoot("podlab port-forward"); err != nil {
				return err
			}
			podName := strings.TrimPrefix(strings.TrimPrefix(args[0], "pod/"), "po/")
			if svc, ok := strings.CutPrefix(args[0], "svc/"); ok {
				if podName, remote, err = servicePod(cmd, svc, namespace, remote); err != nil {
					return err
				}
			}
			pod, err := c.PodEtc(cmd.Context(), namespace, podName)
			if err != nil {
				return notFound(err)
			}
			if !pod.IP.IsValid() {
				return fmt.Errorf("pod %s/%s is Pending: it has no address yet", namespace, podName)
			}
			dial := dialIn(netns.Path(pod.Netns))
			ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(local)))
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			go func() { <-ctx.Done(); ln.Close() }()
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Forwarding from 127.0.0.1:%d -> %d\n", local, remote)
			upstream := net.JoinHostPort(pod.IP.String(), strconv.Itoa(remote))
			for {
				conn, err := ln.Accept()
				if err != nil {
					if ctx.Err() != nil {
						return nil
					}
					return err
				}
				fmt.Fprintf(out, "Handling connection for %d\n", local)
				go forward(ctx, conn, dial, upstream, cmd.ErrOrStderr())
			}
		},
	}
	cmd.Flags().String("name", "", "lab name (default: the only deployed lab)")
	cmd.Flags().StringVarP(&namespace, "namespace", "n", "default", "Kubernetes namespace")
	return cmd
}

// parsePorts reads LOCAL:REMOTE or PORT (the same on both sides).
func parsePorts(s string) (local, remote int, err error) {
	l, r, ok := strings.Cut(s, ":")
	if !ok {
		r = l
	}
	local, err1 := strconv.Atoi(l)
	remote, err2 := strconv.Atoi(r)
	if err1 != nil || err2 != nil || local < 1 || local > 65535 || remote < 1 || remote > 65535 {
		return 0, 0, invalid("ports %q: expected LOCAL:REMOTE or PORT, such as 8080:80", s)
	}
	return local, remote, nil
}

// servicePod picks a running pod of the Service (as kubectl does: podOf) and the
// targetPort of its port.
func servicePod(cmd *cobra.Command, name, ns string, port int) (string, int, error) {
	c, _, err := client(cmd)
	if err != nil {
		return "", 0, err
	}
	objs, err := collect(cmd, c, "Service", ns, name)
	if err != nil {
		return "", 0, err
	}
	if len(objs) == 0 {
		return "", 0, invalid("service %q not found in namespace %s", name, ns)
	}
	svc := objs[0].(*corev1.Service)
	target := port
	for _, p := range svc.Spec.Ports {
		if int(p.Port) == port && p.TargetPort.IntValue() != 0 {
			target = p.TargetPort.IntValue()
		}
	}
	pod, err := podOf(cmd, "svc/"+name, ns)
	if err != nil {
		return "", 0, fmt.Errorf("service %s/%s has no running pod to forward to: %w", ns, name, err)
	}
	return pod, target, nil
}

// forward copies between conn and a socket opened to upstream inside the pod.
func forward(ctx context.Context, conn net.Conn, dial func(context.Context, string, string) (net.Conn, error), upstream string, errw io.Writer) {
	defer conn.Close()
	up, err := dial(ctx, "tcp", upstream)
	if err != nil {
		fmt.Fprintf(errw, "error forwarding to %s: %v\n", upstream, err)
		return
	}
	defer up.Close()
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok {
			tc.CloseWrite()
		}
		done <- struct{}{}
	}
	go cp(up, conn)
	go cp(conn, up)
	<-done
	<-done
}
