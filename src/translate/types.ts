// What planPod takes and gives. Bodies are the Docker Engine API's own JSON, so the docker/ layer
// passes them through untouched.

import type { KObject } from '../machinery/types.ts';
import type { PodSpec } from './k8s.ts';

export interface PlanEnv {
  /** this translator's instance name, for the k2d.io/instance label */
  instance: string;
  /** the flat user-defined network every pod sandbox joins */
  network: string;
  /** an image the caller can always build offline; its default command must just wait */
  sandboxImage: string;
  /** network aliases of the sandbox: `<svc>.<ns>.svc.cluster.local` of every Service selecting the pod */
  aliases: string[];
  configMaps(namespace: string, name: string): KObject | undefined;
  secrets(namespace: string, name: string): KObject | undefined;
  /**
   * The Docker volume name that holds a pod-owned volume (emptyDir, configMap, secret,
   * downwardAPI, projected). See podVolumeName() for a ready-made scheme.
   */
  volumeDir(podUid: string, volumeName: string): string;
  /** the Docker volume bound to a PersistentVolumeClaim, or undefined while unbound/missing */
  pvcVolume(namespace: string, claim: string): string | undefined;
  nodeName: string;
  hostIP: string;
  hostIPs?: string[];
  /** known once the sandbox runs: plan the containers after starting it */
  podIP?: string;
  podIPs?: string[];
  /** the started sandbox's id; without it containers join the sandbox by name */
  sandboxId?: string;
  /** restarts so far per container name: the attempt in the name and the restartCount label */
  restartCounts?: Record<string, number>;
  sandboxAttempt?: number;
  /** the image's configured user (`docker image inspect` Config.User, '' = root); undefined = unknown */
  imageUser?(image: string): string | undefined;
  /** Services of a namespace, for the `<SVC>_SERVICE_HOST` variables (enableServiceLinks) */
  services?(namespace: string): KObject[];
  /** a token for a projected serviceAccountToken source, or undefined when none can be issued */
  serviceAccountToken?(namespace: string, serviceAccount: string, audience: string, expirationSeconds: number): string | undefined;
  /** node allocatable, the value of resourceFieldRef limits a container does not set */
  nodeAllocatable?: Record<string, string | number>;
  /** the engine's API version: from 1.45 subPath mounts use VolumeOptions.Subpath */
  apiVersion?: string;
  /** where the engine's local volumes live (DockerRootDir + '/volumes'): subPath on older engines */
  volumeRoot?: string;
  clusterDomain?: string;
}

export interface DockerMount {
  Type: 'volume' | 'bind' | 'tmpfs';
  Source?: string;
  Target: string;
  ReadOnly?: boolean;
  VolumeOptions?: {
    NoCopy?: boolean;
    Labels?: Record<string, string>;
    DriverConfig?: { Name: string; Options?: Record<string, string> };
    Subpath?: string;
  };
  BindOptions?: { Propagation?: string };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
}

export interface DockerHostConfig {
  NetworkMode: string;
  IpcMode?: string;
  PidMode?: string;
  Binds?: string[];
  Mounts?: DockerMount[];
  Memory?: number;
  MemorySwap?: number;
  MemoryReservation?: number;
  CpuShares?: number;
  CpuPeriod?: number;
  CpuQuota?: number;
  Privileged?: boolean;
  CapAdd?: string[];
  CapDrop?: string[];
  ReadonlyRootfs?: boolean;
  SecurityOpt?: string[];
  GroupAdd?: string[];
  Sysctls?: Record<string, string>;
  PortBindings?: Record<string, Array<{ HostIp: string; HostPort: string }>>;
  ExtraHosts?: string[];
  Dns?: string[];
  DnsSearch?: string[];
  DnsOptions?: string[];
  MaskedPaths?: string[];
  ReadonlyPaths?: string[];
  RestartPolicy: { Name: 'no' };
}

/** The JSON body of `POST /containers/create`. */
export interface DockerCreateBody {
  Image: string;
  Hostname?: string;
  Domainname?: string;
  User?: string;
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  WorkingDir?: string;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Labels: Record<string, string>;
  ExposedPorts?: Record<string, Record<string, never>>;
  StopTimeout?: number;
  StopSignal?: string;
  HostConfig: DockerHostConfig;
  NetworkingConfig?: { EndpointsConfig: Record<string, { Aliases?: string[] }> };
}

/** `name` is the `?name=` of the create call. */
export interface CreateSpec { name: string; body: DockerCreateBody }

/**
 * Content of a pod-owned volume, relative to that volume's root. Every such volume is mounted in
 * the sandbox at `${SANDBOX_VOLUME_ROOT}/<volume>`, so the caller writes these through the
 * sandbox (`PUT /containers/<sandbox>/archive`), after each sandbox start and whenever a
 * referenced ConfigMap/Secret/pod metadata changes. For configMap/secret/downwardAPI/projected
 * volumes the list is the whole wanted content: files not in it are to be removed.
 */
export interface FileSpec {
  volume: string;
  /** relative path inside the volume; '' is the volume's root directory */
  path: string;
  content: Buffer;
  mode: number;
  /** a directory entry, not a file */
  dir?: boolean;
  /** create only when absent (subPath directories); never change an existing one */
  ifMissing?: boolean;
  /** group owner (pod fsGroup); root otherwise */
  gid?: number;
}

export interface HostPathCheck {
  /** spec.volumes[i].hostPath */
  field: string;
  path: string;
  /** the hostPath `type`: DirectoryOrCreate, Directory, FileOrCreate, File, Socket, CharDevice, BlockDevice */
  type: string;
}

export interface PlanError {
  /** Kubernetes field path, e.g. `spec.containers[0].env[1].valueFrom.configMapKeyRef` */
  field: string;
  /** apiserver/kubelet wording */
  message: string;
  /**
   * Invalid: the pod cannot be honoured on this node (answer 422, message is `Forbidden: ...`
   * or `Unsupported value: ...`). CreateContainerConfigError: `container` cannot start until a
   * referenced object appears. FailedMount: a pod volume's source is missing (the pod waits).
   */
  reason: 'Invalid' | 'CreateContainerConfigError' | 'FailedMount';
  container?: string;
}

export interface PodPlan {
  sandbox: CreateSpec;
  /** index i is spec.initContainers[i] */
  init: CreateSpec[];
  /** index i is spec.containers[i] */
  containers: CreateSpec[];
  /** index i is spec.ephemeralContainers[i] (`kubectl debug`); its PID namespace is the caller's to set */
  ephemeral: CreateSpec[];
  files: FileSpec[];
  hostPathChecks: HostPathCheck[];
  errors: PlanError[];
  /** things honoured only in part, worth a Warning event */
  warnings: string[];
}

/** Shared state of one planPod run. */
export interface PlanContext {
  pod: KObject;
  spec: PodSpec;
  name: string;
  namespace: string;
  uid: string;
  env: PlanEnv;
  errors: PlanError[];
  warnings: string[];
}

export const SANDBOX_VOLUME_ROOT = '/k2d/volumes';
