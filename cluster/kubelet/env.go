package kubelet

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// containerEnv is c's environment as the kubelet gives it to the process: each
// value, with $(NAME) of an earlier variable expanded ($$ for a literal $), and the
// downward API's fieldRef (metadata.name, .namespace, .uid, .labels['k'],
// .annotations['k'], spec.nodeName, .serviceAccountName, status.podIP, .hostIP).
// The emulated images read it (echo-basic's HTTP_PORT, POD_NAME, NAMESPACE).
// configMapKeyRef, secretKeyRef, resourceFieldRef and envFrom are not read: such a
// variable is unset.
func containerEnv(p *corev1.Pod, c corev1.Container) map[string]string {
	env := map[string]string{}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = expandEnv(e.Value, env)
		case e.ValueFrom.FieldRef != nil:
			if v, ok := podField(p, e.ValueFrom.FieldRef.FieldPath); ok {
				env[e.Name] = v
			}
		}
	}
	return env
}

// podField is the value of a downward API field path of p.
func podField(p *corev1.Pod, path string) (string, bool) {
	switch path {
	case "metadata.name":
		return p.Name, true
	case "metadata.namespace":
		return p.Namespace, true
	case "metadata.uid":
		return string(p.UID), true
	case "spec.nodeName":
		return p.Spec.NodeName, true
	case "spec.serviceAccountName":
		return p.Spec.ServiceAccountName, true
	case "status.podIP":
		return p.Status.PodIP, true
	case "status.hostIP":
		return p.Status.HostIP, true
	}
	for prefix, m := range map[string]map[string]string{"metadata.labels['": p.Labels, "metadata.annotations['": p.Annotations} {
		if key, ok := strings.CutPrefix(path, prefix); ok {
			key, ok = strings.CutSuffix(key, "']")
			return m[key], ok
		}
	}
	return "", false
}

// expandEnv is Kubernetes' $(NAME) expansion of an env value: a name not yet
// defined is left as written, $$ is a literal $.
func expandEnv(v string, env map[string]string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		switch {
		case v[i] != '$' || i+1 == len(v):
			b.WriteByte(v[i])
		case v[i+1] == '$':
			b.WriteByte('$')
			i++
		case v[i+1] == '(':
			end := strings.IndexByte(v[i+2:], ')')
			if end < 0 {
				b.WriteString(v[i:])
				return b.String()
			}
			name := v[i+2 : i+2+end]
			if val, ok := env[name]; ok {
				b.WriteString(val)
			} else {
				b.WriteString(v[i : i+3+end])
			}
			i += 2 + end
		default:
			b.WriteByte(v[i])
		}
	}
	return b.String()
}
