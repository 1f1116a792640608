// Changes to the host's own network (the isolation rules in isolation.ts, the Service addresses
// on namespace bridges in networks.ts) are made by a short-lived helper container on the host
// network with NET_ADMIN only, from an image with iptables and iproute2: the agent itself need not
// run as root, only hold the Docker socket.
import type Docker from 'dockerode';
import { ignoreGone } from './docker-errors.js';
import { platformImage, pullIfMissing } from './images.js';
import type { PlatformImages } from '@lattice/protocol';
import { StdioDemuxer } from './stdio.js';

export class HostHelper {
  constructor(
    private readonly docker: Docker,
    private readonly images: PlatformImages,
  ) {}

  get image(): string {
    return platformImage(this.images, 'isolation');
  }

  /** Runs the shell `script` in a helper (labelled with `role`); throws with its output if it fails. */
  async run(script: string, role: string): Promise<void> {
    const { docker, image } = this;
    await pullIfMissing(docker, image, AbortSignal.timeout(120_000));
    const helper = await docker.createContainer({
      Image: image,
      Entrypoint: ['sh', '-c', script],
      Cmd: [],
      Labels: { 'lattice.dev/role': role },
      HostConfig: { NetworkMode: 'host', CapDrop: ['ALL'], CapAdd: ['NET_ADMIN', 'NET_RAW'] },
    });
    try {
      await helper.start();
      const { StatusCode } = (await helper.wait()) as { StatusCode: number };
      if (StatusCode !== 0) {
        const log = (await helper.logs({ stdout: true, stderr: true })) as Buffer;
        const output = Buffer.concat(new StdioDemuxer().push(log).map((chunk) => chunk.data)).toString('utf8');
        throw new Error(`exited with ${StatusCode}: ${output.trim().slice(-500)}`);
      }
    } finally {
      await ignoreGone(helper.remove({ force: true }));
    }
  }
}
