package main

import (
	"fmt"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"podlab.dev/podlab/cluster/ingress/convert"
)

func newConvert() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "convert",
		Short: "Convert a lab's objects to other APIs: an Ingress to Gateway API",
	}
	cmd.AddCommand(newConvertIngress())
	return cmd
}

func newConvertIngress() *cobra.Command {
	var namespace, output, class string
	cmd := &cobra.Command{
		Use:   "ingress NAME [-n NAMESPACE] [-o yaml|json] [--gateway-class CLASS]",
		Short: "Print the Gateway and HTTPRoutes that serve an Ingress as ingress-nginx did (as ingress2gateway converts it); what differs is printed to stderr as # comments",
		Example: `  podlab convert ingress web                 # Gateway + HTTPRoutes, YAML, pasteable into the lab's manifests
  podlab convert ingress web -n shop -o json
  podlab convert ingress web 2>/dev/null     # without the notes`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "yaml" && output != "json" {
				return invalid("output format %q: expected yaml or json", output)
			}
			c, _, err := client(cmd)
			if err != nil {
				return err
			}
			objs, err := collect(cmd, c, "Ingress", namespace, args[0])
			if err != nil {
				return err
			}
			if len(objs) == 0 {
				return invalid("ingress %q not found in namespace %q (podlab get ingress -A lists them)", args[0], namespace)
			}
			ing := objs[0].(*networkingv1.Ingress)
			// A backendRef needs a port number: look named ports up in the Service.
			ports := func(ns, svc, port string) (int32, bool) {
				so, err := collect(cmd, c, "Service", ns, svc)
				if err != nil || len(so) == 0 {
					return 0, false
				}
				for _, p := range so[0].(*corev1.Service).Spec.Ports {
					if p.Name == port {
						return p.Port, true
					}
				}
				return 0, false
			}
			gw, routes, notes := convert.Convert(ing, convert.Options{GatewayClass: class, ServicePort: ports})
			out := []any{gw}
			for _, r := range routes {
				out = append(out, r)
			}
			b, err := convert.Manifests(output, out...)
			if err != nil {
				return err
			}
			for _, n := range notes {
				fmt.Fprintln(cmd.ErrOrStderr(), "# "+n)
			}
			_, err = cmd.OutOrStdout().Write(b)
			return err
		},
	}
	cmd.Flags().String("name", "", "lab name (default: the only deployed lab)")
	cmd.Flags().StringVarP(&namespace, "namespace", "n", "default", "Kubernetes namespace")
	cmd.Flags().StringVarP(&output, "output", "o", "yaml", "yaml|json")
	cmd.Flags().StringVar(&class, "gateway-class", "podlab", "the Gateway's gatewayClassName (and name)")
	return cmd
}
