package kubeapi

import (
	"net/http"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"

	"podlab.dev/podlab/cluster/store"
)

// selector is a request's labelSelector and fieldSelector.
type selector struct {
	labels labels.Selector
	fields fields.Selector
}

func parseSelectors(r *http.Request, res *resource) (selector, error) {
	q := r.URL.Query()
	ls, err := labels.Parse(q.Get("labelSelector"))
	if err != nil {
		return selector{}, badRequest("unable to parse requirement: %v", err)
	}
	fs, err := fields.ParseSelector(q.Get("fieldSelector"))
	if err != nil {
		return selector{}, badRequest("%v", err)
	}
	known := fieldSet(res.kind, nil)
	for _, req := range fs.Requirements() {
		if _, ok := known[req.Field]; !ok {
			return selector{}, badRequest("field label not supported: %s", req.Field)
		}
	}
	return selector{ls, fs}, nil
}

func (s selector) matches(o store.Object) bool {
	return s.labels.Matches(labels.Set(o.GetLabels())) && s.fields.Matches(fieldSet(storeKind(o), o))
}

// storeKind is o's kind for field selection.
func storeKind(o store.Object) string { return store.KindOf(o) }

// fieldSet is the fields a field selector may name for kind, with o's values (o nil:
// the names only), as the API server's registry of each kind defines them.
func fieldSet(kind string, o store.Object) fields.Set {
	set := fields.Set{"metadata.name": "", "metadata.namespace": ""}
	if o != nil {
		set["metadata.name"], set["metadata.namespace"] = o.GetName(), o.GetNamespace()
	}
	switch kind {
	case "Pod":
		p, _ := o.(*corev1.Pod)
		if p == nil {
			p = &corev1.Pod{}
		}
		set["spec.nodeName"] = p.Spec.NodeName
		set["spec.restartPolicy"] = string(p.Spec.RestartPolicy)
		set["spec.schedulerName"] = p.Spec.SchedulerName
		set["spec.serviceAccountName"] = p.Spec.ServiceAccountName
		set["spec.hostNetwork"] = strconv.FormatBool(p.Spec.HostNetwork)
		set["status.phase"] = string(p.Status.Phase)
		set["status.podIP"] = p.Status.PodIP
		set["status.nominatedNodeName"] = p.Status.NominatedNodeName
	case "Event":
		e, _ := o.(*corev1.Event)
		if e == nil {
			e = &corev1.Event{}
		}
		set["involvedObject.kind"] = e.InvolvedObject.Kind
		set["involvedObject.namespace"] = e.InvolvedObject.Namespace
		set["involvedObject.name"] = e.InvolvedObject.Name
		set["involvedObject.uid"] = string(e.InvolvedObject.UID)
		set["involvedObject.apiVersion"] = e.InvolvedObject.APIVersion
		set["involvedObject.resourceVersion"] = e.InvolvedObject.ResourceVersion
		set["involvedObject.fieldPath"] = e.InvolvedObject.FieldPath
		set["reason"] = e.Reason
		set["reportingComponent"] = e.ReportingController
		set["source"] = e.Source.Component
		set["type"] = e.Type
	case "Secret":
		s, _ := o.(*corev1.Secret)
		if s == nil {
			s = &corev1.Secret{}
		}
		set["type"] = string(s.Type)
	case "Namespace":
		ns, _ := o.(*corev1.Namespace)
		if ns == nil {
			ns = &corev1.Namespace{}
		}
		set["status.phase"] = string(ns.Status.Phase)
	case "Node":
		n, _ := o.(*corev1.Node)
		if n == nil {
			n = &corev1.Node{}
		}
		set["spec.unschedulable"] = strconv.FormatBool(n.Spec.Unschedulable)
	case "ReplicaSet":
		rs, _ := o.(*appsv1.ReplicaSet)
		if rs == nil {
			rs = &appsv1.ReplicaSet{}
		}
		set["status.replicas"] = strconv.Itoa(int(rs.Status.Replicas))
	}
	return set
}

// andName narrows fs to the object named name.
func andName(fs fields.Selector, name string) fields.Selector {
	return fields.AndSelectors(fs, fields.OneTermEqualSelector("metadata.name", name))
}
