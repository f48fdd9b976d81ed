package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// workloadPrefixes are the TYPE/NAME forms kubectl logs and exec take, by the kind
// whose selector picks the pod.
var workloadPrefixes = map[string]string{
	"deploy": "Deployment", "deployment": "Deployment", "deployments": "Deployment",
	"rs": "ReplicaSet", "replicaset": "ReplicaSet", "sts": "StatefulSet", "statefulset": "StatefulSet",
	"ds": "DaemonSet", "daemonset": "DaemonSet", "svc": "Service", "service": "Service",
}

// podOf turns kubectl's TYPE/NAME (deploy/web, svc/web) into one of its pods, as
// kubectl logs does: the oldest running pod its selector picks, with kubectl's note
// when there are several. A plain name or pod/NAME is returned as it is.
func podOf(cmd *cobra.Command, ref, ns string) (string, error) {
	typ, name, ok := strings.Cut(ref, "/")
	if !ok {
		return ref, nil
	}
	if typ == "pod" || typ == "pods" || typ == "po" {
		return name, nil
	}
	kind, known := workloadPrefixes[strings.ToLower(typ)]
	if !known {
		return "", invalid("%s: kubectl's TYPE/NAME takes pod, deploy, rs, sts, ds or svc before the slash", ref)
	}
	c, _, err := client(cmd)
	if err != nil {
		return "", err
	}
	objs, err := collect(cmd, c, kind, ns, name)
	if err != nil {
		return "", err
	}
	if len(objs) == 0 {
		return "", invalid("%s %q not found in namespace %s", strings.ToLower(kind), name, ns)
	}
	var sel labels.Selector
	switch o := objs[0].(type) {
	case *corev1.Service:
		if len(o.Spec.Selector) == 0 {
			return "", invalid("service %s/%s has no selector, so no pods of its own", ns, name)
		}
		sel = labels.SelectorFromSet(o.Spec.Selector)
	case *appsv1.Deployment:
		sel, err = metav1.LabelSelectorAsSelector(o.Spec.Selector)
	case *appsv1.ReplicaSet:
		sel, err = metav1.LabelSelectorAsSelector(o.Spec.Selector)
	case *appsv1.StatefulSet:
		sel, err = metav1.LabelSelectorAsSelector(o.Spec.Selector)
	case *appsv1.DaemonSet:
		sel, err = metav1.LabelSelectorAsSelector(o.Spec.Selector)
	}
	if err != nil || sel == nil {
		return "", fmt.Errorf("%s %s/%s: its selector: %v", kind, ns, name, err)
	}
	pods, err := collect(cmd, c, "Pod", ns, "")
	if err != nil {
		return "", err
	}
	var found []*corev1.Pod
	for _, o := range pods {
		p := o.(*corev1.Pod)
		if sel.Matches(labels.Set(p.Labels)) && p.DeletionTimestamp == nil {
			found = append(found, p)
		}
	}
	if len(found) == 0 {
		return "", fmt.Errorf("%s %s/%s has no pods", strings.ToLower(kind), ns, name)
	}
	sort.SliceStable(found, func(i, j int) bool {
		ri, rj := found[i].Status.Phase == corev1.PodRunning, found[j].Status.Phase == corev1.PodRunning
		if ri != rj {
			return ri
		}
		return found[i].CreationTimestamp.Before(&found[j].CreationTimestamp)
	})
	if len(found) > 1 {
		fmt.Fprintf(cmd.ErrOrStderr(), "Found %d pods, using pod/%s\n", len(found), found[0].Name)
	}
	return found[0].Name, nil
}
