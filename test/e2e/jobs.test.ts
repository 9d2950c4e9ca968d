// Jobs and CronJobs run as pods (Docker containers), driven by real kubectl 1.35 and 1.31.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { docker, kubectl, kubectlOk, startServer, uniqueName, waitFor, type Server } from './harness.ts';

let s: Server;
let ns: string;
const TAG = 'busybox:k2d-jobs';
before(async () => {
  s = await startServer();
  ns = uniqueName('jobs');
  await kubectlOk(s, ['create', 'namespace', ns]);
  const t = await docker(['tag', 'busybox:latest', TAG]);
  assert.equal(t.code, 0, t.stderr);
  // The CronJob fires on the next minute boundary: started first, checked last.
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: cronJob('tick', '* * * * *') });
});
after(async () => {
  if (s?.running()) {
    await kubectl(s, ['delete', 'ns', ns, '--wait=true', '--timeout=90s'], { timeoutMs: 100_000 });
    await waitFor(async () => (await docker(['ps', '-aq', '--filter', `label=io.kubernetes.pod.namespace=${ns}`])).stdout.trim() === '', { timeoutMs: 60_000, what: 'containers gone' });
  }
  await s?.stop();
  await docker(['rmi', TAG]);
});

const json = async (args: string[], version?: '1.31' | '1.35') => JSON.parse((await kubectlOk(s, [...args, '-n', ns, '-o', 'json'], { version })).stdout);
const podsOf = async (job: string) => (await json(['get', 'pods', '-l', `batch.kubernetes.io/job-name=${job}`])).items as Array<Record<string, any>>;
const conditions = (j: any) => Object.fromEntries((j.status?.conditions ?? []).map((c: any) => [c.type, c]));

function job(name: string, opts: { command: string; completions?: number; parallelism?: number; backoffLimit?: number; extra?: string; grace?: number }): string {
  const lines = [`apiVersion: batch/v1`, `kind: Job`, `metadata:`, `  name: ${name}`, `spec:`];
  if (opts.completions !== undefined) lines.push(`  completions: ${opts.completions}`);
  if (opts.parallelism !== undefined) lines.push(`  parallelism: ${opts.parallelism}`);
  if (opts.backoffLimit !== undefined) lines.push(`  backoffLimit: ${opts.backoffLimit}`);
  if (opts.extra) lines.push(opts.extra);
  lines.push(
    `  template:`, `    spec:`, `      restartPolicy: Never`, `      terminationGracePeriodSeconds: ${opts.grace ?? 1}`, `      containers:`,
    `      - name: main`, `        image: ${TAG}`, `        imagePullPolicy: IfNotPresent`, `        command: [sh, -c, ${JSON.stringify(opts.command)}]`,
  );
  return lines.join('\n') + '\n';
}

function cronJob(name: string, schedule: string): string {
  return `apiVersion: batch/v1
kind: CronJob
metadata:
  name: ${name}
spec:
  schedule: "${schedule}"
  jobTemplate:
    metadata:
      labels: { run: ${name} }
    spec:
      template:
        spec:
          restartPolicy: Never
          terminationGracePeriodSeconds: 1
          containers:
          - name: main
            image: ${TAG}
            imagePullPolicy: IfNotPresent
            command: [sh, -c, 'echo tick']
`;
}

