package printers

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// pod builds a pod created 10 minutes ago with the named app containers, then
// lets the case fill in its status.
func pod(containers []string, edit func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-1", Namespace: "shop", CreationTimestamp: ago(10 * time.Minute)}}
	for _, c := range containers {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: c, Image: "nginx"})
	}
	edit(p)
	return p
}

func running(name string, ready bool) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, Ready: ready, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}
}

func waiting(name, reason string) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}}}
}

func terminated(name, reason string, code, signal int32) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: reason, ExitCode: code, Signal: signal}}}
}

// restarted adds n restarts, the last one finished d ago.
func restarted(s corev1.ContainerStatus, n int32, d time.Duration) corev1.ContainerStatus {
	s.RestartCount = n
	s.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ExitCode: 1, FinishedAt: ago(d)}
	return s
}

func condition(t corev1.PodConditionType, s corev1.ConditionStatus) corev1.PodCondition {
	return corev1.PodCondition{Type: t, Status: s}
}

// The cells after the name and before the age: READY, STATUS, RESTARTS; the wide
// cells follow the age.
func TestPodStatus(t *testing.T) {
	const tail = "|10m|<none>|<none>|<none>|<none>"
	checkRows(t, []rowCase{
		{"pending, not scheduled", pod([]string{"web"}, func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodPending
		}), "web-1|0/1|Pending|0" + tail},
		{"scheduling gated", pod([]string{"web"}, func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodPending
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "SchedulingGated"}}
		}), "web-1|0/1|SchedulingGated|0" + tail},
		{"container creating", pod([]string{"web"}, func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodPending
			p.Status.ContainerStatuses = []corev1.ContainerStatus{waiting("web", "ContainerCreating")}
		}), "web-1|0/1|ContainerCreating|0" + tail},
		{"running, one of two ready", pod([]string{"web", "log"}, func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodRunning
			p.Status.ContainerStatuses = []corev1.ContainerStatus{running("web", true), running("log", false)}
		}), "web-1|1/2|Running|0" + tail},
		{"restarts summed, the last one dated", pod([]string{"web", "log"}, func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodRunning
			p.Status.ContainerStatuses = []corev1.ContainerStatus{
				restarted(running("web", true), 1, 5*time.Minute),
				restarted(running("log", true), 2, 90*time.Second),
			}
		}), "web-1|2/2|Running|3 (90s ago)" + tail},
		{"restarts without a date", pod([]string{"web"}, func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodRunning
			s := running("web", true)
			s.RestartCount = 4
			p.Status.ContainerStatuses = []corev1.ContainerStatus{s}
		}), "web-1|1/1|Running|4" + tail},
		{"crash loop", pod([]string{"web"}, func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodRunning
			p.Status.ContainerStatuses = []corev1.ContainerStatus{restarted(waiting("web", "CrashLoopBackOff"), 5, 2*time.Minute+3*time.Second)}
		}), "web-1|0/1|CrashLoopBackOff|5 (2m3s ago)" + tail},
		{"completed", pod([]string{"job"}, func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodSucceeded
			p.Status.ContainerStatuses = []corev1.ContainerStatus{terminated("job", "Completed", 0, 0)}
		}), "web-1|0/1|Completed|0" + tail},
		{"error", pod([]string{"job"}, func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodFailed
			p.Status.ContainerStatuses = []corev1.ContainerStatus{terminated("job", "Error", 1, 0)}
		}), "web-1|0/1|Error|0" + tail},
		{"killed by a signal", pod([]string{"job"}, func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodFailed
			p.Status.ContainerStatuses = []corev1.ContainerStatus{terminated("job", "", 137, 9)}
		}), "web-1|0/1|Signal:9|0" + tail},
		{"exit code without reason", pod([]string{"job"}, func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodFailed
			p.Status.ContainerStatuses = []corev1.ContainerStatus{terminated("job", "", 2, 0)}
		}), "web-1|0/1|ExitCode:2|0" + tail},
		{"completed beside a running ready container", pod([]string{"web", "once"}, func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodRunning
			p.Status.Conditions = []corev1.PodCondition{condition(corev1.PodReady, corev1.ConditionTrue)}
			p.Status.ContainerStatuses = []corev1.ContainerStatus{running("web", true), terminated("once", "Completed", 0, 0)}
		}), "web-1|1/2|Running|0" + tail},
		{"completed beside a running container, pod not ready", pod([]string{"web", "once"}, func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodRunning
			p.Status.ContainerStatuses = []corev1.ContainerStatus{running("web", true), terminated("once", "Completed", 0, 0)}
		}), "web-1|1/2|NotReady|0" + tail},
		{"terminating", pod([]string{"web"}, func(p *corev1.Pod) {
			p.DeletionTimestamp = agoPtr(time.Second)
			p.Status.Phase = corev1.PodRunning
			p.Status.ContainerStatuses = []corev1.ContainerStatus{running("web", true)}
		}), "web-1|1/1|Terminating|0" + tail},
		{"a finished pod being deleted is not terminating", pod([]string{"job"}, func(p *corev1.Pod) {
			p.DeletionTimestamp = agoPtr(time.Second)
			p.Status.Phase = corev1.PodSucceeded
			p.Status.ContainerStatuses = []corev1.ContainerStatus{terminated("job", "Completed", 0, 0)}
		}), "web-1|0/1|Completed|0" + tail},
		{"deleted on a lost node", pod([]string{"web"}, func(p *corev1.Pod) {
			p.DeletionTimestamp = agoPtr(time.Second)
			p.Status.Phase = corev1.PodRunning
			p.Status.Reason = "NodeLost"
		}), "web-1|0/1|Unknown|0" + tail},
		{"evicted", pod([]string{"web"}, func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodFailed
			p.Status.Reason = "Evicted"
		}), "web-1|0/1|Evicted|0" + tail},
	})
}

