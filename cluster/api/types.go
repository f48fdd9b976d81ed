package api

import (
	"encoding/json"
	"errors"
	"time"

	"podlab.dev/podlab/topology"
)

// Paths served on the supervisor's unix socket.
const (
	PathState      = "/v1/state"
	PathEvents     = "/v1/events" // ?follow=1 keeps the stream open
	PathCounters   = "/v1/counters"
	PathReady      = "/v1/ready"       // how many pods are ready: cheap to poll
	PathDetails    = "/v1/details/"    // {pod|node|host}/{name}?namespace=NS
	PathPods       = "/v1/pods/"       // DELETE {ns}/{name}; PUT {ns}/{name}/labels
	PathNodes      = "/v1/nodes/"      // PUT {name}/labels
	PathNamespaces = "/v1/namespaces/" // PUT {name}/labels
	PathObjects    = "/v1/objects"     // ?kind=K&namespace=NS
	PathApply      = "/v1/apply"
	PathDelete     = "/v1/delete"
	PathScale      = "/v1/scale"   // POST ScaleRequest
	PathRollout    = "/v1/rollout" // POST RolloutRequest
)

// ErrNotFound is returned for an object the lab does not have.
var ErrNotFound = errors.New("not found")

// Error is the body of a failed API call.
type Error struct {
	Error string `json:"error"`
}

// StoredObject is a Kubernetes object the lab holds, as `podlab get` shows it.
type StoredObject struct {
	APIVersion string          `json:"apiVersion"`
	Kind       string          `json:"kind"`
	Namespace  string          `json:"namespace,omitempty"`
	Name       string          `json:"name"`
	Applied    bool            `json:"applied"` // a component of this version acts on it
	Created    time.Time       `json:"created"`
	Object     json.RawMessage `json:"object"`
}

// ApplyResult says what apply or delete did to one object.
type ApplyResult struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	Action    string `json:"action,omitempty"` // created, configured, unchanged, deleted, scaled, restarted, rolled back
	Error     string `json:"error,omitempty"`
}

// ObjectRef names an object.
type ObjectRef struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

// ApplyRequest is what `podlab apply` sends: the objects as topology decoded them
// (the controllers make the pods of Deployments and the like).
type ApplyRequest struct {
	Objects []topology.Object `json:"objects"`
}

// ScaleRequest sets the replicas of a Deployment, ReplicaSet or StatefulSet.
type ScaleRequest struct {
	ObjectRef
	Replicas int32 `json:"replicas"`
}

// RolloutRequest asks for a rollout action on a Deployment (restart, undo, pause,
// resume) or reads its state (status, history).
type RolloutRequest struct {
	ObjectRef
	Action     string `json:"action"`               // status | history | restart | undo | pause | resume
	ToRevision int64  `json:"toRevision,omitempty"` // for undo; 0 is the previous revision
}

// RolloutReply is the answer to a rollout request.
type RolloutReply struct {
	Message string            `json:"message"`
	Done    bool              `json:"done"` // status: the rollout finished
	History []RolloutRevision `json:"history,omitempty"`
}

// RolloutRevision is one revision of a Deployment, as `kubectl rollout history` lists.
type RolloutRevision struct {
	Revision    int64  `json:"revision"`
	ChangeCause string `json:"changeCause,omitempty"`
	ReplicaSet  string `json:"replicaSet"`
	Image       string `json:"image,omitempty"`
}

// ReadyCount is how many pods are ready out of how many, and whether every component
// has programmed every change (endpoints follow readiness).
type ReadyCount struct {
	Ready   int  `json:"ready"`
	Total   int  `json:"total"`
	Settled bool `json:"settled"`
}

// Readiness of one pod.
type Readiness struct {
	Ready  bool
	Reason string
}
