import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../src/machinery/types.ts';
import {
  activeDeadline, backoffDelay, DEADLINE_EXCEEDED_MESSAGE, goDuration, kubeTime, podStatus, shouldRestart,
  type DockerInspect, type DockerState, type ObservedContainer, type ObservedPod, type PodStatus,
} from '../../src/translate/status.ts';

const UID = '0b5c6a1e-2f3d-4c8b-9a7e-6d5c4b3a2f10';
const NOW = '2026-05-01T10:05:00.123Z';
const IMAGE_ID = 'sha256:f3de1decaaf0a195c0c5230dd458e640c16abde9b7c175912ab68a3deac98b53';
const DIGEST = 'busybox@sha256:e3652a00a2fabd16ce889f0aa32c38eec347b997e73bd09e69c962ec7f8732ee';
const ZERO = '0001-01-01T00:00:00Z';

function pod(spec: Record<string, unknown>, status?: Partial<PodStatus>, meta: Record<string, unknown> = {}): KObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'job', namespace: 'batch', uid: UID, ...meta }, spec, ...(status ? { status } : {}) };
}

function state(s: Partial<DockerState>): DockerState {
  return { Status: 'created', Running: false, Paused: false, Restarting: false, OOMKilled: false, Dead: false, Pid: 0, ExitCode: 0, Error: '', StartedAt: ZERO, FinishedAt: ZERO, ...s };
}
function ctr(id: string, s: Partial<DockerState>, restarts = 0): DockerInspect {
  return {
    Id: id, Image: IMAGE_ID, State: state(s),
    Config: { Image: 'busybox:1.36', Labels: { 'annotation.io.kubernetes.container.restartCount': String(restarts) } },
  };
}
const running = (id: string, at: string, restarts = 0) => ctr(id, { Status: 'running', Running: true, Pid: 4242, StartedAt: at }, restarts);
const exited = (id: string, code: number, from: string, to: string, extra: Partial<DockerState> = {}, restarts = 0) =>
  ctr(id, { Status: 'exited', ExitCode: code, StartedAt: from, FinishedAt: to, ...extra }, restarts);
const sandbox = (up = true): DockerInspect => ({
  Id: 'sb1', State: state(up ? { Status: 'running', Running: true, Pid: 100, StartedAt: '2026-05-01T10:00:00.5Z' } : { Status: 'exited' }),
  NetworkSettings: { IPAddress: '', Networks: { k2d: { IPAddress: '172.18.0.7', GlobalIPv6Address: '' } } },
});
function observed(containers: ObservedContainer[], extra: Partial<ObservedPod> = {}): ObservedPod {
  return { now: NOW, hostIP: '192.168.1.20', sandbox: sandbox(), containers, ...extra };
}
const cond = (s: PodStatus, type: string) => s.conditions.find((c) => c.type === type);
const busybox = (name = 'main', extra: Record<string, unknown> = {}) => ({ name, image: 'busybox:1.36', ...extra });

