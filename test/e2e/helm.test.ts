// Helm and real manifests, end to end (issue 4 part 4): the three-tier chart
// test/fixtures/charts/tiers (web -> api -> cache through Service DNS names, hook Jobs) driven by
// the real Helm 4.1 (server-side apply, kstatus waiting by watch) and Helm 3.16 (client-side
// apply, its own readiness polling), `helm template | kubectl apply`, and the plain manifests of
// test/fixtures/manifests applied by kubectl 1.35 and 1.31. Every flow ends with the web page
// answering on the web Service's NodePort on 127.0.0.1, which only works when Deployments,
// ConfigMap/Secret volumes and env, Services (DNS, relays, endpoints) and NodePorts all do.
import assert from 'node:assert/strict';
import { get } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  docker, helm, helmOk, kubectl, kubectlOk, repoRoot, startServer, uniqueName, waitFor,
  type KubectlVersion, type Server,
} from './harness.ts';

const chart = join(repoRoot, 'test', 'fixtures', 'charts', 'tiers');
const manifests = join(repoRoot, 'test', 'fixtures', 'manifests');

let s: Server;
const namespaces: string[] = [];

before(async () => {
  s = await startServer();
});

after(async () => {
  // The harness removes the server's Docker objects and data; this only tidies the API side
  // while the server still runs.
  if (s?.running() && namespaces.length) {
    await kubectl(s, ['delete', 'namespace', ...namespaces, '--wait=false', '--ignore-not-found'], { timeoutMs: 20_000 }).catch(() => undefined);
  }
});

async function newNamespace(prefix: string, version: KubectlVersion = '1.35'): Promise<string> {
  const ns = uniqueName(prefix);
  await kubectlOk(s, ['create', 'namespace', ns], { version });
  namespaces.push(ns);
  return ns;
}

/** GET on 127.0.0.1:port; rejects on any network error or a non-200 answer. */
function httpGet(port: number, path: string): Promise<string> {
  return new Promise((ok, fail) => {
    const req = get({ host: '127.0.0.1', port, path, agent: false, timeout: 8000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => { body += c; });
      res.on('end', () => (res.statusCode === 200 ? ok(body) : fail(new Error(`HTTP ${res.statusCode}: ${body}`))));
      res.on('error', fail);
    });
    req.once('timeout', () => req.destroy(new Error(`no answer from 127.0.0.1:${port}${path} within 8 s`)));
    req.once('error', fail);
  });
}

async function getJson(ns: string, what: string[]): Promise<any> {
  return JSON.parse((await kubectlOk(s, ['get', ...what, '-n', ns, '-o', 'json'])).stdout);
}

async function nodePort(ns: string, svc: string): Promise<number> {
  const o = await getJson(ns, ['service', svc]);
  assert.equal(o.spec.type, 'NodePort');
  const p = o.spec.ports[0].nodePort;
  assert.ok(p >= 30000 && p <= 32767, `nodePort ${p}`);
  return p;
}

/** Waits until the page on the NodePort matches `want` (rollouts and proxies settle); returns it. */
async function pageMatches(port: number, want: RegExp, timeoutMs = 60_000): Promise<string> {
  let last = '';
  return waitFor(async () => {
    last = await httpGet(port, '/cgi-bin/page');
    return want.test(last) ? last : undefined;
  }, { timeoutMs, intervalMs: 500, what: `127.0.0.1:${port}/cgi-bin/page to match ${want} (last page: ${JSON.stringify(last)})` });
}

/** Every Deployment of the namespace Available with all replicas updated and available. */
async function allAvailable(ns: string, expected: number): Promise<void> {
  await waitFor(async () => {
    const list = (await getJson(ns, ['deployments'])).items as any[];
    if (list.length !== expected) return false;
    return list.every((d) => {
      const available = (d.status?.conditions ?? []).find((c: any) => c.type === 'Available')?.status === 'True';
      const want = d.spec.replicas ?? 1;
      return available && d.status.observedGeneration === d.metadata.generation
        && d.status.updatedReplicas === want && d.status.availableReplicas === want && d.status.readyReplicas === want;
    });
  }, { timeoutMs: 60_000, intervalMs: 500, what: `${expected} Deployments Available in ${ns}` });
}

