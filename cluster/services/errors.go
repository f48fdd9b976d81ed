package services

import (
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"podlab.dev/podlab/topology"
)

// ErrNotFound is wrapped by Delete for a Service the registry does not hold.
var ErrNotFound = errors.New("not found")

// problems collects user-input errors for one object; the zero value is ready.
type problems struct {
	pos  topology.Pos
	list topology.Errors
}

// field adds the API server's field errors, each with a hint when one helps.
func (p *problems) field(errs field.ErrorList) {
	for _, e := range errs {
		p.list = append(p.list, &topology.Error{Pos: p.pos, Field: e.Field, Msg: e.ErrorBody(), Hint: hintFor(e)})
	}
}

// fieldHint adds one API-server-shaped error with podlab's hint.
func (p *problems) fieldHint(e *field.Error, hint string) {
	p.list = append(p.list, &topology.Error{Pos: p.pos, Field: e.Field, Msg: e.ErrorBody(), Hint: hint})
}

func (p *problems) add(fld, hint, format string, args ...any) {
	p.list = append(p.list, &topology.Error{Pos: p.pos, Field: fld, Msg: fmt.Sprintf(format, args...), Hint: hint})
}

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	return p.list
}

// hintFor says how to fix the validation errors learners meet most often.
func hintFor(e *field.Error) string {
	switch {
	case e.Type == field.ErrorTypeRequired && strings.HasPrefix(e.Field, "spec.ports[") && strings.HasSuffix(e.Field, ".name"):
		return "a Service with more than one port must name each of them, e.g. name: http"
	case e.Type == field.ErrorTypeDuplicate && strings.HasPrefix(e.Field, "spec.ports[") && !strings.Contains(e.Field, "."):
		return "each port+protocol pair may appear once; a second listener needs another port or protocol"
	case e.Field == "spec.externalName":
		return "ExternalName Services need spec.externalName: a DNS name such as db.example.com"
	case strings.HasSuffix(e.Field, ".targetPort") && e.Type == field.ErrorTypeInvalid:
		return "targetPort is a port number (1-65535) or the name of a pod port (an IANA service name such as http)"
	case e.Field == "spec.clusterIPs[0]" && e.Type == field.ErrorTypeInvalid && strings.Contains(e.Detail, "'None'"):
		return "headless (clusterIP: None) Services have type ClusterIP; drop clusterIP: None or the type"
	case e.Field == "spec.type" && e.Type == field.ErrorTypeNotSupported:
		return "type is ClusterIP (the default), NodePort, LoadBalancer or ExternalName"
	case e.Field == "spec.clusterIP" && e.Detail == "field is immutable":
		return "leave clusterIP out to keep the allocated one, or delete the Service and apply it again"
	case strings.HasPrefix(e.Field, "spec.sessionAffinityConfig.clientIP.timeoutSeconds"):
		return "the ClientIP affinity timeout is 1..86400 seconds; the default is 10800 (3 hours)"
	}
	return ""
}

// WithLabel prefixes the field of every error in err with a label naming the object,
// as the topology package does for manifests: "manifests[2] (Service default/web): spec.type".
// Errors of other kinds come back unchanged.
func WithLabel(err error, label string) error {
	var es topology.Errors
	if label == "" || !errors.As(err, &es) {
		return err
	}
	out := make(topology.Errors, len(es))
	for i, e := range es {
		c := *e
		if c.Field == "" {
			c.Field = label
		} else {
			c.Field = label + ": " + c.Field
		}
		out[i] = &c
	}
	return out
}
