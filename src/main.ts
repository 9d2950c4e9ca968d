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
import type { KindInfo } from './machinery/types.ts';
import { createApp } from './server/app.ts';
import { handlers } from './api/index.ts';
import type { ApiContext } from './api/generic.ts';
import { configMaps, ensureSystemObjects, namespaces, secrets } from './api/core.ts';
import { coreEvents, eventsV1, nodes, selfSubjectAccessReviews, selfSubjectRulesReviews } from './api/cluster.ts';
import { Validator, validateObjectMeta } from './machinery/validation.ts';
import { SchemaNav } from './machinery/schema.ts';
import { updateManagedFields } from './machinery/patch/index.ts';

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
  if (has('namespaces')) registry.setStrategy('namespaces', namespaces(registry));
  if (has('nodes')) registry.setStrategy('nodes', nodes(registry, engine, cfg));
  if (has('events')) registry.setStrategy('events', coreEvents(registry));
  if (has('events.events.k8s.io')) registry.setStrategy('events.events.k8s.io', eventsV1());
  if (has('selfsubjectaccessreviews.authorization.k8s.io')) registry.setStrategy('selfsubjectaccessreviews.authorization.k8s.io', selfSubjectAccessReviews);
  if (has('selfsubjectrulesreviews.authorization.k8s.io')) registry.setStrategy('selfsubjectrulesreviews.authorization.k8s.io', selfSubjectRulesReviews);
  await ensureSystemObjects(registry);

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
  const app = createApp({ ctx, token: tls.token, version: () => version, ready: () => engine.available && !shuttingDown, kinds, handlers });
  const server = createServer({ cert: tls.certPem, key: tls.keyPem, ca: tls.caPem }, app);
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
  log('ready', { address: cfg.address, port: cfg.port, kubeconfig, startupMs: Date.now() - started, objects: initial.objects.length });

}

main().catch((err) => {
  process.stderr.write(`k2d: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