/** Containers on the engine that belong to this namespace (pods' and Service proxies'). */
async function engineContainers(ns: string): Promise<string[]> {
  const names: string[] = [];
  for (const label of [`io.kubernetes.pod.namespace=${ns}`, `k2d.io/service-namespace=${ns}`]) {
    const r = await docker(['ps', '-a', '--filter', `label=k2d.io/instance=${s.instance}`, '--filter', `label=${label}`, '--format', '{{.Names}}']);
    assert.equal(r.code, 0, r.stderr);
    names.push(...r.stdout.split('\n').filter(Boolean));
  }
  return names;
}

/** What the NodePorts lead to, for a failure message: pods and their IPs, proxies and their backends. */
async function wiring(): Promise<string> {
  const pods = await kubectl(s, ['get', 'pods', '-A', '-o', 'wide']);
  const eps = await kubectl(s, ['get', 'endpoints', '-A']);
  const proxies = await docker(['ps', '-a', '--filter', `label=k2d.io/instance=${s.instance}`, '--filter', 'label=k2d.io/kind=service-proxy',
    '--format', '{{.Names}} {{.Ports}} {{.Command}}', '--no-trunc']);
  return [pods.stdout, eps.stdout, proxies.stdout].join('\n');
}

/** Events about one Job, as "Reason: message". */
async function jobEvents(ns: string, job: string): Promise<string[]> {
  const ev = await getJson(ns, ['events', '--field-selector', `involvedObject.kind=Job,involvedObject.name=${job}`]);
  return (ev.items as any[]).map((e) => `${e.reason}: ${e.message}`);
}

/** Helm with --debug (its log is in the error when it fails) and a bounded run time. */
function helmRun(version: 3 | 4, args: string[], timeoutMs = 120_000) {
  return helmOk(s, [...args, '--debug'], { version, timeoutMs });
}

interface Release { name: string; namespace: string; revision: string; status: string }