test('completions 3 / parallelism 2: defaults, generated selector, pods named as upstream, wait complete, logs', async () => {
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: job('work', { command: 'echo hello from $HOSTNAME; sleep 1', completions: 3, parallelism: 2 }) });
  const j = await json(['get', 'job', 'work']);
  assert.equal(j.spec.backoffLimit, 6);
  assert.equal(j.spec.completionMode, 'NonIndexed');
  assert.equal(j.spec.suspend, false);
  assert.equal(j.spec.manualSelector, false);
  assert.equal(j.spec.podReplacementPolicy, 'TerminatingOrFailed');
  const uid = j.spec.selector.matchLabels['batch.kubernetes.io/controller-uid'];
  assert.ok(uid);
  assert.deepEqual(j.spec.template.metadata.labels, {
    'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': 'work', 'controller-uid': uid, 'job-name': 'work',
  });
  assert.deepEqual(j.metadata.labels, j.spec.template.metadata.labels);

  await kubectlOk(s, ['wait', '--for=condition=complete', 'job/work', '-n', ns, '--timeout=90s'], { timeoutMs: 100_000 });
  const done = await json(['get', 'job', 'work']);
  assert.equal(done.status.succeeded, 3);
  assert.equal(done.status.failed, undefined);
  assert.equal(done.status.active, undefined);
  assert.equal(done.status.ready, 0);
  assert.equal(done.status.terminating, 0);
  assert.deepEqual(done.status.uncountedTerminatedPods, {});
  assert.ok(done.status.startTime && done.status.completionTime);
  assert.deepEqual(done.status.conditions.map((c: any) => [c.type, c.status, c.reason, c.message]), [
    ['SuccessCriteriaMet', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods'],
    ['Complete', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods'],
  ]);
  const pods = await podsOf('work');
  assert.equal(pods.length, 3);
  for (const p of pods) {
    assert.match(p.metadata.name, /^work-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    assert.equal(p.metadata.generateName, 'work-');
    assert.equal(p.status.phase, 'Succeeded');
    assert.deepEqual(p.metadata.ownerReferences, [{ apiVersion: 'batch/v1', kind: 'Job', name: 'work', uid: done.metadata.uid, controller: true, blockOwnerDeletion: true }]);
  }
  const logs = await kubectlOk(s, ['logs', 'job/work', '-n', ns]);
  assert.match(logs.stdout, /^hello from work-/);
  const table = await kubectlOk(s, ['get', 'jobs', '-n', ns]);
  assert.match(table.stdout, /^work\s+Complete\s+3\/3\s+/m);
  const events = await kubectlOk(s, ['get', 'events', '-n', ns, '--field-selector', 'involvedObject.name=work']);
  assert.match(events.stdout, /SuccessfulCreate/);
  assert.match(events.stdout, /Completed/);
});

test('a failing Job (restartPolicy Never, backoffLimit 1) fails with BackoffLimitExceeded after exactly 2 pods (kubectl 1.31 wait)', async () => {
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: job('boom', { command: 'exit 1', backoffLimit: 1 }) });
  await kubectlOk(s, ['wait', '--for=condition=failed', 'job/boom', '-n', ns, '--timeout=90s'], { version: '1.31', timeoutMs: 100_000 });
  const j = await json(['get', 'job', 'boom'], '1.31');
  const c = conditions(j);
  assert.equal(c.FailureTarget.reason, 'BackoffLimitExceeded');
  assert.equal(c.Failed.reason, 'BackoffLimitExceeded');
  assert.equal(c.Failed.message, 'Job has reached the specified backoff limit');
  assert.equal(j.status.failed, 2);
  assert.equal(c.Complete, undefined);
  const pods = await podsOf('boom');
  assert.equal(pods.length, 2);
  assert.ok(pods.every((p) => p.status.phase === 'Failed'));
  // The replacement waited for the 10 s pod failure back-off.
  const [first, second] = pods.map((p) => Date.parse(p.metadata.creationTimestamp)).sort();
  assert.ok(second - first >= 9_000, `replacement after ${second - first} ms`);
});

test('activeDeadlineSeconds: running pods are deleted and the Job fails with DeadlineExceeded', async () => {
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: job('slow', { command: 'sleep 3600', extra: '  activeDeadlineSeconds: 3' }) });
  await kubectlOk(s, ['wait', '--for=condition=failed', 'job/slow', '-n', ns, '--timeout=60s'], { timeoutMs: 70_000 });
  const j = await json(['get', 'job', 'slow']);
  assert.equal(conditions(j).Failed.reason, 'DeadlineExceeded');
  assert.equal(conditions(j).Failed.message, 'Job was active longer than specified deadline');
  assert.equal(j.status.failed, 1);
  assert.equal(j.status.terminating, 0);
  assert.equal(j.status.active, undefined);
  await waitFor(async () => (await podsOf('slow')).length === 0, { timeoutMs: 60_000, what: 'deadline pod gone' });
});

test('ttlSecondsAfterFinished deletes the finished Job and its pods', async () => {
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: job('brief', { command: 'true', extra: '  ttlSecondsAfterFinished: 2' }) });
  await waitFor(async () => {
    const r = await kubectl(s, ['get', 'job', 'brief', '-n', ns]);
    return r.code !== 0 && /NotFound/.test(r.stderr);
  }, { timeoutMs: 90_000, what: 'job deleted by its TTL' });
  await waitFor(async () => (await podsOf('brief')).length === 0, { timeoutMs: 60_000, what: 'pods of the expired job gone' });
});

