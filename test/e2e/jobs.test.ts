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

test('restartPolicy OnFailure: the container restarts in the same pod, restarts count toward backoffLimit (BackoffLimitExceeded)', async () => {
  const manifest = job('again', { command: 'echo attempt; exit 1', backoffLimit: 2 }).replace('restartPolicy: Never', 'restartPolicy: OnFailure');
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: manifest });
  const seen = new Set<string>();
  let maxRestarts = 0;
  let failedAtOneRestart: boolean | undefined;
  await waitFor(async () => {
    for (const p of await podsOf('again')) {
      seen.add(p.metadata.uid);
      const n = Number(p.status?.containerStatuses?.[0]?.restartCount ?? 0);
      if (n === 1 && failedAtOneRestart === undefined) failedAtOneRestart = !!conditions(await json(['get', 'job', 'again'])).Failed;
      maxRestarts = Math.max(maxRestarts, n);
    }
    return !!conditions(await json(['get', 'job', 'again'])).Failed;
  }, { timeoutMs: 90_000, intervalMs: 300, what: 'OnFailure job failed' });
  const j = await json(['get', 'job', 'again']);
  const c = conditions(j);
  assert.equal(c.Failed.reason, 'BackoffLimitExceeded');
  assert.equal(c.Failed.message, 'Job has reached the specified backoff limit');
  assert.equal(c.FailureTarget.reason, 'BackoffLimitExceeded');
  // One pod, restarted in place; the running pod counts as failed when the Job fails.
  assert.equal(seen.size, 1, `pods created: ${seen.size}`);
  assert.ok(maxRestarts >= 1, `restartCount seen: ${maxRestarts}`);
  if (failedAtOneRestart !== undefined) assert.equal(failedAtOneRestart, false, 'one restart is below backoffLimit 2');
  assert.equal(j.status.failed, 1);
  assert.equal(j.status.active, undefined);
  await waitFor(async () => (await podsOf('again')).length === 0, { timeoutMs: 60_000, what: 'the restarting pod deleted' });
});

test('suspend: a suspended Job makes no pods until patched to resume; suspending a running Job deletes its pods uncounted', async () => {
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: job('paused', { command: 'echo resumed', extra: '  suspend: true' }) });
  const suspended = await waitFor(async () => { const j = await json(['get', 'job', 'paused']); return conditions(j).Suspended ? j : undefined; }, { timeoutMs: 30_000, what: 'Suspended condition' });
  const sc = conditions(suspended).Suspended;
  assert.deepEqual([sc.status, sc.reason, sc.message], ['True', 'JobSuspended', 'Job suspended']);
  assert.equal(suspended.status.startTime, undefined);
  assert.equal(suspended.status.active, undefined);
  assert.equal((await podsOf('paused')).length, 0);
  assert.match((await kubectlOk(s, ['get', 'jobs', 'paused', '-n', ns])).stdout, /^paused\s+Suspended\s+0\/1\s+/m);

  await kubectlOk(s, ['patch', 'job', 'paused', '-n', ns, '--type=merge', '-p', '{"spec":{"suspend":false}}']);
  await kubectlOk(s, ['wait', '--for=condition=complete', 'job/paused', '-n', ns, '--timeout=60s'], { timeoutMs: 70_000 });
  const done = await json(['get', 'job', 'paused']);
  const resumed = done.status.conditions.find((c: any) => c.type === 'Suspended');
  assert.deepEqual([resumed.status, resumed.reason, resumed.message], ['False', 'JobResumed', 'Job resumed']);
  assert.ok(done.status.startTime);
  assert.match((await kubectlOk(s, ['logs', 'job/paused', '-n', ns])).stdout, /^resumed$/m);
  const events = await kubectlOk(s, ['get', 'events', '-n', ns, '--field-selector', 'involvedObject.name=paused']);
  assert.match(events.stdout, /Suspended\s+job\/paused\s+Job suspended/);
  assert.match(events.stdout, /Resumed\s+job\/paused\s+Job resumed/);

  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: job('halt', { command: 'sleep 3600' }) });
  await waitFor(async () => (await json(['get', 'job', 'halt'])).status?.ready === 1, { timeoutMs: 60_000, what: 'halt running' });
  await kubectlOk(s, ['patch', 'job', 'halt', '-n', ns, '--type=merge', '-p', '{"spec":{"suspend":true}}']);
  await kubectlOk(s, ['wait', '--for=condition=suspended', 'job/halt', '-n', ns, '--timeout=60s'], { timeoutMs: 70_000 });
  await waitFor(async () => (await podsOf('halt')).length === 0, { timeoutMs: 60_000, what: 'pods of the suspended job deleted' });
  const halted = await waitFor(async () => { const j = await json(['get', 'job', 'halt']); return j.status.terminating === 0 ? j : undefined; }, { timeoutMs: 30_000, what: 'nothing terminating' });
  assert.equal(halted.status.active, undefined);
  assert.equal(halted.status.failed, undefined, 'pods deleted by suspension are not failures');
  assert.equal(conditions(halted).Failed, undefined);
  await kubectlOk(s, ['delete', 'job', 'halt', '-n', ns]);
});