// Two flows at a time, each in its own namespace: Helm 4 beside Helm 3, then the rest. Most of
// their time is waiting (rollouts, probes, the failed upgrade's timeout), not work.
describe('Helm and real manifests', { concurrency: 2 }, () => {
  for (const version of [4, 3] as const) {
    test(`Helm ${version}: the tiers chart installs, upgrades, rolls back (also by itself after a failed upgrade) and uninstalls, serving the page throughout`, async (t) => {
      const ns = await newNamespace(`helm${version}-tiers`);
      const rel = `shop${version}`;
      let port = 0;
      let upgraded: any;

      await t.test('install --wait: release deployed, Deployments Available, pre-install Job ran and was deleted', async () => {
        const out = await helmRun(version, ['install', rel, chart, '-n', ns, '--wait', '--timeout', '90s']);
        assert.match(out.stdout, /STATUS: deployed/);
        assert.match(out.stdout, /REVISION: 1/);
        // --wait returned: everything must be up now, not later.
        const deps = (await getJson(ns, ['deployments'])).items as any[];
        assert.deepEqual(deps.map((d) => d.metadata.name).sort(), [`${rel}-api`, `${rel}-cache`, `${rel}-web`]);
        for (const d of deps) {
          assert.equal(d.status.conditions.find((c: any) => c.type === 'Available')?.status, 'True', `${d.metadata.name} Available`);
          assert.equal(d.status.availableReplicas, 1, `${d.metadata.name} availableReplicas`);
        }
        // The pre-install hook Job ran to completion, then Helm deleted it (hook-succeeded).
        assert.ok((await jobEvents(ns, `${rel}-migrate`)).some((e) => /^Completed: /.test(e)), 'the migrate Job completed');
        const job = await kubectl(s, ['get', 'job', `${rel}-migrate`, '-n', ns]);
        assert.equal(job.code, 1, `the migrate Job is deleted after it succeeded: ${job.stdout}`);
        assert.match(job.stderr, /NotFound/);
        await waitFor(async () => (await getJson(ns, ['pods', '-l', `job-name=${rel}-migrate`])).items.length === 0,
          { timeoutMs: 30_000, what: 'the migrate Job\'s pod collected' });
        // The post-install hook recorded the revision.
        const installed = await getJson(ns, ['configmap', `${rel}-installed`]);
        assert.deepEqual(installed.data, { revision: '1', greeting: 'hello' });
        // Helm 4 applies server-side, Helm 3 with client-side create/patch.
        const web = JSON.parse((await kubectlOk(s, ['get', 'deployment', `${rel}-web`, '-n', ns, '-o', 'json', '--show-managed-fields'])).stdout);
        const ops = (web.metadata.managedFields as any[]).filter((f) => /helm/.test(f.manager)).map((f) => f.operation);
        assert.ok(ops.includes(version === 4 ? 'Apply' : 'Update'), `helm's managedFields operations: ${ops}`);

        port = await nodePort(ns, `${rel}-web`);
        const page = await pageMatches(port, /says hello; cache says cached-v1/);
        if (!page.startsWith(`web ${rel}-web-`)) assert.fail(`127.0.0.1:${port} answered for another release:\n${page}\n${await wiring()}`);
        assert.match(page, new RegExp(`api ${rel}-api-\\S+ says hello; cache says cached-v1`));
      });

      await t.test('upgrade --wait with new values: the page shows them', async () => {
        const out = await helmRun(version, ['upgrade', rel, chart, '-n', ns, '--wait', '--timeout', '90s',
          '--set', 'greeting=howdy', '--set', 'cache.value=cached-v2']);
        assert.match(out.stdout, /has been upgraded/);
        await allAvailable(ns, 3);
        await pageMatches(port, /says howdy; cache says cached-v2/);
        upgraded = await getJson(ns, ['configmap', `${rel}-installed`]);
        assert.deepEqual(upgraded.data, { revision: '2', greeting: 'howdy' });
      });

      await t.test('rollback --wait to revision 1: the old values are back', async () => {
        const out = await helmRun(version, ['rollback', rel, '1', '-n', ns, '--wait', '--timeout', '90s']);
        assert.match(out.stdout, /Rollback was a success/);
        await allAvailable(ns, 3);
        await pageMatches(port, /says hello; cache says cached-v1/);
        // The post-rollback hook ran again: Helm replays revision 1's hooks, rendered as they were then.
        const rolled = await getJson(ns, ['configmap', `${rel}-installed`]);
        assert.deepEqual(rolled.data, { revision: '1', greeting: 'hello' });
        assert.notEqual(rolled.metadata.uid, upgraded.metadata.uid, 'the hook ConfigMap was made anew (before-hook-creation)');
      });

      await t.test(`a failing upgrade with ${version === 4 ? '--rollback-on-failure' : '--atomic'} exits non-zero and rolls back`, async () => {
        // An image that is not on the engine, and may not be pulled: the new pods never start.
        const upgrade = helm(s, ['upgrade', rel, chart, '-n', ns, version === 4 ? '--rollback-on-failure' : '--atomic',
          '--timeout', '30s', '--set', 'image.tag=k2d-absent', '--set', 'image.pullPolicy=Never', '--set', 'greeting=broken', '--debug'],
        { version, timeoutMs: 120_000 });
        let done = false;
        void upgrade.finally(() => { done = true; });
        // While Helm waits, the new pods cannot start (ErrImageNeverPull) and the rollout keeps the
        // old ones: the page keeps answering with the old values. (Bounded by Helm's own timeout.)
        let during = '';
        while (!done && !during) {
          const pods = (await getJson(ns, ['pods'])).items as any[];
          if (pods.some((p) => p.status?.containerStatuses?.some((c: any) => c.state?.waiting?.reason === 'ErrImageNeverPull'))) {
            during = await pageMatches(port, /says hello; cache says cached-v1/, 10_000);
          } else await new Promise((ok) => setTimeout(ok, 500));
        }
        const r = await upgrade;
        assert.ok(during, `no new pod waited with ErrImageNeverPull while helm ran:\n${r.stderr}`);
        assert.notEqual(r.code, 0, `the upgrade must fail:\n${r.stdout}`);
        assert.match(r.stderr, /UPGRADE FAILED/);
        assert.match(r.stderr, /rolled back/i);
        const hist = JSON.parse((await helmOk(s, ['history', rel, '-n', ns, '-o', 'json'], { version })).stdout) as Array<{ revision: number; status: string; description: string }>;
        const last = hist.slice(-2);
        assert.deepEqual(last.map((h) => [h.revision, h.status]), [[4, 'failed'], [5, 'deployed']], JSON.stringify(hist));
        assert.match(last[1].description, /Rollback to 3/);
        await allAvailable(ns, 3);
        const images = ((await getJson(ns, ['deployments'])).items as any[]).map((d) => d.spec.template.spec.containers[0].image);
        assert.deepEqual(images, ['busybox:latest', 'busybox:latest', 'busybox:latest']);
        await pageMatches(port, /says hello; cache says cached-v1/);
      });

      await t.test('status, history and list -A show the revisions', async () => {
        const st = await helmOk(s, ['status', rel, '-n', ns], { version });
        assert.match(st.stdout, /STATUS: deployed/);
        assert.match(st.stdout, /REVISION: 5/);
        const hist = JSON.parse((await helmOk(s, ['history', rel, '-n', ns, '-o', 'json'], { version })).stdout) as Array<{ revision: number; status: string; description: string }>;
        assert.deepEqual(hist.map((h) => [h.revision, h.status]),
          [[1, 'superseded'], [2, 'superseded'], [3, 'superseded'], [4, 'failed'], [5, 'deployed']], JSON.stringify(hist));
        assert.match(hist[0].description, /Install complete/);
        assert.match(hist[1].description, /Upgrade complete/);
        assert.match(hist[2].description, /Rollback to 1/);
        const list = JSON.parse((await helmOk(s, ['list', '-A', '-o', 'json'], { version })).stdout) as Release[];
        const mine = list.filter((r) => r.namespace === ns);
        assert.deepEqual(mine.map((r) => [r.name, r.revision, r.status]), [[rel, '5', 'deployed']]);
        // One release Secret per revision, as Helm's storage keeps them.
        const secrets = await getJson(ns, ['secrets', '-l', `owner=helm,name=${rel}`]);
        assert.equal(secrets.items.length, 5);
      });

      await t.test('uninstall --wait: the pre-delete Job ran, every object and container of the release is gone', async () => {
        // Helm 4 with foreground cascading (the Deployments wait for their ReplicaSets and pods),
        // Helm 3 with the default background cascading (they go after the Deployments).
        const foreground = version === 4;
        const out = await helmRun(version, ['uninstall', rel, '-n', ns, '--wait', '--timeout', '90s', ...(foreground ? ['--cascade', 'foreground'] : [])]);
        assert.match(out.stdout, new RegExp(`release "${rel}" uninstalled`));
        assert.ok((await jobEvents(ns, `${rel}-drain`)).some((e) => /^Completed: /.test(e)), 'the drain Job completed');
        assert.equal((await kubectl(s, ['get', 'job', `${rel}-drain`, '-n', ns])).code, 1, 'the drain Job is deleted after it succeeded');
        // Helm leaves hook resources without a hook-succeeded policy behind, as the chart says.
        const kept = new Set(['ServiceAccount/default', 'ConfigMap/kube-root-ca.crt', `ConfigMap/${rel}-installed`]);
        const leftObjects = async () => {
          const all = await getJson(ns, ['deployments,replicasets,pods,services,endpoints,endpointslices,jobs,configmaps,secrets,serviceaccounts']);
          return (all.items as any[]).map((o) => `${o.kind}/${o.metadata.name}`).filter((k) => !kept.has(k));
        };
        // Polled, also after Helm 4's --wait: its status watcher skips resources whose informer
        // has not reported yet (status Unknown) when waiting for NotFound, so it can return
        // before slow-to-sync kinds are gone (helm pkg/kube/statuswait.go, statusObserver).
        await waitFor(async () => {
          const left = await leftObjects();
          return left.length === 0 || (() => { throw new Error(`left: ${left.join(' ')}`); })();
        }, { timeoutMs: 45_000, intervalMs: 500, what: 'every object of the release deleted' });
        await waitFor(async () => {
          const left = await engineContainers(ns);
          return left.length === 0 || (() => { throw new Error(`containers left: ${left.join(' ')}`); })();
        }, { timeoutMs: 45_000, intervalMs: 500, what: 'every container of the release removed' });
        const list = JSON.parse((await helmOk(s, ['list', '-A', '-o', 'json'], { version })).stdout) as Release[];
        assert.deepEqual(list.filter((r) => r.namespace === ns), []);
        await assert.rejects(httpGet(port, '/cgi-bin/page'), 'the NodePort is closed');
      });
    });
  }

  test('helm template tiers | kubectl 1.35 apply (validation on): the app runs and the page answers', async () => {
    const ns = await newNamespace('helm-tpl');
    const rel = 'tpl';
    const tpl = await helmOk(s, ['template', rel, chart, '--namespace', ns, '--set', 'greeting=templated'], { version: 4 });
    const applied = await kubectlOk(s, ['apply', '-n', ns, '--validate=true', '-f', '-'], { input: tpl.stdout });
    for (const o of ['serviceaccount/tpl', 'configmap/tpl-config', 'secret/tpl-api', 'service/tpl-web', 'deployment.apps/tpl-web', 'job.batch/tpl-migrate']) {
      assert.match(applied.stdout, new RegExp(`${o.replace('.', '\\.')} created`));
    }
    assert.doesNotMatch(applied.stderr, /Warning|unknown field/i);
    await allAvailable(ns, 3);
    // Hook Jobs are plain Jobs outside Helm: they run to completion and stay.
    await kubectlOk(s, ['wait', '-n', ns, '--for=condition=Complete', 'job/tpl-migrate', 'job/tpl-drain', '--timeout=60s'], { timeoutMs: 70_000 });
    const port = await nodePort(ns, `${rel}-web`);
    await pageMatches(port, /^web tpl-web-\S+\napi tpl-api-\S+ says templated; cache says cached-v1\n$/);
    await kubectlOk(s, ['delete', '-n', ns, '-f', '-', '--wait=true', '--timeout=60s'], { input: tpl.stdout, timeoutMs: 70_000 });
    await waitFor(async () => (await engineContainers(ns)).length === 0, { timeoutMs: 45_000, what: 'the app\'s containers removed' });
  });

  for (const version of ['1.35', '1.31'] as const) {
    test(`kubectl ${version} apply -f test/fixtures/manifests: strict validation clean, everything Available, page answers`, async () => {
      const ns = await newNamespace(`manifests-${version.replace('.', '')}`, version);
      const applied = await kubectlOk(s, ['apply', '-n', ns, '-f', manifests], { version });
      const created = applied.stdout.split('\n').filter(Boolean);
      assert.equal(created.length, 15, applied.stdout);
      for (const line of created) assert.match(line, / created$/);
      // Strict field validation found nothing: the only warnings are the server's notes on kinds
      // stored without effect on one node.
      const warnings = applied.stderr.split('\n').filter(Boolean);
      for (const w of warnings) assert.match(w, /^Warning: \w+ is stored and served, but has no effect on this single-node k2d$/, applied.stderr);
      assert.doesNotMatch(applied.stderr, /unknown field|duplicate field/i);
      // Applying again changes nothing and is as clean.
      const again = await kubectlOk(s, ['apply', '-n', ns, '-f', manifests], { version });
      // All unchanged but two, as against any cluster: the Secret's stringData is write-only, so
      // kubectl's three-way patch always carries it (kubernetes/kubernetes#87736), and a PDB's
      // selector has patch strategy "replace", so its patch is never empty.
      const reconfigured = new Set(['secret/shop-api', 'poddisruptionbudget.policy/api']);
      for (const line of again.stdout.split('\n').filter(Boolean)) {
        assert.match(line, reconfigured.has(line.split(' ')[0]) ? / configured$/ : / unchanged$/);
      }
      assert.doesNotMatch(again.stderr, /unknown field|duplicate field/i);

      await allAvailable(ns, 3);
      const deps = (await getJson(ns, ['deployments'])).items as any[];
      assert.deepEqual(deps.map((d) => [d.metadata.name, d.status.availableReplicas]).sort(), [['api', 2], ['cache', 1], ['web', 2]]);
      const stored = await getJson(ns, ['hpa,pdb,ingress,networkpolicies']);
      assert.deepEqual((stored.items as any[]).map((o) => `${o.kind}/${o.metadata.name}`).sort(), [
        'HorizontalPodAutoscaler/api', 'Ingress/web', 'NetworkPolicy/api-from-web', 'NetworkPolicy/cache-from-api',
        'NetworkPolicy/default-deny', 'PodDisruptionBudget/api',
      ]);
      const port = await nodePort(ns, 'web');
      // Both web replicas answer, each through an api replica that reached the cache by DNS.
      const webs = new Set<string>();
      await waitFor(async () => {
        const page = await pageMatches(port, /^web web-\S+\napi api-\S+ says hello from the manifests; cache says cached-from-manifests\n$/);
        webs.add(page.split('\n')[0]);
        return webs.size === 2;
      }, { timeoutMs: 60_000, intervalMs: 200, what: 'both web replicas answering on the NodePort' });
    });
  }
});
