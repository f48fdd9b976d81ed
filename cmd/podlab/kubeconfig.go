package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"podlab.dev/podlab/cluster"
)

// newKubeconfig prints or merges a kubeconfig for the lab's Kubernetes API, which the
// supervisor serves on the machine's loopback, so the real kubectl works on a lab.
func newKubeconfig() *cobra.Command {
	var write bool
	var file string
	cmd := &cobra.Command{
		Use:   "kubeconfig [--name LAB] [--write [--kubeconfig FILE]]",
		Short: "A kubeconfig for the lab's Kubernetes API, so the real kubectl works against it",
		Long: "Prints a kubeconfig (context podlab-LAB, namespace default) for the HTTPS endpoint the\n" +
			"lab's supervisor serves on 127.0.0.1, with the lab's CA and a client certificate made for\n" +
			"the lab (CN kubernetes-admin, O system:masters, as kubeadm's admin.conf). --write merges\n" +
			"it into $KUBECONFIG's first file or ~/.kube/config and makes it the current context;\n" +
			"destroying the lab removes it again.",
		Example: `  sudo podlab kubeconfig > lab.kubeconfig && kubectl --kubeconfig lab.kubeconfig get pods -A
  sudo podlab kubeconfig --write && sudo kubectl get pods -o wide`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			lab, dir, _, err := deployedLab(cmd)
			if err != nil {
				return err
			}
			ensureSupervisor(cmd.Context(), dir)
			f := cluster.KubeAPIFilesOf(dir.Path())
			addr, err := kubeAPIAddr(f, lab)
			if err != nil {
				return err
			}
			ca, err := f.CA()
			if err != nil {
				return err
			}
			crt, key, err := f.Client()
			if err != nil {
				return err
			}
			name := "podlab-" + lab
			cfg := clientcmdapi.NewConfig()
			cfg.Clusters[name] = &clientcmdapi.Cluster{Server: "https://" + addr, CertificateAuthorityData: ca}
			cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{ClientCertificateData: crt, ClientKeyData: key}
			cfg.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name, Namespace: "default"}
			cfg.CurrentContext = name
			if !write {
				out, err := clientcmd.Write(*cfg)
				if err != nil {
					return err
				}
				_, err = cmd.OutOrStdout().Write(out)
				return err
			}
			path := file
			if path == "" {
				path = kubeconfigPath()
			}
			merged, err := loadKubeconfig(path)
			if err != nil {
				return err
			}
			merged.Clusters[name], merged.AuthInfos[name], merged.Contexts[name] = cfg.Clusters[name], cfg.AuthInfos[name], cfg.Contexts[name]
			merged.CurrentContext = name
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				return err
			}
			if err := clientcmd.WriteToFile(*merged, path); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Switched to context %q in %s (server https://%s)\n", name, path, addr)
			return nil
		},
	}
	cmd.Flags().String("name", "", "lab name (default: the only deployed lab)")
	cmd.Flags().BoolVar(&write, "write", false, "merge into the kubeconfig file and switch to the lab's context")
	cmd.Flags().StringVar(&file, "kubeconfig", "", "the file --write merges into (default: $KUBECONFIG's first file, else ~/.kube/config)")
	return cmd
}

// kubeconfigPath is where kubectl reads its config first: $KUBECONFIG's first file,
// else ~/.kube/config.
func kubeconfigPath() string {
	if env := os.Getenv("KUBECONFIG"); env != "" {
		if list := filepath.SplitList(env); len(list) > 0 && list[0] != "" {
			return list[0]
		}
	}
	return clientcmd.RecommendedHomeFile
}

func loadKubeconfig(path string) (*clientcmdapi.Config, error) {
	cfg, err := clientcmd.LoadFromFile(path)
	if os.IsNotExist(err) {
		return clientcmdapi.NewConfig(), nil
	}
	if err != nil {
		return nil, invalid("%s: %v", path, err)
	}
	return cfg, nil
}

// forgetKubeconfig removes lab's context, cluster and user from the kubeconfig file,
// when it has them (podlab wrote them with --write): destroy calls it.
func forgetKubeconfig(lab string) {
	path := kubeconfigPath()
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		return
	}
	name := "podlab-" + lab
	if _, ok := cfg.Contexts[name]; !ok {
		return
	}
	delete(cfg.Contexts, name)
	delete(cfg.Clusters, name)
	delete(cfg.AuthInfos, name)
	if cfg.CurrentContext == name {
		cfg.CurrentContext = ""
	}
	clientcmd.WriteToFile(*cfg, path)
}
