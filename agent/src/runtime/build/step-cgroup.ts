// The cgroup a build's RUN steps run in. Docker's classic build API takes no pids limit (nor any
// confinement of the steps' containers) but it takes a cgroup parent: the steps are made children
// of the build pod's own container, so that pod's process limit (security.ts), memory and CPU
// bound the steps all together, as the steps of a build in a Kubernetes pod are bounded by the pod.
//
// Only where a container's cgroup can have children: cgroup v1 with the cgroupfs driver. With the
// systemd driver a parent must be a slice, and cgroup v2 refuses children to a cgroup that holds
// processes; there the steps are bounded by their own CPU and memory limits only.
import { readFile } from 'node:fs/promises';
import type Docker from 'dockerode';
import { LABEL } from '../naming.js';

export interface Engine {
  CgroupDriver?: string;
  CgroupVersion?: string;
}

const nests = (engine: Engine) => engine.CgroupDriver === 'cgroupfs' && (engine.CgroupVersion ?? '1') === '1';

/**
 * The cgroup parent (cgroupfs path) for steps nested in the container whose /proc/PID/cgroup is
 * `procCgroup`, or undefined when this engine cannot nest them.
 */
export function stepCgroupParent(procCgroup: string, engine: Engine): string | undefined {
  if (!nests(engine)) return undefined;
  // v1 lines are `ID:controllers:path`; the pids hierarchy is the one whose limit matters most.
  const pids = procCgroup.split('\n').find((line) => line.split(':')[1]?.split(',').includes('pids'));
  const path = pids?.split(':').slice(2).join(':');
  return path && path.startsWith('/') && path !== '/' ? path : undefined;
}

/** Where the build pod `uid`'s running container `container` lets its steps run, if anywhere. */
export async function buildPodCgroup(docker: Docker, uid: string, container: string): Promise<string | undefined> {
  const engine = (await docker.info()) as Engine;
  if (!nests(engine)) return undefined;
  const [printer] = await docker.listContainers({ filters: { label: [`${LABEL.podUid}=${uid}`, `${LABEL.container}=${container}`], status: ['running'] } });
  if (!printer) return undefined;
  const pid = (await docker.getContainer(printer.Id).inspect()).State.Pid;
  // The engine's processes are this machine's (an agent beside its engine); if not, no nesting.
  const procCgroup = await readFile(`/proc/${pid}/cgroup`, 'utf8').catch(() => '');
  return stepCgroupParent(procCgroup, engine);
}