test('a running, ready pod: the whole status as a real node writes it', () => {
  const p = pod({ containers: [busybox('main', { volumeMounts: [{ name: 'cfg', mountPath: '/etc/cfg', readOnly: true }, { name: 'data', mountPath: '/data' }] })] }, undefined, { generation: 1 });
  const s = podStatus(p, observed([{ name: 'main', current: running('c1', '2026-05-01T10:00:01.987654321Z'), imageDigests: [DIGEST] }]));
  assert.deepEqual(s, {
    observedGeneration: 1,
    phase: 'Running',
    conditions: [
      { type: 'PodReadyToStartContainers', status: 'True', observedGeneration: 1, lastProbeTime: null, lastTransitionTime: '2026-05-01T10:05:00Z' },
      { type: 'Initialized', status: 'True', observedGeneration: 1, lastProbeTime: null, lastTransitionTime: '2026-05-01T10:05:00Z' },
      { type: 'Ready', status: 'True', observedGeneration: 1, lastProbeTime: null, lastTransitionTime: '2026-05-01T10:05:00Z' },
      { type: 'ContainersReady', status: 'True', observedGeneration: 1, lastProbeTime: null, lastTransitionTime: '2026-05-01T10:05:00Z' },
      { type: 'PodScheduled', status: 'True', observedGeneration: 1, lastProbeTime: null, lastTransitionTime: '2026-05-01T10:05:00Z' },
    ],
    hostIP: '192.168.1.20',
    hostIPs: [{ ip: '192.168.1.20' }],
    podIP: '172.18.0.7',
    podIPs: [{ ip: '172.18.0.7' }],
    startTime: '2026-05-01T10:05:00Z',
    containerStatuses: [{
      name: 'main',
      state: { running: { startedAt: '2026-05-01T10:00:01Z' } },
      lastState: {},
      ready: true,
      restartCount: 0,
      image: 'busybox:1.36',
      imageID: `docker-pullable://${DIGEST}`,
      containerID: 'docker://c1',
      started: true,
      volumeMounts: [
        { name: 'cfg', mountPath: '/etc/cfg', readOnly: true, recursiveReadOnly: 'Disabled' },
        { name: 'data', mountPath: '/data' },
      ],
    }],
    qosClass: 'BestEffort',
  });
  assert.deepEqual(Object.keys(s), ['observedGeneration', 'phase', 'conditions', 'hostIP', 'hostIPs', 'podIP', 'podIPs', 'startTime', 'containerStatuses', 'qosClass']);
  // An image without a repo digest (built locally) is named by its id.
  const local = podStatus(p, observed([{ name: 'main', current: running('c1', NOW) }]));
  assert.equal(local.containerStatuses[0].imageID, `docker://${IMAGE_ID}`);
});

test('nothing created yet: ContainerCreating, Pending, and times kept from the old status', () => {
  const old: Partial<PodStatus> = {
    phase: 'Pending', startTime: '2026-05-01T09:00:00Z',
    conditions: [
      { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: '2026-05-01T09:00:00Z' },
      { type: 'Ready', status: 'False', lastProbeTime: null, lastTransitionTime: '2026-05-01T09:00:01Z', reason: 'ContainersNotReady' },
      { type: 'example.com/gate', status: 'True', lastProbeTime: null, lastTransitionTime: '2026-05-01T09:00:02Z' },
    ],
  };
  const p = pod({ containers: [busybox('web'), busybox('app')] }, old);
  const s = podStatus(p, { now: NOW, hostIP: '192.168.1.20', containers: [] });
  assert.equal(s.phase, 'Pending');
  assert.equal(s.startTime, '2026-05-01T09:00:00Z');
  assert.equal(s.podIP, undefined);
  assert.deepEqual(s.containerStatuses.map((c) => c.name), ['app', 'web'], 'sorted by name, as kubelet does');
  assert.deepEqual(s.containerStatuses[0], {
    name: 'app', state: { waiting: { reason: 'ContainerCreating' } }, lastState: {}, ready: false, restartCount: 0,
    image: 'busybox:1.36', imageID: '', started: false,
  });
  assert.deepEqual(s.conditions.map((c) => [c.type, c.status, c.lastTransitionTime, c.reason, c.message]), [
    ['example.com/gate', 'True', '2026-05-01T09:00:02Z', undefined, undefined],
    ['PodReadyToStartContainers', 'False', '2026-05-01T10:05:00Z', undefined, undefined],
    ['Initialized', 'True', '2026-05-01T10:05:00Z', undefined, undefined],
    ['Ready', 'False', '2026-05-01T09:00:01Z', 'ContainersNotReady', 'containers with unready status: [web app]'],
    ['ContainersReady', 'False', '2026-05-01T10:05:00Z', 'ContainersNotReady', 'containers with unready status: [web app]'],
    ['PodScheduled', 'True', '2026-05-01T09:00:00Z', undefined, undefined],
  ]);
});

