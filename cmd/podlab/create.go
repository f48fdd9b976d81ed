package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"podlab.dev/podlab/selfsigned"
	"podlab.dev/podlab/topology"
)

func newCreate() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "create KIND ...",
		Short: "Create an object in a running lab, as kubectl create does",
	}
	secret := &cobra.Command{Use: "secret tls NAME", Short: "Create a Secret"}
	secret.AddCommand(newCreateSecretTLS())
	cmd.AddCommand(secret)
	return cmd
}

// newCreateSecretTLS is kubectl's `create secret tls NAME --cert --key`, plus --host
// to make a self-signed keypair for the names given (what a lab needs most often).
func newCreateSecretTLS() *cobra.Command {
	var certFile, keyFile, namespace, dryRun, output string
	var hosts []string
	cmd := &cobra.Command{
		Use:   "tls NAME (--host NAME... | --cert FILE --key FILE) [-n NS]",
		Short: "Create a kubernetes.io/tls Secret: self-signed for --host names, or from --cert and --key",
		Example: `  podlab create secret tls example-tls --host example.com --host '*.example.com'
  podlab create secret tls my-tls --cert tls.crt --key tls.key -n web
  podlab create secret tls example-tls --host example.com --dry-run=client -o yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			var crt, key []byte
			switch {
			case len(hosts) > 0 && (certFile != "" || keyFile != ""):
				return invalid("give either --host (a self-signed certificate) or --cert and --key, not both")
			case len(hosts) > 0:
				var err error
				if crt, key, err = selfsigned.Generate("", hosts); err != nil {
					return err
				}
			case certFile != "" && keyFile != "":
				var err error
				if crt, err = os.ReadFile(certFile); err != nil {
					return invalid("--cert: %v", err)
				}
				if key, err = os.ReadFile(keyFile); err != nil {
					return invalid("--key: %v", err)
				}
			default:
				return invalid("create secret tls needs --host NAME (a self-signed certificate for that name) or --cert FILE and --key FILE")
			}
			sec := &corev1.Secret{
				TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
				ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
				Type:       corev1.SecretTypeTLS,
				Data:       map[string][]byte{corev1.TLSCertKey: crt, corev1.TLSPrivateKeyKey: key},
			}
			data, err := yaml.Marshal(sec)
			if err != nil {
				return err
			}
			switch dryRun {
			case "", "none":
			case "client":
				if output == "" {
					fmt.Fprintf(cmd.OutOrStdout(), "secret/%s created (dry run)\n", name)
					return nil
				}
			default:
				return invalid("--dry-run: want none or client, got %q", dryRun)
			}
			switch output {
			case "":
			case "yaml":
				if dryRun == "client" {
					_, err := cmd.OutOrStdout().Write(data)
					return err
				}
			default:
				return invalid("-o: want yaml, got %q", output)
			}
			objs, _, err := topology.LoadManifests("<create secret tls>", data)
			if err != nil {
				return err
			}
			c, _, err := client(cmd)
			if err != nil {
				return err
			}
			rs, err := c.Apply(cmd.Context(), objs)
			if err != nil {
				return err
			}
			if len(rs) == 1 && rs[0].Error == "" && rs[0].Action == "created" {
				fmt.Fprintf(cmd.OutOrStdout(), "secret/%s created\n", name)
				if len(hosts) > 0 {
					fmt.Fprintf(cmd.ErrOrStderr(), "# self-signed for %s, valid %d days: clients need -k (curl) or --cacert\n", strings.Join(hosts, ", "), int(selfsigned.Validity.Hours()/24))
				}
				return nil
			}
			return printResults(cmd.OutOrStdout(), rs)
		},
	}
	cmd.Flags().String("name", "", "lab name (default: the only deployed lab)")
	cmd.Flags().StringVarP(&namespace, "namespace", "n", "default", "Kubernetes namespace")
	cmd.Flags().StringArrayVar(&hosts, "host", nil, "make a self-signed certificate for this name (repeat for more names; wildcards and IPs too)")
	cmd.Flags().StringVar(&certFile, "cert", "", "PEM certificate file")
	cmd.Flags().StringVar(&keyFile, "key", "", "PEM private key file")
	cmd.Flags().StringVar(&dryRun, "dry-run", "none", "client: print or check, create nothing")
	cmd.Flags().StringVarP(&output, "output", "o", "", "yaml: print the Secret (with --dry-run=client)")
	return cmd
}
