// Kubernetes <-> Docker, pure functions only: the docker/ layer performs, runtime/ decides.

export { planPod, podVolumeFiles, podHostname, containerHash, cpuShares, DEFAULT_GRACE_SECONDS, MIN_MEMORY_BYTES } from './pod.ts';
export { podStatus, backoffDelay, shouldRestart, goDuration, kubeTime, activeDeadline, DEADLINE_EXCEEDED_MESSAGE } from './status.ts';
export type { ObservedPod, ObservedContainer, DockerInspect, DockerState, PodStatus, ContainerStatus, PodCondition } from './status.ts';
export { qosClass, effectiveRequests, type QOSClass } from './qos.ts';
export { parseQuantity, tryParseQuantity, quantityValue, quantityMilli, compareQuantity, addQuantity, type Quantity } from './quantity.ts';
export { expand } from './expand.ts';
export { LABELS, SANDBOX_CONTAINER_NAME, sandboxName, containerName, parseContainerName, podVolumeName } from './names.ts';
export { SANDBOX_VOLUME_ROOT } from './types.ts';
export type {
  PlanEnv, PodPlan, CreateSpec, DockerCreateBody, DockerHostConfig, DockerMount, FileSpec, HostPathCheck, PlanError,
} from './types.ts';