test('init containers: PodInitializing, Initialized=False, then Running once they are done', () => {
  const spec = { initContainers: [busybox('migrate'), busybox('seed')], containers: [busybox('main')] };
  const during = podStatus(pod(spec), observed([
    { name: 'migrate', current: exited('i1', 0, '2026-05-01T10:00:01Z', '2026-05-01T10:00:03Z') },
    { name: 'seed', current: running('i2', '2026-05-01T10:00:04Z') },
  ]));
  assert.equal(during.phase, 'Pending');
  assert.deepEqual(during.initContainerStatuses!.map((c) => [c.name, Object.keys(c.state)[0], c.ready, c.started]), [
    ['migrate', 'terminated', true, false], ['seed', 'running', false, true],
  ]);
  assert.deepEqual(during.initContainerStatuses![0].state.terminated, {
    exitCode: 0, reason: 'Completed', startedAt: '2026-05-01T10:00:01Z', finishedAt: '2026-05-01T10:00:03Z', containerID: 'docker://i1',
  });
  assert.deepEqual(during.containerStatuses[0].state, { waiting: { reason: 'PodInitializing' } });
  const init = cond(during, 'Initialized')!;
  assert.deepEqual([init.status, init.reason, init.message], ['False', 'ContainersNotInitialized', 'containers with incomplete status: [seed]']);

  const before = podStatus(pod(spec), observed([]));
  assert.deepEqual(before.initContainerStatuses!.map((c) => c.state), [{ waiting: { reason: 'PodInitializing' } }, { waiting: { reason: 'PodInitializing' } }]);
  assert.equal(cond(before, 'Initialized')!.message, 'containers with incomplete status: [migrate seed]');

  const after = podStatus(pod(spec), observed([
    { name: 'migrate', current: exited('i1', 0, '2026-05-01T10:00:01Z', '2026-05-01T10:00:03Z') },
    { name: 'seed', current: exited('i2', 0, '2026-05-01T10:00:04Z', '2026-05-01T10:00:05Z') },
    { name: 'main', current: running('c1', '2026-05-01T10:00:06Z') },
  ]));
  assert.equal(after.phase, 'Running');
  assert.equal(cond(after, 'Initialized')!.status, 'True');
  assert.equal(cond(after, 'Ready')!.status, 'True');
  assert.equal(podStatus(pod({ containers: [busybox()] }), observed([])).initContainerStatuses, undefined);
});

test('a failing init container: Failed under Never, Init:CrashLoopBackOff otherwise', () => {
  const failed = { name: 'migrate', current: exited('i1', 3, '2026-05-01T10:00:01Z', '2026-05-01T10:00:02Z') };
  const never = podStatus(pod({ restartPolicy: 'Never', initContainers: [busybox('migrate')], containers: [busybox()] }), observed([failed]));
  assert.equal(never.phase, 'Failed');
  assert.deepEqual(never.initContainerStatuses![0].state.terminated!.reason, 'Error');
  assert.deepEqual([cond(never, 'Ready')!.status, cond(never, 'Ready')!.reason], ['False', 'PodFailed']);

  const always = podStatus(pod({ initContainers: [busybox('migrate')], containers: [busybox()] }),
    observed([{ ...failed, restartCount: 2, backoff: { until: '2026-05-01T10:05:20Z', delaySeconds: 20 } }]));
  assert.equal(always.phase, 'Pending');
  assert.deepEqual(always.initContainerStatuses![0].state, {
    waiting: { reason: 'CrashLoopBackOff', message: `back-off 20s restarting failed container=migrate pod=job_batch(${UID})` },
  });
  assert.equal(always.initContainerStatuses![0].lastState.terminated!.exitCode, 3);
  assert.equal(always.initContainerStatuses![0].restartCount, 2);
});

