// Kubernetes Pod -> the runtime-level Pod an agent runs (protocol), and back for status.
//
// The gateway resolves everything the agent must not fetch itself (it holds no Kubernetes
// credentials): env from Secrets, ConfigMaps and the downward API (downward-api.ts), `$(VAR)` in
// env, command and args (expansion.ts), Secret, ConfigMap, downwardAPI and projected volumes as
// files, claims as the provider-local volume behind them, pull secrets as registry credentials.
// It also refuses what a stranger's machine must never be asked to do: privileged containers,
// host namespaces, host paths, host ports, capabilities beyond the agent's profile, seccomp turned
// off, service-account tokens, hooks to other hosts.
import { createHash } from 'node:crypto';
import type * as k8s from '@kubernetes/client-node';
import type {
  Container,
  ContainerState,
  ContainerStatus,
  Pod,
  PodStatus,
  Probe,
  Volume,
} from '@lattice/protocol';
import { CONTAINER_CAPABILITIES } from '@lattice/protocol';
import { parseQuantity } from '@lattice/crds';
import type { Capacity } from './admission.js';
import { POD_IP_FIELDS, downwardFiles, fieldValue, resourceValue } from './downward-api.js';
import { ExpansionTooLong, envLookup, expand } from './expansion.js';
import { pullCredentials } from './pull-credentials.js';
import { tailnetExposure } from './tailnet.js';
import { acceptedPodIp } from './reported-addresses.js';
import { bytesOf, textOf } from '../kube/secret-data.js';

/** What the translation reads from the cluster; the gateway backs it with informer caches. */
export interface PodResolver {
  secret(namespace: string, name: string): k8s.V1Secret | undefined;
  configMap(namespace: string, name: string): k8s.V1ConfigMap | undefined;
  /** The provider-local volume name backing a claim, once it is bound to a lattice-local PV. */
  localVolume(namespace: string, claimName: string): string | undefined;
  /** What a node's provider offers (its allocatable); undefined before it said. */
  capacity(nodeName: string): Capacity | undefined;
  /** The address pods get as status.hostIP: the gateway's kubelet API. */
  readonly hostIP: string;
}

/** The pod cannot run on a provider, and why (a user-facing sentence). */
export class PodRefused extends Error {}
/** The pod references something not there yet (a Secret, an unbound claim): retry later. */
export class PodNotReady extends Error {}

/** Kubernetes' own namespaces: what runs there is the cluster's, never a stranger's machine's. */
const SYSTEM_NAMESPACES = new Set(['kube-system', 'kube-public', 'kube-node-lease']);
const PROVIDER_TAINT_KEY = 'lattice.dev/provider';

export function refusalReason(pod: k8s.V1Pod): string | undefined {
  const spec = pod.spec!;
  const namespace = pod.metadata?.namespace ?? '';
  if (SYSTEM_NAMESPACES.has(namespace)) return `pods of ${namespace} do not run on Lattice providers: they are the cluster's own, and a provider is a stranger's machine`;
  // A DaemonSet that tolerates every taint (a log shipper, a node agent) lands on each Node the
  // scheduler knows: only one that names the provider taint is meant for providers' machines.
  const daemonSet = pod.metadata?.ownerReferences?.some((o) => o.kind === 'DaemonSet' && o.controller);
  if (daemonSet && !spec.tolerations?.some((t) => t.key === PROVIDER_TAINT_KEY)) {
    return `a DaemonSet's pod is run on Lattice providers only when it tolerates the ${PROVIDER_TAINT_KEY} taint by its key, not by tolerating every taint`;
  }
  if (spec.hostNetwork) return 'spec.hostNetwork is not allowed on Lattice providers';
  if (spec.hostPID) return 'spec.hostPID is not allowed on Lattice providers';
  if (spec.hostIPC) return 'spec.hostIPC is not allowed on Lattice providers';
  for (const v of spec.volumes ?? []) {
    if (v.hostPath) return `volume "${v.name}": hostPath volumes are not allowed on Lattice providers`;
  }
  const containers = [...(spec.initContainers ?? []), ...spec.containers];
  for (const c of containers) {
    const sc = c.securityContext;
    if (sc?.privileged) return `container "${c.name}": privileged mode is not allowed on Lattice providers`;
    if (sc?.allowPrivilegeEscalation) return `container "${c.name}": allowPrivilegeEscalation is not allowed on Lattice providers`;
    const beyond = capabilityNames(sc?.capabilities?.add).filter((cap) => !(CONTAINER_CAPABILITIES as readonly string[]).includes(cap));
    if (beyond.length) return `container "${c.name}": adding capabilities (${beyond.join(', ')}) is not allowed on Lattice providers; a container may have ${CONTAINER_CAPABILITIES.join(', ')}`;
    const seccomp = (sc?.seccompProfile ?? spec.securityContext?.seccompProfile)?.type;
    if (seccomp && seccomp !== 'RuntimeDefault') return `container "${c.name}": seccompProfile ${seccomp} is not allowed on Lattice providers (only RuntimeDefault, the default)`;
    if (c.ports?.some((p) => p.hostPort)) return `container "${c.name}": hostPort is not allowed on Lattice providers`;
  }
  return undefined;
}

