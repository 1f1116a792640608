// Git repositories served over ssh by a real OpenSSH server (Debian's sshd, installed by
// hack/test-deps), as a Git host serves them: public-key login only, and a forced command that
// lets a client fetch (git-upload-pack) from the served folder and do nothing else.
//
// It serves the bare repositories of a GitServer (git-server.ts; its commit() makes them), on the
// namespace bridge's address for the reason told there: a build's fetch reaches this machine only
// there. Its host key is its own, made for it, so a test can pin it (knownHosts) or pin another
// (foreignKnownHosts, what a client sees when a man in the middle answers).
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from './cluster.js';

const run = promisify(execFile);
const SSHD = '/usr/sbin/sshd';

export interface SshGitServer {
  /** ssh://<user>@<host>:<port>; a repository is at `${url}/<name>.git`. */
  url: string;
  /** The private key the server lets in (OpenSSH format), as a Secret's ssh-privatekey. */
  clientKey: string;
  /** The server's known_hosts line ([host]:port and its key), as a Secret's known_hosts. */
  knownHosts: string;
  /** A known_hosts line for the same [host]:port with a key that is not the server's. */
  foreignKnownHosts: string;
  /** The server's host key fingerprint (SHA256:...), as ssh shows it. */
  fingerprint: string;
  close(): Promise<void>;
}

/** A new ed25519 key pair in `dir`/`name`; returns the public key line (type and key). */
async function keyPair(dir: string, name: string): Promise<{ privateKey: string; publicKey: string }> {
  const file = path.join(dir, name);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `lattice-test-${name}`, '-f', file]);
  const [type, key] = (await readFile(`${file}.pub`, 'utf8')).trim().split(/\s+/);
  return { privateKey: await readFile(file, 'utf8'), publicKey: `${type} ${key}` };
}

/** A port free on `host` (sshd takes a port number, not 0). */
async function freePortOn(host: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * The forced command: `git-upload-pack '/<name>.git'` (what `git fetch ssh://host/<name>.git`
 * asks for) runs on `repos`/<name>.git; anything else is refused.
 */
const gitOnly = (repos: string) => `#!/bin/sh
set -f
case "$SSH_ORIGINAL_COMMAND" in
  "git-upload-pack '/"*"'") ;;
  *) echo "this server only serves git fetches" >&2; exit 1 ;;
esac
repo=\${SSH_ORIGINAL_COMMAND#"git-upload-pack '/"}
repo=\${repo%"'"}
case "$repo" in *..*|*"'"*) echo "no such repository" >&2; exit 1 ;; esac
exec git-upload-pack --strict "${repos}/$repo"
`;

/** Serves the bare repositories of `repos` over ssh on `host` (an address of this machine). */
export async function startSshGitServer(repos: string, host: string): Promise<SshGitServer> {
  const dir = await mkdtemp(path.join(tmpdir(), 'lattice-sshd-'));
  const hostKey = await keyPair(dir, 'host_ed25519');
  const client = await keyPair(dir, 'client');
  const foreign = await keyPair(dir, 'foreign');
  await writeFile(path.join(dir, 'authorized_keys'), `${client.publicKey}\n`);
  await writeFile(path.join(dir, 'git-only'), gitOnly(repos));
  await chmod(path.join(dir, 'git-only'), 0o755);
  const user = userInfo().username;
  const port = await freePortOn(host);
  const config = [
    `ListenAddress ${host}:${port}`,
    `HostKey ${path.join(dir, 'host_ed25519')}`,
    `PidFile ${path.join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
    `AllowUsers ${user}`,
    // Keys only; the temp folder's modes are not the ones sshd wants of a home.
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin prohibit-password',
    'UsePAM no',
    'StrictModes no',
    // git and nothing else: no shell, no tty, no forwarding.
    `ForceCommand ${path.join(dir, 'git-only')}`,
    'DisableForwarding yes',
    'PermitTTY no',
    'AcceptEnv GIT_PROTOCOL',
  ];
  await writeFile(path.join(dir, 'sshd_config'), `${config.join('\n')}\n`);
  // As root, sshd drops its pre-auth child into this empty folder (the package makes it at boot only).
  if (process.getuid?.() === 0) await mkdir('/run/sshd', { recursive: true, mode: 0o755 });

  const output: string[] = [];
  const sshd: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', path.join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  sshd.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<void>((resolve) => sshd.once('exit', () => resolve()));
  await waitFor(
    `sshd listening on ${host}:${port}`,
    async () => {
      if (sshd.exitCode !== null) throw new Error(`sshd exited with status ${sshd.exitCode}: ${output.join('')}`);
      return output.join('').includes('Server listening');
    },
    { timeoutMs: 10_000, intervalMs: 50 },
  );

  const hostPort = `[${host}]:${port}`;
  const { stdout } = await run('ssh-keygen', ['-l', '-f', path.join(dir, 'host_ed25519.pub')]);
  return {
    url: `ssh://${user}@${host}:${port}`,
    clientKey: client.privateKey,
    knownHosts: `${hostPort} ${hostKey.publicKey}\n`,
    foreignKnownHosts: `${hostPort} ${foreign.publicKey}\n`,
    fingerprint: stdout.split(' ')[1]!,
    async close() {
      if (sshd.exitCode === null) {
        sshd.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