test('a sidecar (restartPolicy: Always init container) keeps running beside the app', () => {
  const spec = { initContainers: [busybox('migrate'), busybox('proxy', { restartPolicy: 'Always' })], containers: [busybox('main')] };
  const done = { name: 'migrate', current: exited('i1', 0, '2026-05-01T10:00:01Z', '2026-05-01T10:00:02Z') };
  const starting = podStatus(pod(spec), observed([done, { name: 'proxy', current: running('s1', '2026-05-01T10:00:03Z'), started: false }]));
  assert.equal(starting.phase, 'Pending');
  assert.equal(cond(starting, 'Initialized')!.message, 'containers with incomplete status: [proxy]');
  assert.deepEqual(starting.containerStatuses[0].state, { waiting: { reason: 'PodInitializing' } });

  const up = podStatus(pod(spec), observed([
    done, { name: 'proxy', current: running('s1', '2026-05-01T10:00:03Z'), ready: false }, { name: 'main', current: running('c1', '2026-05-01T10:00:04Z') },
  ]));
  assert.equal(up.phase, 'Running');
  assert.equal(cond(up, 'Initialized')!.status, 'True');
  assert.deepEqual(up.initContainerStatuses!.map((c) => [c.name, c.ready, c.started]), [['migrate', true, false], ['proxy', false, true]]);
  // The sidecar's readiness is the pod's too.
  assert.equal(cond(up, 'ContainersReady')!.message, 'containers with unready status: [proxy]');
  // A crashing sidecar after start does not send the pod back to Pending.
  const crashing = podStatus(pod(spec, { conditions: up.conditions, phase: 'Running' }), observed([
    done, { name: 'proxy', current: exited('s1', 1, '2026-05-01T10:00:03Z', '2026-05-01T10:04:59Z'), restartCount: 1, backoff: { until: '2026-05-01T10:05:09Z', delaySeconds: 10 } },
    { name: 'main', current: running('c1', '2026-05-01T10:00:04Z') },
  ]));
  assert.equal(crashing.phase, 'Running');
  assert.equal(crashing.initContainerStatuses![1].state.waiting!.reason, 'CrashLoopBackOff');
  assert.equal(shouldRestart(pod({ restartPolicy: 'Never', ...spec }), 'proxy', 0), true);
});

test('CrashLoopBackOff: waiting with kubelet\'s message, last state terminated, restart count from the label', () => {
  const p = pod({ containers: [busybox()] });
  const cur = exited('c4', 1, '2026-05-01T10:04:50Z', '2026-05-01T10:04:55Z', {}, 3);
  const prev = exited('c3', 1, '2026-05-01T10:04:10Z', '2026-05-01T10:04:12Z', {}, 2);
  const s = podStatus(p, observed([{ name: 'main', current: cur, previous: prev, backoff: { until: '2026-05-01T10:05:35Z', delaySeconds: 40 } }]));
  assert.equal(s.phase, 'Running');
  assert.deepEqual(s.containerStatuses[0], {
    name: 'main',
    state: { waiting: { reason: 'CrashLoopBackOff', message: `back-off 40s restarting failed container=main pod=job_batch(${UID})` } },
    lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: '2026-05-01T10:04:50Z', finishedAt: '2026-05-01T10:04:55Z', containerID: 'docker://c4' } },
    ready: false, restartCount: 3, image: 'busybox:1.36', imageID: `docker://${IMAGE_ID}`, containerID: 'docker://c4', started: false,
  });
  assert.deepEqual([cond(s, 'Ready')!.status, cond(s, 'Ready')!.reason], ['False', 'ContainersNotReady']);
  // Once the back-off is over (the controller is restarting it) the status shows the exit itself.
  const due = podStatus(p, observed([{ name: 'main', current: cur, previous: prev, backoff: { until: '2026-05-01T10:05:00Z', delaySeconds: 40 } }]));
  assert.equal(due.containerStatuses[0].state.terminated!.reason, 'Error');
  assert.equal(due.containerStatuses[0].lastState.terminated!.containerID, 'docker://c3');
  // Running again after the restart: the crash is the last state.
  const again = podStatus(p, observed([{ name: 'main', current: running('c5', '2026-05-01T10:05:36Z', 4), previous: cur }]));
  assert.deepEqual([again.containerStatuses[0].restartCount, again.containerStatuses[0].lastState.terminated!.containerID, again.phase], [4, 'docker://c4', 'Running']);
});

