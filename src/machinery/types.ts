// Shapes shared by every layer. KindInfo is what codegen writes to generated/kinds.json.

export interface ObjectMeta {
  name?: string; generateName?: string; namespace?: string; uid?: string;
  resourceVersion?: string; generation?: number; creationTimestamp?: string;
  deletionTimestamp?: string; deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>; annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[]; finalizers?: string[];
  managedFields?: ManagedFieldsEntry[];
  [k: string]: unknown;
}
export interface OwnerReference {
  apiVersion: string; kind: string; name: string; uid: string;
  controller?: boolean; blockOwnerDeletion?: boolean;
}
export interface ManagedFieldsEntry {
  manager?: string; operation?: 'Apply' | 'Update'; apiVersion?: string; time?: string;
  fieldsType?: 'FieldsV1'; fieldsV1?: Record<string, unknown>; subresource?: string;
}
export interface KObject {
  apiVersion?: string; kind?: string; metadata: ObjectMeta;
  [k: string]: unknown;
}

/** A Table column as kubectl shows it; `path` is how the cell is computed (see machinery/table.ts). */
export interface ColumnInfo {
  name: string; type: string; format?: string; description?: string; priority?: number;
  /** JSONPath-like expression (`.spec.type`) or a named computed cell (`@age`). */
  path: string;
}

export interface KindInfo {
  group: string;            // '' for core
  version: string;
  kind: string;             // ConfigMap
  plural: string;           // configmaps
  singular: string;         // configmap
  namespaced: boolean;
  verbs: string[];          // discovery verbs
  shortNames: string[];
  categories: string[];
  subresources: string[];   // ['status'] ...
  /** definition name in the trimmed spec, e.g. io.k8s.api.core.v1.ConfigMap */
  definition: string;
  listKind: string;         // ConfigMapList
  columns: ColumnInfo[];
  /** field paths usable in fieldSelector besides metadata.name / metadata.namespace */
  selectableFields: string[];
  /** served only as POST (SelfSubjectAccessReview): nothing stored */
  createOnly?: boolean;
  /** stored and served, but nothing on one node acts on it: writes get a Warning header */
  inert?: boolean;
}
