export {
  POD_TEMPLATE_HASH, podTemplateHash, replicaSetName, withHashLabel, selectorWithHash, templatesEqualIgnoringHash,
} from './hash.ts';
export {
  planDeployment, deploymentStatus, progressCheckAt, maxSurge, maxUnavailable, resolveFenceposts, scaledValue,
  getCondition, Reasons, REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS,
} from './deployment.ts';
export type { DeploymentAction, DeploymentPlan, DeploymentStatus, DeploymentCondition, PodsByRs } from './deployment.ts';
export {
  planReplicaSet, replicaSetStatus, replicaSetPods, rankPodsForDeletion, isPodActive, isPodReady, isPodAvailable,
  podAvailableAt,
} from './replicaset.ts';
export type { RsPods, ReplicaSetPlan, ReplicaSetStatus } from './replicaset.ts';