test('OOMKilled, Completed and Error under each restart policy', () => {
  const oom = exited('c1', 137, '2026-05-01T10:00:01.849489659Z', '2026-05-01T10:00:01.86833203Z', { OOMKilled: true });
  const ok = exited('c1', 0, '2026-05-01T10:00:01Z', '2026-05-01T10:00:09Z');
  const fail = exited('c1', 2, '2026-05-01T10:00:01Z', '2026-05-01T10:00:09Z');
  const cases: Array<[string, DockerInspect, string, string, string]> = [
    ['Never', oom, 'OOMKilled', 'Failed', 'PodFailed'],
    ['Never', ok, 'Completed', 'Succeeded', 'PodCompleted'],
    ['Never', fail, 'Error', 'Failed', 'PodFailed'],
    ['OnFailure', ok, 'Completed', 'Succeeded', 'PodCompleted'],
    ['OnFailure', fail, 'Error', 'Running', 'ContainersNotReady'],
    ['OnFailure', oom, 'OOMKilled', 'Running', 'ContainersNotReady'],
    ['Always', ok, 'Completed', 'Running', 'ContainersNotReady'],
    ['Always', oom, 'OOMKilled', 'Running', 'ContainersNotReady'],
  ];
  for (const [policy, current, reason, phase, readyReason] of cases) {
    const s = podStatus(pod({ restartPolicy: policy, containers: [busybox()] }), observed([{ name: 'main', current }]));
    const t = s.containerStatuses[0].state.terminated!;
    assert.equal(t.reason, reason, `${policy} ${reason}`);
    assert.equal(t.exitCode, current.State.ExitCode);
    assert.equal(s.phase, phase, `${policy} ${reason}`);
    assert.equal(cond(s, 'Ready')!.reason, readyReason, `${policy} ${reason}`);
  }
  const oomStatus = podStatus(pod({ restartPolicy: 'Never', containers: [busybox()] }), observed([{ name: 'main', current: oom }]));
  assert.deepEqual(oomStatus.containerStatuses[0].state.terminated, {
    exitCode: 137, reason: 'OOMKilled', startedAt: '2026-05-01T10:00:01Z', finishedAt: '2026-05-01T10:00:01Z', containerID: 'docker://c1',
  });
  const completed = podStatus(pod({ restartPolicy: 'Never', containers: [busybox()] }), observed([{ name: 'main', current: ok }]));
  assert.deepEqual([cond(completed, 'Initialized')!.reason, cond(completed, 'ContainersReady')!.reason], ['PodCompleted', 'PodCompleted']);
});

test('a terminal phase never changes back', () => {
  const p = pod({ restartPolicy: 'Never', containers: [busybox()] }, { phase: 'Succeeded', reason: 'Done', message: 'all good' });
  const s = podStatus(p, observed([]));
  assert.equal(s.phase, 'Succeeded');
  assert.equal(s.reason, 'Done');
  assert.equal(s.message, 'all good');
  const moved = podStatus(pod({ containers: [busybox()] }, { phase: 'Pending', reason: 'Old' }), observed([{ name: 'main', current: running('c1', NOW) }]));
  assert.equal(moved.reason, undefined, 'reason and message belong to the phase they came with');
});

test('image pull and config errors are waiting states the caller names', () => {
  const cases: Array<[ObservedContainer['waiting'], string]> = [
    [{ reason: 'ErrImagePull', message: 'Error response from daemon: pull access denied for nosuch/image, repository does not exist or may require \'docker login\'' }, 'ErrImagePull'],
    [{ reason: 'ImagePullBackOff', message: 'Back-off pulling image "nosuch/image"' }, 'ImagePullBackOff'],
    [{ reason: 'CreateContainerConfigError', message: 'configmap "settings" not found' }, 'CreateContainerConfigError'],
  ];
  for (const [waiting, reason] of cases) {
    const s = podStatus(pod({ containers: [busybox('main', { image: 'nosuch/image' })] }), observed([{ name: 'main', waiting }]));
    assert.deepEqual(s.containerStatuses[0].state, { waiting });
    assert.equal(s.containerStatuses[0].image, 'nosuch/image');
    assert.equal(s.phase, 'Pending', reason);
  }
  // A pull failure on restart keeps the crash as the last state.
  const s = podStatus(pod({ containers: [busybox()] }), observed([{ name: 'main', current: exited('c1', 1, NOW, NOW), waiting: { reason: 'ErrImagePull' } }]));
  assert.equal(s.containerStatuses[0].lastState.terminated!.containerID, 'docker://c1');
  assert.equal(s.phase, 'Running', 'it ran once; waiting with a last termination counts as stopped');
});

