package printers

import (
	"fmt"
	"slices"
	"strings"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var (
	nodeColumns = []metav1.TableColumnDefinition{
		nameColumn,
		column("Status", "string", "The status of the node"),
		column("Roles", "string", "The roles of the node"),
		ageColumn,
		column("Version", "string", corev1.NodeSystemInfo{}.SwaggerDoc()["kubeletVersion"]),
		wideColumn("Internal-IP", corev1.NodeStatus{}.SwaggerDoc()["addresses"]),
		wideColumn("External-IP", corev1.NodeStatus{}.SwaggerDoc()["addresses"]),
		wideColumn("OS-Image", corev1.NodeSystemInfo{}.SwaggerDoc()["osImage"]),
		wideColumn("Kernel-Version", corev1.NodeSystemInfo{}.SwaggerDoc()["kernelVersion"]),
		wideColumn("Container-Runtime", corev1.NodeSystemInfo{}.SwaggerDoc()["containerRuntimeVersion"]),
	}
	namespaceColumns = []metav1.TableColumnDefinition{
		nameColumn,
		column("Status", "string", "The status of the namespace"),
		ageColumn,
	}
	configMapColumns = []metav1.TableColumnDefinition{
		nameColumn,
		column("Data", "string", corev1.ConfigMap{}.SwaggerDoc()["data"]),
		ageColumn,
	}
	leaseColumns = []metav1.TableColumnDefinition{
		nameColumn,
		column("Holder", "string", coordinationv1.LeaseSpec{}.SwaggerDoc()["holderIdentity"]),
		ageColumn,
	}
	secretColumns = []metav1.TableColumnDefinition{
		nameColumn,
		column("Type", "string", corev1.Secret{}.SwaggerDoc()["type"]),
		column("Data", "string", corev1.Secret{}.SwaggerDoc()["data"]),
		ageColumn,
	}
	// kubectl interleaves the wide columns of events with the others.
	eventColumns = []metav1.TableColumnDefinition{
		column("Last Seen", "string", corev1.Event{}.SwaggerDoc()["lastTimestamp"]),
		column("Type", "string", corev1.Event{}.SwaggerDoc()["type"]),
		column("Reason", "string", corev1.Event{}.SwaggerDoc()["reason"]),
		column("Object", "string", corev1.Event{}.SwaggerDoc()["involvedObject"]),
		wideColumn("Subobject", corev1.ObjectReference{}.SwaggerDoc()["fieldPath"]),
		wideColumn("Source", corev1.Event{}.SwaggerDoc()["source"]),
		column("Message", "string", corev1.Event{}.SwaggerDoc()["message"]),
		wideColumn("First Seen", corev1.Event{}.SwaggerDoc()["firstTimestamp"]),
		wideColumn("Count", corev1.Event{}.SwaggerDoc()["count"]),
		{Name: "Name", Type: "string", Format: "name", Priority: 1, Description: metav1.ObjectMeta{}.SwaggerDoc()["name"]},
	}
)

// Node role labels: node-role.kubernetes.io/<role>="" and kubernetes.io/role=<role>.
const (
	nodeRolePrefix = "node-role.kubernetes.io/"
	nodeRoleLabel  = "kubernetes.io/role"
)

func nodeRow(n *corev1.Node, now time.Time, _ bool) []string {
	status := "Unknown"
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			status = "NotReady"
			if c.Status == corev1.ConditionTrue {
				status = "Ready"
			}
		}
	}
	if n.Spec.Unschedulable {
		status += ",SchedulingDisabled"
	}
	var roles []string
	for k, v := range n.Labels {
		switch {
		case strings.HasPrefix(k, nodeRolePrefix) && len(k) > len(nodeRolePrefix):
			roles = append(roles, strings.TrimPrefix(k, nodeRolePrefix))
		case k == nodeRoleLabel && v != "":
			roles = append(roles, v)
		}
	}
	slices.Sort(roles)
	info := n.Status.NodeInfo
	return []string{
		n.Name, status, orNone(strings.Join(slices.Compact(roles), ",")), since(n.CreationTimestamp, now), info.KubeletVersion,
		nodeAddress(n, corev1.NodeInternalIP), nodeAddress(n, corev1.NodeExternalIP),
		orUnknown(info.OSImage), orUnknown(info.KernelVersion), orUnknown(info.ContainerRuntimeVersion),
	}
}

// nodeAddress is the node's first address of type t.
func nodeAddress(n *corev1.Node, t corev1.NodeAddressType) string {
	for _, a := range n.Status.Addresses {
		if a.Type == t {
			return a.Address
		}
	}
	return "<none>"
}

func orUnknown(s string) string {
	if s == "" {
		return "<unknown>"
	}
	return s
}

func namespaceRow(ns *corev1.Namespace, now time.Time, _ bool) []string {
	// The API server sets the phase on create and on delete.
	phase := string(ns.Status.Phase)
	if phase == "" {
		phase = string(corev1.NamespaceActive)
		if ns.DeletionTimestamp != nil {
			phase = string(corev1.NamespaceTerminating)
		}
	}
	return []string{ns.Name, phase, since(ns.CreationTimestamp, now)}
}

func configMapRow(cm *corev1.ConfigMap, now time.Time, _ bool) []string {
	return []string{cm.Name, fmt.Sprint(len(cm.Data) + len(cm.BinaryData)), since(cm.CreationTimestamp, now)}
}

func leaseRow(l *coordinationv1.Lease, now time.Time, _ bool) []string {
	holder := ""
	if l.Spec.HolderIdentity != nil {
		holder = *l.Spec.HolderIdentity
	}
	return []string{l.Name, holder, since(l.CreationTimestamp, now)}
}

func secretRow(s *corev1.Secret, now time.Time, _ bool) []string {
	typ := s.Type
	if typ == "" {
		typ = corev1.SecretTypeOpaque
	}
	// The API server merges the write-only stringData into data.
	n := len(s.Data)
	for k := range s.StringData {
		if _, ok := s.Data[k]; !ok {
			n++
		}
	}
	return []string{s.Name, string(typ), fmt.Sprint(n), since(s.CreationTimestamp, now)}
}

func eventRow(e *corev1.Event, now time.Time, _ bool) []string {
	first := since(e.FirstTimestamp, now)
	if e.FirstTimestamp.IsZero() {
		first = sinceMicro(e.EventTime, now)
	}
	last := since(e.LastTimestamp, now)
	if e.LastTimestamp.IsZero() {
		last = first
	}
	count := e.Count
	if e.Series != nil {
		last = sinceMicro(e.Series.LastObservedTime, now)
		count = e.Series.Count
	} else if count == 0 { // events.k8s.io singletons have no count
		count = 1
	}
	object := strings.ToLower(e.InvolvedObject.Kind)
	if e.InvolvedObject.Name != "" {
		object += "/" + e.InvolvedObject.Name
	}
	source := firstSet(e.Source.Component, e.ReportingController)
	if host := firstSet(e.Source.Host, e.ReportingInstance); host != "" {
		source += ", " + host
	}
	return []string{
		last, e.Type, e.Reason, object, e.InvolvedObject.FieldPath, source,
		strings.TrimSpace(e.Message), first, fmt.Sprint(count), e.Name,
	}
}

func firstSet(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
