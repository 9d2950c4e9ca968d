// Lazy navigation over the Swagger 2.0 `definitions` of the Kubernetes OpenAPI document.
// Strategic merge patch and server-side apply both need, at every place in an object, the
// answer to "what kind of list or map is this?"; only the places actually visited are built.

type Json = Record<string, any>;

export type ListType = 'atomic' | 'set' | 'map';
export type MapType = 'atomic' | 'granular';
/** What the value at a place is; 'untyped' may be a scalar, a list or a map. */
export type NodeKind = 'object' | 'array' | 'scalar' | 'untyped';

// The v2 document carries no `+default` markers, but the apiserver's type converter keys
// list-map items by defaulted key fields (`k:{"containerPort":80,"protocol":"TCP"}`).
const KEY_DEFAULTS: Record<string, Record<string, unknown>> = {
  'io.k8s.api.core.v1.ContainerPort': { protocol: 'TCP' },
  'io.k8s.api.core.v1.ServicePort': { protocol: 'TCP' },
};

// Non-pointer struct fields of the Go types: an empty typed object still has them as `{}`,
// which decides whether a create records `.` for them in managedFields. The v3 document marks
// them with `default: {}`; the v2 document does not, hence this list (from k8s.io/api types).
const ALWAYS_PRESENT: Record<string, string[]> = (() => {
  const spec = ['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'Pod',
    'Service', 'Namespace', 'Node', 'PersistentVolume', 'PersistentVolumeClaim', 'ReplicationController',
    'LimitRange', 'Lease', 'NetworkPolicy', 'Ingress', 'IngressClass', 'PodDisruptionBudget',
    'HorizontalPodAutoscaler', 'Scale', 'VolumeAttachment', 'CSIDriver', 'CSINode', 'IPAddress', 'ServiceCIDR'];
  const groups: Record<string, string> = {
    Deployment: 'apps', ReplicaSet: 'apps', StatefulSet: 'apps', DaemonSet: 'apps', Job: 'batch',
    CronJob: 'batch', Lease: 'coordination', NetworkPolicy: 'networking', Ingress: 'networking',
    IngressClass: 'networking', IPAddress: 'networking', ServiceCIDR: 'networking',
    PodDisruptionBudget: 'policy', HorizontalPodAutoscaler: 'autoscaling', Scale: 'autoscaling',
    VolumeAttachment: 'storage', CSIDriver: 'storage', CSINode: 'storage',
  };
  const out: Record<string, string[]> = {};
  for (const k of spec) out[`io.k8s.api.${groups[k] ?? 'core'}.v1.${k}`] = ['metadata', 'spec'];
  const more: Record<string, string[]> = {
    'apps.v1.DeploymentSpec': ['template', 'strategy'],
    'apps.v1.ReplicaSetSpec': ['template'],
    'apps.v1.StatefulSetSpec': ['template', 'updateStrategy'],
    'apps.v1.DaemonSetSpec': ['template', 'updateStrategy'],
    'batch.v1.JobSpec': ['template'],
    'batch.v1.CronJobSpec': ['jobTemplate'],
    'batch.v1.JobTemplateSpec': ['metadata', 'spec'],
    'core.v1.PodTemplateSpec': ['metadata', 'spec'],
    'core.v1.PodTemplate': ['metadata', 'template'],
    'core.v1.PersistentVolumeClaimTemplate': ['metadata', 'spec'],
    'core.v1.PersistentVolumeClaimSpec': ['resources'],
    'core.v1.Container': ['resources'],
    'core.v1.EphemeralContainer': ['resources'],
    'core.v1.Event': ['metadata', 'involvedObject', 'source'],
    'events.v1.Event': ['metadata', 'regarding', 'deprecatedSource'],
    'rbac.v1.RoleBinding': ['metadata', 'roleRef'],
    'rbac.v1.ClusterRoleBinding': ['metadata', 'roleRef'],
    'networking.v1.NetworkPolicySpec': ['podSelector'],
    'core.v1.ServiceStatus': ['loadBalancer'],
    'core.v1.WeightedPodAffinityTerm': ['podAffinityTerm'],
    'core.v1.PreferredSchedulingTerm': ['preference'],
  };
  for (const [k, v] of Object.entries(more)) out[`io.k8s.api.${k}`] = v;
  return out;
})();