test('an engine start failure is a StartError termination', () => {
  const bad = ctr('c1', { Status: 'created', ExitCode: 127, Error: 'failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "/nonexistent": stat /nonexistent: no such file or directory: unknown' });
  const s = podStatus(pod({ restartPolicy: 'Never', containers: [busybox()] }), observed([{ name: 'main', current: bad }]));
  assert.deepEqual(s.containerStatuses[0].state.terminated, {
    exitCode: 127, reason: 'StartError', startedAt: null, finishedAt: null, containerID: 'docker://c1',
    message: bad.State.Error,
  });
  assert.equal(s.phase, 'Failed');
  // Created and not started yet, without an error: still being created.
  const created = podStatus(pod({ containers: [busybox()] }), observed([{ name: 'main', current: ctr('c1', {}) }]));
  assert.deepEqual(created.containerStatuses[0].state, { waiting: { reason: 'ContainerCreating' } });
  assert.equal(created.containerStatuses[0].containerID, 'docker://c1');
});

test('readiness and startup probes decide ready and started; transitions get a new time', () => {
  const p = pod({ containers: [busybox('a'), busybox('b')] });
  const first = podStatus(p, observed([
    { name: 'a', current: running('c1', NOW), ready: false },
    { name: 'b', current: running('c2', NOW), started: false },
  ]));
  assert.deepEqual(first.containerStatuses.map((c) => [c.name, c.ready, c.started]), [['a', false, true], ['b', false, false]]);
  assert.deepEqual([cond(first, 'Ready')!.status, cond(first, 'Ready')!.message], ['False', 'containers with unready status: [a b]']);
  const later = podStatus({ ...p, status: first }, { ...observed([{ name: 'a', current: running('c1', NOW), ready: true }, { name: 'b', current: running('c2', NOW), started: true }]), now: '2026-05-01T10:06:00Z' });
  assert.equal(cond(later, 'Ready')!.status, 'True');
  assert.equal(cond(later, 'Ready')!.lastTransitionTime, '2026-05-01T10:06:00Z');
  assert.equal(cond(later, 'PodScheduled')!.lastTransitionTime, '2026-05-01T10:05:00Z', 'unchanged conditions keep their time');
  assert.equal(later.startTime, first.startTime);
});

test('readiness gates hold Ready until their conditions are True', () => {
  const spec = { readinessGates: [{ conditionType: 'example.com/lb' }, { conditionType: 'example.com/dns' }], containers: [busybox()] };
  const old: Partial<PodStatus> = { conditions: [{ type: 'example.com/lb', status: 'False', lastProbeTime: null, lastTransitionTime: NOW }] };
  const s = podStatus(pod(spec, old), observed([{ name: 'main', current: running('c1', NOW) }]));
  assert.equal(cond(s, 'ContainersReady')!.status, 'True');
  assert.deepEqual([cond(s, 'Ready')!.status, cond(s, 'Ready')!.reason, cond(s, 'Ready')!.message], [
    'False', 'ReadinessGatesNotReady',
    'the status of pod readiness gate "example.com/lb" is not "True", but False, corresponding condition of pod readiness gate "example.com/dns" does not exist.',
  ]);
});

test('pod IPs: the sandbox\'s address, the host\'s for host networking, kept once the sandbox is gone', () => {
  const dual: DockerInspect = { ...sandbox(), NetworkSettings: { Networks: { k2d: { IPAddress: '172.18.0.9', GlobalIPv6Address: 'fd00::9' } } } };
  const s = podStatus(pod({ containers: [busybox()] }), observed([], { sandbox: dual, hostIPs: ['192.168.1.20', 'fd00::20'] }));
  assert.deepEqual([s.podIP, s.podIPs, s.hostIPs], ['172.18.0.9', [{ ip: '172.18.0.9' }, { ip: 'fd00::9' }], [{ ip: '192.168.1.20' }, { ip: 'fd00::20' }]]);
  const host = podStatus(pod({ hostNetwork: true, containers: [busybox()] }), observed([], { sandbox: { Id: 'sb', State: state({ Status: 'running', Running: true }) } }));
  assert.equal(host.podIP, '192.168.1.20');
  assert.equal(cond(host, 'PodReadyToStartContainers')!.status, 'True');
  const gone = podStatus(pod({ containers: [busybox()] }, { phase: 'Running', podIP: '172.18.0.7', podIPs: [{ ip: '172.18.0.7' }] }), observed([], { sandbox: sandbox(false) }));
  assert.equal(gone.podIP, '172.18.0.7');
  assert.equal(cond(gone, 'PodReadyToStartContainers')!.status, 'False');
});

