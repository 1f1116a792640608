// Rebuilds pods' state from the containers Docker holds, by their labels, without touching a
// running one: after an agent restart, or after a pass that failed midway.
import type Docker from 'dockerode';
import { ignoreGone, isNotFound } from './docker-errors.js';
import { imageFacts, repositoryOf } from './images.js';
import { LABEL, type LabelledContainer, SANDBOX, parseContainerLabels } from './naming.js';
import { type Sandbox, sandboxIp } from './sandbox.js';
import { type ContainerHistory, type ContainerRun, runFromInspect } from './status.js';

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
function adoptPods(docker: Docker, containers: Docker.ContainerInspectInfo[]): Promise<AdoptedPod[]> {
  const byPod = new Map<string, Member[]>();
  for (const info of containers) {
    const labels = parseContainerLabels(info.Config.Labels);
    if (!labels) continue;
    byPod.set(labels.uid, [...(byPod.get(labels.uid) ?? []), { info, labels }]);
  }
  return Promise.all([...byPod.values()].map((members) => adoptPod(docker, members)));
}

/**
 * The pods Docker holds for this node (or only the pod `uid`), read from their containers'
 * labels and state. Runs no spec needs any more are removed on the way.
 */
export async function observePods(docker: Docker, nodeName: string, uid?: string): Promise<AdoptedPod[]> {
  const label = [`${LABEL.node}=${nodeName}`, ...(uid ? [`${LABEL.podUid}=${uid}`] : [])];
  const listed = await docker.listContainers({ all: true, filters: { label } });
  const inspected = await Promise.all(
    listed.map((c) =>
      docker
        .getContainer(c.Id)
        .inspect()
        .catch((err: unknown) => {
          if (isNotFound(err)) return undefined; // removed meanwhile
          throw err;
        }),
    ),
  );
  return adoptPods(docker, inspected.filter((info) => info !== undefined));
}