/** Capability names as Docker and the agent take them: upper case, without CAP_. */
const capabilityNames = (names: string[] | undefined) => (names ?? []).map((n) => n.toUpperCase().replace(/^CAP_/, ''));

function cpuMillis(q: string | undefined): number {
  return q === undefined ? 0 : Math.ceil(parseQuantity(q) * 1000);
}

function bytes(q: string | undefined): number {
  return q === undefined ? 0 : Math.ceil(parseQuantity(q));
}

function intOrStringPort(port: number | string, container: k8s.V1Container): number {
  if (typeof port === 'number') return port;
  const named = container.ports?.find((p) => p.name === port);
  if (!named) throw new PodRefused(`container "${container.name}": probe port "${port}" names no port of the container`);
  return named.containerPort;
}

function probe(p: k8s.V1Probe | undefined, container: k8s.V1Container): Probe | undefined {
  if (!p) return undefined;
  const timing = {
    initialDelaySeconds: p.initialDelaySeconds ?? 0,
    periodSeconds: p.periodSeconds ?? 10,
    timeoutSeconds: p.timeoutSeconds ?? 1,
    successThreshold: p.successThreshold ?? 1,
    failureThreshold: p.failureThreshold ?? 3,
  };
  if (p.httpGet) {
    return {
      handler: 'httpGet',
      httpGet: {
        path: p.httpGet.path ?? '/',
        port: intOrStringPort(p.httpGet.port as number | string, container),
        scheme: p.httpGet.scheme === 'HTTPS' ? 'HTTPS' : 'HTTP',
        headers: (p.httpGet.httpHeaders ?? []).map((h) => ({ name: h.name, value: h.value })),
      },
      ...timing,
    };
  }
  if (p.tcpSocket) {
    return { handler: 'tcpSocket', tcpSocket: { port: intOrStringPort(p.tcpSocket.port as number | string, container) }, ...timing };
  }
  if (p.exec?.command?.length) return { handler: 'exec', exec: { command: p.exec.command }, ...timing };
  throw new PodRefused(`container "${container.name}": only httpGet, tcpSocket and exec probes are supported`);
}

/** `text` with `$(VAR)` expanded from `env`; a pod whose expansion grows past the bound is refused. */
function expanded(c: k8s.V1Container, where: string, text: string, env: Container['env']): string {
  try {
    return expand(text, envLookup(env));
  } catch (err) {
    if (err instanceof ExpansionTooLong) throw new PodRefused(`container "${c.name}": ${where} ${err.message}`);
    throw err;
  }
}