test('invalid Jobs and CronJobs get the apiserver\'s 422s', async () => {
  const always = job('always', { command: 'true' }).replace('restartPolicy: Never', 'restartPolicy: Always');
  const r1 = await kubectl(s, ['apply', '-n', ns, '-f', '-'], { input: always });
  assert.notEqual(r1.code, 0);
  assert.match(r1.stderr, /spec\.template\.spec\.restartPolicy: Required value: valid values: "OnFailure", "Never"/);
  const r2 = await kubectl(s, ['apply', '-n', ns, '-f', '-'], { input: cronJob('badsched', '61 * * * *') });
  assert.match(r2.stderr, /spec\.schedule: Invalid value: "61 \* \* \* \*": end of range \(61\) above maximum \(59\): 61/);
  const r3 = await kubectl(s, ['apply', '-n', ns, '-f', '-'], { input: cronJob('tz', 'CRON_TZ=UTC 0 * * * *') });
  assert.match(r3.stderr, /cannot use TZ or CRON_TZ in schedule, use timeZone field instead/);
  const r4 = await kubectl(s, ['apply', '-n', ns, '-f', '-'], { input: cronJob('zone', '0 * * * *').replace('spec:\n  schedule', 'spec:\n  timeZone: Mars/Olympus\n  schedule') });
  assert.match(r4.stderr, /spec\.timeZone: Invalid value: "Mars\/Olympus": unknown time zone Mars\/Olympus/);
});

test('a CronJob fires on schedule; create job --from=cronjob works; deleting the CronJob removes its Jobs and pods', async () => {
  const cj = await json(['get', 'cronjob', 'tick']);
  assert.equal(cj.spec.concurrencyPolicy, 'Allow');
  assert.equal(cj.spec.suspend, false);
  assert.equal(cj.spec.successfulJobsHistoryLimit, 3);
  assert.equal(cj.spec.failedJobsHistoryLimit, 1);
  const scheduled = await waitFor(async () => {
    const items = (await json(['get', 'jobs', '-l', 'run=tick'])).items as any[];
    return items.find((j) => j.metadata.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp']);
  }, { timeoutMs: 90_000, intervalMs: 1000, what: 'a Job from the CronJob' });
  const at = Date.parse(scheduled.metadata.annotations['batch.kubernetes.io/cronjob-scheduled-timestamp']);
  assert.equal(at % 60_000, 0);
  assert.equal(scheduled.metadata.name, `tick-${at / 60_000}`);
  assert.deepEqual(scheduled.metadata.ownerReferences, [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'tick', uid: cj.metadata.uid, controller: true, blockOwnerDeletion: true }]);
  await kubectlOk(s, ['wait', '--for=condition=complete', `job/${scheduled.metadata.name}`, '-n', ns, '--timeout=60s'], { timeoutMs: 70_000 });
  const st = await waitFor(async () => { const c = await json(['get', 'cronjob', 'tick']); return c.status?.lastSuccessfulTime ? c.status : undefined; }, { timeoutMs: 30_000, what: 'lastSuccessfulTime' });
  assert.equal(Date.parse(st.lastScheduleTime), at);

  await kubectlOk(s, ['create', 'job', 'by-hand', '--from=cronjob/tick', '-n', ns]);
  const manual = await json(['get', 'job', 'by-hand']);
  assert.equal(manual.metadata.annotations['cronjob.kubernetes.io/instantiate'], 'manual');
  assert.equal(manual.metadata.ownerReferences[0].uid, cj.metadata.uid);
  assert.equal(manual.metadata.labels.run, 'tick');
  await kubectlOk(s, ['wait', '--for=condition=complete', 'job/by-hand', '-n', ns, '--timeout=60s'], { timeoutMs: 70_000 });
  assert.match((await kubectlOk(s, ['logs', 'job/by-hand', '-n', ns])).stdout, /^tick$/m);

  const names = ((await json(['get', 'jobs', '-l', 'run=tick'])).items as any[]).map((j) => j.metadata.name);
  assert.ok(names.includes('by-hand') && names.includes(scheduled.metadata.name));
  await kubectlOk(s, ['delete', 'cronjob', 'tick', '-n', ns, '--wait=true']);
  await waitFor(async () => (await json(['get', 'jobs', '-l', 'run=tick'])).items.length === 0, { timeoutMs: 60_000, what: 'jobs of the CronJob gone' });
  await waitFor(async () => {
    for (const n of names) if ((await podsOf(n)).length) return false;
    return true;
  }, { timeoutMs: 60_000, what: 'pods of the CronJob gone' });
});
