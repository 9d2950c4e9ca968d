// The engine side of pods, assembled from src/docker: what the controller (PodEngine) and the
// pod streams (PodIO) call.
import type { Duplex } from 'node:stream';
import { Duplex as DuplexStream } from 'node:stream';
import type { Config } from '../config.ts';
import type { Engine } from '../docker/engine.ts';
import * as containers from '../docker/containers.ts';
import * as images from '../docker/images.ts';
import { exec as dockerExec, attach as dockerAttach } from '../docker/exec.ts';
import { logs as dockerLogs } from '../docker/logs.ts';
import { ensureNetwork, reconnectWithAliases } from '../docker/network.ts';
import { runningRelays, startRelay } from '../docker/proxy.ts';
import { ensureSandboxImage } from '../docker/sandbox.ts';
import { writePodVolumes } from '../docker/files.ts';
import { dial, readAll } from '../docker/http.ts';
import { unpackTar } from '../docker/tar.ts';
import { badRequest } from '../machinery/errors.ts';
import type { Registry } from '../machinery/registry.ts';
import type { KObject } from '../machinery/types.ts';
import { LABELS, SANDBOX_VOLUME_ROOT, type DockerInspect, type PlanEnv } from '../translate/index.ts';
import type { PodEngine } from './pods.ts';
import { claimVolume } from './storage.ts';
import { checkHostPath } from './hostpath.ts';
import { ADOPTED, type AdoptEngine } from './adopt.ts';
import type { PodIO, ProcessIO } from '../api/podstreams.ts';
import { execOutput, type ProbeTransport } from './probes.ts';

type Obj = Record<string, any>;

export function networkName(instance: string): string {
  return instance === 'default' ? 'k2d' : `k2d-${instance}`;
}

export function createPodEngine(engine: Engine, cfg: Config): PodEngine & { nodeName(): string; validationEnv(pod: KObject, registry: Registry): PlanEnv } {
  const instanceLabel = { [LABELS.instance]: cfg.instance };
  let facts: Awaited<ReturnType<PodEngine['prepare']>> | undefined;
  let nodeName = cfg.hostname;
  const imageFacts = new images.ImageFacts(engine);
  return {
    nodeName: () => nodeName,
    validationEnv(pod: KObject, registry: Registry): PlanEnv {
      const cm = registry.kinds.get('configmaps');
      const sec = registry.kinds.get('secrets');
      return {
        instance: cfg.instance, network: networkName(cfg.instance), sandboxImage: facts?.sandboxImage ?? 'k2d/pause', aliases: [],
        configMaps: (ns, name) => (cm ? registry.peek(cm, ns, name) : undefined),
        secrets: (ns, name) => (sec ? registry.peek(sec, ns, name) : undefined),
        volumeDir: (uid, vol) => `k2d_${uid}_${vol}`, pvcVolume: (ns, claim) => claimVolume(registry, ns, claim),
        nodeName, hostIP: cfg.advertiseAddr, apiVersion: facts?.apiVersion, volumeRoot: facts?.volumeRoot ?? '/var/lib/docker/volumes',
      };
    },
    async prepare() {
      if (facts) return facts;
      const f = await engine.facts();
      const info = await dial<Obj>(engine, { method: 'GET', path: '/info' });
      nodeName = f.name;
      const network = networkName(cfg.instance);
      await ensureNetwork(engine, network, instanceLabel);
      const sandboxImage = await ensureSandboxImage(engine);
      facts = {
        network, sandboxImage, apiVersion: f.apiVersion,
        volumeRoot: `${info.DockerRootDir ?? '/var/lib/docker'}/volumes`,
        nodeName: f.name, hostIP: cfg.advertiseAddr,
      };
      return facts;
    },
    async podContainers(uid?: string): Promise<DockerInspect[]> {
      const list = await containers.listByLabels(engine, { ...instanceLabel, [LABELS.podUid]: uid ?? true });
      return (await inspectAll(engine, list.map((c) => c.Id))) as unknown as DockerInspect[];
    },
    inspect: async (id) => (await containers.inspect(engine, id)) as unknown as DockerInspect | undefined,
    create: (spec) => containers.create(engine, spec.name, spec.body),
    start: (id) => containers.start(engine, id),
    setAliases: async (id, network, aliases) => { await reconnectWithAliases(engine, network, id, aliases); },
    startRelay: (id, port, target) => startRelay(engine, id, port, target),
    runningRelays: (id) => runningRelays(engine, id),
    stop: (id, t) => containers.stop(engine, id, t),
    remove: async (id) => { await containers.remove(engine, id, { force: true }); },
    async removeVolumes(uid: string): Promise<void> {
      const r = await dial<{ Volumes?: Array<{ Name: string; Labels?: Record<string, string> }> }>(engine, {
        method: 'GET', path: '/volumes', query: { filters: JSON.stringify({ label: [`${LABELS.podUid}=${uid}`, `${LABELS.instance}=${cfg.instance}`] }) },
      });
      for (const v of r.Volumes ?? []) {
        await dial(engine, { method: 'DELETE', path: `/volumes/${encodeURIComponent(v.Name)}`, query: { force: true } }).catch(() => {});
      }
    },
    imagePresent: async (ref) => (await imageFacts.inspect(ref)) !== undefined,
    async pull(ref: string, secrets: KObject[]): Promise<void> {
      const r = await images.pull(engine, ref, { auth: images.credentialsFor(ref, secrets) });
      // Its events may come later than the answer; an Always pull must not be followed by old facts.
      imageFacts.clear();
      if (!r.ok) throw new Error(r.message);
    },
    async imageUser(ref: string) {
      return (await imageFacts.inspect(ref))?.User;
    },
    async imageDigests(ref: string) {
      return (await imageFacts.inspect(ref))?.RepoDigests ?? [];
    },
    async writeFiles(sandboxId, files, atomic) {
      await writePodVolumes(engine, sandboxId, SANDBOX_VOLUME_ROOT, files, atomic);
    },
    probes: probeTransport(engine, cfg),
    async terminationMessage(id: string, path: string, fallbackToLogs: boolean): Promise<string | undefined> {
      // kubelet reads at most 4 KiB of the file; the logs stand in with their last 80 lines, 2 KiB.
      let msg = '';
      try {
        const res = await dial<NodeJS.ReadableStream>(engine, { method: 'GET', path: `/containers/${encodeURIComponent(id)}/archive`, query: { path }, stream: true, ok: [200] });
        const file = unpackTar(await readAll(res as never)).find((e) => e.type === 'file');
        msg = file?.content ? file.content.subarray(0, 4096).toString() : '';
      } catch { /* no such file: no message */ }
      if (!msg && fallbackToLogs) {
        const text = (await readAll(await dockerLogs(engine, id, { tail: 80 }))).toString();
        msg = Buffer.from(text).subarray(-2048).toString();
      }
      return msg || undefined;
    },
    // The host paths are this machine's only when the engine is reached by a unix socket.
    ...(!cfg.dockerHost || cfg.dockerHost.startsWith('unix://') ? { checkHostPath } : {}),
  };
}