const RAW_EXTENSION = 'io.k8s.apimachinery.pkg.runtime.RawExtension';
// Non-omitempty list/pointer fields: an empty typed object carries them as null, so a create
// records the list's items but no `.` for the list itself.
const ALWAYS_NULL: Record<string, string[]> = {
  'io.k8s.api.apps.v1.DeploymentSpec': ['selector'],
  'io.k8s.api.apps.v1.ReplicaSetSpec': ['selector'],
  'io.k8s.api.apps.v1.StatefulSetSpec': ['selector'],
  'io.k8s.api.apps.v1.DaemonSetSpec': ['selector'],
  'io.k8s.api.core.v1.PodSpec': ['containers'],
  'io.k8s.api.core.v1.LimitRangeSpec': ['limits'],
  'io.k8s.api.rbac.v1.Role': ['rules'],
  'io.k8s.api.rbac.v1.ClusterRole': ['rules'],
  'io.k8s.api.discovery.v1.EndpointSlice': ['endpoints', 'ports'],
  'io.k8s.api.storage.v1.CSINodeSpec': ['drivers'],
};

const lastSegment = (ref: string) => ref.slice(ref.lastIndexOf('/') + 1);

/** One place in an object: the property schema that leads here and the schema it resolves to. */
export class Node {
  private children?: Map<string, Node>;
  private itemNode?: Node;
  private valueNode?: Node | null;

  constructor(
    private readonly nav: SchemaNav | null,
    /** the property (or items) schema, carrying the x-kubernetes-* keys of this place */
    private readonly site: Json | null,
    /** the resolved schema; null for a place the document does not describe */
    readonly def: Json | null,
    /** definition name when this place is a named type, else '' */
    readonly name: string,
  ) {}

  /** True where the document says nothing: lists behave atomically, maps granularly. */
  get unknown(): boolean { return this.def === null; }

  get kind(): NodeKind {
    const d = this.def;
    if (!d || this.name === RAW_EXTENSION) return 'untyped';
    switch (d.type) {
      case 'object': return 'object';
      case 'array': return 'array';
      case 'string': case 'integer': case 'number': case 'boolean': return 'scalar';
      default: return d.properties || d.additionalProperties ? 'object' : d.items ? 'array' : 'untyped';
    }
  }

  private ext(key: string): unknown {
    return this.site?.[key] ?? this.def?.[key];
  }

  /** `x-kubernetes-patch-strategy` split on commas ([] when absent). */
  get patchStrategies(): string[] {
    const s = this.site?.['x-kubernetes-patch-strategy'];
    return typeof s === 'string' && s ? s.split(',') : [];
  }
  get patchMergeKey(): string {
    const k = this.site?.['x-kubernetes-patch-merge-key'];
    return typeof k === 'string' ? k : '';
  }
  get listType(): ListType | undefined {
    return this.ext('x-kubernetes-list-type') as ListType | undefined;
  }
  get listMapKeys(): string[] | undefined {
    const k = this.ext('x-kubernetes-list-map-keys');
    return Array.isArray(k) ? k.filter((x) => typeof x === 'string') : undefined;
  }
  get mapType(): MapType | undefined {
    return this.ext('x-kubernetes-map-type') as MapType | undefined;
  }

  /** Server-side apply's view of a list (kube-openapi schemaconv): atomic, or associative by keys. */
  get listSemantics(): { associative: boolean; keys: string[] } {
    const lt = this.listType;
    if (lt === 'atomic') return { associative: false, keys: [] };
    if (lt === 'set') return { associative: true, keys: [] };
    if (lt === 'map') return { associative: true, keys: this.listMapKeys ?? [] };
    const ps = this.site?.['x-kubernetes-patch-strategy'];
    if (ps === 'merge' || ps === 'merge,retainKeys') {
      const mk = this.patchMergeKey;
      return { associative: true, keys: mk ? [mk] : [] };
    }
    return { associative: false, keys: [] };
  }

