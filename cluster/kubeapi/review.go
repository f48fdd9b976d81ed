package kubeapi

import (
	"net/http"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// serveReview answers kubectl auth's reviews: the lab has one user, its admin
// (the kubeconfig's client certificate, group system:masters), who may do anything,
// as on a kubeadm cluster with admin.conf.
func (h *handler) serveReview(w http.ResponseWriter, r *http.Request, req request) {
	if r.Method != http.MethodPost || req.name != "" {
		writeError(w, methodNotSupported(req.res, "get"))
		return
	}
	var out runtime.Object
	switch req.res.kind {
	case "SelfSubjectReview":
		ssr := &authenticationv1.SelfSubjectReview{}
		out = ssr
		ssr.Status.UserInfo = userOf(r)
	case "SelfSubjectAccessReview":
		ssar := &authorizationv1.SelfSubjectAccessReview{}
		if err := decodeInto(r, withKind(ssar, req)); err != nil {
			writeError(w, err)
			return
		}
		ssar.Status = authorizationv1.SubjectAccessReviewStatus{Allowed: true, Reason: "the lab's admin (system:masters) may do anything"}
		out = ssar
	case "SelfSubjectRulesReview":
		ssrr := &authorizationv1.SelfSubjectRulesReview{}
		if err := decodeInto(r, withKind(ssrr, req)); err != nil {
			writeError(w, err)
			return
		}
		ssrr.Status.ResourceRules = []authorizationv1.ResourceRule{{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}}}
		ssrr.Status.NonResourceRules = []authorizationv1.NonResourceRule{{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}}}
		out = ssrr
	}
	out.GetObjectKind().SetGroupVersionKind(req.res.gv.WithKind(req.res.kind))
	writeJSON(w, http.StatusCreated, out)
}

func withKind(o runtime.Object, req request) runtime.Object {
	o.GetObjectKind().SetGroupVersionKind(req.res.gv.WithKind(req.res.kind))
	return o
}

// userOf is the user of the request's verified client certificate: its CN, its
// organizations as groups (kubeadm's admin: kubernetes-admin, system:masters).
func userOf(r *http.Request) authenticationv1.UserInfo {
	u := authenticationv1.UserInfo{Username: "kubernetes-admin", Groups: []string{"system:masters"}}
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		c := r.TLS.PeerCertificates[0]
		u.Username, u.Groups = c.Subject.CommonName, append([]string(nil), c.Subject.Organization...)
	}
	u.Groups = append(u.Groups, "system:authenticated")
	return u
}
