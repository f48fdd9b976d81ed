package topology

import (
	"testing"
)

func TestManifestErrors(t *testing.T) {
	checkManifestErrors(t, []manifestCase{
		{name: "service ports as map", yaml: `apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
    port: 80
    targetPort: 8080
`, want: []string{
			"app.yaml:8:5: documents[0] (Service default/web): spec.ports: expected a list, got a map\n  hint: write each port as a list item: ports:\n          - port: 80\n            targetPort: 8080",
		}},
		{name: "service enums", yaml: `apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: ClusterIp
  sessionAffinity: clientip
  externalTrafficPolicy: Locl
  internalTrafficPolicy: Cluster
  ipFamilyPolicy: SingleStak
  ports:
    - {port: 80, protocol: tcp}
`, want: []string{
			"app.yaml:5:9: documents[0] (Service default/web): spec.type: unsupported value \"ClusterIp\"; did you mean \"ClusterIP\"?\n  hint: supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\"",
			"app.yaml:6:20: documents[0] (Service default/web): spec.sessionAffinity: unsupported value \"clientip\"; did you mean \"ClientIP\"?\n  hint: supported values: \"ClientIP\", \"None\"",
			"app.yaml:7:26: documents[0] (Service default/web): spec.externalTrafficPolicy: unsupported value \"Locl\"; did you mean \"Local\"?\n  hint: supported values: \"Cluster\", \"Local\"",
			"app.yaml:9:19: documents[0] (Service default/web): spec.ipFamilyPolicy: unsupported value \"SingleStak\"; did you mean \"SingleStack\"?\n  hint: supported values: \"PreferDualStack\", \"RequireDualStack\", \"SingleStack\"",
			"app.yaml:11:28: documents[0] (Service default/web): spec.ports[0].protocol: unsupported value \"tcp\"; did you mean \"TCP\"?\n  hint: supported values: \"SCTP\", \"TCP\", \"UDP\"",
		}},
		{name: "kind in the wrong version", yaml: "apiVersion: apps/v1\nkind: Service\nmetadata: {name: web}\n", want: []string{
			"app.yaml:1:13: documents[0] (Service default/web): apiVersion: no matches for kind \"Service\" in version \"apps/v1\"\n  hint: Service is served by apiVersion \"v1\": write apiVersion: v1",
		}},
		{name: "misspelled kind", yaml: "apiVersion: apps/v1\nkind: Deploymnet\nmetadata: {name: web}\n", want: []string{
			"app.yaml:2:7: documents[0] (Deploymnet default/web): kind: no matches for kind \"Deploymnet\" in version \"apps/v1\"; did you mean \"Deployment\"?",
		}},
		{name: "lowercase kind", yaml: "apiVersion: v1\nkind: pod\nmetadata: {name: web}\n", want: []string{
			"app.yaml:2:7: documents[0] (pod default/web): kind: no matches for kind \"pod\" in version \"v1\"; did you mean \"Pod\"?",
		}},
		{name: "misspelled kind elsewhere", yaml: "apiVersion: v1\nkind: NetworkPolcy\nmetadata: {name: web}\n", want: []string{
			"app.yaml:2:7: documents[0] (NetworkPolcy default/web): kind: no matches for kind \"NetworkPolcy\" in version \"v1\"; did you mean \"NetworkPolicy\"?\n  hint: NetworkPolicy is served by apiVersion \"networking.k8s.io/v1\": write apiVersion: networking.k8s.io/v1",
		}},
		{name: "old apiVersion", yaml: "apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata: {name: web}\n", want: []string{
			"app.yaml:1:13: documents[0] (Deployment default/web): apiVersion: no matches for kind \"Deployment\" in version \"extensions/v1beta1\"\n  hint: Deployment is served by apiVersion \"apps/v1\": write apiVersion: apps/v1",
		}},
		{name: "unknown apiVersion", yaml: "apiVersion: widgets.example.com/v1\nkind: Widget\nmetadata: {name: web}\n", want: []string{
			"app.yaml:1:13: documents[0] (Widget default/web): apiVersion: unknown apiVersion \"widgets.example.com/v1\"\n  hint: podlab knows the built-in Kubernetes APIs and the Gateway API: " + knownAPIs,
		}},
		{name: "misspelled apiVersion", yaml: "apiVersion: app/v1\nkind: Frobnicator\nmetadata: {name: web}\n", want: []string{
			"app.yaml:1:13: documents[0] (Frobnicator default/web): apiVersion: unknown apiVersion \"app/v1\"; did you mean \"apps/v1\"?\n  hint: podlab knows the built-in Kubernetes APIs and the Gateway API: " + knownAPIs,
		}},
		{name: "invalid apiVersion", yaml: "apiVersion: a/b/c\nkind: Pod\nmetadata: {name: web}\n", want: []string{
			"app.yaml:1:13: documents[0] (Pod default/web): apiVersion: invalid apiVersion \"a/b/c\"\n  hint: write group/version, e.g. apps/v1, or v1 for the core group",
		}},
		{name: "missing apiVersion kind name", yaml: "kind: Deployment\nmetadata: {name: web}\n---\napiVersion: v1\nmetadata: {name: x}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {generateName: x-}\n", want: []string{
			"app.yaml:1:1: documents[0] (Deployment default/web): apiVersion: required\n  hint: Deployment is served by apiVersion \"apps/v1\": write apiVersion: apps/v1",
			"app.yaml:4:1: documents[1]: kind: required",
			"app.yaml:9:11: documents[2] (ConfigMap): metadata.name: required\n  hint: podlab needs fixed names: replace generateName with name",
		}},
		{name: "unknown field", yaml: `apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  contaners:
    - name: web
      image: nginx
`, want: []string{
			"app.yaml:5:3: documents[0] (Pod default/web): spec.contaners: unknown field \"contaners\"; did you mean \"containers\"?",
		}},
		{name: "field at the wrong level", yaml: `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  containers: []
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx}]
`, want: []string{
			"app.yaml:6:3: documents[0] (Deployment default/web): spec.containers: unknown field \"containers\"\n  hint: \"containers\" belongs under spec.template.spec",
		}},
		{name: "selector mismatch", yaml: `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: -1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: web, image: nginx}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web2}
spec:
  template:
    metadata:
      labels: {app: web}
      annotations: {podlab.dev/ip: 10.244.1.5}
    spec:
      containers: [{name: web, image: nginx}]
`, want: []string{
			"app.yaml:5:13: documents[0] (Deployment default/web): spec.replicas: invalid value -1: must be greater than or equal to 0",
			"app.yaml:8:24: documents[0] (Deployment default/web): spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"api\"}: selector does not match template labels\n  hint: every spec.selector.matchLabels entry must also be in spec.template.metadata.labels",
			"app.yaml:16:3: documents[1] (Deployment default/web2): spec.selector: required\n  hint: select the template's labels, e.g. selector: {matchLabels: {app: web}}",
		}},
		{name: "names", yaml: `apiVersion: v1
kind: Service
metadata: {name: Web.1, namespace: Shop, labels: {"a/b/c": x}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: web.config}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "system:podlab"}
`, want: []string{
			"app.yaml:3:18: documents[0] (Service Shop/Web.1): metadata.name: invalid value \"Web.1\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
			"app.yaml:3:36: documents[0] (Service Shop/Web.1): metadata.namespace: invalid value \"Shop\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
			"app.yaml:3:60: documents[0] (Service Shop/Web.1): metadata.labels[a/b/c]: invalid label key \"a/b/c\": a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
		}},
		{name: "duplicates", yaml: `apiVersion: v1
kind: Service
metadata: {name: web}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: other}
---
apiVersion: v1
kind: Pod
metadata: {name: web}
spec: {containers: [{name: a, image: b}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web}
spec: {containers: [{name: a, image: b}]}
`, want: []string{
			"app.yaml:7:18: documents[1] (Service default/web): metadata.name: duplicate Service default/web (first at app.yaml:3)",
			"app.yaml:20:18: documents[4] (Pod default/web): metadata.name: duplicate Pod default/web (first at app.yaml:15)",
		}},
		{name: "pod fields", yaml: `apiVersion: v1
kind: Pod
metadata:
  name: db
  annotations: {podlab.dev/ip: 10.244.1}
spec:
  restartPolicy: always
  containers:
    - name: db
      image: postgres
      ports:
        - {containerPort: 5432, protocol: TCP}
        - {containerPort: 70000, name: Postgres_1, protocol: Udp}
        - {containerPort: 5432, name: pg}
    - ports: [{containerPort: 80}, {containerPort: 80}]
`, want: []string{
			"app.yaml:5:32: documents[0] (Pod default/db): metadata.annotations[podlab.dev/ip]: invalid IP address \"10.244.1\"\n  hint: write an IPv4 address such as 10.244.1.50",
			"app.yaml:7:18: documents[0] (Pod default/db): spec.restartPolicy: unsupported value \"always\"; did you mean \"Always\"?\n  hint: supported values: \"Always\", \"Never\", \"OnFailure\"",
			"app.yaml:13:27: documents[0] (Pod default/db): spec.containers[0].ports[1].containerPort: port 70000 is out of range 1..65535",
			"app.yaml:13:40: documents[0] (Pod default/db): spec.containers[0].ports[1].name: invalid port name \"Postgres_1\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
			"app.yaml:13:62: documents[0] (Pod default/db): spec.containers[0].ports[1].protocol: unsupported value \"Udp\"; did you mean \"UDP\"?\n  hint: supported values: \"SCTP\", \"TCP\", \"UDP\"",
			"app.yaml:14:11: documents[0] (Pod default/db): spec.containers[0].ports[2]: duplicate port 5432/TCP (also containers[0].ports[0])",
			"app.yaml:15:7: documents[0] (Pod default/db): spec.containers[1].name: required",
			"app.yaml:15:7: documents[0] (Pod default/db): spec.containers[1].image: required",
			"app.yaml:15:36: documents[0] (Pod default/db): spec.containers[1].ports[1]: duplicate port 80/TCP (also containers[1].ports[0])",
		}},
		{name: "privileged", yaml: `apiVersion: v1
kind: Pod
metadata: {name: router}
spec:
  containers:
    - name: router
      image: frr
      securityContext: {privileged: true}
    - name: sidecar
      image: busybox
      securityContext: {privileged: false}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  selector: {matchLabels: {app: db}}
  serviceName: db
  template:
    metadata: {labels: {app: db}}
    spec:
      initContainers: [{name: init, image: busybox, securityContext: {privileged: true}}]
      containers: [{name: db, image: postgres}]
`, want: []string{
			"app.yaml:8:37: documents[0] (Pod default/router): spec.containers[0].securityContext.privileged: privileged containers are not supported by podlab\n  hint: grant only what the pod needs: securityContext.capabilities.add: [NET_ADMIN]",
			"app.yaml:22:83: documents[1] (StatefulSet default/db): spec.template.spec.initContainers[0].securityContext.privileged: privileged containers are not supported by podlab\n  hint: grant only what the pod needs: securityContext.capabilities.add: [NET_ADMIN]",
		}},
		{name: "capabilities", yaml: `apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
    - name: web
      image: nginx
      securityContext:
        capabilities:
          add: [NET_ADMIN, cap_net_raw, CAP_NET_ADMN, net_bind_servise, CAP_ALL, all, FROB]
          drop: [ALL, CAP_CHOWN, Kill]
`, want: []string{
			"app.yaml:10:41: documents[0] (Pod default/web): spec.containers[0].securityContext.capabilities.add[2]: unknown capability \"CAP_NET_ADMN\"; did you mean \"NET_ADMIN\"?",
			"app.yaml:10:55: documents[0] (Pod default/web): spec.containers[0].securityContext.capabilities.add[3]: unknown capability \"net_bind_servise\"; did you mean \"NET_BIND_SERVICE\"?",
			"app.yaml:10:73: documents[0] (Pod default/web): spec.containers[0].securityContext.capabilities.add[4]: unknown capability \"CAP_ALL\"; did you mean \"ALL\"?",
			"app.yaml:10:87: documents[0] (Pod default/web): spec.containers[0].securityContext.capabilities.add[6]: unknown capability \"FROB\"\n  hint: write a Linux capability such as NET_ADMIN, NET_RAW or NET_BIND_SERVICE (the CAP_ prefix is optional), or ALL",
		}},
		{name: "other enums", yaml: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny}
spec:
  podSelector: {}
  policyTypes: [ingress, Egres]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  rules:
    - http:
        paths:
          - {path: /, pathType: prefix, backend: {service: {name: web, port: {number: 80}}}}
`, want: []string{
			"app.yaml:6:17: documents[0] (NetworkPolicy default/deny): spec.policyTypes[0]: unsupported value \"ingress\"; did you mean \"Ingress\"?\n  hint: supported values: \"Egress\", \"Ingress\"",
			"app.yaml:6:26: documents[0] (NetworkPolicy default/deny): spec.policyTypes[1]: unsupported value \"Egres\"; did you mean \"Egress\"?\n  hint: supported values: \"Egress\", \"Ingress\"",
			"app.yaml:15:33: documents[1] (Ingress default/web): spec.rules[0].http.paths[0].pathType: unsupported value \"prefix\"; did you mean \"Prefix\"?\n  hint: supported values: \"Exact\", \"ImplementationSpecific\", \"Prefix\"",
		}},
		{name: "values", yaml: `apiVersion: v1
kind: Secret
metadata: {name: s, labels: {version: 1.0}}
data: {key: "not base64!"}
---
apiVersion: v1
kind: LimitRange
metadata: {name: l}
spec:
  limits: [{type: Container, max: {cpu: lots}}]
---
apiVersion: v1
kind: Service
metadata: {name: t}
spec:
  ports: [{port: 80, targetPort: [1]}]
`, want: []string{
			"app.yaml:3:39: documents[0] (Secret default/s): metadata.labels[version]: expected a string, got a number\n  hint: put the value in quotes: \"1.0\"",
			"app.yaml:4:13: documents[0] (Secret default/s): data[key]: invalid base64: illegal base64 data at input byte 3\n  hint: data holds base64; put plain text under stringData instead",
			"app.yaml:10:41: documents[1] (LimitRange default/l): spec.limits[0].max[cpu]: invalid quantity \"lots\"\n  hint: write a number with an optional suffix: 100m, 0.5, 128Mi, 1Gi",
			"app.yaml:16:34: documents[2] (Service default/t): spec.ports[0].targetPort: expected a number or a string, got a list",
		}},
		{name: "string for number", yaml: "apiVersion: v1\nkind: Pod\nmetadata: {name: db}\nspec:\n  containers: [{name: db, image: pg, ports: [{containerPort: \"5432\"}]}]\n", want: []string{
			"app.yaml:5:62: documents[0] (Pod default/db): spec.containers[0].ports[0].containerPort: expected a number, got a string\n  hint: remove the quotes: 5432",
		}},
		{name: "no containers", yaml: "apiVersion: v1\nkind: Pod\nmetadata: {name: db}\nspec: {}\n", want: []string{
			"app.yaml:4:7: documents[0] (Pod default/db): spec.containers: required: a pod needs at least one container\n  hint: containers:\n          - name: app\n            image: nginx",
		}},
		{name: "not an object", yaml: "- a\n- b\n---\n42\n", want: []string{
			"app.yaml:1:1: documents[0]: expected a Kubernetes object (a map), got a list\n  hint: a manifest is a Kubernetes object with apiVersion, kind, metadata and spec",
			"app.yaml:4:1: documents[1]: expected a Kubernetes object (a map), got a number\n  hint: a manifest is a Kubernetes object with apiVersion, kind, metadata and spec",
		}},
		{name: "syntax", yaml: "apiVersion: v1\nkind: Pod\nmetadata:\n  name: [a\n", want: []string{
			"app.yaml:3: yaml: did not find expected ',' or ']'",
		}},
		{name: "alias cycle", yaml: "apiVersion: v1\nkind: ConfigMap\nmetadata: &m {name: x, labels: *m}\n", want: []string{
			"app.yaml:3:32: documents[0] (ConfigMap default/x): metadata.labels: anchor \"m\" refers to itself",
		}},
	})
}

// knownAPIs is the apiVersions the "unknown apiVersion" hint lists.
const knownAPIs = "admissionregistration.k8s.io/v1, apps/v1, autoscaling/v1, autoscaling/v2, batch/v1, certificates.k8s.io/v1, coordination.k8s.io/v1, discovery.k8s.io/v1, events.k8s.io/v1, flowcontrol.apiserver.k8s.io/v1, gateway.networking.k8s.io/v1, gateway.networking.k8s.io/v1beta1, networking.k8s.io/v1, node.k8s.io/v1, policy/v1, rbac.authorization.k8s.io/v1, resource.k8s.io/v1, scheduling.k8s.io/v1, storage.k8s.io/v1, v1"
