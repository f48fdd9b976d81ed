package defaults

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// The want of each case is what a v1.32 API server stores for the manifest (kubectl get
// -o yaml, without metadata and status).
var cases = []struct {
	name      string
	in, want  string
	newObject func() runtime.Object
}{
	{name: "pod", newObject: func() runtime.Object { return &corev1.Pod{} }, in: `
spec:
  containers:
  - name: web
    image: nginx
    ports: [{containerPort: 8080}]
    readinessProbe: {httpGet: {port: 8080}}
    resources: {limits: {cpu: 100m}}
  - name: side
    image: busybox:1.36
`, want: `
spec:
  containers:
  - name: web
    image: nginx
    imagePullPolicy: Always
    ports: [{containerPort: 8080, protocol: TCP}]
    readinessProbe:
      httpGet: {path: /, port: 8080, scheme: HTTP}
      failureThreshold: 3
      periodSeconds: 10
      successThreshold: 1
      timeoutSeconds: 1
    resources: {limits: {cpu: 100m}, requests: {cpu: 100m}}
    terminationMessagePath: /dev/termination-log
    terminationMessagePolicy: File
  - name: side
    image: busybox:1.36
    imagePullPolicy: IfNotPresent
    resources: {}
    terminationMessagePath: /dev/termination-log
    terminationMessagePolicy: File
  dnsPolicy: ClusterFirst
  enableServiceLinks: true
  preemptionPolicy: PreemptLowerPriority
  priority: 0
  restartPolicy: Always
  schedulerName: default-scheduler
  securityContext: {}
  terminationGracePeriodSeconds: 30
  tolerations:
  - {effect: NoExecute, key: node.kubernetes.io/not-ready, operator: Exists, tolerationSeconds: 300}
  - {effect: NoExecute, key: node.kubernetes.io/unreachable, operator: Exists, tolerationSeconds: 300}
`},
	{name: "pod that tolerates everything and names its policies", newObject: func() runtime.Object { return &corev1.Pod{} }, in: `
spec:
  restartPolicy: Never
  dnsPolicy: Default
  terminationGracePeriodSeconds: 0
  tolerations: [{operator: Exists}]
  containers: [{name: c, image: "registry:5000/app:latest", imagePullPolicy: Never}]
  volumes: [{name: a}, {name: b, configMap: {name: cm}}]
`, want: `
spec:
  containers:
  - name: c
    image: "registry:5000/app:latest"
    imagePullPolicy: Never
    resources: {}
    terminationMessagePath: /dev/termination-log
    terminationMessagePolicy: File
  dnsPolicy: Default
  enableServiceLinks: true
  preemptionPolicy: PreemptLowerPriority
  priority: 0
  restartPolicy: Never
  schedulerName: default-scheduler
  securityContext: {}
  terminationGracePeriodSeconds: 0
  tolerations: [{operator: Exists}]
  volumes: [{name: a, emptyDir: {}}, {name: b, configMap: {name: cm, defaultMode: 420}}]
`},
	{name: "deployment", newObject: func() runtime.Object { return &appsv1.Deployment{} }, in: `
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "nginx:1.27", ports: [{containerPort: 80}]}]
`, want: `
spec:
  progressDeadlineSeconds: 600
  replicas: 1
  revisionHistoryLimit: 10
  selector: {matchLabels: {app: web}}
  strategy:
    rollingUpdate: {maxSurge: 25%, maxUnavailable: 25%}
    type: RollingUpdate
  template:
    metadata: {creationTimestamp: null, labels: {app: web}}
    spec:
      containers:
      - name: web
        image: "nginx:1.27"
        imagePullPolicy: IfNotPresent
        ports: [{containerPort: 80, protocol: TCP}]
        resources: {}
        terminationMessagePath: /dev/termination-log
        terminationMessagePolicy: File
      dnsPolicy: ClusterFirst
      restartPolicy: Always
      schedulerName: default-scheduler
      securityContext: {}
      terminationGracePeriodSeconds: 30
`},
	{name: "deployment recreate", newObject: func() runtime.Object { return &appsv1.Deployment{} }, in: `
spec: {replicas: 3, strategy: {type: Recreate}, template: {spec: {containers: [{name: c, image: x@sha256:abc}]}}}
`, want: `
spec:
  progressDeadlineSeconds: 600
  replicas: 3
  revisionHistoryLimit: 10
  selector: null
  strategy: {type: Recreate}
  template:
    metadata: {creationTimestamp: null}
    spec:
      containers: [{name: c, image: x@sha256:abc, imagePullPolicy: IfNotPresent, resources: {}, terminationMessagePath: /dev/termination-log, terminationMessagePolicy: File}]
      dnsPolicy: ClusterFirst
      restartPolicy: Always
      schedulerName: default-scheduler
      securityContext: {}
      terminationGracePeriodSeconds: 30
`},
	{name: "replicaset", newObject: func() runtime.Object { return &appsv1.ReplicaSet{} }, in: `
spec: {template: {spec: {containers: [{name: c, image: "x:latest"}]}}}
`, want: `
spec:
  replicas: 1
  selector: null
  template:
    metadata: {creationTimestamp: null}
    spec:
      containers: [{name: c, image: "x:latest", imagePullPolicy: Always, resources: {}, terminationMessagePath: /dev/termination-log, terminationMessagePolicy: File}]
      dnsPolicy: ClusterFirst
      restartPolicy: Always
      schedulerName: default-scheduler
      securityContext: {}
      terminationGracePeriodSeconds: 30
`},
	{name: "statefulset", newObject: func() runtime.Object { return &appsv1.StatefulSet{} }, in: `
spec: {serviceName: db, template: {spec: {containers: [{name: c, image: "x:1"}]}}}
`, want: `
spec:
  persistentVolumeClaimRetentionPolicy: {whenDeleted: Retain, whenScaled: Retain}
  podManagementPolicy: OrderedReady
  replicas: 1
  revisionHistoryLimit: 10
  selector: null
  serviceName: db
  template:
    metadata: {creationTimestamp: null}
    spec:
      containers: [{name: c, image: "x:1", imagePullPolicy: IfNotPresent, resources: {}, terminationMessagePath: /dev/termination-log, terminationMessagePolicy: File}]
      dnsPolicy: ClusterFirst
      restartPolicy: Always
      schedulerName: default-scheduler
      securityContext: {}
      terminationGracePeriodSeconds: 30
  updateStrategy:
    rollingUpdate: {partition: 0}
    type: RollingUpdate
`},
	{name: "statefulset OnDelete", newObject: func() runtime.Object { return &appsv1.StatefulSet{} }, in: `
spec: {replicas: 2, podManagementPolicy: Parallel, updateStrategy: {type: OnDelete}, template: {spec: {containers: []}}}
`, want: `
spec:
  persistentVolumeClaimRetentionPolicy: {whenDeleted: Retain, whenScaled: Retain}
  podManagementPolicy: Parallel
  replicas: 2
  revisionHistoryLimit: 10
  selector: null
  serviceName: ""
  template:
    metadata: {creationTimestamp: null}
    spec: {containers: [], dnsPolicy: ClusterFirst, restartPolicy: Always, schedulerName: default-scheduler, securityContext: {}, terminationGracePeriodSeconds: 30}
  updateStrategy: {type: OnDelete}
`},
	{name: "daemonset", newObject: func() runtime.Object { return &appsv1.DaemonSet{} }, in: `
spec: {template: {spec: {containers: []}}}
`, want: `
spec:
  revisionHistoryLimit: 10
  selector: null
  template:
    metadata: {creationTimestamp: null}
    spec: {containers: [], dnsPolicy: ClusterFirst, restartPolicy: Always, schedulerName: default-scheduler, securityContext: {}, terminationGracePeriodSeconds: 30}
  updateStrategy:
    rollingUpdate: {maxSurge: 0, maxUnavailable: 1}
    type: RollingUpdate
`},
	{name: "networkpolicy ingress only", newObject: func() runtime.Object { return &networkingv1.NetworkPolicy{} }, in: `
spec: {podSelector: {}, ingress: [{ports: [{port: 80}]}]}
`, want: `
spec: {podSelector: {}, ingress: [{ports: [{port: 80, protocol: TCP}]}], policyTypes: [Ingress]}
`},
	{name: "networkpolicy with egress", newObject: func() runtime.Object { return &networkingv1.NetworkPolicy{} }, in: `
spec: {podSelector: {}, egress: [{}]}
`, want: `
spec: {podSelector: {}, egress: [{}], policyTypes: [Ingress, Egress]}
`},
	{name: "networkpolicy that names its types", newObject: func() runtime.Object { return &networkingv1.NetworkPolicy{} }, in: `
spec: {podSelector: {}, egress: [{}], policyTypes: [Egress]}
`, want: `
spec: {podSelector: {}, egress: [{}], policyTypes: [Egress]}
`},
	{name: "endpointslice", newObject: func() runtime.Object { return &discoveryv1.EndpointSlice{} }, in: `
addressType: IPv4
endpoints: []
ports: [{port: 80}]
`, want: `
addressType: IPv4
endpoints: []
ports: [{name: "", port: 80, protocol: TCP}]
`},
	{name: "secret", newObject: func() runtime.Object { return &corev1.Secret{} }, in: `{}`, want: `{type: Opaque}`},
}

