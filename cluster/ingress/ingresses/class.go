package ingresses

import (
	"sort"

	networkingv1 "k8s.io/api/networking/v1"
)

const (
	annotationClass   = "kubernetes.io/ingress.class" // deprecated, still read by ingress-nginx
	annotationDefault = networkingv1.AnnotationIsDefaultIngressClass
)

// selectIngresses is the Ingresses this controller serves, oldest first.
func (c *compiler) selectIngresses() []*ingress {
	classes := map[string]*networkingv1.IngressClass{}
	defaultOurs, defaultAny := false, false
	for _, o := range c.r.List("IngressClass", "") {
		ic := o.(*networkingv1.IngressClass)
		classes[ic.Name] = ic
		if ic.Annotations[annotationDefault] == "true" {
			defaultAny = true
			defaultOurs = defaultOurs || ic.Spec.Controller == c.o.Controller
		}
	}
	var out []*ingress
	for _, o := range c.r.List("Ingress", "") {
		ing := o.(*networkingv1.Ingress)
		if c.ours(ing, classes, defaultOurs, defaultAny) {
			out = append(out, &ingress{Ingress: ing})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].CreationTimestamp, out[j].CreationTimestamp
		if !a.Equal(&b) {
			return a.Before(&b)
		}
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		return out[i].Name < out[j].Name
	})
	for i, ing := range out {
		ing.order = i
		ing.ann = c.annotations(ing.Ingress)
	}
	return out
}

// ours says whether ing's class is this controller's; a class that does not exist
// is a Problem (nothing in a cluster would serve it either).
func (c *compiler) ours(ing *networkingv1.Ingress, classes map[string]*networkingv1.IngressClass, defaultOurs, defaultAny bool) bool {
	name, field := "", ""
	switch {
	case ing.Spec.IngressClassName != nil:
		name, field = *ing.Spec.IngressClassName, "spec.ingressClassName"
	case ing.Annotations[annotationClass] != "":
		// ingress-nginx compares the annotation with its own class name; other
		// values belong to other controllers, so no IngressClass need exist.
		name = ing.Annotations[annotationClass]
		ic := classes[name]
		return name == c.o.ClassName || (ic != nil && ic.Spec.Controller == c.o.Controller)
	default:
		if !defaultAny {
			c.problem(ing, "NoIngressClass", "no spec.ingressClassName and no IngressClass is marked %s: \"true\", so no controller serves this Ingress; set spec.ingressClassName: %s", annotationDefault, c.o.ClassName)
		}
		return defaultOurs
	}
	ic := classes[name]
	if ic == nil {
		if name == c.o.ClassName {
			return true // podlab's own class, even before its IngressClass is stored
		}
		c.problem(ing, "IngressClassNotFound", "%s: IngressClass %q not found, so no controller serves this Ingress; use ingressClassName: %s (podlab's controller), or remove %s to use the default class", field, name, c.o.ClassName, field)
		return false
	}
	return ic.Spec.Controller == c.o.Controller
}
