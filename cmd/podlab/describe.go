package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/kubectl/pkg/describe"

	"podlab.dev/podlab/cluster"
	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/cluster/kubeapi"
	"podlab.dev/podlab/state"
	"podlab.dev/podlab/topology"
)

// describe prints what kubectl describe prints, from kubectl's own describers over the
// lab's Kubernetes API, so the two can never disagree; podlab adds what only it knows
// (the kernel's view of a pod, node or host) before the Events.
func newDescribe() *cobra.Command {
	var namespace, output, selector string
	var allNamespaces bool
	cmd := &cobra.Command{
		Use:   "describe KIND [NAME...] [-n NAMESPACE] [-l SELECTOR] | describe host NAME",
		Short: "kubectl describe's sections and the object's events for any kind the lab serves; for a pod, node or host also its interfaces, routes, neighbours, FDB, nft ruleset, resolv.conf and CNI result",
		Example: `  sudo podlab describe pod web-7d4b9c-x2x5k
  sudo podlab describe deployment web
  sudo podlab describe svc -n kube-system kube-dns
  sudo podlab describe nodes
  sudo podlab describe ingressclass podlab
  sudo podlab describe httproute -l app=web
  sudo podlab describe host client -o json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			resource, names := args[0], args[1:]
			if r, n, ok := strings.Cut(resource, "/"); ok { // kubectl's KIND/NAME
				resource, names = r, append([]string{n}, names...)
			}
			kind := strings.TrimSuffix(strings.ToLower(resource), "s")
			if kind == "host" || output == "json" {
				if len(names) != 1 || (kind != "host" && kind != "pod" && kind != "node" && kind != "svc" && kind != "service") {
					return invalid("describe %s: -o json and hosts take one pod, svc, node or host NAME (other kinds: podlab get KIND NAME -o json)", resource)
				}
				return podlabDetails(cmd, kind, namespace, names[0], output == "json")
			}
			if k := resources[strings.ToLower(resource)]; k != "" && !kubeapi.Serves(k) {
				if why := topology.NotEnforced(k); why != "" {
					return invalid("describe %s: %s; see podlab get %s -o yaml", resource, why, strings.Join(append([]string{resource}, names...), " "))
				}
			}
			c, lab, err := client(cmd)
			if err != nil {
				return err
			}
			// Without the Kubernetes API (PODLAB_KUBEAPI=off, or it does not answer), a
			// pod, node or Service still gets podlab's own view.
			ownView := func(err error) error {
				var iv invalidInput
				if errors.As(err, &iv) || len(names) != 1 || (kind != "pod" && kind != "node" && kind != "svc" && kind != "service") {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "%v: podlab's own view follows\n", err)
				return podlabDetails(cmd, kind, namespace, names[0], false)
			}
			rc, err := labRESTConfig(state.For(cfg.StateDir, lab), lab)
			if err != nil {
				return ownView(err)
			}
			if allNamespaces {
				namespace = ""
			}
			objs, err := describeObjects(cmd.Context(), cmd.ErrOrStderr(), rc, resource, namespace, names, selector)
			if err != nil && len(objs) == 0 {
				return ownView(err)
			}
			for i, o := range objs {
				if o.kind != "Pod" && o.kind != "Node" {
					continue
				}
				d, derr := c.Details(cmd.Context(), o.kind, o.namespace, o.name)
				if derr == nil {
					objs[i].text = withSections(o.text, d.Sections)
				}
			}
			for i, o := range objs {
				if i > 0 {
					io.WriteString(cmd.OutOrStdout(), "\n\n")
				}
				io.WriteString(cmd.OutOrStdout(), o.text)
			}
			return err
		},
	}
	cmd.Flags().String("name", "", "lab name (default: the only deployed lab)")
	cmd.Flags().StringVarP(&namespace, "namespace", "n", "default", "Kubernetes namespace")
	cmd.Flags().BoolVarP(&allNamespaces, "all-namespaces", "A", false, "every namespace (without NAME)")
	cmd.Flags().StringVarP(&selector, "selector", "l", "", "label selector (without NAME), as kubectl's -l")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text|json (json: podlab's view of one pod, svc, node or host)")
	return cmd
}

// podlabDetails is podlab's own view of a pod, service, node or host, from the supervisor.
func podlabDetails(cmd *cobra.Command, kind, namespace, name string, asJSON bool) error {
	c, _, err := client(cmd)
	if err != nil {
		return err
	}
	d, err := c.Details(cmd.Context(), kind, namespace, name)
	if err != nil {
		return notFound(err)
	}
	if asJSON {
		return json.NewEncoder(os.Stdout).Encode(d)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", d.Kind, strings.TrimPrefix(d.Namespace+"/"+d.Name, "/"))
	for _, s := range d.Sections {
		fmt.Fprintf(cmd.OutOrStdout(), "\n== %s ==\n%s", s.Title, s.Body)
	}
	return nil
}

// withSections puts podlab's kernel sections after kubectl's and before its Events,
// so the events stay at the bottom as kubectl users look for them. The status and
// events sections are kubectl's already.
func withSections(text string, sections []api.Section) string {
	var b strings.Builder
	for _, s := range sections {
		if s.Title == "status" || s.Title == "events" {
			continue
		}
		fmt.Fprintf(&b, "== %s ==\n%s", s.Title, s.Body)
		if !strings.HasSuffix(s.Body, "\n") {
			b.WriteString("\n")
		}
	}
	at := strings.LastIndex(text, "\nEvents:")
	if at < 0 {
		return text + b.String()
	}
	return text[:at+1] + b.String() + text[at+1:]
}

// described is one object's describe text.
type described struct {
	kind, namespace, name, text string
}

// describeObjects describes the named objects of resource (every one matching selector
// when names is empty) with kubectl's describers, as kubectl describe does: a kind
// kubectl knows gets its describer, any other kind the generic one. Objects described
// before an error are returned with it; none found is said on errOut, as kubectl does.
func describeObjects(ctx context.Context, errOut io.Writer, rc *rest.Config, resource, namespace string, names []string, selector string) ([]described, error) {
	mapping, err := restMapping(rc, resource)
	if err != nil {
		return nil, err
	}
	if mapping.Scope.Name() == meta.RESTScopeNameRoot {
		namespace = ""
	}
	kind := mapping.GroupVersionKind.Kind
	type ref struct{ namespace, name string }
	var refs []ref
	for _, n := range names {
		refs = append(refs, ref{namespace, n})
	}
	if len(names) == 0 {
		dc, err := dynamic.NewForConfig(rc)
		if err != nil {
			return nil, err
		}
		list, err := dc.Resource(mapping.Resource).Namespace(namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return nil, apiError(err)
		}
		for _, o := range list.Items {
			refs = append(refs, ref{o.GetNamespace(), o.GetName()})
		}
		if len(refs) == 0 {
			fmt.Fprintf(errOut, "No resources found%s.\n", inNamespace(namespace, mapping))
			return nil, nil
		}
	}
	d, ok := describe.DescriberFor(mapping.GroupVersionKind.GroupKind(), rc)
	if !ok {
		if d, ok = describe.GenericDescriberFor(mapping, rc); !ok {
			return nil, fmt.Errorf("describe %s: no describer", resource)
		}
	}
	var out []described
	for _, r := range refs {
		text, err := d.Describe(r.namespace, r.name, describe.DescriberSettings{ShowEvents: true, ChunkSize: 500})
		if err != nil {
			return out, apiError(err)
		}
		if why := topology.NotEnforced(kind); why != "" {
			text += why + "\n"
		}
		out = append(out, described{kind, r.namespace, r.name, text})
	}
	return out, nil
}

// restMapping resolves a kind as kubectl names it (deploy, deployments,
// deployments.apps, Deployment, httproute) through the lab's discovery.
func restMapping(rc *rest.Config, resource string) (*meta.RESTMapping, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(rc)
	if err != nil {
		return nil, err
	}
	// Not client-go's memory cache: it logs through klog when the API does not answer.
	groups, err := restmapper.GetAPIGroupResources(dc)
	if err != nil {
		return nil, fmt.Errorf("describe %q: %w", resource, err)
	}
	mapper := restmapper.NewShortcutExpander(restmapper.NewDiscoveryRESTMapper(groups), dc, nil)
	gvr, gr := schema.ParseResourceArg(strings.ToLower(resource))
	var gvk schema.GroupVersionKind
	if gvr != nil {
		gvk, err = mapper.KindFor(*gvr)
	}
	if gvk.Empty() {
		if gvk, err = mapper.KindFor(gr.WithVersion("")); err != nil {
			if meta.IsNoMatchError(err) {
				return nil, invalid("describe %q: the lab serves no such kind (see kubectl api-resources through podlab kubeconfig, or podlab get --help)", resource)
			}
			return nil, fmt.Errorf("describe %q: %w", resource, err)
		}
	}
	return mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
}

// apiError words the API's refusals as kubectl does; a missing object is invalid input.
func apiError(err error) error {
	if apierrors.IsNotFound(err) {
		return invalid("Error from server (NotFound): %v", err)
	}
	return err
}

func inNamespace(ns string, m *meta.RESTMapping) string {
	if ns == "" || m.Scope.Name() == meta.RESTScopeNameRoot {
		return ""
	}
	return " in " + ns + " namespace"
}

// labRESTConfig is the client configuration podlab kubeconfig prints, read from the
// same files: the lab's CA, the admin client certificate and the listener's address.
func labRESTConfig(dir state.Dir, lab string) (*rest.Config, error) {
	f := cluster.KubeAPIFilesOf(dir.Path())
	addr, err := kubeAPIAddr(f, lab)
	if err != nil {
		return nil, err
	}
	ca, err := f.CA()
	if err != nil {
		return nil, err
	}
	crt, key, err := f.Client()
	if err != nil {
		return nil, err
	}
	return &rest.Config{Host: "https://" + addr, Timeout: 30 * time.Second,
		TLSClientConfig: rest.TLSClientConfig{CAData: ca, CertData: crt, KeyData: key}}, nil
}

// kubeAPIAddr waits up to 5 s for the supervisor's API listener (it starts with the
// supervisor, which a command may just have restarted).
func kubeAPIAddr(f cluster.KubeAPIFiles, lab string) (string, error) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		if addr, err := f.Addr(); err == nil && addr != "" {
			return addr, nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("lab %s: the supervisor serves no Kubernetes API yet (%s): see podlab events --name %s", lab, f.Dir, lab)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
