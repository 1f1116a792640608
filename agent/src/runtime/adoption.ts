// After an agent restart: rebuilds each pod's state from the containers Docker still has, by
// their labels, without touching a running one.
import type Docker from 'dockerode';
import { ignoreGone } from './docker-errors.js';
import { imageFacts, repositoryOf } from './images.js';
import { type LabelledContainer, SANDBOX, namespaceNetworkName, parseContainerLabels } from './naming.js';
import { type ContainerHistory, type ContainerRun, runFromInspect } from './status.js';

export interface Sandbox {
  id: string;
  /** The pod IP: the sandbox's address on its namespace network. */
  ip: string;
  running: boolean;
}

export interface AdoptedPod {
  uid: string;
  namespace: string;
  podName: string;
  startTime: string;
  gracePeriodSeconds: number;
  /**
   * The revision the pod's containers run; undefined when none exists yet, null when they
   * disagree (the agent stopped in the middle of re-creating them).
   */
  revision: string | null | undefined;
  sandbox?: Sandbox;
  containers: Map<string, ContainerHistory>;
}

interface Member {
  info: Docker.ContainerInspectInfo;
  labels: LabelledContainer;
}

export function sandboxIp(info: Docker.ContainerInspectInfo, namespace: string): string {
  return info.NetworkSettings.Networks[namespaceNetworkName(namespace)]?.IPAddress ?? '';
}

async function runOf(docker: Docker, info: Docker.ContainerInspectInfo): Promise<ContainerRun> {
  const imageId = await imageFacts(docker, info.Image, repositoryOf(info.Config.Image)).then(
    (facts) => facts.imageId,
    () => info.Image, // the image was removed meanwhile: its ID is all there is
  );
  return runFromInspect(info, imageId);
}

async function adoptPod(docker: Docker, members: Member[]): Promise<AdoptedPod> {
  const { labels } = members[0]!;
  // Docker containers that no status needs: superseded sandboxes, runs older than the last two
  // (the kubelet keeps one dead container per container too), and containers created but never
  // started (the agent stopped between create and start; they would read as exit code 0).
  const stale: string[] = [];
  const newestFirst = (a: Member, b: Member) => b.labels.restartCount - a.labels.restartCount || b.info.Created.localeCompare(a.info.Created);

  const [sandbox, ...oldSandboxes] = members.filter((m) => m.labels.container === SANDBOX).sort(newestFirst);
  stale.push(...oldSandboxes.map((m) => m.info.Id));

  const byName = new Map<string, Member[]>();
  for (const m of members) {
    if (m.labels.container === SANDBOX) continue;
    if (m.info.State.Status === 'created') {
      stale.push(m.info.Id);
      continue;
    }
    byName.set(m.labels.container, [...(byName.get(m.labels.container) ?? []), m]);
  }
  const containers = new Map<string, ContainerHistory>();
  const revisions = new Set<string>();
  for (const [name, runs] of byName) {
    const [newest, previous, ...older] = runs.sort(newestFirst);
    stale.push(...older.map((m) => m.info.Id));
    if (!newest) continue;
    revisions.add(newest.labels.revision);
    containers.set(name, {
      restartCount: newest.labels.restartCount,
      current: await runOf(docker, newest.info),
      previous: previous && (await runOf(docker, previous.info)),
    });
  }
  await Promise.all(stale.map((id) => ignoreGone(docker.getContainer(id).remove({ force: true }))));

  return {
    uid: labels.uid,
    namespace: labels.namespace,
    podName: labels.podName,
    startTime: (sandbox ?? members[0]!).labels.startTime,
    gracePeriodSeconds: labels.gracePeriodSeconds,
    revision: revisions.size > 1 ? null : [...revisions][0],
    sandbox: sandbox && {
      id: sandbox.info.Id,
      ip: sandboxIp(sandbox.info, labels.namespace),
      running: sandbox.info.State.Running,
    },
    containers,
  };
}

/** The pods of `containers` (this node's, by label), one entry per pod uid. */
export async function adoptPods(docker: Docker, containers: Docker.ContainerInspectInfo[]): Promise<AdoptedPod[]> {
  const byPod = new Map<string, Member[]>();
  for (const info of containers) {
    const labels = parseContainerLabels(info.Config.Labels);
    if (!labels) continue;
    byPod.set(labels.uid, [...(byPod.get(labels.uid) ?? []), { info, labels }]);
  }
  return Promise.all([...byPod.values()].map((members) => adoptPod(docker, members)));
}
