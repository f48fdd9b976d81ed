package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/cluster/ingress"
	"podlab.dev/podlab/cluster/services"
	"podlab.dev/podlab/deploy"
	"podlab.dev/podlab/plan"
	"podlab.dev/podlab/state"
	"podlab.dev/podlab/topology"
)

func newDeploy() *cobra.Command {
	var runtimeFlag, output string
	var dryRun, reconfigure bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "deploy (FILE | -t FILE | -f FILE)",
		Short: "Build the lab a file describes; exit 0 when every pod is ready",
		Example: `  podlab deploy labs/basics/lab.yaml              # as root
  podlab deploy -t labs/basics/lab.yaml           # the same, containerlab's flag
  podlab deploy -f labs/basics/lab.yaml -o json   # the same, kubectl's flag; the lab's state as JSON
  podlab deploy --dry-run lab.yaml                # print the plan, create nothing (no root needed)
  podlab deploy --reconfigure lab.yaml            # rebuild a running lab after editing its file`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			file, err := labFile(cmd, args, "deploy")
			if err != nil {
				return err
			}
			p, err := loadPlan(file)
			if err != nil {
				return err
			}
			if runtimeFlag != "" {
				p.Runtime = runtimeFlag
			}
			if dryRun {
				p.Print(cmd.OutOrStdout())
				return nil
			}
			if err := checkOutput(output); err != nil {
				return err
			}
			if err := needRoot("podlab deploy"); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runDeploy(ctx, p, reconfigure, timeout, output)
		},
	}
	labFileFlags(cmd)
	cmd.Flags().StringVar(&runtimeFlag, "runtime", "", "override the lab file's runtime (netns|docker)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the plan (namespaces, links, addresses, routes, objects) and create nothing")
	cmd.Flags().BoolVar(&reconfigure, "reconfigure", false, "destroy the running lab of the same name and deploy it again")
	cmd.Flags().DurationVar(&timeout, "timeout", 2*time.Minute, "how long to wait for every pod to be ready")
	cmd.Flags().StringVarP(&output, "output", "o", "table", "result format: table|json|yaml")
	return cmd
}

// loadPlan reads and validates a lab file and plans it; a lab file that names no
// runtime gets the configured default.
func loadPlan(file string) (*plan.Plan, error) {
	lab, err := topology.Load(file)
	if err != nil {
		return nil, err
	}
	p, err := plan.Build(lab)
	if err != nil {
		return nil, err
	}
	if err := services.CheckObjects(p); err != nil {
		return nil, err
	}
	for _, w := range p.Warnings {
		fmt.Fprintf(os.Stderr, "warning: %s\n", w.Error())
	}
	if p.Runtime == "" {
		p.Runtime = cfg.Runtime
	}
	return p, nil
}

func runDeploy(ctx context.Context, p *plan.Plan, reconfigure bool, timeout time.Duration, output string) error {
	start := time.Now()
	if err := state.PrepareRoot(cfg.StateDir); err != nil {
		return err
	}
	dir := state.For(cfg.StateDir, p.Lab)
	unlock, err := dir.Lock()
	if err != nil {
		return err
	}
	defer unlock()
	prog := newProgress(os.Stderr)
	defer prog.done()
	rt, err := runtimeFor(ctx, p, prog)
	if err != nil {
		return err
	}
	if dir.Exists() {
		if !reconfigure {
			return invalid("lab %q is already deployed; use `podlab deploy --reconfigure -t FILE` to rebuild it, or `podlab destroy --name %s`", p.Lab, p.Lab)
		}
		prog.step("destroying the running lab to reconfigure it", 0, 0)
		if _, err := deploy.Destroy(ctx, p.Lab, deploy.DestroyOptions{Root: cfg.StateDir, Runtime: rt, Progress: prog.step}); err != nil {
			return err
		}
	}
	res, err := deploy.Deploy(ctx, p, deploy.Options{
		Root: cfg.StateDir, Runtime: rt, Progress: prog.step,
		StartSupervisor: startSupervisor, Parallel: cfg.Parallel,
	})
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("deploy interrupted; everything it created was removed")
		}
		return fmt.Errorf("deploy of lab %q failed, everything it created was removed: %w", p.Lab, err)
	}
	for _, c := range res.Sysctls {
		prog.note("raised host limit " + c.String() + " (restored when the lab is destroyed)")
	}
	st, err := waitReady(ctx, dir, len(p.Pods), timeout, prog)
	prog.done()
	if err != nil {
		if ctx.Err() != nil {
			deploy.Destroy(context.WithoutCancel(ctx), p.Lab, deploy.DestroyOptions{Root: cfg.StateDir, Runtime: rt})
			return fmt.Errorf("deploy interrupted; everything it created was removed")
		}
		return err
	}
	system, proxies := 0, 0
	for _, pod := range st.Pods {
		switch pod.Namespace {
		case "kube-system":
			system++
		case ingress.IngressNamespace, ingress.GatewayNamespace:
			proxies++
		}
	}
	extra := fmt.Sprintf("%d in kube-system: cluster DNS", system)
	if proxies > 0 {
		extra += fmt.Sprintf("; %d ingress and gateway proxies", proxies)
	}
	fmt.Fprintf(os.Stderr, "lab %s ready in %.2fs: %d nodes, %d hosts, %d pods (and %s)\n", p.Lab, time.Since(start).Seconds(), len(st.Nodes), len(st.Hosts), len(st.Pods)-system-proxies, extra)
	return printState(os.Stdout, []*api.LabState{st}, output)
}

// waitReady polls the supervisor until every pod is ready.
func waitReady(ctx context.Context, dir state.Dir, pods int, timeout time.Duration, prog *progress) (*api.LabState, error) {
	c := api.NewClient(dir)
	deadline := time.Now().Add(timeout)
	for {
		if r, err := c.Ready(ctx); err == nil {
			prog.step("waiting for pods to be ready", r.Ready, max(pods, r.Total)) // the lab's and kube-system's
			if r.Ready == r.Total && r.Settled {
				return c.State(ctx)
			}
		}
		if time.Now().After(deadline) {
			var not []string
			st, _ := c.State(ctx)
			if st != nil {
				for _, p := range st.Pods {
					if !p.Ready {
						not = append(not, fmt.Sprintf("%s/%s (%s)", p.Namespace, p.Name, p.Reason))
						if len(not) == 10 {
							break
						}
					}
				}
			}
			return st, fmt.Errorf("pods not ready after %s: %s; the lab stays up for inspection (`podlab inspect --name %s`)", timeout, strings.Join(not, ", "), dir.Lab)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// startSupervisor starts `podlab supervise` for the lab in the background, in its own
// session so it outlives this command, and waits until it answers.
func startSupervisor(ctx context.Context, dir state.Dir) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	logf, err := os.OpenFile(dir.Log(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(self, "supervise", "--name", dir.Lab, "--state-dir", dir.Root, "--log-level", cfg.LogLevel)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start supervisor: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	client := api.NewClient(dir)
	deadline := time.After(30 * time.Second)
	for {
		if _, err := client.Ready(ctx); err == nil { // answers: it runs
			return nil
		}
		select {
		case err := <-exited:
			log, _ := os.ReadFile(dir.Log())
			return fmt.Errorf("supervisor exited (%v): %s", err, strings.TrimSpace(string(log)))
		case <-deadline:
			return fmt.Errorf("supervisor did not answer within 30s; see %s", dir.Log())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}