/** Inspects, a few at a time (in list order); a container removed meanwhile is left out. */
async function inspectAll(engine: Engine, ids: string[]): Promise<containers.ContainerInspect[]> {
  const out: Array<containers.ContainerInspect | undefined> = new Array(ids.length);
  let next = 0;
  const worker = async () => { while (next < ids.length) { const i = next++; out[i] = await containers.inspect(engine, ids[i]); } };
  await Promise.all(Array.from({ length: Math.min(4, ids.length) }, worker));
  return out.filter((x): x is containers.ContainerInspect => x !== undefined);
}

/** Probes reach containers as exec and port-forward do: an exec, and PodIO's dial. */
function probeTransport(engine: Engine, cfg: Config): ProbeTransport {
  let io: PodIO | undefined;
  return {
    exec: async (id, cmd, signal) => execOutput(await dockerExec(engine, id, { cmd }), signal),
    dial: (pod, port) => (io ??= createPodIO(engine, undefined, cfg)).dial(pod, port),
  };
}

async function newestContainer(engine: Engine, cfg: Config, pod: KObject, container: string, previous = false): Promise<containers.ContainerSummary | undefined> {
  const adopted = pod.metadata.annotations?.[ADOPTED];
  if (adopted) {
    if (previous) return undefined;
    const i = await containers.inspect(engine, adopted);
    return i && { Id: i.Id, Name: i.Name, Image: i.Config.Image, ImageID: i.Image, Labels: i.Config.Labels, State: i.State.Status, Status: i.State.Status, Created: Date.parse(i.Created) / 1000 };
  }
  const list = await containers.listByLabels(engine, { [LABELS.instance]: cfg.instance, [LABELS.podUid]: pod.metadata.uid!, [LABELS.containerName]: container });
  const sorted = list.sort((a, b) => Number(b.Labels[LABELS.restartCount] ?? 0) - Number(a.Labels[LABELS.restartCount] ?? 0) || b.Created - a.Created);
  return previous ? sorted[1] : sorted[0];
}

