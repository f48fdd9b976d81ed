package gateways

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// cond is one condition as this compile sees it; merge gives it its transition time.
func cond(typ string, ok bool, reason, msg string, gen int64) metav1.Condition {
	s := metav1.ConditionFalse
	if ok {
		s = metav1.ConditionTrue
	}
	return metav1.Condition{Type: typ, Status: s, Reason: reason, Message: msg, ObservedGeneration: gen}
}

// merge is the conditions to write: ours, each keeping the old lastTransitionTime when
// its status did not change (so compiling twice writes nothing new), then the old
// conditions of types we do not manage, untouched (Gateway API forbids removing
// another writer's conditions). managed lists the types we own: an old one of these
// that we no longer set (PartiallyInvalid, say) is dropped.
func merge(old, ours []metav1.Condition, managed []string, now metav1.Time) []metav1.Condition {
	out := make([]metav1.Condition, 0, len(ours)+len(old))
	for _, c := range ours {
		c.LastTransitionTime = now
		for _, o := range old {
			if o.Type == c.Type && o.Status == c.Status {
				c.LastTransitionTime = o.LastTransitionTime
			}
		}
		out = append(out, c)
	}
next:
	for _, o := range old {
		for _, t := range managed {
			if o.Type == t {
				continue next
			}
		}
		for _, c := range ours {
			if o.Type == c.Type {
				continue next
			}
		}
		out = append(out, o)
	}
	return out
}