const failurePolicy = (rules: string) => `  podFailurePolicy:\n    rules:\n${rules}`;

test('podFailurePolicy: a FailJob rule on an exit code fails the Job at once with reason PodFailurePolicy', async () => {
  const extra = failurePolicy(`    - action: Ignore\n      onExitCodes: { operator: In, values: [42] }\n    - action: FailJob\n      onExitCodes: { containerName: main, operator: In, values: [3, 4] }`);
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: job('fatal', { command: 'exit 3', backoffLimit: 6, extra }) });
  await kubectlOk(s, ['wait', '--for=condition=failed', 'job/fatal', '-n', ns, '--timeout=60s'], { timeoutMs: 70_000 });
  const j = await json(['get', 'job', 'fatal']);
  const pods = await podsOf('fatal');
  assert.equal(pods.length, 1, 'no replacement pod');
  const message = `Container main for pod ${ns}/${pods[0].metadata.name} failed with exit code 3 matching FailJob rule at index 1`;
  const c = conditions(j);
  assert.deepEqual([c.FailureTarget.reason, c.FailureTarget.message], ['PodFailurePolicy', message]);
  assert.deepEqual([c.Failed.reason, c.Failed.message], ['PodFailurePolicy', message]);
  assert.equal(j.status.failed, 1);
  const events = await kubectlOk(s, ['get', 'events', '-n', ns, '--field-selector', 'involvedObject.name=fatal,reason=PodFailurePolicy']);
  assert.match(events.stdout, /Warning\s+PodFailurePolicy\s+job\/fatal\s+Container main for pod/);
});

test('podFailurePolicy: a failure matching an Ignore rule is not counted (backoffLimit 0) and the pod is replaced', async () => {
  const extra = failurePolicy(`    - action: Ignore\n      onExitCodes: { operator: In, values: [42] }`);
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: job('shrug', { command: 'exit 42', backoffLimit: 0, extra }) });
  // The replacement waits out the 10 s pod failure back-off, as upstream's does.
  const pods = await waitFor(async () => { const p = await podsOf('shrug'); return p.length >= 2 ? p : undefined; }, { timeoutMs: 60_000, intervalMs: 500, what: 'a replacement pod' });
  assert.ok(pods.some((p) => p.status.phase === 'Failed' && p.status.containerStatuses[0].state.terminated.exitCode === 42));
  const j = await json(['get', 'job', 'shrug']);
  assert.equal(j.status.failed, undefined, 'ignored failures are not counted');
  assert.equal(conditions(j).Failed, undefined);
  assert.equal(conditions(j).FailureTarget, undefined);
  await kubectlOk(s, ['delete', 'job', 'shrug', '-n', ns, '--wait=true', '--timeout=60s'], { timeoutMs: 70_000 });
});

test('completionMode Indexed: one pod per index with the index annotation, label, JOB_COMPLETION_INDEX and hostname <job>-<index>', async () => {
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], {
    input: job('idx', { command: 'echo "index=$JOB_COMPLETION_INDEX host=$(hostname)"', completions: 3, parallelism: 3, extra: '  completionMode: Indexed' }),
  });
  await kubectlOk(s, ['wait', '--for=condition=complete', 'job/idx', '-n', ns, '--timeout=90s'], { timeoutMs: 100_000 });
  const j = await json(['get', 'job', 'idx']);
  assert.equal(j.status.completedIndexes, '0-2');
  assert.equal(j.status.succeeded, 3);
  const pods = (await podsOf('idx')).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  assert.equal(pods.length, 3);
  for (const [i, p] of pods.entries()) {
    assert.match(p.metadata.name, new RegExp(`^idx-${i}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
    assert.equal(p.metadata.generateName, `idx-${i}-`);
    assert.equal(p.metadata.annotations['batch.kubernetes.io/job-completion-index'], String(i));
    assert.equal(p.metadata.labels['batch.kubernetes.io/job-completion-index'], String(i));
    assert.equal(p.spec.hostname, `idx-${i}`);
    assert.deepEqual(p.spec.containers[0].env, [{ name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: "metadata.labels['batch.kubernetes.io/job-completion-index']" } } }]);
    const out = await kubectlOk(s, ['logs', p.metadata.name, '-n', ns]);
    assert.equal(out.stdout.trim(), `index=${i} host=idx-${i}`);
  }
});
