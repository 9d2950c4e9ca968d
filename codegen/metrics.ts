// The resource metrics API (metrics.k8s.io/v1beta1, what `kubectl top` and dashboards read). On a
// real cluster metrics-server serves it behind the aggregator, so the upstream document has no
// trace of it; this adds its paths and types, written the way metrics-server publishes them, to
// the document before trimming, so that discovery, OpenAPI and the operation table come out of
// the same build as everything else. Only get and list exist, as on metrics-server.
import { CodegenError, type Swagger } from './upstream.ts';

const GROUP = 'metrics.k8s.io';
const VERSION = 'v1beta1';
const PKG = 'io.k8s.metrics.pkg.apis.metrics.v1beta1';
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const TAG = 'metrics_v1beta1';

const ref = (name: string) => ({ $ref: `#/definitions/${name}` });
const gvk = (kind: string) => ({ group: GROUP, kind, version: VERSION });

const typeMeta = {
  apiVersion: { description: 'APIVersion defines the versioned schema of this representation of an object.', type: 'string' },
  kind: { description: 'Kind is a string value representing the REST resource this object represents.', type: 'string' },
};

const usage = {
  description: 'The memory and CPU usage: working set bytes and cores, averaged over the window.',
  type: 'object', additionalProperties: ref('io.k8s.apimachinery.pkg.api.resource.Quantity'),
};

const sample = {
  timestamp: { ...ref(`${META}.Time`), description: 'The end of the window the usage was measured over.' },
  window: { description: 'The length of the window, a Go duration.', type: 'string' },
};

function list(kind: string, what: string) {
  return {
    description: `${kind}List is a list of ${kind}.`,
    properties: { ...typeMeta, metadata: ref(`${META}.ListMeta`), items: { description: `List of ${what} metrics.`, items: ref(`${PKG}.${kind}`), type: 'array' } },
    required: ['items'], type: 'object',
    'x-kubernetes-group-version-kind': [gvk(`${kind}List`)],
  };
}

export const METRICS_DEFINITIONS: Record<string, unknown> = {
  [`${PKG}.ContainerMetrics`]: {
    description: 'ContainerMetrics sets resource usage metrics of a container.',
    properties: { name: { description: 'Container name corresponding to the one from pod.spec.containers.', type: 'string' }, usage },
    required: ['name', 'usage'], type: 'object',
  },
  [`${PKG}.NodeMetrics`]: {
    description: 'NodeMetrics sets resource usage metrics of a node.',
    properties: { ...typeMeta, metadata: ref(`${META}.ObjectMeta`), ...sample, usage },
    required: ['timestamp', 'window', 'usage'], type: 'object',
    'x-kubernetes-group-version-kind': [gvk('NodeMetrics')],
  },
  [`${PKG}.NodeMetricsList`]: list('NodeMetrics', 'node'),
  [`${PKG}.PodMetrics`]: {
    description: 'PodMetrics sets resource usage metrics of a pod.',
    properties: {
      ...typeMeta, metadata: ref(`${META}.ObjectMeta`), ...sample,
      containers: { description: 'Metrics for all containers are collected within the same time window.', items: ref(`${PKG}.ContainerMetrics`), type: 'array', 'x-kubernetes-list-type': 'atomic' },
    },
    required: ['timestamp', 'window', 'containers'], type: 'object',
    'x-kubernetes-group-version-kind': [gvk('PodMetrics')],
  },
  [`${PKG}.PodMetricsList`]: list('PodMetrics', 'pod'),
};

/** The upstream document with the metrics API added; the input is not changed. */
export function withMetricsAPI(upstream: Swagger): Swagger {
  const param = (name: string) => {
    const key = Object.keys(upstream.parameters).find((k) => k.split('-')[0] === name && upstream.parameters[k].name === name);
    if (!key) throw new CodegenError(`upstream document: no shared parameter "${name}" for the metrics API`);
    return { $ref: `#/parameters/${key}` };
  };
  const listParams = ['continue', 'fieldSelector', 'labelSelector', 'limit', 'pretty', 'resourceVersion', 'resourceVersionMatch', 'timeoutSeconds'].map(param);
  const nameParam = (kind: string) => ({ description: `name of the ${kind}`, in: 'path', name: 'name', required: true, type: 'string', uniqueItems: true });
  const op = (action: 'get' | 'list', kind: string, scope: string, id: string) => ({
    get: {
      consumes: ['*/*'],
      description: action === 'list' ? `list objects of kind ${kind}${scope}` : `read the specified ${kind}`,
      operationId: id,
      produces: ['application/json', 'application/yaml'],
      responses: { 200: { description: 'OK', schema: ref(`${PKG}.${kind}${action === 'list' ? 'List' : ''}`) }, 401: { description: 'Unauthorized' } },
      schemes: ['https'], tags: [TAG],
      'x-kubernetes-action': action,
      'x-kubernetes-group-version-kind': gvk(kind),
    },
  });
  const discovery = (id: string, schema: string, description: string) => ({
    get: {
      consumes: ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'],
      description, operationId: id,
      produces: ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'],
      responses: { 200: { description: 'OK', schema: ref(`${META}.${schema}`) }, 401: { description: 'Unauthorized' } },
      schemes: ['https'], tags: [id.endsWith('APIGroup') ? 'metrics' : TAG],
    },
  });
  const base = `/apis/${GROUP}/${VERSION}`;
  const paths: Swagger['paths'] = {
    [`/apis/${GROUP}/`]: discovery('getMetricsAPIGroup', 'APIGroup', 'get information of a group'),
    [`${base}/`]: discovery('getMetricsV1beta1APIResources', 'APIResourceList', 'get available resources'),
    [`${base}/namespaces/{namespace}/pods`]: { ...op('list', 'PodMetrics', '', 'listMetricsV1beta1NamespacedPodMetrics'), parameters: [param('namespace'), ...listParams] },
    [`${base}/namespaces/{namespace}/pods/{name}`]: { ...op('get', 'PodMetrics', '', 'readMetricsV1beta1NamespacedPodMetrics'), parameters: [nameParam('PodMetrics'), param('namespace'), param('pretty')] },
    [`${base}/nodes`]: { ...op('list', 'NodeMetrics', '', 'listMetricsV1beta1NodeMetrics'), parameters: listParams },
    [`${base}/nodes/{name}`]: { ...op('get', 'NodeMetrics', '', 'readMetricsV1beta1NodeMetrics'), parameters: [nameParam('NodeMetrics'), param('pretty')] },
    [`${base}/pods`]: { ...op('list', 'PodMetrics', ' in all namespaces', 'listMetricsV1beta1PodMetricsForAllNamespaces'), parameters: listParams },
  };
  for (const p of Object.keys(paths)) if (upstream.paths[p]) throw new CodegenError(`upstream document already has ${p}`);
  return {
    ...upstream,
    paths: { ...upstream.paths, ...paths },
    definitions: { ...upstream.definitions, ...METRICS_DEFINITIONS },
  };
}
