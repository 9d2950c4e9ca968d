// Entry: read the configuration, check the engine, open the store, serve.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { readConfig } from './config.ts';
import { log } from './log.ts';
import { generatedPath } from './paths.ts';
import { Engine } from './docker/engine.ts';
import { loadOrCreateTls, writeKubeconfig } from './server/tls.ts';
import { ObjectStore } from './store/store.ts';
import { Registry } from './machinery/registry.ts';
import type { KindInfo, KObject } from './machinery/types.ts';
import { createApp, tokenMatches } from './server/app.ts';
import { makeHandlers } from './api/index.ts';
import { handlePodUpgrade, type PodIO } from './api/podstreams.ts';
import { pods as podStrategy } from './api/pods.ts';
import { PodController } from './runtime/pods.ts';
import { createAdoptEngine, createPodEngine, createPodIO } from './runtime/adapter.ts';
import { Adopter } from './runtime/adopt.ts';
import { createRouter } from './server/router.ts';
import { operations, type OperationId } from '../generated/operations.ts';
import type { ApiContext } from './api/generic.ts';
import { configMaps, ensureSystemObjects, namespaces, publishRootCA, secrets } from './api/core.ts';
import { coreEvents, eventsV1, nodes, selfSubjectAccessReviews, selfSubjectRulesReviews, selfSubjectReviews } from './api/cluster.ts';
import { Validator, validateObjectMeta } from './machinery/validation.ts';
import { SchemaNav } from './machinery/schema.ts';
import { updateManagedFields } from './machinery/patch/index.ts';
import { setupStorage } from './api/storage.ts';
import { setupWorkloads } from './api/workloads.ts';
import { setupAutoscaling } from './api/autoscaling.ts';
import { setupBatch } from './api/batch.ts';
import { setupSets } from './api/sets.ts';
import { setupServices } from './api/services.ts';
import { setupAdmission } from './api/admission.ts';
import { Metrics } from './runtime/metrics.ts';
import { notFound } from './machinery/errors.ts';

const VERSION = '0.1.0';

function platform(): string {
  const arch = ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386' } as Record<string, string>)[process.arch] ?? process.arch;
  return `${process.platform}/${arch}`;
}