test('a deleted pod whose containers all stopped is terminal even under Always', () => {
  const s = podStatus(pod({ containers: [busybox()] }, undefined, { deletionTimestamp: NOW }), observed([{ name: 'main', current: exited('c1', 143, NOW, NOW) }]));
  assert.equal(s.phase, 'Failed');
  const clean = podStatus(pod({ containers: [busybox()] }, undefined, { deletionTimestamp: NOW }), observed([{ name: 'main', current: exited('c1', 0, NOW, NOW) }]));
  assert.equal(clean.phase, 'Succeeded');
});

test('qosClass is part of the status', () => {
  const s = podStatus(pod({ containers: [busybox('main', { resources: { limits: { cpu: '100m', memory: '8Mi' } } })] }), observed([]));
  assert.equal(s.qosClass, 'Guaranteed');
});

test('back-off: immediate first restart, then 10s doubling to 5 minutes', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7, 100].map(backoffDelay), [0, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
  assert.deepEqual([10, 20, 40, 80, 160, 300, 3600, 3725].map(goDuration), ['10s', '20s', '40s', '1m20s', '2m40s', '5m0s', '1h0m0s', '1h2m5s']);
});

test('shouldRestart follows the pod restartPolicy, init containers and sidecars', () => {
  const spec = (restartPolicy: string) => pod({ restartPolicy, initContainers: [busybox('init'), busybox('side', { restartPolicy: 'Always' })], containers: [busybox()] });
  const cases: Array<[string, string, number, boolean]> = [
    ['Always', 'main', 0, true], ['Always', 'main', 1, true],
    ['OnFailure', 'main', 0, false], ['OnFailure', 'main', 1, true],
    ['Never', 'main', 0, false], ['Never', 'main', 1, false],
    ['Always', 'init', 0, false], ['Always', 'init', 1, true],
    ['OnFailure', 'init', 1, true], ['Never', 'init', 1, false],
    ['Never', 'side', 0, true], ['Never', 'side', 1, true],
  ];
  for (const [policy, name, code, want] of cases) assert.equal(shouldRestart(spec(policy), name, code), want, `${policy} ${name} ${code}`);
  assert.equal(shouldRestart(pod({ containers: [busybox()] }), 'main', 0), true, 'Always is the default');
});

test('kubeTime: seconds precision, Docker\'s zero time is null', () => {
  assert.equal(kubeTime('2026-05-01T10:00:01.987654321Z'), '2026-05-01T10:00:01Z');
  assert.equal(kubeTime(new Date('2026-05-01T10:00:01.5Z')), '2026-05-01T10:00:01Z');
  assert.equal(kubeTime(ZERO), null);
  assert.equal(kubeTime(''), null);
  assert.equal(kubeTime('garbage'), null);
});