  /** Server-side apply's view of a map: atomic maps are owned and replaced as one value. */
  get atomicMap(): boolean {
    return this.name === RAW_EXTENSION || this.mapType === 'atomic';
  }

  /** A declared property (not a map entry). */
  hasField(name: string): boolean {
    const p = this.def?.properties;
    return !!p && Object.prototype.hasOwnProperty.call(p, name);
  }

  /** Whether keys outside `properties` are allowed (maps, or objects the document leaves open). */
  get openMap(): boolean {
    const d = this.def;
    if (!d) return true;
    const ap = d.additionalProperties;
    if (ap === undefined) return !d.properties || Object.keys(d.properties).length === 0;
    return ap !== false;
  }

  /** Child node for a property, or the value node of a map; never throws. */
  field(name: string): Node {
    const props = this.def?.properties;
    if (props && Object.prototype.hasOwnProperty.call(props, name)) {
      let c = this.children?.get(name);
      if (!c) {
        c = this.make(props[name]);
        (this.children ??= new Map()).set(name, c);
      }
      return c;
    }
    return this.values();
  }

  /** Value node of a map (additionalProperties); unknown when the map is untyped. */
  values(): Node {
    if (this.valueNode === undefined) {
      const ap = this.def?.additionalProperties;
      this.valueNode = ap && typeof ap === 'object' ? this.make(ap) : null;
    }
    return this.valueNode ?? UNKNOWN;
  }

  /** Item node of an array. */
  items(): Node {
    if (!this.itemNode) {
      const it = this.def?.items;
      this.itemNode = it && typeof it === 'object' && !Array.isArray(it) ? this.make(it) : UNKNOWN;
    }
    return this.itemNode;
  }

  /** Default of a list-map key field, used when an item omits it. */
  keyDefault(field: string): unknown {
    const d = this.def?.properties?.[field]?.default;
    if (d !== undefined) return d;
    return KEY_DEFAULTS[this.name]?.[field];
  }

  /** Properties that an empty typed object of this type still carries as `{}`. */
  alwaysPresent(): string[] {
    const props = this.def?.properties;
    if (!props) return [];
    const out = new Set(ALWAYS_PRESENT[this.name] ?? []);
    for (const [k, v] of Object.entries(props)) {
      const dflt = (v as Json).default;
      if (dflt && typeof dflt === 'object' && !Array.isArray(dflt) && Object.keys(dflt).length === 0) out.add(k);
    }
    return [...out].filter((k) => k in props);
  }

  /** Properties that an empty typed object carries as null (required lists and pointers). */
  alwaysNull(): string[] {
    return ALWAYS_NULL[this.name] ?? [];
  }

  private make(site: Json): Node {
    if (!this.nav) return UNKNOWN;
    return this.nav.resolveSite(site);
  }
}

/** The node for places the document does not describe. */
export const UNKNOWN: Node = new Node(null, null, null, '');

export class SchemaNav {
  private roots = new Map<string, Node>();

  constructor(readonly definitions: Record<string, any>) {}

  /** Node for a named definition, e.g. `io.k8s.api.apps.v1.Deployment`; unknown if absent. */
  root(definitionName: string): Node {
    let n = this.roots.get(definitionName);
    if (!n) {
      const def = this.definitions[definitionName];
      n = def && typeof def === 'object' ? new Node(this, null, def, definitionName) : UNKNOWN;
      this.roots.set(definitionName, n);
    }
    return n;
  }

  /** @internal a property schema becomes a node; `$ref` (or v3 `allOf: [{$ref}]`) is followed. */
  resolveSite(site: Json): Node {
    let ref: string | undefined = site.$ref;
    if (!ref && Array.isArray(site.allOf) && site.allOf.length === 1) ref = site.allOf[0]?.$ref;
    if (!ref) return new Node(this, site, site, '');
    // Named types are shared: a site without extensions of its own can reuse the root node.
    const name = lastSegment(ref);
    const target = this.root(name);
    const hasOwnExt = Object.keys(site).some((k) => k.startsWith('x-kubernetes-') || k === 'default');
    if (!hasOwnExt) return target;
    return new Node(this, site, target.def, target.unknown ? '' : name);
  }
}
