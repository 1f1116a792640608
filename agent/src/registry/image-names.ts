// The cluster names its own images (Lattice's, and what builds push) in a registry this provider
// cannot reach; the agent's relay (relay.ts) serves that registry on a loopback port of this
// machine instead. Pods are renamed at the edge, as they arrive, so that the engine pulls and
// pushes through the relay; what goes back (status, build results) is named as the cluster knows it.
import { BUILD_ENV, BUILDER_IMAGE, BuildResultSchema, type Container, type Pod, type PodStatus } from '@lattice/protocol';

/** Env of a build pod that names images of the cluster registry (see @lattice/protocol's build.ts). */
const BUILD_IMAGE_ENV = new Set<string>([BUILD_ENV.repository, BUILD_ENV.baseImages]);

export class ImageNames {
  /** Build pods seen (their container runs another image once the agent prepared them). */
  private readonly builds = new Set<string>();

  constructor(
    /** The registry as the cluster names it, host[:port]. */
    private readonly cluster: string,
    /** The relay, as this machine's engine reaches it, host:port. */
    private readonly local: string,
  ) {}

  /** The name the engine pulls `image` by: through the relay when it is the cluster's. */
  toLocal(image: string): string {
    return image.startsWith(`${this.cluster}/`) ? `${this.local}/${image.slice(this.cluster.length + 1)}` : image;
  }

  /** The name the cluster knows an image by. */
  toCluster(image: string): string {
    return image.startsWith(`${this.local}/`) ? `${this.cluster}/${image.slice(this.local.length + 1)}` : image;
  }

  /** A message that may name images (an Event's, "Pulling image ..."), as the cluster would say it. */
  text(message: string): string {
    return message.replaceAll(`${this.local}/`, `${this.cluster}/`);
  }

  pod(pod: Pod): Pod {
    if (pod.containers.some((c) => c.image === BUILDER_IMAGE)) this.builds.add(pod.uid);
    const container = (c: Container): Container => ({
      ...c,
      image: this.toLocal(c.image),
      env: c.image === BUILDER_IMAGE ? c.env.map((e) => (BUILD_IMAGE_ENV.has(e.name) ? { ...e, value: this.toLocal(e.value) } : e)) : c.env,
    });
    return { ...pod, initContainers: pod.initContainers.map(container), containers: pod.containers.map(container) };
  }

  status(status: PodStatus): PodStatus {
    const build = this.builds.has(status.uid);
    if (status.deleted) this.builds.delete(status.uid);
    const container = (c: PodStatus['containerStatuses'][number]) => {
      const named = { ...c, image: this.toCluster(c.image), imageId: this.toCluster(c.imageId) };
      const terminated = c.state.terminated;
      if (!build || !terminated?.message) return named;
      // A build's result names the image it pushed.
      const result = BuildResultSchema.safeParse(parseJson(terminated.message));
      if (!result.success || !result.data.image) return named;
      const message = JSON.stringify({ ...result.data, image: this.toCluster(result.data.image) });
      return { ...named, state: { ...c.state, terminated: { ...terminated, message } } };
    };
    return {
      ...status,
      initContainerStatuses: status.initContainerStatuses.map(container),
      containerStatuses: status.containerStatuses.map(container),
    };
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
