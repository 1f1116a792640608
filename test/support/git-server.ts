// Git repositories served over HTTPS on loopback, as a Git host serves them: `git http-backend`
// (smart HTTP) behind a small node https server with a certificate from a CA of its own (agents
// trust it through GIT_SSL_CAINFO, as a provider trusts a company CA). Repositories under
// private/ ask for HTTP basic auth.
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createCertificateAuthority, issueServingCertificate } from '../../operator/src/gateway/pki.js';

const run = promisify(execFile);

export interface GitServer {
  /** https://127.0.0.1:<port> */
  url: string;
  /** The CA certificate file a client must trust. */
  caFile: string;
  /** The repository `name` (a path like app or private/app) with these files, committed on main; returns the commit SHA. */
  commit(name: string, files: Record<string, string>, message?: string): Promise<string>;
  close(): Promise<void>;
}

const GIT_ENV = { GIT_AUTHOR_NAME: 'test', GIT_AUTHOR_EMAIL: 't@example.net', GIT_COMMITTER_NAME: 'test', GIT_COMMITTER_EMAIL: 't@example.net' };

const git = (cwd: string, ...args: string[]) => run('git', args, { cwd, env: { ...process.env, ...GIT_ENV } }).then((r) => r.stdout.trim());

export async function startGitServer(credentials: { username: string; password: string }): Promise<GitServer> {
  const root = await mkdtemp(path.join(tmpdir(), 'lattice-git-'));
  const repos = path.join(root, 'repos');
  const work = path.join(root, 'work');
  await mkdir(repos);
  const ca = await createCertificateAuthority('lattice test git CA');
  const serving = await issueServingCertificate(ca, ['127.0.0.1']);
  const caFile = path.join(root, 'ca.pem');
  await writeFile(caFile, ca.certificatePem);

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
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `https://127.0.0.1:${port}`,
    caFile,
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
    },
  };
}
