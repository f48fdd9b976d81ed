package kubeapi

import (
	"encoding/json"
	"net/http"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"podlab.dev/podlab/cluster/store"
	"podlab.dev/podlab/printers"
)

// wantsTable says whether the request asks for a meta.k8s.io Table (kubectl get:
// "application/json;as=Table;v=v1;g=meta.k8s.io, application/json").
func wantsTable(r *http.Request) bool {
	for _, m := range accepted(r) {
		if m.params["as"] == "Table" && m.params["g"] == "meta.k8s.io" && (m.params["v"] == "v1" || m.params["v"] == "v1beta1") {
			return true
		}
	}
	return false
}

// table is objs as `kubectl get` prints them: package printers' columns and cells
// (the -o wide ones with priority 1), each row carrying the object as the request's
// includeObject says (Metadata by default, as the API server).
func (h *handler) table(r *http.Request, req request, objs []store.Object, rv string) (*metav1.Table, error) {
	include := metav1.IncludeObjectPolicy(r.URL.Query().Get("includeObject"))
	switch include {
	case "":
		include = metav1.IncludeMetadata
	case metav1.IncludeMetadata, metav1.IncludeObject, metav1.IncludeNone:
	default:
		return nil, badRequest("includeObject: Unsupported value: %q: supported values: \"None\", \"Metadata\", \"Object\"", include)
	}
	t := &metav1.Table{TypeMeta: metav1.TypeMeta{Kind: "Table", APIVersion: "meta.k8s.io/v1"}, ListMeta: metav1.ListMeta{ResourceVersion: rv},
		ColumnDefinitions: printers.TableColumns(req.res.kind), Rows: []metav1.TableRow{}}
	if t.ColumnDefinitions == nil {
		t.ColumnDefinitions = []metav1.TableColumnDefinition{}
	}
	now := h.now()
	for _, o := range objs {
		row := metav1.TableRow{}
		for _, c := range printers.Row(o, now) {
			row.Cells = append(row.Cells, c)
		}
		switch include {
		case metav1.IncludeObject:
			raw, err := json.Marshal(served(req, o))
			if err != nil {
				return nil, err
			}
			row.Object = runtime.RawExtension{Raw: raw}
		case metav1.IncludeMetadata:
			m := &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{Kind: "PartialObjectMetadata", APIVersion: "meta.k8s.io/v1"}}
			om := metav1.ObjectMeta{Name: o.GetName(), Namespace: o.GetNamespace(), UID: o.GetUID(), ResourceVersion: o.GetResourceVersion(),
				Generation: o.GetGeneration(), CreationTimestamp: o.GetCreationTimestamp(), DeletionTimestamp: o.GetDeletionTimestamp(),
				Labels: o.GetLabels(), Annotations: o.GetAnnotations(), OwnerReferences: o.GetOwnerReferences(), Finalizers: o.GetFinalizers(),
				GenerateName: o.GetGenerateName()}
			m.ObjectMeta = om
			raw, err := json.Marshal(m)
			if err != nil {
				return nil, err
			}
			row.Object = runtime.RawExtension{Raw: raw}
		}
		t.Rows = append(t.Rows, row)
	}
	return t, nil
}
