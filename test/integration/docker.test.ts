// The real Docker engine runs a container from an image it pulls from the local registry, the
// same path the agent takes for every pod.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { uniqueName } from '../support/cluster.js';

const docker = new Docker();
const registry = process.env.LATTICE_REGISTRY ?? '127.0.0.1:5001';
const source = `${registry}/lattice/busybox:1`;
const run = promisify(execFile);

test('a locally built image is pulled from the local registry and runs', async () => {
  // Push a copy under a name the engine has never stored, so the pull below is a real one.
  const tag = uniqueName('pulltest');
  const ref = `${registry}/lattice/busybox:${tag}`;
  await run('docker', ['tag', source, ref]);
  await run('docker', ['push', '-q', ref]);
  await docker.getImage(ref).remove();
  await expect(docker.getImage(ref).inspect()).rejects.toMatchObject({ statusCode: 404 });

  const stream = await docker.pull(ref);
  await new Promise((resolve, reject) =>
    docker.modem.followProgress(stream, (err) => (err ? reject(err) : resolve(undefined))),
  );

  const container = await docker.createContainer({
    Image: ref,
    Cmd: ['sh', '-c', 'echo hello from $(uname -s)'],
    HostConfig: { AutoRemove: false },
  });
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    const logs = await container.logs({ stdout: true, stderr: true });
    expect(StatusCode).toBe(0);
    // The log stream is multiplexed (8-byte frame headers); the text is what matters.
    expect(logs.toString('utf8')).toContain('hello from Linux');
  } finally {
    await container.remove({ force: true });
    await docker.getImage(ref).remove().catch(() => undefined);
  }
});
