// metrics.k8s.io from engine stats and /proc: rates, working set, quantities, windows.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  cpuSample, nanoCores, procMeminfoUsedBytes, procStatBusyNs, usage, windowDuration, workingSetBytes,
} from '../../src/translate/metrics.ts';

test('a stats reply gives a CPU sample; a stopped container (zero read time) gives none', () => {
  assert.deepEqual(cpuSample({ read: '2026-12-03T10:00:01.5Z', cpu_stats: { cpu_usage: { total_usage: 5_000_000_000 } } }),
    { usageNs: 5_000_000_000, at: Date.parse('2026-12-03T10:00:01.5Z') });
  assert.equal(cpuSample({ read: '0001-01-01T00:00:00Z', cpu_stats: { cpu_usage: { total_usage: 0 } } }), undefined);
  assert.equal(cpuSample({}), undefined);
});

test('working set: usage less inactive file pages, cgroup v2 and v1 names, never below zero', () => {
  assert.equal(workingSetBytes({ memory_stats: { usage: 10_000_000, stats: { inactive_file: 4_000_000 } } }), 6_000_000);
  assert.equal(workingSetBytes({ memory_stats: { usage: 10_000_000, stats: { total_inactive_file: 1_000_000 } } }), 9_000_000);
  assert.equal(workingSetBytes({ memory_stats: { usage: 1, stats: { inactive_file: 5 } } }), 0);
  assert.equal(workingSetBytes({}), 0);
});

test('nanocores between two samples: one core busy for the window is 1e9n; no window or a reset counter is 0', () => {
  const a = { usageNs: 1_000_000_000, at: 10_000 };
  assert.equal(nanoCores(a, { usageNs: 1_500_000_000, at: 11_000 }), 500_000_000);
  assert.equal(nanoCores(a, { usageNs: 3_000_000_000, at: 11_000 }), 2_000_000_000);
  assert.equal(nanoCores(a, { usageNs: 2_000_000_000, at: 10_000 }), 0);
  assert.equal(nanoCores(a, { usageNs: 10, at: 12_000 }), 0);
});

test('quantities and windows as metrics-server writes them', () => {
  assert.deepEqual(usage(636_355_043.4, 225_280 + 500), { cpu: '636355043n', memory: '220Ki' });
  assert.deepEqual(usage(-5, -1), { cpu: '0n', memory: '0Ki' });
  assert.equal(windowDuration(1008), '1.008s');
  assert.equal(windowDuration(10_500), '10.5s');
  assert.equal(windowDuration(2000), '2s');
  assert.equal(windowDuration(62_003), '1m2.003s');
  assert.equal(windowDuration(0), '0s');
});

test('/proc/stat busy time and /proc/meminfo used memory', () => {
  const stat = 'cpu  100 20 30 5000 40 5 6 7 0 0\ncpu0 50 10 15 2500 20 2 3 3 0 0\nintr 1 2 3\n';
  assert.equal(procStatBusyNs(stat), (100 + 20 + 30 + 5 + 6 + 7) * 1e7);
  assert.equal(procStatBusyNs('intr 1\n'), undefined);
  const mem = 'MemTotal:        2000000 kB\nMemFree:          100000 kB\nMemAvailable:     500000 kB\nBuffers: 1 kB\n';
  assert.equal(procMeminfoUsedBytes(mem), 1_500_000 * 1024);
  assert.equal(procMeminfoUsedBytes('MemTotal: 5 kB\n'), undefined);
});
