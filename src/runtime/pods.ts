// The pod controller: turns stored Pods into containers and the engine's state back into Pod
// status. Event-driven: a pod is synced when the API changes it or the engine reports on one of
// its containers; a timer exists only for a thing due at a known time (a back-off's end).
import type { Registry } from '../machinery/registry.ts';
import type { KindInfo, KObject } from '../machinery/types.ts';
import { recordEvent } from './events.ts';
import { deepEqual } from '../machinery/util.ts';
import { log } from '../log.ts';
import { claimVolume } from './storage.ts';
import { ADOPTED } from './adopt.ts';
import {
  activeDeadline, backoffDelay, DEADLINE_EXCEEDED_MESSAGE, LABELS, planPod, podStatus, podVolumeFiles, shouldRestart,
  type CreateSpec, type DockerInspect, type FileSpec, type ObservedContainer, type PlanEnv,
} from '../translate/index.ts';
import { Prober, runProbe, type ProbeTransport } from './probes.ts';

/** What the controller needs from the engine; src/docker implements it. */
export interface PodEngine {
  /** Network, sandbox image and engine facts, made ready once. */
  prepare(): Promise<{ network: string; sandboxImage: string; volumeRoot?: string; apiVersion?: string; nodeName: string; hostIP: string }>;
  /** Every container of this instance (all pods when uid is undefined), stopped ones too. */
  podContainers(uid?: string): Promise<DockerInspect[]>;
  inspect(id: string): Promise<DockerInspect | undefined>;
  create(spec: CreateSpec): Promise<string>;
  start(id: string): Promise<void>;
  stop(id: string, timeoutSeconds: number): Promise<void>;
  remove(id: string): Promise<void>;
  removeVolumes(podUid: string): Promise<void>;
  imagePresent(ref: string): Promise<boolean>;
  /** Pulls with the credentials of the pod's imagePullSecrets; throws with the engine's message. */
  pull(ref: string, pullSecrets: KObject[]): Promise<void>;
  imageUser(ref: string): Promise<string | undefined>;
  imageDigests(ref: string): Promise<string[]>;
  /** `atomic`: the volumes whose whole content `files` is (configMap, secret, downwardAPI, projected). */
  writeFiles(sandboxId: string, files: FileSpec[], atomic: string[]): Promise<void>;
  /** How liveness/readiness/startup probes reach containers; without it no probe runs. */
  probes?: ProbeTransport;
  /** A stopped container's terminationMessagePath content, or its logs' tail when fallbackToLogs. */
  terminationMessage?(id: string, path: string, fallbackToLogs: boolean): Promise<string | undefined>;
  /** kubelet's hostPath type check on the engine's host (see hostpath.ts); absent for a remote engine. */
  checkHostPath?(path: string, type: string): string | undefined;
  /** Replaces the network aliases of a running sandbox (Service DNS names). */
  setAliases?(sandboxId: string, network: string, aliases: string[]): Promise<void>;
  /** Starts a relay in a running sandbox from a Service port to the pod's targetPort. */
  startRelay?(sandboxId: string, port: number, target: number): Promise<void>;
  /** The relays running in a sandbox: port -> target. */
  runningRelays?(sandboxId: string): Promise<Map<number, number>>;
}

type Obj = Record<string, any>;

const ATOMIC = ['configMap', 'secret', 'downwardAPI', 'projected'];
/** Pod volumes written as a whole, as kubelet's atomic writer does. */
export function atomicVolumes(pod: KObject): string[] {
  return (((pod.spec as Obj)?.volumes ?? []) as Obj[]).filter((v) => ATOMIC.some((k) => v[k])).map((v) => v.name);
}

interface PodMemory {
  /** image pull failures: reason and until when we wait before trying again */
  pull: Map<string, { reason: string; message: string; until: number; failures: number }>;
  /** crash streak per container name, for the back-off */
  crashes: Map<string, number>;
  timer?: NodeJS.Timeout;
  timerAt?: number;
  createErrors: Map<string, { reason: string; message: string }>;
  /** Service port relays started in the current sandbox */
  relays?: { sandbox: string; ports: Map<number, number> };
  /** the Service aliases its sandbox was last seen or made to carry (sorted, as JSON) */
  aliases?: string;
}

const attemptOf = (c: DockerInspect) => Number(c.Config?.Labels?.[LABELS.restartCount] ?? 0);
const kindOf = (c: DockerInspect) => c.Config?.Labels?.[LABELS.kind] ?? '';
const nameOf = (c: DockerInspect) => c.Config?.Labels?.[LABELS.containerName] ?? '';
const created = (c: DockerInspect) => (c as { Created?: string }).Created ?? '';
const newestFirst = (a: DockerInspect, b: DockerInspect) => attemptOf(b) - attemptOf(a) || created(b).localeCompare(created(a));