func TestDefaults(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, want := tc.newObject(), tc.newObject()
			if err := yaml.UnmarshalStrict([]byte(tc.in), got); err != nil {
				t.Fatalf("in: %v", err)
			}
			if err := yaml.UnmarshalStrict([]byte(tc.want), want); err != nil {
				t.Fatalf("want: %v", err)
			}
			Object(got)
			if !apiequality.Semantic.DeepEqual(got, want) {
				g, _ := yaml.Marshal(got)
				w, _ := yaml.Marshal(want)
				t.Errorf("defaulted:\n%s\nwant:\n%s", g, w)
			}
			// Defaulting is idempotent: what a hash of a stored template relies on.
			again := got.DeepCopyObject()
			Object(again)
			if !apiequality.Semantic.DeepEqual(got, again) {
				t.Errorf("defaulting twice changed the object")
			}
		})
	}
}

func TestPullPolicy(t *testing.T) {
	for image, want := range map[string]corev1.PullPolicy{
		"nginx":                       corev1.PullAlways,
		"nginx:latest":                corev1.PullAlways,
		"nginx:1.27":                  corev1.PullIfNotPresent,
		"localhost:5000/app":          corev1.PullAlways,
		"localhost:5000/app:v2":       corev1.PullIfNotPresent,
		"app@sha256:0123":             corev1.PullIfNotPresent,
		"app:latest@sha256:0123":      corev1.PullAlways,
		"registry.k8s.io/pause:3.10":  corev1.PullIfNotPresent,
		"ghcr.io/org/img:latest-slim": corev1.PullIfNotPresent,
	} {
		if got := PullPolicy(image); got != want {
			t.Errorf("PullPolicy(%q) = %s, want %s", image, got, want)
		}
	}
}