function resolveEnv(pod: k8s.V1Pod, c: k8s.V1Container, r: PodResolver): Container['env'] {
  const ns = pod.metadata!.namespace!;
  const env: Container['env'] = [];
  const need = (what: string): never => {
    throw new PodNotReady(`container "${c.name}": ${what} does not exist yet`);
  };
  for (const from of c.envFrom ?? []) {
    if (from.secretRef) {
      const s = r.secret(ns, from.secretRef.name!);
      if (!s) {
        if (from.secretRef.optional) continue;
        need(`Secret "${from.secretRef.name}"`);
      }
      for (const [k, v] of Object.entries(s?.data ?? {})) env.push({ name: (from.prefix ?? '') + k, value: textOf(v) });
    } else if (from.configMapRef) {
      const m = r.configMap(ns, from.configMapRef.name!);
      if (!m) {
        if (from.configMapRef.optional) continue;
        need(`ConfigMap "${from.configMapRef.name}"`);
      }
      for (const [k, v] of Object.entries(m?.data ?? {})) env.push({ name: (from.prefix ?? '') + k, value: v });
    }
  }
  for (const e of c.env ?? []) {
    const ref = e.valueFrom;
    if (!ref) {
      env.push({ name: e.name, value: expanded(c, `env "${e.name}"`, e.value ?? '', env) });
    } else if (ref.secretKeyRef) {
      const value = r.secret(ns, ref.secretKeyRef.name!)?.data?.[ref.secretKeyRef.key];
      if (value === undefined) {
        if (ref.secretKeyRef.optional) continue;
        need(`key "${ref.secretKeyRef.key}" of Secret "${ref.secretKeyRef.name}"`);
      }
      env.push({ name: e.name, value: textOf(value!) });
    } else if (ref.configMapKeyRef) {
      const value = r.configMap(ns, ref.configMapKeyRef.name!)?.data?.[ref.configMapKeyRef.key];
      if (value === undefined) {
        if (ref.configMapKeyRef.optional) continue;
        need(`key "${ref.configMapKeyRef.key}" of ConfigMap "${ref.configMapKeyRef.name}"`);
      }
      env.push({ name: e.name, value: value! });
    } else if (ref.fieldRef && POD_IP_FIELDS.has(ref.fieldRef.fieldPath)) {
      env.push({ name: e.name, value: '', fromPodIp: true });
    } else if (ref.fieldRef) {
      env.push({ name: e.name, value: fieldValue(pod, ref.fieldRef.fieldPath, r, true) });
    } else if (ref.resourceFieldRef) {
      env.push({ name: e.name, value: resourceValue(pod, ref.resourceFieldRef, c.name, r) });
    } else {
      throw new PodRefused(`container "${c.name}": env "${e.name}" uses a valueFrom Lattice does not support`);
    }
  }
  return env;
}

/**
 * A lifecycle hook, in the shape of a probe. An httpGet hook to another host is refused: the
 * provider's machine would make the request from its own network, not the pod's.
 */
function hook(h: k8s.V1LifecycleHandler | undefined, c: k8s.V1Container, which: 'postStart' | 'preStop'): Probe | undefined {
  if (!h) return undefined;
  const refuse = (why: string) => new PodRefused(`container "${c.name}": the ${which} hook ${why}`);
  if (h.httpGet?.host) throw refuse(`may not name a host ("${h.httpGet.host}") on Lattice providers: it is sent to the pod itself`);
  if (!h.exec && !h.httpGet) throw refuse('is supported as exec or httpGet only on Lattice providers');
  return probe({ exec: h.exec, httpGet: h.httpGet }, c);
}