export class PodController {
  private kind: KindInfo;
  private queue = new Map<string, Promise<void>>();
  private again = new Set<string>();
  private memory = new Map<string, PodMemory>();
  private facts?: Awaited<ReturnType<PodEngine['prepare']>>;
  private stopped = false;
  private prober?: Prober;
  /**
   * The Service DNS names a pod's sandbox answers to and the port relays it runs
   * (src/runtime/services.ts). Checked on every sync; whoever changes the answer enqueues the pod.
   */
  serviceNetwork?: (pod: KObject) => { aliases: string[]; relays: Array<{ port: number; target: number }> };
  /** Told after a sandbox was reconnected for its aliases (its address may have changed). */
  onNetworkChange?: (pod: KObject) => void;

  constructor(private registry: Registry, private engine: PodEngine, private instance: string) {
    this.kind = registry.kind('pods');
    // Probes (src/runtime/probes.ts): results come back as a resync of the pod; a failed
    // liveness/startup probe stops the container and the sync below restarts it.
    if (engine.probes) {
      this.prober = new Prober({
        transport: engine.probes,
        changed: (uid) => this.enqueue(uid),
        event: (pod, type, reason, message, container) => this.event(pod, type, reason, message, container),
        kill: (_pod, _name, id, grace) => this.engine.stop(id, grace),
      });
    }
  }

  /** Subscribes to pod changes and converges every stored pod (after a restart too). */
  async start(): Promise<void> {
    // A claim that binds (or changes) lets the pods of its namespace that wait on it go on.
    if (this.registry.kinds.has('persistentvolumeclaims')) {
      this.registry.hub.add({
        resource: 'persistentvolumeclaims',
        onChange: (c) => {
          for (const p of this.registry.all(this.kind, c.object.metadata.namespace)) {
            if (((p.spec as Obj)?.volumes ?? []).some((v: Obj) => v.persistentVolumeClaim?.claimName === c.object.metadata.name)) this.enqueue(p.metadata.uid!);
          }
        },
      });
    }
    this.registry.hub.add({
      resource: 'pods',
      onChange: (c) => { if (!(c.type === 'MODIFIED' && c.old && onlyStatusChanged(c.old, c.object))) this.enqueue(c.object.metadata.uid!); },
    });
    try {
      this.facts = await this.engine.prepare();
    } catch (err) {
      log('pod runtime not ready', { level: 'error', error: (err as Error).message });
      return;
    }
    for (const pod of this.registry.all(this.kind)) this.enqueue(pod.metadata.uid!);
    // Containers whose pod is gone (deleted while we were down) go too.
    for (const c of await this.engine.podContainers()) {
      const uid = c.Config?.Labels?.[LABELS.podUid];
      if (uid && !this.podByUid(uid)) this.enqueue(uid);
    }
  }

  /** An engine event about one of our containers. */
  onEngineEvent(ev: { Type?: string; Action?: string; Actor?: { Attributes?: Record<string, string> } }): void {
    if (ev.Type !== 'container') return;
    const attrs = ev.Actor?.Attributes ?? {};
    if (attrs[LABELS.instance] !== this.instance) return;
    const uid = attrs[LABELS.podUid];
    if (!uid) return;
    if (['start', 'die', 'oom', 'destroy', 'stop', 'kill', 'health_status'].some((a) => ev.Action?.startsWith(a))) this.enqueue(uid);
  }

  stop(): void {
    this.stopped = true;
    for (const m of this.memory.values()) if (m.timer) clearTimeout(m.timer);
    this.prober?.stop();
  }

  private podByUid(uid: string): KObject | undefined {
    return this.registry.byUid(this.kind, uid);
  }

  enqueue(uid: string): void {
    if (this.stopped) return;
    if (this.queue.has(uid)) { this.again.add(uid); return; }
    const run = (async () => {
      do {
        this.again.delete(uid);
        try {
          await this.sync(uid);
        } catch (err) {
          log('pod sync failed', { level: 'error', uid, error: (err as Error).stack ?? String(err) });
        }
      } while (this.again.has(uid) && !this.stopped);
      this.queue.delete(uid);
    })();
    this.queue.set(uid, run);
  }

  private mem(uid: string): PodMemory {
    let m = this.memory.get(uid);
    if (!m) this.memory.set(uid, (m = { pull: new Map(), crashes: new Map(), createErrors: new Map() }));
    return m;
  }

  /** Runs sync again at a known time (a back-off's end). */
  private wakeAt(uid: string, at: number): void {
    const m = this.mem(uid);
    if (m.timer && m.timerAt !== undefined && m.timerAt <= at) return;
    if (m.timer) clearTimeout(m.timer);
    m.timerAt = at;
    m.timer = setTimeout(() => { m.timer = undefined; m.timerAt = undefined; this.enqueue(uid); }, Math.max(0, at - Date.now()) + 10);
  }