export function createPodIO(engine: Engine, _registry: Registry | undefined, cfg: Config): PodIO {
  const running = async (pod: KObject, container: string) => {
    const c = await newestContainer(engine, cfg, pod, container);
    if (!c || c.State !== 'running') throw badRequest(`container ${container} is not valid for pod ${pod.metadata.name}`);
    return c;
  };
  const toProcess = (s: { stdin?: NodeJS.WritableStream; stdout: NodeJS.ReadableStream; stderr: NodeJS.ReadableStream; resize(w: number, h: number): Promise<void>; exitCode: Promise<number | undefined> }): ProcessIO => ({
    stdin: s.stdin as ProcessIO['stdin'], stdout: s.stdout as ProcessIO['stdout'], stderr: s.stderr as ProcessIO['stderr'],
    resize: (w, h) => { void s.resize(w, h); },
    exitCode: s.exitCode.then((c) => c ?? 0),
  });
  return {
    async logs(pod, container, opts) {
      const c = await newestContainer(engine, cfg, pod, container, opts.previous);
      if (!c) {
        if (opts.previous) throw badRequest(`previous terminated container "${container}" in pod "${pod.metadata.name}" not found`);
        throw badRequest(`container "${container}" in pod "${pod.metadata.name}" is waiting to start: ${waitingWhy(pod, container)}`);
      }
      const since = opts.sinceTime ? new Date(opts.sinceTime) : opts.sinceSeconds ? new Date(Date.now() - opts.sinceSeconds * 1000) : undefined;
      return dockerLogs(engine, c.Id, { follow: opts.follow && !opts.previous, tail: opts.tailLines, since, timestamps: opts.timestamps, limitBytes: opts.limitBytes });
    },
    async exec(pod, container, command, o) {
      const c = await running(pod, container);
      return toProcess(await dockerExec(engine, c.Id, { cmd: command, stdin: o.stdin, tty: o.tty }));
    },
    async attach(pod, container, o) {
      const c = await running(pod, container);
      return toProcess(await dockerAttach(engine, c.Id, { stdin: o.stdin, tty: o.tty }));
    },
    async dial(pod, port): Promise<Duplex> {
      // Inside the pod's network namespace, through an exec: no address of the Docker network is
      // dialled from the host. The sandbox holds the namespace and carries its own relay
      // (`/pause c`), so this works for every image and while app containers restart. A pod
      // adopted from a hand-made container has no sandbox: there only its own nc can do it.
      let target: string;
      let cmd = ['/pause', 'c', String(port)]; // sandbox.ts PAUSE_PATH
      if (pod.metadata.annotations?.[ADOPTED]) {
        target = (await running(pod, ((pod.spec as Obj)?.containers ?? [])[0]?.name as string)).Id;
        cmd = ['nc', '127.0.0.1', String(port)];
      } else {
        const sandboxes = await containers.listByLabels(engine, { [LABELS.instance]: cfg.instance, [LABELS.podUid]: pod.metadata.uid!, [LABELS.kind]: 'sandbox' });
        const sb = sandboxes.find((c) => c.State === 'running');
        if (!sb) throw badRequest(`unable to forward port because pod is not running: pod ${pod.metadata.name} has no running sandbox`);
        target = sb.Id;
      }
      const p = await dockerExec(engine, target, { cmd, stdin: true, tty: false });
      // stdout carries the relayed bytes; the relay's one byte on stderr says it is connected.
      // Until then the stream is `connecting`, as a net.Socket would be.
      let connected = false;
      const d = new DuplexStream({
        write(chunk, _enc, cb) { p.stdin!.write(chunk, cb); },
        final(cb) { p.stdin!.end(); cb(); },
        read() { p.stdout.resume(); },
        destroy(err, cb) { p.close(); cb(err); },
      }) as DuplexStream & { connecting: boolean };
      d.connecting = true;
      const connect = () => {
        if (connected) return;
        connected = true;
        d.connecting = false;
        d.emit('connect');
      };
      if (cmd[0] === 'nc') connect();
      p.stderr.on('data', connect);
      p.stdout.on('data', (b: Buffer) => { connect(); if (!d.push(b)) p.stdout.pause(); });
      // Before the connect, the end of output is a failure, told by the exit code: no clean EOF.
      p.stdout.on('end', () => { if (connected) d.push(null); });
      p.exitCode.then((code) => {
        if (connected || d.destroyed) return;
        d.destroy(new Error(`failed to connect to localhost:${port} inside namespace "${target}", IPv4: dial tcp4 127.0.0.1:${port}: connect: connection refused${code === 1 ? '' : ` (relay exit status ${code})`}`));
      }, (err: Error) => { if (!d.destroyed) d.destroy(err); });
      return d;
    },
  };
}

/** Containers we did not make, for the Adopter. */
export function createAdoptEngine(engine: Engine, cfg: Config): AdoptEngine {
  return {
    hostIP: cfg.advertiseAddr,
    async foreignContainers() {
      const all = await containers.listByLabels(engine, {});
      return (await inspectAll(engine, all.filter((c) => c.Labels[LABELS.instance] === undefined).map((c) => c.Id))) as unknown as DockerInspect[];
    },
    inspect: async (id) => (await containers.inspect(engine, id)) as unknown as DockerInspect | undefined,
  };
}

/** kubelet's validateContainerLogStatus words for a container that has not run yet. */
function waitingWhy(pod: KObject, container: string): string {
  const st = (pod.status ?? {}) as Obj;
  const all = [...(st.initContainerStatuses ?? []), ...(st.containerStatuses ?? []), ...(st.ephemeralContainerStatuses ?? [])] as Obj[];
  const reason = all.find((c) => c.name === container)?.state?.waiting?.reason as string | undefined;
  if (reason === 'ErrImagePull') return "image can't be pulled";
  if (reason === 'ImagePullBackOff') return 'trying and failing to pull image';
  return reason || 'ContainerCreating';
}