function container(pod: k8s.V1Pod, c: k8s.V1Container, r: PodResolver): Container {
  const limits = c.resources?.limits ?? {};
  const requests = c.resources?.requests ?? {};
  const sc = { ...pod.spec!.securityContext, ...c.securityContext };
  const env = resolveEnv(pod, c, r);
  return {
    name: c.name,
    image: c.image!,
    imagePullPolicy: (c.imagePullPolicy as Container['imagePullPolicy']) ?? (c.image!.endsWith(':latest') || !c.image!.includes(':') ? 'Always' : 'IfNotPresent'),
    command: (c.command ?? []).map((word) => expanded(c, 'command', word, env)),
    args: (c.args ?? []).map((word) => expanded(c, 'args', word, env)),
    env,
    ports: (c.ports ?? []).map((p) => ({ name: p.name ?? '', containerPort: p.containerPort, protocol: p.protocol === 'UDP' ? 'UDP' : 'TCP' })),
    resources: {
      cpuRequestMillis: cpuMillis(requests.cpu ?? limits.cpu),
      cpuLimitMillis: cpuMillis(limits.cpu),
      memoryRequestBytes: bytes(requests.memory ?? limits.memory),
      memoryLimitBytes: bytes(limits.memory),
      ephemeralStorageLimitBytes: bytes(limits['ephemeral-storage']),
    },
    readinessProbe: probe(c.readinessProbe, c),
    livenessProbe: probe(c.livenessProbe, c),
    startupProbe: probe(c.startupProbe, c),
    volumeMounts: (c.volumeMounts ?? []).map((m) => ({ name: m.name, mountPath: m.mountPath, readOnly: !!m.readOnly, subPath: m.subPath ?? '' })),
    workingDir: c.workingDir ?? '',
    tty: !!c.tty,
    stdin: !!c.stdin,
    runAsUser: sc.runAsUser,
    runAsGroup: sc.runAsGroup,
    runAsNonRoot: !!sc.runAsNonRoot,
    readOnlyRootFilesystem: !!c.securityContext?.readOnlyRootFilesystem,
    addCapabilities: capabilityNames(c.securityContext?.capabilities?.add),
    dropCapabilities: capabilityNames(c.securityContext?.capabilities?.drop),
    postStart: hook(c.lifecycle?.postStart, c, 'postStart'),
    preStop: hook(c.lifecycle?.preStop, c, 'preStop'),
  };
}

function filesFrom(data: Record<string, Buffer>, items: k8s.V1KeyToPath[] | undefined, defaultMode: number) {
  const chosen = items?.length ? items.map((i) => ({ key: i.key, path: i.path, mode: i.mode })) : Object.keys(data).map((k) => ({ key: k, path: k, mode: undefined }));
  return chosen
    .filter((i) => data[i.key] !== undefined)
    .map((i) => ({ path: i.path, content: data[i.key]!, mode: i.mode ?? defaultMode }));
}

/** The data of a volume's Secret; undefined when it is optional and missing. */
function secretData(pod: k8s.V1Pod, volume: string, ref: { name?: string; secretName?: string; optional?: boolean }, r: PodResolver): Record<string, Buffer> | undefined {
  const name = ref.secretName ?? ref.name!;
  const s = r.secret(pod.metadata!.namespace!, name);
  if (!s) {
    if (ref.optional) return undefined;
    throw new PodNotReady(`volume "${volume}": Secret "${name}" does not exist yet`);
  }
  return Object.fromEntries(Object.entries(s.data ?? {}).map(([k, b]) => [k, bytesOf(b)]));
}

/** The data of a volume's ConfigMap, text and binary; undefined when it is optional and missing. */
function configMapData(pod: k8s.V1Pod, volume: string, ref: { name?: string; optional?: boolean }, r: PodResolver): Record<string, Buffer> | undefined {
  const m = r.configMap(pod.metadata!.namespace!, ref.name!);
  if (!m) {
    if (ref.optional) return undefined;
    throw new PodNotReady(`volume "${volume}": ConfigMap "${ref.name}" does not exist yet`);
  }
  return {
    ...Object.fromEntries(Object.entries(m.data ?? {}).map(([k, s]) => [k, Buffer.from(s)])),
    ...Object.fromEntries(Object.entries(m.binaryData ?? {}).map(([k, b]) => [k, bytesOf(b)])),
  };
}

/** The service-account token volume Kubernetes injects (kube-api-access-*): providers get no API credentials. */
const injectedTokenVolume = (v: k8s.V1Volume) => v.name.startsWith('kube-api-access-') && !!v.projected?.sources?.some((s) => s.serviceAccountToken);