  private env(pod: KObject, extra: Partial<PlanEnv> = {}): PlanEnv {
    const f = this.facts!;
    const cm = this.registry.kinds.get('configmaps');
    const sec = this.registry.kinds.get('secrets');
    const svc = this.registry.kinds.get('services');
    return {
      instance: this.instance, network: f.network, sandboxImage: f.sandboxImage, aliases: this.serviceNetwork?.(pod).aliases ?? [],
      configMaps: (ns, name) => (cm ? this.registry.peek(cm, ns, name) : undefined),
      secrets: (ns, name) => (sec ? this.registry.peek(sec, ns, name) : undefined),
      services: (ns) => (svc ? this.registry.all(svc, ns) : []),
      volumeDir: (uid, vol) => `k2d_${uid}_${vol}`,
      pvcVolume: (ns, claim) => claimVolume(this.registry, ns, claim),
      nodeName: f.nodeName, hostIP: f.hostIP,
      apiVersion: f.apiVersion, volumeRoot: f.volumeRoot,
      ...extra,
    };
  }

  private async sync(uid: string): Promise<void> {
    if (!this.facts) this.facts = await this.engine.prepare();
    const pod = this.podByUid(uid);
    const containers = await this.engine.podContainers(uid);
    if (!pod) {
      for (const c of containers) await this.engine.remove(c.Id).catch(() => {});
      await this.engine.removeVolumes(uid).catch(() => {});
      this.forget(uid);
      return;
    }
    const adopted = pod.metadata.annotations?.[ADOPTED];
    if (adopted) {
      // A container we did not make: only a deletion acts on it (status is the Adopter's).
      if (pod.metadata.deletionTimestamp) {
        const grace = Number(pod.metadata.deletionGracePeriodSeconds ?? 30);
        await this.engine.stop(adopted, grace).catch(() => {});
        // The pod goes only once its container has: kubectl delete returns when the pod is gone.
        for (let i = 0; ; i++) {
          const err = await this.engine.remove(adopted).then(() => undefined, (e: Error) => e);
          if (!err || !(await this.engine.inspect(adopted).catch(() => undefined))) break;
          if (i >= 20) { log('adopted container not removed', { level: 'warn', id: adopted, error: err.message }); break; }
          await new Promise((r) => setTimeout(r, 100));
        }
        const live = this.podByUid(uid);
        if (live) await this.registry.purge(this.kind, live.metadata.namespace, live.metadata.name!);
      }
      return;
    }
    if (pod.metadata.deletionTimestamp) {
      // Out of its Services' DNS first, as endpoints drop a terminating pod before it stops.
      await this.syncAliases(pod, containers).catch(() => false);
      await this.terminate(pod, containers);
      return;
    }
    const spec = (pod.spec ?? {}) as Obj;
    const m = this.mem(uid);
    // activeDeadlineSeconds, as kubelet's activeDeadlineHandler: past it the containers are killed
    // and the pod is Failed with DeadlineExceeded; before it, a timer syncs the pod at the deadline.
    const st = (pod.status ?? {}) as Obj;
    const terminal = st.phase === 'Failed' || st.phase === 'Succeeded';
    const deadline = activeDeadline(pod, Date.now());
    if (st.reason === 'DeadlineExceeded' || (!terminal && deadline !== undefined && deadline <= Date.now())) {
      const running = containers.filter((c) => kindOf(c) !== 'sandbox' && c.State.Running);
      if (st.reason !== 'DeadlineExceeded') this.event(pod, 'Normal', 'DeadlineExceeded', DEADLINE_EXCEEDED_MESSAGE);
      await Promise.all(running.map((c) => this.engine.stop(c.Id, Number(spec.terminationGracePeriodSeconds ?? 30)).catch(() => {})));
      return this.writeStatus(pod, running.length ? await this.engine.podContainers(uid) : containers, undefined, undefined, true);
    }
    if (!terminal && deadline !== undefined) this.wakeAt(uid, deadline);
    const sandboxes = containers.filter((c) => kindOf(c) === 'sandbox').sort(newestFirst);
    let sandbox = sandboxes[0];
    // A volume whose source is missing (an unbound claim): the pod waits in ContainerCreating,
    // as kubelet's FailedMount, and is synced again when claims change.
    const unmountable = planPod(pod, this.env(pod)).errors.filter((e) => e.reason === 'FailedMount');
    if (unmountable.length) {
      for (const e of unmountable) this.event(pod, 'Warning', 'FailedMount', e.message);
      return this.writeStatus(pod, containers);
    }
    // The images' own users, for runAsNonRoot and runAsGroup without runAsUser.
    const users = new Map<string, string | undefined>();
    await Promise.all([...new Set([...(spec.initContainers ?? []), ...(spec.containers ?? [])].map((c: Obj) => c.image as string))].map(async (image) => {
      users.set(image, await this.engine.imageUser(image).catch(() => undefined));
    }));
    /** Containers created while the sandbox started, by container name; `run` starts them. */
    const early = new Map<string, string>();
    if (!sandbox || !sandbox.State.Running) {
      // hostPath types are checked (and the *OrCreate ones made) as kubelet mounts: a failure is
      // a FailedMount event, the pod stays in ContainerCreating and is tried again later.
      const check = this.engine.checkHostPath;
      const badPaths = check ? planPod(pod, this.env(pod)).hostPathChecks.flatMap((h) => {
        const err = check(h.path, h.type);
        const vol = ((spec.volumes ?? []) as Obj[])[Number(/\[(\d+)\]/.exec(h.field)?.[1])]?.name;
        return err ? [`MountVolume.SetUp failed for volume "${vol}" : ${err}`] : [];
      }) : [];
      if (badPaths.length) {
        for (const msg of badPaths) this.event(pod, 'Warning', 'FailedMount', msg);
        this.wakeAt(uid, Date.now() + 10_000);
        return this.writeStatus(pod, containers);
      }
      // A new sandbox means a new network namespace: every container of the pod starts over.
      for (const c of containers) await this.engine.remove(c.Id).catch(() => {});
      const attempt = sandbox ? attemptOf(sandbox) + 1 : 0;
      const plan = planPod(pod, this.env(pod, { sandboxAttempt: attempt }));
      if (!(await this.ensureImage(pod, plan.sandbox.body.Image, 'IfNotPresent', '', m))) return this.writeStatus(pod, undefined);
      let id: string;
      try {
        id = await this.engine.create(plan.sandbox);
        // The first containers to run need only the sandbox's id (NetworkMode container:<id>), so
        // they are created while it starts (its network setup is most of a pod's start); env
        // that reads status.podIP has to wait for the address.
        const pre = needsPodIP(pod) ? Promise.resolve() : this.precreate(pod, id, users, early);
        const [started] = await Promise.allSettled([this.engine.start(id), pre]);
        if (started.status === 'rejected') throw started.reason;
      } catch (e) {
        // As kubelet: the pod stays Pending (ContainerCreating), the reason is an event, and
        // the sandbox is tried again after a back-off.
        const failures = (m.crashes.get('') ?? 0) + 1;
        m.crashes.set('', failures);
        this.event(pod, 'Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${(e as Error).message}`);
        for (const c of (await this.engine.podContainers(uid))) await this.engine.remove(c.Id).catch(() => {});
        this.wakeAt(uid, Date.now() + backoffDelay(failures));
        return this.writeStatus(pod, undefined);
      }
      m.crashes.delete('');
      const fresh = await this.engine.inspect(id);
      if (!fresh) return;
      sandbox = fresh;
      containers.length = 0;
      containers.push(fresh);
      await this.engine.writeFiles(id, plan.files, atomicVolumes(pod));
      this.event(pod, 'Normal', 'Scheduled', `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${this.facts.nodeName}`);
    }
    const podIP = sandbox.NetworkSettings?.Networks?.[this.facts.network]?.IPAddress || sandbox.NetworkSettings?.IPAddress || undefined;
    const current = new Map<string, DockerInspect>();
    const previous = new Map<string, DockerInspect>();
    for (const c of containers.filter((x) => kindOf(x) !== 'sandbox').sort(newestFirst)) {
      const n = nameOf(c);
      if (!current.has(n)) current.set(n, c);
      else if (!previous.has(n)) previous.set(n, c);
      else await this.engine.remove(c.Id).catch(() => {}); // kubelet keeps one dead container
    }
    const restartCounts: Record<string, number> = {};
    for (const [n, c] of current) restartCounts[n] = attemptOf(c);
    const plan = planPod(pod, this.env(pod, { sandboxId: sandbox.Id, podIP, podIPs: podIP ? [podIP] : undefined, restartCounts, imageUser: (image) => users.get(image) }));
    m.createErrors.clear();
    for (const e of plan.errors) {
      if (e.reason === 'CreateContainerConfigError' && e.container) m.createErrors.set(e.container, { reason: 'CreateContainerConfigError', message: e.message });
    }
    const waiting = new Map<string, { reason: string; message?: string }>();
    const backoff = new Map<string, { until: Date; delaySeconds: number }>();
    const now = Date.now();

    /** Starts (or restarts) one container; false when it cannot start now. */
    const run = async (cs: CreateSpec, c: Obj, prev?: DockerInspect): Promise<boolean> => {
      const name = c.name as string;
      const err = m.createErrors.get(name);
      if (err) { waiting.set(name, err); return false; }
      const made = prev ? undefined : early.get(name);
      early.delete(name);
      if (!made && !(await this.ensureImage(pod, c.image, c.imagePullPolicy ?? 'IfNotPresent', name, m, waiting))) return false;
      try {
        const id = made ?? await this.engine.create(withAttempt(cs, prev ? attemptOf(prev) + 1 : 0));
        await this.engine.start(id);
        this.event(pod, 'Normal', 'Created', `Created container ${name}`, name);
        this.event(pod, 'Normal', 'Started', `Started container ${name}`, name);
        const failed = await this.hook(pod, c, id, 'postStart', Number(spec.terminationGracePeriodSeconds ?? 30), podIP);
        if (failed !== undefined) {
          // As kubelet: a failed postStart hook kills the container; restartPolicy decides the rest.
          this.event(pod, 'Warning', 'FailedPostStartHook', `PostStartHook failed: ${failed}`, name);
          await this.engine.stop(id, 0).catch(() => {});
        }
      } catch (e) {
        const message = (e as Error).message;
        waiting.set(name, { reason: 'RunContainerError', message });
        this.event(pod, 'Warning', 'Failed', `Error: ${message}`, name);
        return false;
      }
      return true;
    };

    /** Handles an exited container: restart after its back-off, or leave it. */
    const exited = async (cs: CreateSpec, c: Obj, cur: DockerInspect): Promise<'restarted' | 'waiting' | 'done'> => {
      const name = c.name as string;
      if (!shouldRestart(pod, name, cur.State.ExitCode)) return 'done';
      // kubelet restarts a container the first time at once, then backs off 10 s, 20 s, ... 5 min.
      const delay = backoffDelay(attemptOf(cur));
      const finished = Date.parse(cur.State.FinishedAt) || now;
      if (finished + delay > now) {
        backoff.set(name, { until: new Date(finished + delay), delaySeconds: Math.round(delay / 1000) });
        this.event(pod, 'Warning', 'BackOff', `Back-off restarting failed container ${name} in pod ${pod.metadata.name}_${pod.metadata.namespace}(${uid})`, name);
        this.wakeAt(uid, finished + delay);
        return 'waiting';
      }
      return (await run(cs, c, cur)) ? 'restarted' : 'waiting';
    };

    // Init containers, in order; an init container with restartPolicy Always is a sidecar.
    let initialized = true;
    const inits = (spec.initContainers ?? []) as Obj[];
    for (let i = 0; i < inits.length; i++) {
      const c = inits[i];
      const cur = current.get(c.name);
      const sidecar = c.restartPolicy === 'Always';
      if (!cur) { await run(plan.init[i], c); initialized = false; break; }
      if (cur.State.Running) { if (sidecar) continue; initialized = false; break; }
      if (cur.State.ExitCode === 0 && !sidecar) continue;
      if (spec.restartPolicy === 'Never' && !sidecar) { initialized = false; break; }
      await exited(plan.init[i], c, cur);
      initialized = false;
      break;
    }
    if (initialized) {
      const apps = (spec.containers ?? []) as Obj[];
      for (let i = 0; i < apps.length; i++) {
        const c = apps[i];
        const cur = current.get(c.name);
        if (!cur) { await run(plan.containers[i], c); continue; }
        if (cur.State.Running || cur.State.Status === 'created') continue;
        await exited(plan.containers[i], c, cur);
      }
    }
    // Ephemeral containers (`kubectl debug`) start once, also before the pod is initialized, and
    // are never restarted. With a target they join its PID namespace (the CRI's TARGET mode).
    const ephemeral = (spec.ephemeralContainers ?? []) as Obj[];
    for (let i = 0; i < ephemeral.length; i++) {
      const c = ephemeral[i];
      if (current.has(c.name) || pod.metadata.deletionTimestamp) continue;
      const cs = plan.ephemeral[i];
      const target = c.targetContainerName ? current.get(c.targetContainerName) : undefined;
      if (target?.State.Running && !spec.hostPID) cs.body.HostConfig = { ...cs.body.HostConfig, PidMode: `container:${target.Id}` };
      await run(cs, c);
    }
    // Made early but not run after all (the plan changed meanwhile): a created container would
    // otherwise wait forever.
    for (const id of early.values()) await this.engine.remove(id).catch(() => {});
    let after = await this.engine.podContainers(uid);
    const reconnected = await this.syncAliases(pod, after);
    if (reconnected) after = await this.engine.podContainers(uid);
    this.prober?.sync(pod, after, podIP);
    await this.writeStatus(pod, after, waiting, backoff);
    if (reconnected) {
      const live = this.podByUid(uid);
      if (live) this.mem(uid).aliases = reconnected;
      this.onNetworkChange?.(pod);
    }
  }

  /**
   * The aliases a pod's sandbox carries, as this controller last saw or set them (sorted, JSON);
   * undefined for a pod not synced since start (its sandbox keeps what it was given).
   */
  appliedAliases(uid: string): string | undefined {
    return this.memory.get(uid)?.aliases;
  }

  /**
   * Creates the containers that run first (the first init container, or every app container)
   * for a sandbox that is starting, when nothing stands in their way: image present and no pull
   * asked for, no configuration error. Anything else is left to the normal path, which reports it.
   */
  private async precreate(pod: KObject, sandboxId: string, users: Map<string, string | undefined>, early: Map<string, string>): Promise<void> {
    const spec = (pod.spec ?? {}) as Obj;
    const plan = planPod(pod, this.env(pod, { sandboxId, imageUser: (image) => users.get(image) }));
    const inits = (spec.initContainers ?? []) as Obj[];
    const first: Array<[CreateSpec, Obj]> = inits.length ? [[plan.init[0], inits[0]]] : ((spec.containers ?? []) as Obj[]).map((c, i) => [plan.containers[i], c]);
    await Promise.all(first.map(async ([cs, c]) => {
      if (plan.errors.some((e) => e.container === c.name)) return;
      if ((c.imagePullPolicy ?? 'IfNotPresent') === 'Always' || !(await this.engine.imagePresent(c.image).catch(() => false))) return;
      try {
        early.set(c.name, await this.engine.create(withAttempt(cs, 0)));
      } catch { /* the normal path creates it again and reports why it cannot */ }
    }));
  }

  /**
   * Reconnects the sandbox when its Service aliases are not the wanted ones, and starts the
   * Service port relays it lacks; the aliases set (JSON) when it was reconnected.
   */
  private async syncAliases(pod: KObject, containers: DockerInspect[]): Promise<string | undefined> {
    if (!this.serviceNetwork || !this.engine.setAliases || (pod.spec as Obj)?.hostNetwork) return undefined;
    const sandbox = containers.filter((c) => kindOf(c) === 'sandbox' && c.State.Running).sort(newestFirst)[0];
    if (!sandbox) return undefined;
    const net = this.facts!.network;
    const live = this.podByUid(pod.metadata.uid!) ?? pod;
    const { aliases, relays } = this.serviceNetwork(live);
    await this.syncRelays(pod.metadata.uid!, sandbox.Id, relays);
    const wanted = [...new Set(aliases)].sort();
    // The engine adds the container's short id and its hostname itself (when the hostname is not
    // the container's name), so they are neither asked for nor a difference.
    const hostname = (sandbox.Config as { Hostname?: string } | undefined)?.Hostname;
    const own = (a: string) => sandbox.Id.startsWith(a) || (!!hostname && a === hostname);
    const want = wanted.filter((a) => !own(a));
    const have = [...new Set((sandbox.NetworkSettings?.Networks?.[net]?.Aliases ?? []).filter((a) => !own(a)))].sort();
    const m = this.mem(pod.metadata.uid!);
    if (deepEqual(want, have)) {
      m.aliases = JSON.stringify(wanted);
      return undefined;
    }
    // Until the pod's status carries the address it has after the reconnect, it backs no Service
    // (src/runtime/services.ts): the engine may hand its old address to another container.
    m.aliases = 'reconnecting';
    await this.engine.setAliases(sandbox.Id, net, want);
    return JSON.stringify(wanted);
  }

  /** Relays are started once per sandbox; a relay no Service wants any more stays until the sandbox goes. */
  private async syncRelays(uid: string, sandboxId: string, relays: Array<{ port: number; target: number }>): Promise<void> {
    if (!relays.length || !this.engine.startRelay || !this.engine.runningRelays) return;
    const m = this.mem(uid);
    if (m.relays?.sandbox !== sandboxId) m.relays = { sandbox: sandboxId, ports: await this.engine.runningRelays(sandboxId) };
    for (const r of relays) {
      if (m.relays.ports.get(r.port) === r.target) continue;
      if (m.relays.ports.has(r.port)) continue; // the port is held by an older relay until the sandbox restarts
      await this.engine.startRelay(sandboxId, r.port, r.target);
      m.relays.ports.set(r.port, r.target);
    }
  }

  /** Pulls per imagePullPolicy; records ErrImagePull / ImagePullBackOff in `waiting`. */
  private async ensureImage(pod: KObject, image: string, policy: string, name: string, m: PodMemory, waiting?: Map<string, { reason: string; message?: string }>): Promise<boolean> {
    const present = await this.engine.imagePresent(image);
    if (policy === 'Never') {
      if (present) return true;
      waiting?.set(name, { reason: 'ErrImageNeverPull', message: `Container image "${image}" is not present with pull policy of Never` });
      return false;
    }
    if (present && policy !== 'Always') return true;
    const key = `${name}/${image}`;
    const failed = m.pull.get(key);
    if (failed && failed.until > Date.now()) {
      waiting?.set(name, { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` });
      this.wakeAt(pod.metadata.uid!, failed.until);
      return false;
    }
    this.event(pod, 'Normal', 'Pulling', `Pulling image "${image}"`, name);
    try {
      const sec = this.registry.kinds.get('secrets');
      const secrets = ((pod.spec as Obj).imagePullSecrets ?? []).map((s: Obj) => sec && this.registry.peek(sec, pod.metadata.namespace, s.name)).filter(Boolean) as KObject[];
      await this.engine.pull(image, secrets);
      m.pull.delete(key);
      this.event(pod, 'Normal', 'Pulled', `Successfully pulled image "${image}"`, name);
      return true;
    } catch (e) {
      const failures = (failed?.failures ?? 0) + 1;
      const delay = backoffDelay(failures);
      const message = `Failed to pull image "${image}": ${(e as Error).message}`;
      m.pull.set(key, { reason: 'ErrImagePull', message, until: Date.now() + delay, failures });
      this.event(pod, 'Warning', 'Failed', message, name);
      this.event(pod, 'Warning', 'Failed', 'Error: ErrImagePull', name);
      waiting?.set(name, { reason: 'ErrImagePull', message });
      // As kubelet, the next sync within the back-off shows ImagePullBackOff; nothing else may
      // come to sync the pod (our own container starts are not news), so one is asked for.
      this.wakeAt(pod.metadata.uid!, Date.now() + Math.min(delay, 1000));
      return false;
    }
  }

  private async writeStatus(pod: KObject, containers: DockerInspect[] | undefined, waiting = new Map<string, { reason: string; message?: string }>(), backoff = new Map<string, { until: Date; delaySeconds: number }>(), deadlineExceeded = false): Promise<void> {
    const list = containers ?? [];
    const sandbox = list.filter((c) => kindOf(c) === 'sandbox').sort(newestFirst)[0];
    const byName = new Map<string, DockerInspect[]>();
    for (const c of list.filter((x) => kindOf(x) !== 'sandbox').sort(newestFirst)) {
      const n = nameOf(c);
      byName.set(n, [...(byName.get(n) ?? []), c]);
    }
    const spec = (pod.spec ?? {}) as Obj;
    const observed: ObservedContainer[] = [];
    for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])] as Obj[]) {
      const [current, previous] = byName.get(c.name) ?? [];
      observed.push({
        name: c.name, current, previous, messages: { current: await this.message(c, current), previous: await this.message(c, previous) },
        imageDigests: current ? await this.digestsOf(current.Image ?? c.image) : undefined,
        waiting: waiting.get(c.name), backoff: backoff.get(c.name),
        ready: this.prober?.ready(pod, c.name, current?.Id), started: this.prober?.started(pod, c.name, current?.Id),
      });
    }
    const status = podStatus(pod, { now: new Date(), hostIP: this.facts!.hostIP, sandbox, containers: observed, deadlineExceeded });
    const live = this.podByUid(pod.metadata.uid!);
    if (!live || live.metadata.deletionTimestamp) return;
    if (deepEqual(live.status, status)) return;
    try {
      await this.registry.update(this.kind, live.metadata.namespace, live.metadata.name!, { ...live, status: status as unknown as Obj }, { subresource: 'status', skipRvCheck: true, fieldManager: 'k2d' });
    } catch (e) {
      log('pod status update failed', { level: 'warn', pod: live.metadata.name, error: (e as Error).message });
    }
  }

  /** Runs a lifecycle hook; the failure message, or undefined when it passed (or there is none). */
  private async hook(pod: KObject, c: Obj, containerId: string, which: 'postStart' | 'preStop', budgetSeconds: number, podIP?: string): Promise<string | undefined> {
    const h = c.lifecycle?.[which] as Obj | undefined;
    if (!h) return undefined;
    if (h.sleep) {
      await new Promise((r) => setTimeout(r, Math.min(Number(h.sleep.seconds ?? 0), budgetSeconds) * 1000));
      return undefined;
    }
    if (!this.engine.probes) return undefined;
    try {
      const r = await runProbe({ ...h, timeoutSeconds: Math.max(1, budgetSeconds) }, { pod, container: c, containerId, podIP }, this.engine.probes);
      return r.result === 'success' ? undefined : (r.output || 'the hook failed');
    } catch (e) {
      return (e as Error).message;
    }
  }

  /** Graceful deletion: stop with the grace period, remove containers and volumes, then the pod. */
  private async terminate(pod: KObject, containers: DockerInspect[]): Promise<void> {
    const grace = Number(pod.metadata.deletionGracePeriodSeconds ?? (pod.spec as Obj)?.terminationGracePeriodSeconds ?? 30);
    const apps = containers.filter((c) => kindOf(c) !== 'sandbox' && c.State.Running);
    if (apps.length) this.event(pod, 'Normal', 'Killing', `Stopping container ${apps.map(nameOf).join(', ')}`);
    const started = Date.now();
    const specs = [...((pod.spec as Obj)?.initContainers ?? []), ...((pod.spec as Obj)?.containers ?? [])] as Obj[];
    await Promise.all(apps.map(async (c) => {
      // preStop runs first, inside the grace period; SIGTERM gets what is left of it.
      const cs = specs.find((x) => x.name === nameOf(c));
      const failed = cs ? await this.hook(pod, cs, c.Id, 'preStop', grace) : undefined;
      if (failed !== undefined) this.event(pod, 'Warning', 'FailedPreStopHook', `PreStopHook failed: ${failed}`, nameOf(c));
      // Whole seconds (the engine's unit): what a preStop hook took comes off, a few ms do not.
      const left = Math.max(0, grace - Math.round((Date.now() - started) / 1000));
      await this.engine.stop(c.Id, left).catch(() => {});
    }));
    for (const c of containers) await this.engine.remove(c.Id).catch(() => {});
    await this.engine.removeVolumes(pod.metadata.uid!).catch(() => {});
    this.forget(pod.metadata.uid!);
    const live = this.podByUid(pod.metadata.uid!);
    if (live) await this.registry.purge(this.kind, live.metadata.namespace, live.metadata.name!);
  }

  private messages = new Map<string, string | undefined>();
  /** terminationMessagePath / FallbackToLogsOnError of a stopped container, read once per container. */
  private async message(c: Obj, d: DockerInspect | undefined): Promise<string | undefined> {
    if (!d || d.State.Running || d.State.Status === 'created' || !this.engine.terminationMessage) return undefined;
    if (this.messages.has(d.Id)) return this.messages.get(d.Id);
    const fallback = c.terminationMessagePolicy === 'FallbackToLogsOnError' && d.State.ExitCode !== 0;
    const msg = await this.engine.terminationMessage(d.Id, c.terminationMessagePath || '/dev/termination-log', fallback).catch(() => undefined);
    if (this.messages.size > 1000) this.messages.clear();
    this.messages.set(d.Id, msg);
    return msg;
  }

  private digests = new Map<string, string[]>();
  /** RepoDigests per image id: an id's digests never change, so they are asked once. */
  private async digestsOf(image: string): Promise<string[]> {
    let d = this.digests.get(image);
    if (!d) {
      d = await this.engine.imageDigests(image).catch(() => []);
      if (image.startsWith('sha256:')) this.digests.set(image, d);
    }
    return d;
  }

  private forget(uid: string): void {
    const m = this.memory.get(uid);
    if (m?.timer) clearTimeout(m.timer);
    this.memory.delete(uid);
    this.prober?.forget(uid);
  }

  /** Rewrites configMap/secret/downwardAPI files of running pods when their sources change. */
  async refreshFiles(namespace: string): Promise<void> {
    if (!this.facts) return;
    for (const pod of this.registry.all(this.kind, namespace)) {
      const sandbox = (await this.engine.podContainers(pod.metadata.uid!)).find((c) => kindOf(c) === 'sandbox' && c.State.Running);
      // Not running yet: it may be waiting for this very object (FailedMount, CreateContainerConfigError).
      if (!sandbox) { this.enqueue(pod.metadata.uid!); continue; }
      const { files } = podVolumeFiles(pod, this.env(pod, { sandboxId: sandbox.Id }));
      await this.engine.writeFiles(sandbox.Id, files, atomicVolumes(pod)).catch((e) => log('volume refresh failed', { level: 'warn', error: (e as Error).message }));
      // A container waiting on this object (CreateContainerConfigError) can start now.
      if (((pod.status as Obj)?.containerStatuses ?? []).some((c: Obj) => c.state?.waiting)) this.enqueue(pod.metadata.uid!);
    }
  }

  /** An Event about the pod, aggregated by reason and message as the kubelet's recorder does. */
  private event(pod: KObject, type: string, reason: string, message: string, container?: string): void {
    recordEvent(this.registry, pod, type as 'Normal' | 'Warning', reason, message, { component: 'kubelet', host: this.facts?.nodeName },
      { apiVersion: 'v1', kind: 'Pod', fieldPath: container ? `spec.containers{${container}}` : undefined });
  }
}

/** The create spec of a container's attempt: kubelet's name suffix and restart-count label. */
function withAttempt(cs: CreateSpec, attempt: number): CreateSpec {
  return {
    name: cs.name.replace(/_\d+$/, `_${attempt}`),
    body: { ...cs.body, Labels: { ...cs.body.Labels, [LABELS.restartCount]: String(attempt) } },
  };
}

/** Env that reads the pod's own IP: such a container can only be created once the sandbox has it. */
function needsPodIP(pod: KObject): boolean {
  const spec = (pod.spec ?? {}) as Obj;
  return ([...(spec.initContainers ?? []), ...(spec.containers ?? [])] as Obj[])
    .some((c) => ((c.env ?? []) as Obj[]).some((e) => /^status\.podIPs?$/.test(e.valueFrom?.fieldRef?.fieldPath ?? '')));
}

function onlyStatusChanged(a: KObject, b: KObject): boolean {
  const strip = (o: KObject) => ({ ...o, status: undefined, metadata: { ...o.metadata, resourceVersion: undefined, managedFields: undefined } });
  return deepEqual(strip(a), strip(b));
}
