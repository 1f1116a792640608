// Changes to the host's own network (the isolation rules in isolation.ts, the Service addresses
// on namespace bridges in networks.ts) are made by a short-lived helper container on the host
// network with NET_ADMIN only, from an image with iptables and iproute2: the agent itself need not
// run as root, only hold the Docker socket.
import type Docker from 'dockerode';
import { ignoreGone } from './docker-errors.js';
import { imagePresent, pullImage } from './images.js';

export class HostHelper {
  constructor(
    private readonly docker: Docker,
    readonly image: string,
  ) {}

  /** Runs the shell `script` in a helper (labelled with `role`); throws with its output if it fails. */
  async run(script: string, role: string): Promise<void> {
    const { docker, image } = this;
    if (!(await imagePresent(docker, image))) await pullImage(docker, image, undefined, AbortSignal.timeout(120_000));
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
        const output = demultiplex((await helper.logs({ stdout: true, stderr: true })) as Buffer);
        throw new Error(`exited with ${StatusCode}: ${output.trim().slice(-500)}`);
      }
    } finally {
      await ignoreGone(helper.remove({ force: true }));
    }
  }
}

/** The text of a non-TTY container's log: frames of an 8-byte header (stream, size) and a payload. */
function demultiplex(log: Buffer): string {
  const parts: Buffer[] = [];
  for (let at = 0; at + 8 <= log.length; ) {
    const size = log.readUInt32BE(at + 4);
    parts.push(log.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  return Buffer.concat(parts).toString('utf8');
}
