package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"podlab.dev/podlab/plan"
	podruntime "podlab.dev/podlab/runtime"
	"podlab.dev/podlab/runtime/docker"
	"podlab.dev/podlab/runtime/netns"
	"podlab.dev/podlab/topology"
)

func newImage() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "image",
		Short: "Manage podlab's own Docker images (for runtime docker)",
	}
	cmd.AddCommand(&cobra.Command{
		Use:     "build",
		Short:   "Build podlab/node and podlab/pod from scratch in the local Docker engine (no registry)",
		Example: `  sudo podlab image build && sudo podlab deploy labs/basics/lab.yaml`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rt, err := docker.New(imageTag())
			if err != nil {
				return err
			}
			defer rt.Close()
			if err := rt.BuildImages(cmd.Context(), os.Stderr); err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "built %s and %s\n", docker.NodeImage(imageTag()), docker.PodImage(imageTag()))
			return nil
		},
	})
	return cmd
}

// imageTag is the tag of podlab's images: its version, or dev-<commit> for a
// development build, so a rebuilt podlab never runs an older build's image.
func imageTag() string {
	return strings.Map(func(r rune) rune {
		if r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '-'
	}, fullVersion())
}

// runtimeFor returns the runtime a deploy of p uses. For docker it checks, before
// anything is created, that the engine answers (exit 1 otherwise), builds podlab's
// images when missing and that every image a pod names is present (exit 2).
func runtimeFor(ctx context.Context, p *plan.Plan, prog *progress) (podruntime.Runtime, error) {
	if p.Runtime != topology.RuntimeDocker {
		return netns.New(), nil
	}
	rt, err := docker.New(imageTag())
	if err != nil {
		return nil, err
	}
	if err := rt.Ping(ctx); err != nil {
		return nil, err
	}
	tag := imageTag()
	var missing *docker.MissingImageError
	if err := rt.CheckImages(ctx, []string{docker.NodeImage(tag), docker.PodImage(tag)}); errors.As(err, &missing) {
		prog.step("building images "+docker.NodeImage(tag)+" and "+docker.PodImage(tag), 0, 0)
		if err := rt.BuildImages(ctx, nil); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	for _, pod := range p.Pods {
		img, own := rt.ImageFor(podruntime.Sandbox{Kind: podruntime.KindPod, Image: pod.Image})
		if own {
			continue
		}
		if err := rt.CheckImages(ctx, []string{img}); errors.As(err, &missing) {
			return nil, invalid("pod %s: %v", pod.Key(), err)
		} else if err != nil {
			return nil, err
		}
	}
	return rt, nil
}

// cleanupRuntime removes labs of both runtimes: the docker runtime's Delete unmounts
// the namespace as the netns runtime does and also removes the container behind it
// when an engine answers; its List adds containers left by a crash.
func cleanupRuntime() podruntime.Runtime {
	rt, err := docker.New(imageTag())
	if err != nil {
		return netns.New()
	}
	return rt
}
