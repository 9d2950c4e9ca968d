// The everyday kubectl verbs across every kubectl version on this machine, against one server:
// old clients differ in discovery (aggregated v2beta1 vs v2), OpenAPI use and apply paths.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import YAML from 'yaml';
import { kubectl, kubectlOk, kubectlPath, startServer, uniqueName, type KubectlVersion, type Server } from './harness.ts';

const versions: KubectlVersion[] = ['1.27', '1.28', '1.29', '1.30', '1.31', '1.32', '1.33', '1.35'];

let server: Server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

function manifest(name: string, data: Record<string, string>): string {
  // Quoted: kubectl reads YAML 1.1, where a bare `y` is a boolean.
  return YAML.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data },
    { defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'PLAIN' });
}

for (const version of versions) {
  test(`kubectl ${version}: version, api-resources, create, get, apply, delete`, async (t) => {
    if (!kubectlPath(version)) {
      t.skip(`kubectl ${version} not on this machine`);
      return;
    }
    const k = (args: string[], input?: string) => kubectlOk(server, args, { version, input });
    try {
      const v = JSON.parse((await k(['version', '-o', 'json'])).stdout);
      assert.match(v.clientVersion.gitVersion, new RegExp(`^v${version.replace('.', '\\.')}\\.`));
      assert.match(v.serverVersion.gitVersion, /^v1\.\d+\.\d+/);

      // Exits non-zero when any advertised group fails its own discovery.
      const res = (await k(['api-resources'])).stdout;
      assert.match(res, /^NAME\s+SHORTNAMES\s+APIVERSION\s+NAMESPACED\s+KIND\s*$/m);
      const rows = res.trim().split('\n').slice(1);
      assert.ok(rows.some((r) => /^configmaps\s+cm\s+v1\s+true\s+ConfigMap$/.test(r)), `no configmaps row in\n${res}`);
      assert.ok(rows.some((r) => /^namespaces\s+ns\s+v1\s+false\s+Namespace$/.test(r)), `no namespaces row in\n${res}`);
      // A named group answers beside the core group (/apis as well as /api).
      assert.ok(rows.some((r) => /^\S+\s+(\S+\s+)?[a-z0-9.-]+\/v\d\w*\s+(true|false)\s+\S+$/.test(r)), `no group row in\n${res}`);

      const created = uniqueName(`cm-${version.replace('.', '')}`);
      const c = await k(['create', 'configmap', created, '--from-literal=a=1', '--from-literal=b=two']);
      assert.equal(c.stdout.trim(), `configmap/${created} created`);

      const got = YAML.parse((await k(['get', 'cm', created, '-o', 'yaml'])).stdout);
      assert.equal(got.apiVersion, 'v1');
      assert.equal(got.kind, 'ConfigMap');
      assert.equal(got.metadata.name, created);
      assert.equal(got.metadata.namespace, 'default');
      assert.deepEqual(got.data, { a: '1', b: 'two' });
      assert.match(got.metadata.uid, /^[0-9a-f-]{36}$/);
      assert.match(got.metadata.resourceVersion, /^\d+$/);
      assert.ok(!Number.isNaN(Date.parse(got.metadata.creationTimestamp)), got.metadata.creationTimestamp);

      const applied = uniqueName(`ap-${version.replace('.', '')}`);
      const a1 = await k(['apply', '-f', '-'], manifest(applied, { x: 'y' }));
      assert.equal(a1.stdout.trim(), `configmap/${applied} created`);
      const a2 = await k(['apply', '-f', '-'], manifest(applied, { x: 'z', w: 'v' }));
      assert.equal(a2.stdout.trim(), `configmap/${applied} configured`);
      const a3 = await k(['apply', '-f', '-'], manifest(applied, { x: 'z', w: 'v' }));
      assert.equal(a3.stdout.trim(), `configmap/${applied} unchanged`);
      const live = JSON.parse((await k(['get', 'configmap', applied, '-o', 'json'])).stdout);
      assert.deepEqual(live.data, { x: 'z', w: 'v' });
      const last = JSON.parse(live.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']);
      assert.deepEqual(last.data, { x: 'z', w: 'v' });

      const d = await k(['delete', 'configmap', created, applied]);
      assert.match(d.stdout, new RegExp(`^configmap "${created}" deleted`, 'm'));
      assert.match(d.stdout, new RegExp(`^configmap "${applied}" deleted`, 'm'));
      const gone = await kubectl(server, ['get', 'cm', created], { version });
      assert.equal(gone.code, 1);
      assert.match(gone.stderr, new RegExp(`Error from server \\(NotFound\\): configmaps "${created}" not found`));
    } catch (e) {
      const tail = server.logs().split('\n').slice(-40).join('\n');
      (e as Error).message += `\n--- last server output ---\n${tail}`;
      throw e;
    }
  });
}
