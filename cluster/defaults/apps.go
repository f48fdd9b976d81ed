package defaults

import (
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// revisionHistoryLimit is apps/v1's default for every workload that keeps revisions.
const revisionHistoryLimit int32 = 10

func int32p(v int32) *int32 { return &v }

// Deployment is SetDefaults_Deployment of apps/v1.
func Deployment(d *appsv1.Deployment) {
	PodTemplate(&d.Spec.Template)
	s := &d.Spec
	if s.Replicas == nil {
		s.Replicas = int32p(1)
	}
	if s.Strategy.Type == "" {
		s.Strategy.Type = appsv1.RollingUpdateDeploymentStrategyType
	}
	if s.Strategy.Type == appsv1.RollingUpdateDeploymentStrategyType {
		if s.Strategy.RollingUpdate == nil {
			s.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{}
		}
		quarter := intstr.FromString("25%")
		if s.Strategy.RollingUpdate.MaxUnavailable == nil {
			v := quarter
			s.Strategy.RollingUpdate.MaxUnavailable = &v
		}
		if s.Strategy.RollingUpdate.MaxSurge == nil {
			v := quarter
			s.Strategy.RollingUpdate.MaxSurge = &v
		}
	}
	if s.RevisionHistoryLimit == nil {
		s.RevisionHistoryLimit = int32p(revisionHistoryLimit)
	}
	if s.ProgressDeadlineSeconds == nil {
		s.ProgressDeadlineSeconds = int32p(600)
	}
}

// ReplicaSet is SetDefaults_ReplicaSet of apps/v1.
func ReplicaSet(rs *appsv1.ReplicaSet) {
	PodTemplate(&rs.Spec.Template)
	if rs.Spec.Replicas == nil {
		rs.Spec.Replicas = int32p(1)
	}
}

// StatefulSet is SetDefaults_StatefulSet of apps/v1, with the feature gates of v1.32
// (StatefulSetAutoDeletePVC on, MaxUnavailableStatefulSet off).
func StatefulSet(ss *appsv1.StatefulSet) {
	PodTemplate(&ss.Spec.Template)
	s := &ss.Spec
	if s.PodManagementPolicy == "" {
		s.PodManagementPolicy = appsv1.OrderedReadyPodManagement
	}
	if s.UpdateStrategy.Type == "" {
		s.UpdateStrategy.Type = appsv1.RollingUpdateStatefulSetStrategyType
		if s.UpdateStrategy.RollingUpdate == nil {
			s.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{}
		}
	}
	if s.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType && s.UpdateStrategy.RollingUpdate != nil &&
		s.UpdateStrategy.RollingUpdate.Partition == nil {
		s.UpdateStrategy.RollingUpdate.Partition = int32p(0)
	}
	if s.PersistentVolumeClaimRetentionPolicy == nil {
		s.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{}
	}
	if p := s.PersistentVolumeClaimRetentionPolicy; p.WhenDeleted == "" {
		p.WhenDeleted = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	}
	if p := s.PersistentVolumeClaimRetentionPolicy; p.WhenScaled == "" {
		p.WhenScaled = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	}
	if s.Replicas == nil {
		s.Replicas = int32p(1)
	}
	if s.RevisionHistoryLimit == nil {
		s.RevisionHistoryLimit = int32p(revisionHistoryLimit)
	}
}

// DaemonSet is SetDefaults_DaemonSet of apps/v1.
func DaemonSet(ds *appsv1.DaemonSet) {
	PodTemplate(&ds.Spec.Template)
	s := &ds.Spec
	if s.UpdateStrategy.Type == "" {
		s.UpdateStrategy.Type = appsv1.RollingUpdateDaemonSetStrategyType
	}
	if s.UpdateStrategy.Type == appsv1.RollingUpdateDaemonSetStrategyType {
		if s.UpdateStrategy.RollingUpdate == nil {
			s.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateDaemonSet{}
		}
		if s.UpdateStrategy.RollingUpdate.MaxUnavailable == nil {
			one := intstr.FromInt32(1)
			s.UpdateStrategy.RollingUpdate.MaxUnavailable = &one
		}
		if s.UpdateStrategy.RollingUpdate.MaxSurge == nil {
			zero := intstr.FromInt32(0)
			s.UpdateStrategy.RollingUpdate.MaxSurge = &zero
		}
	}
	if s.RevisionHistoryLimit == nil {
		s.RevisionHistoryLimit = int32p(revisionHistoryLimit)
	}
}
