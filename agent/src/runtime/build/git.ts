// The checkout: the ref fetched (one commit deep) and resolved to its commit SHA.
//
// git runs on the provider's host, not in a container, because a repository on the provider's
// own network (a loopback server in the tests, a company Git server behind the provider's VPN)
// must be reachable, as for a developer's `git clone`; the provider's CA settings
// (GIT_SSL_CAINFO) and proxy apply. It runs with an empty HOME and no system config, so no
// credential helper or identity of the provider's can ever be offered to a user's URL.
// Credentials go through the environment (an http.extraHeader, or an ssh key in a private
// temporary file), never on a command line or in the URL, and the log masks them.
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BuildLog } from './build-log.js';

/** The Secret of spec.source.credentialsSecretRef, as files: username/password or ssh-privatekey. */
export interface GitCredentials {
  username?: string;
  password?: string;
  sshPrivateKey?: string;
}

/** The clone failed; the message says why in a user's terms. */
export class GitError extends Error {}

/** What can be given to git of the agent's own environment: CA, proxies, locale. */
const PASSED_ENV = ['PATH', 'LANG', 'GIT_SSL_CAINFO', 'GIT_SSL_CAPATH', 'http_proxy', 'https_proxy', 'no_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY'];

/** The secrets a log must never show. */
export function secretsOf(credentials: GitCredentials | undefined): string[] {
  if (!credentials) return [];
  const { password, sshPrivateKey, username } = credentials;
  const basic = username !== undefined && password ? Buffer.from(`${username}:${password}`).toString('base64') : undefined;
  return [password, basic, sshPrivateKey].filter((s): s is string => !!s);
}

async function gitEnv(home: string, credentials: GitCredentials | undefined): Promise<NodeJS.ProcessEnv> {
  const env: NodeJS.ProcessEnv = Object.fromEntries(PASSED_ENV.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]]));
  Object.assign(env, { HOME: home, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: '', SSH_ASKPASS: '' });
  const config: [string, string][] = [['advice.detachedHead', 'false']];
  if (credentials?.password) {
    const basic = Buffer.from(`${credentials.username ?? 'git'}:${credentials.password}`).toString('base64');
    config.push(['http.extraHeader', `Authorization: Basic ${basic}`]);
  }
  config.forEach(([key, value], i) => Object.assign(env, { [`GIT_CONFIG_KEY_${i}`]: key, [`GIT_CONFIG_VALUE_${i}`]: value }));
  env.GIT_CONFIG_COUNT = String(config.length);
  const knownHosts = path.join(home, 'known_hosts');
  const ssh = ['ssh', '-o BatchMode=yes', '-o StrictHostKeyChecking=accept-new', `-o UserKnownHostsFile=${knownHosts}`];
  if (credentials?.sshPrivateKey) {
    const key = path.join(home, 'id');
    await writeFile(key, credentials.sshPrivateKey.endsWith('\n') ? credentials.sshPrivateKey : `${credentials.sshPrivateKey}\n`, { mode: 0o600 });
    await chmod(key, 0o600);
    ssh.push(`-i ${key}`, '-o IdentitiesOnly=yes');
  }
  env.GIT_SSH_COMMAND = ssh.join(' ');
  return env;
}

function run(args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; log: BuildLog; signal: AbortSignal }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd: options.cwd, env: options.env, signal: options.signal, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      options.log.write(d.toString());
    });
    child.on('error', (err) => reject(err.name === 'AbortError' ? err : new GitError(`git could not be run on the provider: ${err.message}`)));
    child.on('close', (code) => (code === 0 ? resolve(stdout.trim()) : reject(new GitError(explain(stderr, code)))));
  });
}

/** git's last words, and what to do about the usual failures. */
function explain(stderr: string, code: number | null): string {
  const last = stderr.trim().split('\n').filter(Boolean).pop() ?? `git exited with status ${code}`;
  if (/could not read Username|Authentication failed|terminal prompts disabled|403|401/i.test(stderr)) {
    return `${last}: the repository needs credentials; name a Secret with them in spec.source.credentialsSecretRef (or check the ones it names)`;
  }
  if (/couldn't find remote ref|not our ref/i.test(stderr)) return `${last}: check spec.source.ref`;
  return last;
}

/**
 * Checks out `ref` of `url` into `dir` (created empty) and returns the commit SHA. Progress and
 * errors go to the log.
 */
export async function checkout(
  url: string,
  ref: string,
  dir: string,
  credentials: GitCredentials | undefined,
  log: BuildLog,
  signal: AbortSignal,
): Promise<string> {
  const home = await mkdtemp(path.join(tmpdir(), 'lattice-git-'));
  try {
    const env = await gitEnv(home, credentials);
    const opts = { env, log, signal };
    await run(['init', '-q', dir], { ...opts, cwd: home });
    await run(['fetch', '--depth', '1', '--no-tags', url, ref], { ...opts, cwd: dir });
    await run(['checkout', '-q', 'FETCH_HEAD'], { ...opts, cwd: dir });
    return await run(['rev-parse', 'HEAD'], { ...opts, cwd: dir });
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}
