// A private registry on the internet, as a company's or a cloud's: Debian's docker-registry (the
// CNCF distribution) on the cluster's public address, asking every client for a user and password
// (htpasswd, bcrypt). A provider's engine pulls from it only with a pod's imagePullSecrets.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { stringify as toYaml } from 'yaml';
import { waitFor } from './cluster.js';
import { PUBLIC_ADDRESS } from './machines.js';
import { freePort } from './operator.js';
import { spawnCaptured, type CapturedProcess } from './processes.js';

export interface PrivateRegistry {
  /** host:port, as an image reference names it. */
  address: string;
  close(): Promise<void>;
}

export async function startPrivateRegistry(credentials: { username: string; password: string }): Promise<PrivateRegistry> {
  const dir = await mkdtemp(path.join(tmpdir(), 'lattice-private-registry-'));
  const address = `${PUBLIC_ADDRESS}:${await freePort()}`;
  await writeFile(path.join(dir, 'htpasswd'), `${credentials.username}:${bcrypt.hashSync(credentials.password, 10)}\n`);
  await writeFile(
    path.join(dir, 'config.yml'),
    toYaml({
      version: 0.1,
      log: { level: 'warn' },
      storage: { filesystem: { rootdirectory: path.join(dir, 'data') } },
      http: { addr: address },
      auth: { htpasswd: { realm: 'lattice-test-private', path: path.join(dir, 'htpasswd') } },
    }),
  );
  const server: CapturedProcess = spawnCaptured('docker-registry', ['serve', path.join(dir, 'config.yml')], process.env);
  const close = async () => {
    if (server.child.exitCode === null) {
      server.child.kill('SIGTERM');
      await server.done;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    // Up when it asks an anonymous client to sign in.
    await waitFor(`the private registry at ${address}`, async () => {
      if (server.child.exitCode !== null) throw new Error(`docker-registry exited (${server.child.exitCode}): ${server.output.join('')}`);
      return (await fetch(`http://${address}/v2/`).catch(() => undefined))?.status === 401;
    });
  } catch (err) {
    await close();
    throw err;
  }
  return { address, close };
}
