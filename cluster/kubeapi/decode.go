package kubeapi

import (
	"io"
	"mime"
	"net/http"
	"strconv"
	"sync"

	authorizationv1 "k8s.io/api/authorization/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"

	"podlab.dev/podlab/cluster/store"
)

// codecs decode request bodies in the media types kubectl sends: JSON, YAML and
// protobuf (kubectl create sends application/vnd.kubernetes.protobuf). It and the
// package's other schemes are built on first use, not at package init: every podlab
// command links this package, only the supervisor serves the API.
var codecs = sync.OnceValue(func() serializer.CodecFactory { return serializer.NewCodecFactory(store.Scheme()) })

// optionCodecs decode the bodies that are not stored objects: DeleteOptions and
// autoscaling/v1 Scale (client-go sends them as protobuf).
var optionCodecs = sync.OnceValue(func() serializer.CodecFactory {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{autoscalingv1.AddToScheme, authorizationv1.AddToScheme} {
		if err := add(s); err != nil {
			panic(err) // compiled-in types: a failure is a bug
		}
	}
	for _, gv := range append(groupVersions(), metav1.SchemeGroupVersion, autoscalingV1) {
		metav1.AddToGroupVersion(s, gv) // client-go sends DeleteOptions in the resource's version
	}
	return serializer.NewCodecFactory(s)
})

// decodeInto decodes a request's body that is not a stored object (DeleteOptions,
// Scale) into into, in whichever media type it came; an empty body leaves into be.
func decodeInto(r *http.Request, into runtime.Object) error {
	body, err := readBody(r)
	if err != nil || len(body) == 0 {
		return err
	}
	gvk := into.GetObjectKind().GroupVersionKind()
	if _, _, err := optionCodecs().UniversalDeserializer().Decode(body, &gvk, into); err != nil {
		return badRequest("%s in version %q cannot be handled as a %s: %v", gvk.Kind, gvk.Version, gvk.Kind, err)
	}
	return nil
}

// maxBody is the largest request body accepted, the API server's limit.
const maxBody = 3 << 20

// readBody reads a request's body, at most maxBody.
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, badRequest("reading the request body: %v", err)
	}
	if len(b) > maxBody {
		return nil, apierrors.NewRequestEntityTooLargeError("limit is 3145728")
	}
	return b, nil
}

// decodeObject decodes the body of a create or update of req's resource, strictly or
// not as the request's fieldValidation says (Strict: unknown and duplicate fields are
// errors; Warn, the default: warnings; Ignore). Warnings go into w's Warning header.
func decodeObject(w http.ResponseWriter, r *http.Request, req request, body []byte) (store.Object, error) {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		ct = "application/json"
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return nil, unsupportedMediaType(ct)
	}
	info, ok := runtime.SerializerInfoForMediaType(codecs().SupportedMediaTypes(), mt)
	if !ok {
		return nil, unsupportedMediaType(ct)
	}
	dec := info.StrictSerializer
	if dec == nil {
		dec = info.Serializer
	}
	gvk := req.res.gv.WithKind(req.res.kind)
	obj, got, err := dec.Decode(body, &gvk, nil)
	validation := r.URL.Query().Get("fieldValidation")
	if err != nil && runtime.IsStrictDecodingError(err) && obj != nil {
		switch validation {
		case metav1.FieldValidationStrict:
			return nil, badRequest("%s in version %q cannot be handled as a %s: %v", gvk.Kind, gvk.Version, gvk.Kind, err)
		case metav1.FieldValidationIgnore:
		default:
			se, _ := err.(interface{ Errors() []error })
			if se != nil {
				for _, e := range se.Errors() {
					w.Header().Add("Warning", "299 - "+strconv.Quote(e.Error()))
				}
			}
		}
		err = nil
	}
	if err != nil {
		return nil, badRequest("%s in version %q cannot be handled as a %s: %v", gvk.Kind, gvk.Version, gvk.Kind, err)
	}
	if got.Kind != gvk.Kind || got.Group != gvk.Group {
		return nil, badRequest("the API version in the data (%s) does not match the expected API version (%s)", got.GroupVersion(), gvk.GroupVersion())
	}
	o, ok := obj.(store.Object)
	if !ok {
		return nil, badRequest("%s: not an object", gvk.Kind)
	}
	return o, nil
}

// checkNamespace sets o's namespace to the request's, or refuses a different one as
// the API server does.
func checkNamespace(req request, o store.Object) error {
	if !req.res.namespaced {
		o.SetNamespace("")
		return nil
	}
	switch ns := o.GetNamespace(); {
	case ns == "":
		o.SetNamespace(req.namespace)
	case ns != req.namespace:
		return badRequest("the namespace of the provided object does not match the namespace sent on the request")
	}
	return nil
}

// dryRun says whether the request asks for dryRun=All.
func dryRun(r *http.Request) (bool, error) {
	for _, v := range r.URL.Query()["dryRun"] {
		if v != metav1.DryRunAll {
			return false, badRequest("dryRun: Unsupported value: %q: supported values: %q", v, metav1.DryRunAll)
		}
		return true, nil
	}
	return false, nil
}
