// The checkout: the ref fetched (one commit deep) and resolved to its commit SHA.
//
// The URL is the consumer's, so git never runs on the provider's host: there it could reach the
// host's loopback services and the provider's LAN, with the agent's privileges. It runs in a
// short-lived container of the git image, confined like a consumer's container and more: an
// unprivileged user, no capabilities, no-new-privileges, a read-only root (a small /tmp as HOME),
// the build pod's CPU and memory limits, and the namespace's network, whose isolation rules
// (../isolation.ts) keep it off the host and private ranges as they keep the namespace's pods.
// A repository reachable only on the provider's own network is therefore out of reach, by design,
// and so is a proxy there: the provider's proxy settings are not passed on.
//
// The checkout is written into a host folder bind-mounted read-write (the only writable mount),
// which the agent then reads as the build context. The credentials reach only that container, as
// files of a private folder mounted read-only: a global git config with the http.extraHeader, or
// an ssh key (never an argument or a variable, which `docker inspect` shows); the log masks them.
// Over ssh the server's host key is checked as Flux and Argo CD check it: against the Secret's
// known_hosts when it has one (only those keys: any other is refused, as a man in the middle
// would be), else accepted on first use as ssh does for a new host, and the build log shows the
// fingerprint it accepted, to compare and pin. Refusing instead would make every ssh build need a
// known_hosts before its first try; the log line keeps the trust visible without that.
// The provider's GIT_SSL_CAINFO (a company CA) is copied there too, so a private CA still works.
import { chmod, chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type Docker from 'dockerode';
import type { Container } from '@lattice/protocol';
import { dockerStatusCode, ignoreGone } from '../docker-errors.js';
import { ImagePullError, pullIfMissing } from '../images.js';
import { resourceLimits } from '../resources.js';
import { confinement } from '../security.js';
import { stdioChunks } from '../stdio.js';
import type { BuildLog } from './build-log.js';

/** The Secret of spec.source.credentialsSecretRef, as files: username/password, or ssh-privatekey and perhaps known_hosts. */
export interface GitCredentials {
  username?: string;
  password?: string;
  sshPrivateKey?: string;
  /** The ssh server's host keys, in ssh's known_hosts format (Flux's key name). */
  knownHosts?: string;
}

/** The clone failed; the message says why in a user's terms. */
export class GitError extends Error {}

/** The HTTP basic credentials git sends (the username defaults to git, as Git hosts accept a token with any). */
function basicAuth(credentials: GitCredentials | undefined): string | undefined {
  return credentials?.password ? Buffer.from(`${credentials.username ?? 'git'}:${credentials.password}`).toString('base64') : undefined;
}

/** The secrets a log must never show. */
export function secretsOf(credentials: GitCredentials | undefined): string[] {
  return [credentials?.password, basicAuth(credentials), credentials?.sshPrivateKey].filter((s): s is string => !!s);
}

/** Where the container sees its private files, and its checkout. */
const PRIVATE = '/run/lattice-git';
const SOURCE = '/src';
const HOME = '/tmp';

/**
 * The container's user: the agent's own when it is not root (so the agent can read and remove
 * what git wrote), else nobody. Never root.
 */
export function fetchUser(uid = process.getuid?.() ?? 0, gid = process.getgid?.() ?? 0): { uid: number; gid: number } {
  return uid === 0 ? { uid: 65534, gid: 65534 } : { uid, gid };
}

const withNewline = (text: string) => (text.endsWith('\n') ? text : `${text}\n`);

/** The private files: a git config, perhaps an ssh key, known hosts and a CA, and a passwd line ssh insists on. */
export function privateFiles(credentials: GitCredentials | undefined, user: { uid: number; gid: number }, ca: string | undefined): Record<string, string> {
  const files: Record<string, string> = { passwd: `lattice:x:${user.uid}:${user.gid}:lattice:${HOME}:/usr/sbin/nologin\n` };
  const config = ['[advice]', '\tdetachedHead = false'];
  const basic = basicAuth(credentials);
  if (basic) config.push('[http]', `\textraHeader = Authorization: Basic ${basic}`);
  files.gitconfig = `${config.join('\n')}\n`;
  if (credentials?.sshPrivateKey) files.id = withNewline(credentials.sshPrivateKey);
  if (credentials?.knownHosts?.trim()) files.known_hosts = withNewline(credentials.knownHosts);
  if (ca) files['ca.pem'] = ca;
  return files;
}

/** Where ssh keeps the host key it accepts on first use, unhashed so that its host can be named. */
const ACCEPTED = `${HOME}/known_hosts`;

/** How ssh checks the server's host key: exactly the pinned keys if there are any, else trust on first use. */
export function hostKeyOptions(files: Record<string, string>): string[] {
  const pinned = files.known_hosts
    ? ['-o StrictHostKeyChecking=yes', `-o UserKnownHostsFile=${PRIVATE}/known_hosts`]
    : ['-o StrictHostKeyChecking=accept-new', `-o UserKnownHostsFile=${ACCEPTED}`, '-o HashKnownHosts=no'];
  // The image's own known hosts play no part: the Secret's are the only ones.
  return [...pinned, '-o GlobalKnownHostsFile=/dev/null'];
}

/** The container's environment: paths only, no secret. */
export function fetchEnv(files: Record<string, string>): string[] {
  const ssh = ['ssh', '-o BatchMode=yes', ...hostKeyOptions(files)];
  if (files.id) ssh.push(`-i ${PRIVATE}/id`, '-o IdentitiesOnly=yes');
  const env = [`HOME=${HOME}`, 'GIT_CONFIG_NOSYSTEM=1', `GIT_CONFIG_GLOBAL=${PRIVATE}/gitconfig`, 'GIT_TERMINAL_PROMPT=0', `GIT_SSH_COMMAND=${ssh.join(' ')}`];
  if (files['ca.pem']) env.push(`GIT_SSL_CAINFO=${PRIVATE}/ca.pem`);
  return env;
}

/** The stdout lines that carry a host key accepted on first use (ssh-keygen -l's line after it). */
const ACCEPTED_MARK = 'accepted-host-key ';

/**
 * Run by sh with the URL and the ref as $1 and $2 (never spliced into the script); prints the SHA,
 * and at its exit (also a failed one) the fingerprints of the host keys accepted on first use.
 */
const SCRIPT = [
  `trap '[ ! -s ${ACCEPTED} ] || ssh-keygen -l -f ${ACCEPTED} | sed "s/^/${ACCEPTED_MARK}/"' EXIT`,
  `set -e; cd ${SOURCE}; git init -q .; git fetch --depth 1 --no-tags -- "$1" "$2"; git checkout -q FETCH_HEAD; git rev-parse HEAD`,
].join('; ');

/**
 * The build log's line for a key of `ssh-keygen -l` output ("256 SHA256:... [host]:port (ED25519)")
 * accepted on first use, or undefined for any other line.
 */
export function acceptedHostKeyLine(line: string): string | undefined {
  if (!line.startsWith(ACCEPTED_MARK)) return undefined;
  const match = /^\d+ (\S+) (\S+) \((\w+)\)$/.exec(line.slice(ACCEPTED_MARK.length).trim());
  if (!match) return undefined;
  const [, fingerprint, host, type] = match;
  return (
    `ssh: the host key of ${host} was accepted on first use, unchecked: ${type} ${fingerprint}. ` +
    'Compare it with the one the git host publishes; to pin it (and refuse any other key), add the host\'s known_hosts line to the credentials Secret as known_hosts'
  );
}

/** git's last words, and what to do about the usual failures. */
export function explain(stderr: string, code: number): string {
  const last = stderr.trim().split('\n').filter(Boolean).pop() ?? `git exited with status ${code}`;
  if (/Host key verification failed/.test(stderr)) {
    const offered = /key sent by the remote host is\s+(\S+?)\.?$/m.exec(stderr)?.[1];
    if (/REMOTE HOST IDENTIFICATION HAS CHANGED|has changed and you have requested strict checking/.test(stderr)) {
      return (
        `Host key verification failed: the git server's host key${offered ? ` (${offered})` : ''} did not match the known_hosts of the credentials Secret ` +
        '(spec.source.credentialsSecretRef). Someone may be impersonating the server (a man in the middle); if its key really changed, update known_hosts'
      );
    }
    return 'Host key verification failed: the git server has no key in the known_hosts of the credentials Secret (spec.source.credentialsSecretRef); add its host\'s line (with [host]:port for a port other than 22)';
  }
  if (/could not read Username|Authentication failed|terminal prompts disabled|403|401/i.test(stderr)) {
    return `${last}: the repository needs credentials; name a Secret with them in spec.source.credentialsSecretRef (or check the ones it names)`;
  }
  if (/couldn't find remote ref|not our ref/i.test(stderr)) return `${last}: check spec.source.ref`;
  if (/Could not resolve host|Connection refused|Connection timed out|No route to host|Failed to connect/i.test(stderr)) {
    return `${last}: the repository must be reachable from the provider's pod network (the provider's own machine and private networks are not)`;
  }
  return last;
}

export interface CheckoutOptions {
  docker: Docker;
  /** The image with git and ssh (hack/images git:2). */
  image: string;
  /** The namespace's Docker network. */
  network: string;
  /** The container's name: one per build, so a leftover of an earlier agent is replaced. */
  name: string;
  /** An empty host folder the checkout is written into. */
  dir: string;
  /** A host folder for the private files (created, and removed after). */
  privateDir: string;
  credentials: GitCredentials | undefined;
  /** The build pod's resources. */
  resources: Container['resources'];
  labels: Record<string, string>;
}

/**
 * Checks out `ref` of `url` into options.dir and returns the commit SHA. Progress and errors go
 * to the log.
 */
export async function checkout(url: string, ref: string, options: CheckoutOptions, log: BuildLog, signal: AbortSignal): Promise<string> {
  const { docker, image, privateDir, dir } = options;
  const user = fetchUser();
  const ca = process.env.GIT_SSL_CAINFO ? await readFile(process.env.GIT_SSL_CAINFO, 'utf8') : undefined;
  const files = privateFiles(options.credentials, user, ca);
  await rm(privateDir, { recursive: true, force: true });
  await mkdir(privateDir, { mode: 0o700 });
  for (const [name, content] of Object.entries(files)) await writeFile(path.join(privateDir, name), content, { mode: 0o600 });
  if (user.uid !== process.getuid?.()) {
    for (const target of [privateDir, dir, ...Object.keys(files).map((f) => path.join(privateDir, f))]) await chown(target, user.uid, user.gid);
  }
  await chmod(dir, 0o700);
  try {
    await pullIfMissing(docker, image, signal);
    await ignoreGone(docker.getContainer(options.name).remove({ force: true }));
    const container = await docker.createContainer({
      name: options.name,
      Image: image,
      User: `${user.uid}:${user.gid}`,
      Entrypoint: ['sh', '-c', SCRIPT, 'fetch'],
      Cmd: [url, ref],
      Env: fetchEnv(files),
      WorkingDir: SOURCE,
      Labels: { ...options.labels, 'lattice.dev/role': 'build-fetch' },
      HostConfig: {
        ...confinement([]),
        ...resourceLimits(options.resources),
        NetworkMode: options.network,
        ReadonlyRootfs: true,
        Tmpfs: { [HOME]: 'rw,nosuid,nodev,size=64m' },
        Binds: [`${dir}:${SOURCE}:rw`, `${privateDir}:${PRIVATE}:ro`, `${path.join(privateDir, 'passwd')}:/etc/passwd:ro`],
      },
    });
    // The attach stream ends when the container goes, which ends the read below.
    const stop = () => void ignoreGone(container.remove({ force: true })).catch(() => undefined);
    signal.addEventListener('abort', stop, { once: true });
    try {
      const stream = (await container.attach({ stream: true, stdout: true, stderr: true })) as NodeJS.ReadableStream;
      await container.start();
      let stdout = '';
      let stderr = '';
      for await (const chunk of stdioChunks(stream as AsyncIterable<Buffer>, false)) {
        const text = chunk.data.toString('utf8');
        if (chunk.channel === 1) stdout += text;
        else {
          stderr += text;
          log.write(text);
        }
      }
      signal.throwIfAborted();
      const { StatusCode } = (await container.wait()) as { StatusCode: number };
      const lines = stdout.trim().split('\n');
      for (const line of lines) {
        const accepted = acceptedHostKeyLine(line);
        if (accepted) log.line(accepted);
      }
      if (StatusCode !== 0) throw new GitError(explain(stderr, StatusCode));
      const sha = lines.filter((line) => !line.startsWith(ACCEPTED_MARK)).pop() ?? '';
      if (!/^[0-9a-f]{40,64}$/.test(sha)) throw new GitError(`git reported no commit for ${ref}`);
      return sha;
    } finally {
      signal.removeEventListener('abort', stop);
      // 409: the removal that a cancellation started is under way.
      await ignoreGone(container.remove({ force: true })).catch((err: unknown) => {
        if (dockerStatusCode(err) !== 409) throw err;
      });
    }
  } catch (err) {
    if (err instanceof ImagePullError) throw new GitError(`the git image ${image} could not be pulled on the provider: ${err.message}`);
    throw err;
  } finally {
    await rm(privateDir, { recursive: true, force: true });
  }
}