async function main(): Promise<void> {
  const started = Date.now();
  const cfg = readConfig();
  const engine = new Engine();
  try {
    await engine.ping();
  } catch (err) {
    const where = cfg.dockerHost ?? 'unix:///var/run/docker.sock';
    process.stderr.write(`k2d: cannot reach the Docker engine at ${where}: ${(err as Error).message}\n` +
      'k2d: start the engine (or set DOCKER_HOST) and try again.\n');
    process.exit(1);
  }
  const tls = await loadOrCreateTls(cfg);
  const store = new ObjectStore(cfg.dataDir, { encryptedResources: ['secrets'] });
  const initial = store.open();
  const kinds = JSON.parse(readFileSync(generatedPath('kinds.json'), 'utf8')) as KindInfo[];

  // Definitions are big; they load on the first write that needs them, not at start.
  let definitions: Record<string, unknown> | undefined;
  const defs = () => (definitions ??= (JSON.parse(readFileSync(generatedPath('schemas.json'), 'utf8')) as { definitions: Record<string, unknown> }).definitions);
  let nav: SchemaNav | undefined;
  const schema = () => (nav ??= new SchemaNav(defs()));
  let validator: Validator | undefined;

  const registry = new Registry(kinds, store, initial, {
    managedFields: (kind, before, after, manager, now, subresource) =>
      updateManagedFields({ before, after, manager, operation: 'Update', apiVersion: kind.group ? `${kind.group}/${kind.version}` : kind.version, now, subresource, node: schema().root(kind.definition) }),
    validateMeta: (kind, obj) => (kind.createOnly ? [] : validateObjectMeta(kind, obj)),
  });
  const has = (r: string) => registry.kinds.has(r);
  if (has('configmaps')) registry.setStrategy('configmaps', configMaps);
  if (has('secrets')) registry.setStrategy('secrets', secrets);
  if (has('namespaces')) registry.setStrategy('namespaces', namespaces(registry, tls.caPem));
  if (has('nodes')) registry.setStrategy('nodes', nodes(registry, engine, cfg));
  if (has('events')) registry.setStrategy('events', coreEvents(registry));
  if (has('events.events.k8s.io')) registry.setStrategy('events.events.k8s.io', eventsV1());
  if (has('selfsubjectaccessreviews.authorization.k8s.io')) registry.setStrategy('selfsubjectaccessreviews.authorization.k8s.io', selfSubjectAccessReviews);
  if (has('selfsubjectrulesreviews.authorization.k8s.io')) registry.setStrategy('selfsubjectrulesreviews.authorization.k8s.io', selfSubjectRulesReviews);
  if (has('selfsubjectreviews.authentication.k8s.io')) registry.setStrategy('selfsubjectreviews.authentication.k8s.io', selfSubjectReviews);
  await ensureSystemObjects(registry, tls.caPem);
  if (has('configmaps')) publishRootCA(registry, tls.caPem);
  // metrics.k8s.io (`kubectl top`): computed from the engine's stats on each read, never stored.
  const metrics = new Metrics(registry, engine, cfg);
  // A name without metrics is metrics-server's NotFound, which names the resource podmetrics / nodemetrics.
  const found = async (list: Promise<KObject[]>, resource: string, name: string | undefined) => {
    const items = await list;
    if (name && !items.length) throw notFound(resource, 'metrics.k8s.io', name);
    return items;
  };
  if (has('pods.metrics.k8s.io')) {
    registry.setStrategy('pods.metrics.k8s.io', { computed: (ns, name) => found(metrics.pods(ns, name), 'podmetrics', name && `${ns}/${name}`) });
  }
  if (has('nodes.metrics.k8s.io')) registry.setStrategy('nodes.metrics.k8s.io', { computed: (_ns, name) => found(metrics.nodes(name), 'nodemetrics', name) });

  // Pods: the controller converges stored pods with the engine; PodIO serves logs/exec/attach/port-forward.
  const podEngine = createPodEngine(engine, cfg);
  const podIO: PodIO = createPodIO(engine, registry, cfg);
  let controller: PodController | undefined;
  let adopter: Adopter | undefined;
  if (has('pods')) {
    registry.setStrategy('pods', podStrategy({
      nodeName: () => podEngine.nodeName(),
      planEnv: (pod) => podEngine.validationEnv(pod, registry),
    }));
    controller = new PodController(registry, podEngine, cfg.instance);
    engine.on('event', (ev) => controller!.onEngineEvent(ev));
    adopter = new Adopter(registry, createAdoptEngine(engine, cfg));
    engine.on('event', (ev) => adopter!.onEngineEvent(ev));
    for (const r of ['configmaps', 'secrets']) {
      registry.hub.add({ resource: r, onChange: (c) => { void controller!.refreshFiles(c.object.metadata.namespace!); } });
    }
  }
  await setupStorage(registry, engine, cfg);
  setupAutoscaling(registry);
  setupAdmission(registry);
  const workloads = setupWorkloads(registry);
  const batch = setupBatch(registry);
  const sets = setupSets(registry);
  const services = await setupServices(registry, engine, cfg, () => podEngine.nodeName());
  if (services && controller) services.attach(controller);

  let shuttingDown = false;
  const ctx: ApiContext = {
    registry,
    get validator() { return (validator ??= new Validator(defs() as ConstructorParameters<typeof Validator>[0])); },
    get schema() { return schema(); },
    watches: new Set(),
    shuttingDown: () => shuttingDown,
  };

  void engine.watch();
  const version = {
    major: '1', minor: '36', gitVersion: `v1.36.0-k2d.${VERSION}`, gitCommit: 'k2d', gitTreeState: 'clean',
    buildDate: '2026-11-25T00:00:00Z', goVersion: `node${process.versions.node}`, compiler: 'k2d', platform: platform(),
  };
  const router = createRouter();
  const app = createApp({ ctx, token: tls.token, version: () => version, ready: () => engine.available && !shuttingDown, kinds, handlers: makeHandlers(() => podIO), router });
  const server = createServer({ cert: tls.certPem, key: tls.keyPem, ca: tls.caPem }, app);
  // exec, attach and port-forward arrive as upgrades (WebSocket or SPDY), outside express.
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'https://x');
    if (!tokenMatches(req.headers.authorization, tls.token)) { socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n'); return; }
    const m = router.match(req.method ?? 'GET', url.pathname);
    const op = m && (operations[m.operationId as OperationId] as { action: string; subresource?: string; resource: string });
    if (!m || !op || op.action !== 'connect' || op.resource !== 'pods') {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    log('upgrade', { method: req.method, path: url.pathname });
    handlePodUpgrade(registry, podIO, req, socket, head, op.subresource as 'exec' | 'attach' | 'portforward', m.params.namespace, m.params.name);
  });
  server.keepAliveTimeout = 65_000;
  server.requestTimeout = 0; // watches and log streams are long-lived
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(cfg.port, cfg.address, () => resolve());
  });
  const shutdown = (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log('shutting down', { signal });
    server.close(() => {
      controller?.stop();
      workloads?.stop();
      batch?.stop();
      sets?.stop();
      services?.stop();
      engine.close();
      store.close();
      log('stopped');
      process.exit(0);
    });
    for (const close of [...ctx.watches]) close();
    server.closeIdleConnections();
    // In-flight requests get a moment to finish; then we go regardless.
    setTimeout(() => { server.closeAllConnections(); }, 5000).unref();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  const kubeconfig = writeKubeconfig(cfg, tls);
  if (controller) await controller.start();
  services?.start();
  if (adopter) await adopter.start().catch((e) => log('adopt failed', { level: 'warn', error: (e as Error).message }));
  log('ready', { address: cfg.address, port: cfg.port, kubeconfig, startupMs: Date.now() - started, objects: initial.objects.length });

}

main().catch((err) => {
  process.stderr.write(`k2d: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