func TestPodInitStatus(t *testing.T) {
	const tail = "|10m|<none>|<none>|<none>|<none>"
	withInit := func(names ...string) func(*corev1.Pod) {
		return func(p *corev1.Pod) {
			for _, n := range names {
				p.Spec.InitContainers = append(p.Spec.InitContainers, corev1.Container{Name: n})
			}
			p.Status.Phase = corev1.PodPending
			p.Status.ContainerStatuses = []corev1.ContainerStatus{waiting("web", "PodInitializing")}
		}
	}
	checkRows(t, []rowCase{
		{"first init container running", pod([]string{"web"}, func(p *corev1.Pod) {
			withInit("setup")(p)
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{running("setup", false)}
		}), "web-1|0/1|Init:0/1|0" + tail},
		{"second of two", pod([]string{"web"}, func(p *corev1.Pod) {
			withInit("fetch", "migrate")(p)
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{terminated("fetch", "Completed", 0, 0), waiting("migrate", "PodInitializing")}
		}), "web-1|0/1|Init:1/2|0" + tail},
		{"init crash loop counts the init restarts", pod([]string{"web"}, func(p *corev1.Pod) {
			withInit("setup")(p)
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{restarted(waiting("setup", "CrashLoopBackOff"), 3, 40*time.Second)}
		}), "web-1|0/1|Init:CrashLoopBackOff|3 (40s ago)" + tail},
		{"init error", pod([]string{"web"}, func(p *corev1.Pod) {
			withInit("setup")(p)
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{terminated("setup", "Error", 1, 0)}
		}), "web-1|0/1|Init:Error|0" + tail},
		{"init exit code", pod([]string{"web"}, func(p *corev1.Pod) {
			withInit("setup")(p)
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{terminated("setup", "", 3, 0)}
		}), "web-1|0/1|Init:ExitCode:3|0" + tail},
		{"init signal", pod([]string{"web"}, func(p *corev1.Pod) {
			withInit("setup")(p)
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{terminated("setup", "", 0, 15)}
			p.Status.InitContainerStatuses[0].State.Terminated.ExitCode = 143
		}), "web-1|0/1|Init:Signal:15|0" + tail},
		{"init done", pod([]string{"web"}, func(p *corev1.Pod) {
			withInit("setup")(p)
			p.Status.Phase = corev1.PodRunning
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{restarted(terminated("setup", "Completed", 0, 0), 2, time.Hour)}
			p.Status.ContainerStatuses = []corev1.ContainerStatus{running("web", true)}
		}), "web-1|1/1|Running|0" + tail}, // init restarts no longer count
		{"a sidecar counts as a container", pod([]string{"web"}, func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{{Name: "proxy", RestartPolicy: ptr(corev1.ContainerRestartPolicyAlways)}}
			p.Status.Phase = corev1.PodRunning
			p.Status.Conditions = []corev1.PodCondition{condition(corev1.PodInitialized, corev1.ConditionTrue)}
			sidecar := restarted(running("proxy", true), 1, 30*time.Second)
			sidecar.Started = ptr(true)
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{sidecar}
			p.Status.ContainerStatuses = []corev1.ContainerStatus{running("web", true)}
		}), "web-1|2/2|Running|1 (30s ago)" + tail},
	})
}

func TestPodWide(t *testing.T) {
	checkRows(t, []rowCase{
		{"addresses, node and gates", pod([]string{"web"}, func(p *corev1.Pod) {
			p.Spec.NodeName = "worker-1"
			p.Spec.ReadinessGates = []corev1.PodReadinessGate{{ConditionType: "lb/ready"}, {ConditionType: "mesh/ready"}}
			p.Status.Phase = corev1.PodRunning
			p.Status.PodIP = "10.244.1.5"
			p.Status.PodIPs = []corev1.PodIP{{IP: "10.244.1.5"}, {IP: "fd00::5"}}
			p.Status.NominatedNodeName = "worker-2"
			p.Status.Conditions = []corev1.PodCondition{condition("lb/ready", corev1.ConditionTrue), condition("mesh/ready", corev1.ConditionFalse)}
			p.Status.ContainerStatuses = []corev1.ContainerStatus{running("web", true)}
		}), "web-1|1/1|Running|0|10m|10.244.1.5|worker-1|worker-2|1/2"},
		{"podIP alone, as a stored v1 object may have it", pod([]string{"web"}, func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodRunning
			p.Status.PodIP = "10.244.1.6"
		}), "web-1|0/1|Running|0|10m|10.244.1.6|<none>|<none>|<none>"},
	})
}