/** The files of a projected volume, each source in turn, as the kubelet writes them. */
function projectedFiles(pod: k8s.V1Pod, v: k8s.V1Volume, mode: number, r: PodResolver) {
  return (v.projected!.sources ?? []).flatMap((source) => {
    if (source.secret) return filesFrom(secretData(pod, v.name, source.secret, r) ?? {}, source.secret.items, mode);
    if (source.configMap) return filesFrom(configMapData(pod, v.name, source.configMap, r) ?? {}, source.configMap.items, mode);
    if (source.downwardAPI) return downwardFiles(pod, source.downwardAPI.items, mode, r);
    if (source.serviceAccountToken) {
      throw new PodRefused(`volume "${v.name}": a serviceAccountToken projection is not supported on Lattice providers: their pods do not reach the apiserver, and providers hold no Kubernetes credentials`);
    }
    throw new PodRefused(`volume "${v.name}": a projected ${Object.keys(source).join(', ')} source is not supported on Lattice providers`);
  });
}

function volume(pod: k8s.V1Pod, v: k8s.V1Volume, r: PodResolver): Volume | undefined {
  const files = (list: ReturnType<typeof filesFrom>, defaultMode: number): Volume => ({ name: v.name, source: 'files', files: { files: list, defaultMode } });
  if (v.emptyDir) {
    return { name: v.name, source: 'emptyDir', emptyDir: { medium: v.emptyDir.medium === 'Memory' ? 'Memory' : '', sizeLimitBytes: bytes(v.emptyDir.sizeLimit) } };
  }
  if (v.secret) {
    const mode = v.secret.defaultMode ?? 0o644;
    return files(filesFrom(secretData(pod, v.name, v.secret, r) ?? {}, v.secret.items, mode), mode);
  }
  if (v.configMap) {
    const mode = v.configMap.defaultMode ?? 0o644;
    return files(filesFrom(configMapData(pod, v.name, v.configMap, r) ?? {}, v.configMap.items, mode), mode);
  }
  if (v.downwardAPI) {
    const mode = v.downwardAPI.defaultMode ?? 0o644;
    return files(downwardFiles(pod, v.downwardAPI.items, mode, r), mode);
  }
  if (v.persistentVolumeClaim) {
    const local = r.localVolume(pod.metadata!.namespace!, v.persistentVolumeClaim.claimName);
    if (!local) throw new PodNotReady(`volume "${v.name}": claim "${v.persistentVolumeClaim.claimName}" is not bound to a lattice-local volume yet`);
    return { name: v.name, source: 'local', local: { volumeName: local } };
  }
  if (v.projected) {
    if (injectedTokenVolume(v)) return undefined;
    const mode = v.projected.defaultMode ?? 0o644;
    return files(projectedFiles(pod, v, mode, r), mode);
  }
  throw new PodRefused(`volume "${v.name}": only emptyDir, secret, configMap, downwardAPI, projected and persistentVolumeClaim volumes are supported on Lattice providers`);
}

/** A pod name is up to 253 characters, a hostname 63: cut as the kubelet cuts it, no '-' or '.' left at the end. */
function podHostname(name: string): string {
  return name.length <= 63 ? name : name.slice(0, 63).replace(/[-.]+$/, '');
}

/**
 * The runtime-level pod to send to the node; throws PodRefused or PodNotReady. `credentials`, when
 * the caller also reports their problems, so that they are resolved once.
 */
