// Git repositories served over HTTPS, as a Git host serves them: `git http-backend` (smart HTTP)
// behind a small node https server with a certificate from a CA of its own (agents trust it
// through GIT_SSL_CAINFO, as a provider trusts a company CA). Repositories under private/ ask for
// HTTP basic auth.
//
// Where it listens: an agent fetches a build's source from a container on the namespace's network,
// which the isolation rules (agent/src/runtime/isolation.ts) keep off the provider's machine:
// loopback, the LAN and every address of the machine are refused. The suites' providers are
// machines of the bed (machines.ts), so the server listens on the cluster's public address, as a
// Git host on the internet. An agent on this host's own engine (the build benchmark) reaches one
// socket of this host: one bound to its namespace bridge's own address (namespaceBridgeAddress),
// as the agent's Service listeners are, and no rule is loosened for it.
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import * as k8s from '@kubernetes/client-node';
import { adminKubeConfig, waitFor } from './cluster.js';
import { BUSYBOX } from './providers.js';
import { type CertificateAuthority, createCertificateAuthority, issueServingCertificate } from '../../operator/src/gateway/pki.js';

const run = promisify(execFile);

export interface GitServer {
  /** https://<host>:<port> */
  url: string;
  /** The CA certificate file a client must trust. */
  caFile: string;
  /** The folder of the bare repositories (<name>.git), which other servers may serve too (ssh-git-server.ts). */
  repos: string;
  /** The repository `name` (a path like app or private/app) with these files, committed on main; returns the commit SHA. */
  commit(name: string, files: Record<string, string>, message?: string): Promise<string>;
  close(): Promise<void>;
}

const GIT_ENV = { GIT_AUTHOR_NAME: 'test', GIT_AUTHOR_EMAIL: 't@example.net', GIT_COMMITTER_NAME: 'test', GIT_COMMITTER_EMAIL: 't@example.net' };

const git = (cwd: string, ...args: string[]) => run('git', args, { cwd, env: { ...process.env, ...GIT_ENV } }).then((r) => r.stdout.trim());

/**
 * The address of `namespace`'s Docker bridge on the provider `node` (whose engine is `engine`), where
 * a build's fetch can reach a server of that machine bound to it. The bridge exists while a pod of the
 * namespace runs there, so a pod that only sleeps is placed first, and kept (until the namespace
 * goes) so the address stays.
 */
export async function namespaceBridgeAddress(namespace: string, node: string, engine = new Docker()): Promise<string> {
  const core = adminKubeConfig().makeApiClient(k8s.CoreV1Api);
  await core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name: 'keep-network' },
      spec: { nodeName: node, containers: [{ name: 'sleep', image: BUSYBOX, command: ['sleep', '86400'] }], terminationGracePeriodSeconds: 0 },
    },
  });
  await waitFor('the namespace network, made for a pod', async () => (await core.readNamespacedPod({ namespace, name: 'keep-network' })).status?.phase === 'Running', {
    timeoutMs: 60_000,
  });
  const networks = await engine.listNetworks({ filters: { label: [`lattice.dev/namespace=${namespace}`] } });
  const gateway = networks[0]?.IPAM?.Config?.[0]?.Gateway;
  if (!gateway) throw new Error(`the network of namespace ${namespace} has no gateway address`);
  return gateway;
}

/** The Git server's CA, made before the server (agents must trust it from their start). */
export interface GitCa {
  authority: CertificateAuthority;
  /** The CA certificate file a client must trust. */
  caFile: string;
}

export async function createGitCa(): Promise<GitCa> {
  const dir = await mkdtemp(path.join(tmpdir(), 'lattice-git-ca-'));
  const authority = await createCertificateAuthority('lattice test git CA');
  const caFile = path.join(dir, 'ca.pem');
  await writeFile(caFile, authority.certificatePem);
  return { authority, caFile };
}

/**
 * A Git server for clients that dial `host` (an address of this machine), with a certificate of
 * `ca`, listening on that address only.
 */
export async function startGitServer(
  credentials: { username: string; password: string },
  options: { host?: string; ca?: GitCa } = {},
): Promise<GitServer> {
  const host = options.host ?? '127.0.0.1';
  const root = await mkdtemp(path.join(tmpdir(), 'lattice-git-'));
  const repos = path.join(root, 'repos');
  const work = path.join(root, 'work');
  await mkdir(repos);
  const own = options.ca ? undefined : await createGitCa();
  const { authority: ca, caFile } = options.ca ?? own!;
  const serving = await issueServingCertificate(ca, [host]);

  const expected = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
  const server: Server = createServer({ cert: serving.certificatePem, key: serving.privateKeyPem }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://x');
    if (url.pathname.startsWith('/private/') && req.headers.authorization !== expected) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"' }).end('authentication required\n');
      return;
    }
    const cgi = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH,
        GIT_PROJECT_ROOT: repos,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method ?? 'GET',
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        HTTP_CONTENT_ENCODING: req.headers['content-encoding'] ?? '',
        GIT_PROTOCOL: (req.headers['git-protocol'] as string | undefined) ?? '',
        REMOTE_USER: req.headers.authorization ? credentials.username : '',
        REMOTE_ADDR: '127.0.0.1',
      },
    });
    // The backend may answer and exit before it has read the whole request (EPIPE here): its
    // answer stands; unhandled, the error would fail the suite that serves it.
    cgi.stdin.on('error', () => undefined);
    req.pipe(cgi.stdin);
    // CGI output: headers, a blank line, the body.
    let head = Buffer.alloc(0);
    let headersDone = false;
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      headersDone = true;
      let status = 200;
      for (const line of head.subarray(0, end).toString().split('\r\n')) {
        const [key, ...rest] = line.split(':');
        const value = rest.join(':').trim();
        if (key!.toLowerCase() === 'status') status = Number.parseInt(value, 10);
        else res.setHeader(key!, value);
      }
      res.writeHead(status);
      res.write(head.subarray(end + 4));
    });
    cgi.on('close', () => res.end());
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `https://${host}:${port}`,
    caFile,
    repos,
    async commit(name, files, message = 'change') {
      const dir = path.join(work, name);
      const bare = path.join(repos, `${name}.git`);
      await mkdir(dir, { recursive: true });
      await git(dir, 'init', '-q', '-b', 'main');
      for (const [file, content] of Object.entries(files)) {
        await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
        await writeFile(path.join(dir, file), content);
      }
      await git(dir, 'add', '-A');
      await git(dir, 'commit', '-q', '--allow-empty', '-m', message);
      await mkdir(path.dirname(bare), { recursive: true });
      await git(dir, 'init', '-q', '--bare', bare);
      await git(dir, 'push', '-q', '-f', bare, 'main');
      return git(dir, 'rev-parse', 'HEAD');
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(root, { recursive: true, force: true });
      if (own) await rm(path.dirname(own.caFile), { recursive: true, force: true });
    },
  };
}
