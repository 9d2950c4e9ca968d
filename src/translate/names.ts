// Docker names and labels the kubelet way (dockershim), so that tools which know Kubernetes on
// Docker recognise our containers, plus the k2d labels that tie them to one translator instance.

export const LABELS = {
  podName: 'io.kubernetes.pod.name',
  podNamespace: 'io.kubernetes.pod.namespace',
  podUid: 'io.kubernetes.pod.uid',
  containerName: 'io.kubernetes.container.name',
  /** dockershim: `podsandbox` or `container` */
  dockerType: 'io.kubernetes.docker.type',
  /** dockershim: on app containers, the id of their sandbox */
  sandboxId: 'io.kubernetes.sandbox.id',
  /** dockershim kept CRI annotations as labels with this prefix */
  restartCount: 'annotation.io.kubernetes.container.restartCount',
  hash: 'annotation.io.kubernetes.container.hash',
  terminationGracePeriod: 'annotation.io.kubernetes.pod.terminationGracePeriod',
  instance: 'k2d.io/instance',
  /** sandbox | init | app */
  kind: 'k2d.io/kind',
  /** index in spec.initContainers or spec.containers */
  containerIndex: 'k2d.io/container-index',
  /** on Docker volumes a pod owns: the pod volume's name */
  volume: 'k2d.io/volume',
} as const;

export const SANDBOX_CONTAINER_NAME = 'POD';

export interface PodRef { name: string; namespace: string; uid: string }

export function sandboxName(pod: PodRef, attempt = 0): string {
  return ['k8s', SANDBOX_CONTAINER_NAME, pod.name, pod.namespace, pod.uid, attempt].join('_');
}

export function containerName(container: string, pod: PodRef, attempt = 0): string {
  return ['k8s', container, pod.name, pod.namespace, pod.uid, attempt].join('_');
}

export interface ParsedName extends PodRef { container: string; attempt: number }

/** The inverse of containerName/sandboxName; undefined for names we did not make. */
export function parseContainerName(name: string): ParsedName | undefined {
  const parts = name.replace(/^\//, '').split('_');
  // dockershim tolerated a 7th random suffix added on name conflicts.
  if ((parts.length !== 6 && parts.length !== 7) || parts[0] !== 'k8s') return undefined;
  if (!/^\d+$/.test(parts[5])) return undefined;
  return { container: parts[1], name: parts[2], namespace: parts[3], uid: parts[4], attempt: Number(parts[5]) };
}

/** A Docker volume name for a pod-owned volume, for callers that have no scheme of their own. */
export function podVolumeName(podUid: string, volume: string): string {
  return `k2d_${podUid}_${volume}`;
}