export function toAgentPod(pod: k8s.V1Pod, r: PodResolver, credentials = pullCredentials(pod, r)): Pod {
  const refused = refusalReason(pod);
  if (refused) throw new PodRefused(refused);
  const spec = pod.spec!;
  const volumes = (spec.volumes ?? []).map((v) => volume(pod, v, r)).filter((v): v is Volume => v !== undefined);
  const known = new Set(volumes.map((v) => v.name));
  const strip = (c: Container): Container => ({ ...c, volumeMounts: c.volumeMounts.filter((m) => known.has(m.name)) });
  const translated: Omit<Pod, 'revision'> = {
    uid: pod.metadata!.uid!,
    namespace: pod.metadata!.namespace!,
    name: pod.metadata!.name!,
    initContainers: (spec.initContainers ?? []).map((c) => strip(container(pod, c, r))),
    containers: spec.containers.map((c) => strip(container(pod, c, r))),
    restartPolicy: (spec.restartPolicy as Pod['restartPolicy']) ?? 'Always',
    terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds ?? 30,
    volumes,
    registryAuths: credentials.auths,
    hostname: podHostname(spec.hostname ?? pod.metadata!.name!),
    tailnet: tailnetExposure(pod, r),
  };
  // The revision changes whenever anything the containers see changes (a rotated Secret too).
  const revision = createHash('sha256')
    .update(JSON.stringify(translated, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('base64') : v)))
    .digest('hex')
    .slice(0, 16);
  return { ...translated, revision };
}

function state(s: ContainerState | null | undefined): k8s.V1ContainerState {
  if (!s) return {};
  switch (s.state) {
    case 'running':
      return { running: { startedAt: s.running?.startedAt ? new Date(s.running.startedAt) : undefined } };
    case 'terminated':
      return {
        terminated: {
          exitCode: s.terminated?.exitCode ?? 0,
          reason: s.terminated?.reason || undefined,
          message: s.terminated?.message || undefined,
          startedAt: s.terminated?.startedAt ? new Date(s.terminated.startedAt) : undefined,
          finishedAt: s.terminated?.finishedAt ? new Date(s.terminated.finishedAt) : undefined,
        },
      };
    default:
      return { waiting: { reason: s.waiting?.reason || undefined, message: s.waiting?.message || undefined } };
  }
}

function containerStatus(s: ContainerStatus): k8s.V1ContainerStatus {
  return {
    name: s.name,
    state: state(s.state),
    lastState: state(s.lastState),
    ready: s.ready,
    started: s.started,
    restartCount: s.restartCount,
    image: s.image,
    imageID: s.imageId,
    containerID: s.containerId || undefined,
  };
}

function condition(type: string, ok: boolean, previous: k8s.V1PodCondition[] | undefined, reason?: string): k8s.V1PodCondition {
  const status = ok ? 'True' : 'False';
  const before = previous?.find((c) => c.type === type);
  return {
    type,
    status,
    reason: ok ? undefined : reason,
    lastTransitionTime: before?.status === status && before.lastTransitionTime ? before.lastTransitionTime : new Date(),
  };
}

/**
 * The Kubernetes pod status for what the agent reported. Conditions follow the kubelet's
 * rules; their transition times stay put unless the status changes.
 */
export function toKubernetesStatus(reported: PodStatus, pod: k8s.V1Pod, hostIP: string): k8s.V1PodStatus {
  const previous = pod.status?.conditions;
  const init = reported.initContainerStatuses;
  const initialized = init.every((s) => s.state.state === 'terminated' && s.state.terminated?.exitCode === 0);
  const containersReady = reported.containerStatuses.length > 0 && reported.containerStatuses.every((s) => s.ready);
  const ready = containersReady && reported.phase === 'Running';
  // A provider's word for its container's address, if it is a private one (reported-addresses.ts).
  const podIP = acceptedPodIp(reported.podIp);
  return {
    phase: reported.phase,
    reason: reported.reason || undefined,
    message: reported.message || undefined,
    hostIP,
    hostIPs: [{ ip: hostIP }],
    podIP,
    podIPs: podIP ? [{ ip: podIP }] : undefined,
    startTime: reported.startTime ? new Date(reported.startTime) : undefined,
    conditions: [
      condition('PodScheduled', true, previous),
      condition('Initialized', initialized, previous, 'ContainersNotInitialized'),
      condition('ContainersReady', containersReady, previous, 'ContainersNotReady'),
      condition('Ready', ready, previous, 'ContainersNotReady'),
    ],
    initContainerStatuses: init.length ? init.map(containerStatus) : undefined,
    containerStatuses: reported.containerStatuses.map(containerStatus),
    qosClass: pod.status?.qosClass,
  };
}