test('activeDeadlineSeconds: due from startTime (or now); past it the pod is Failed with DeadlineExceeded, and stays so', () => {
  const now = Date.parse(NOW);
  assert.equal(activeDeadline(pod({ containers: [busybox()] }), now), undefined);
  assert.equal(activeDeadline(pod({ activeDeadlineSeconds: 30, containers: [busybox()] }), now), now + 30_000);
  assert.equal(activeDeadline(pod({ activeDeadlineSeconds: 30, containers: [busybox()] }, { startTime: '2026-05-01T10:00:00Z' } as Partial<PodStatus>), now), Date.parse('2026-05-01T10:00:30Z'));
  const spec = { activeDeadlineSeconds: 3, containers: [busybox()] };
  const killed = exited('c1', 137, '2026-05-01T10:00:01Z', '2026-05-01T10:00:04Z');
  const s = podStatus(pod(spec, { phase: 'Running', startTime: '2026-05-01T10:00:00Z' } as Partial<PodStatus>), observed([{ name: 'main', current: killed }], { deadlineExceeded: true }));
  assert.equal(s.phase, 'Failed');
  assert.equal(s.reason, 'DeadlineExceeded');
  assert.equal(s.message, DEADLINE_EXCEEDED_MESSAGE);
  assert.equal(s.message, 'Pod was active on the node longer than the specified deadline');
  assert.equal(cond(s, 'Ready')?.reason, 'PodFailed');
  // A later status keeps phase, reason and message.
  const later = podStatus(pod(spec, s), observed([{ name: 'main', current: killed }]));
  assert.deepEqual([later.phase, later.reason, later.message], ['Failed', 'DeadlineExceeded', DEADLINE_EXCEEDED_MESSAGE]);
  // Without the flag a running pod stays Running.
  assert.equal(podStatus(pod(spec), observed([{ name: 'main', current: running('c1', '2026-05-01T10:00:01Z') }])).phase, 'Running');
});

test('termination messages: state.terminated.message and lastState.terminated.message', () => {
  const spec = { containers: [busybox()] };
  const s = podStatus(pod(spec), observed([{
    name: 'main', current: exited('c2', 3, '2026-05-01T10:01:00Z', '2026-05-01T10:01:01Z', {}, 1),
    previous: exited('c1', 2, '2026-05-01T10:00:00Z', '2026-05-01T10:00:01Z'),
    messages: { current: 'last words\n', previous: 'first words' },
  }]));
  assert.equal(s.containerStatuses[0].state.terminated?.message, 'last words\n');
  assert.equal(s.containerStatuses[0].lastState.terminated?.message, 'first words');
  const none = podStatus(pod(spec), observed([{ name: 'main', current: exited('c2', 0, '2026-05-01T10:01:00Z', '2026-05-01T10:01:01Z') }]));
  assert.equal('message' in none.containerStatuses[0].state.terminated!, false);
  // The engine's own start error stays the message.
  const err = podStatus(pod(spec), observed([{ name: 'main', current: exited('c3', 127, ZERO, ZERO, { Error: 'exec: "nope": not found' }), messages: { current: 'ignored' } }]));
  assert.equal(err.containerStatuses[0].state.terminated?.message, 'exec: "nope": not found');
});

test('ephemeral containers: their own status list after qosClass, never ready, no effect on phase or readiness', () => {
  const p = pod({ restartPolicy: 'Never', containers: [busybox('main')], ephemeralContainers: [busybox('debugger-a', { targetContainerName: 'main' }), busybox('debugger-b')] });
  const s = podStatus(p, observed([
    { name: 'main', current: running('c1', '2026-05-01T10:00:01Z') },
    { name: 'debugger-a', current: exited('e1', 1, '2026-05-01T10:01:00Z', '2026-05-01T10:01:02Z') },
    { name: 'debugger-b', current: running('e2', '2026-05-01T10:02:00Z') },
  ]));
  assert.equal(s.phase, 'Running');
  assert.equal(cond(s, 'Ready')?.status, 'True');
  assert.deepEqual(Object.keys(s).slice(-2), ['qosClass', 'ephemeralContainerStatuses']);
  const [a, b] = s.ephemeralContainerStatuses!;
  assert.equal(a.name, 'debugger-a');
  assert.equal(a.state.terminated?.exitCode, 1);
  assert.equal(a.state.terminated?.reason, 'Error');
  assert.equal(a.ready, false);
  assert.equal(b.name, 'debugger-b');
  assert.ok(b.state.running);
  assert.equal(b.ready, false);
  assert.equal(b.containerID, 'docker://e2');
  const waiting = podStatus(pod({ containers: [busybox('main')], ephemeralContainers: [busybox('debugger-c')] }), observed([{ name: 'main', current: running('c1', '2026-05-01T10:00:01Z') }]));
  assert.deepEqual(waiting.ephemeralContainerStatuses![0].state, { waiting: { reason: 'ContainerCreating' } });
  assert.equal(podStatus(pod({ containers: [busybox('main')] }), observed([])).ephemeralContainerStatuses, undefined);
});
