// The parts of core/v1 Pod the translator reads, typed loosely: objects arrive as stored JSON, so
// every field may be absent and quantities may be numbers.

export type QuantityValue = string | number;
export type ResourceList = Record<string, QuantityValue>;

export interface KeyToPath { key: string; path: string; mode?: number }
export interface ObjectFieldSelector { apiVersion?: string; fieldPath: string }
export interface ResourceFieldSelector { containerName?: string; resource: string; divisor?: QuantityValue }
export interface KeySelector { name?: string; key: string; optional?: boolean }

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    fieldRef?: ObjectFieldSelector;
    resourceFieldRef?: ResourceFieldSelector;
    configMapKeyRef?: KeySelector;
    secretKeyRef?: KeySelector;
    fileKeyRef?: unknown;
  };
}
export interface EnvFromSource {
  prefix?: string;
  configMapRef?: { name?: string; optional?: boolean };
  secretRef?: { name?: string; optional?: boolean };
}
export interface ContainerPort { name?: string; containerPort: number; hostPort?: number; hostIP?: string; protocol?: string }
export interface VolumeMount {
  name: string; mountPath: string; readOnly?: boolean; subPath?: string; subPathExpr?: string;
  mountPropagation?: string; recursiveReadOnly?: string;
}
export interface Capabilities { add?: string[]; drop?: string[] }
export interface SeccompProfile { type?: string; localhostProfile?: string }
export interface SELinuxOptions { user?: string; role?: string; type?: string; level?: string }
export interface SecurityContext {
  runAsUser?: number; runAsGroup?: number; runAsNonRoot?: boolean; privileged?: boolean;
  capabilities?: Capabilities; readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean;
  seccompProfile?: SeccompProfile; appArmorProfile?: SeccompProfile; seLinuxOptions?: SELinuxOptions;
  procMount?: string;
}
export interface PodSecurityContext {
  runAsUser?: number; runAsGroup?: number; runAsNonRoot?: boolean; supplementalGroups?: number[];
  supplementalGroupsPolicy?: string; fsGroup?: number; sysctls?: Array<{ name: string; value: string }>;
  seccompProfile?: SeccompProfile; appArmorProfile?: SeccompProfile; seLinuxOptions?: SELinuxOptions;
}
export interface Container {
  name: string; image?: string; command?: string[]; args?: string[]; workingDir?: string;
  ports?: ContainerPort[]; env?: EnvVar[]; envFrom?: EnvFromSource[];
  resources?: { limits?: ResourceList; requests?: ResourceList; claims?: unknown[] };
  volumeMounts?: VolumeMount[]; volumeDevices?: unknown[];
  securityContext?: SecurityContext; tty?: boolean; stdin?: boolean; stdinOnce?: boolean;
  restartPolicy?: string; lifecycle?: { stopSignal?: string; [k: string]: unknown };
  [k: string]: unknown;
}
export interface DownwardAPIVolumeFile {
  path: string; fieldRef?: ObjectFieldSelector; resourceFieldRef?: ResourceFieldSelector; mode?: number;
}
export interface Volume {
  name: string;
  emptyDir?: { medium?: string; sizeLimit?: QuantityValue };
  hostPath?: { path: string; type?: string };
  configMap?: { name?: string; items?: KeyToPath[]; defaultMode?: number; optional?: boolean };
  secret?: { secretName?: string; items?: KeyToPath[]; defaultMode?: number; optional?: boolean };
  downwardAPI?: { items?: DownwardAPIVolumeFile[]; defaultMode?: number };
  projected?: { sources?: ProjectedSource[]; defaultMode?: number };
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean };
  [k: string]: unknown;
}
export interface ProjectedSource {
  configMap?: { name?: string; items?: KeyToPath[]; optional?: boolean };
  secret?: { name?: string; items?: KeyToPath[]; optional?: boolean };
  downwardAPI?: { items?: DownwardAPIVolumeFile[] };
  serviceAccountToken?: { audience?: string; expirationSeconds?: number; path: string };
  [k: string]: unknown;
}
export interface PodSpec {
  containers?: Container[]; initContainers?: Container[]; ephemeralContainers?: Array<Container & { targetContainerName?: string }>; volumes?: Volume[];
  restartPolicy?: string; terminationGracePeriodSeconds?: number; dnsPolicy?: string;
  dnsConfig?: { nameservers?: string[]; searches?: string[]; options?: Array<{ name?: string; value?: string }> };
  hostNetwork?: boolean; hostPID?: boolean; hostIPC?: boolean; shareProcessNamespace?: boolean;
  hostname?: string; subdomain?: string; setHostnameAsFQDN?: boolean;
  hostAliases?: Array<{ ip?: string; hostnames?: string[] }>;
  securityContext?: PodSecurityContext; serviceAccountName?: string; serviceAccount?: string;
  nodeName?: string; enableServiceLinks?: boolean; readinessGates?: Array<{ conditionType: string }>;
  os?: { name?: string }; hostUsers?: boolean; runtimeClassName?: string;
  resourceClaims?: unknown[]; resources?: unknown;
  [k: string]: unknown;
}
