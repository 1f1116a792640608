// Starts the console: `LATTICE_KUBE_SERVER=https://… LATTICE_KUBE_CA=ca.crt tsx server/main.ts`.
// The console holds no Kubernetes credential: only the apiserver's address and the CA to trust. In
// a pod both default to the in-cluster ones, found as client libraries find them.
// LATTICE_CONSOLE_IMAGE_{REDIS,MINIO,CRON} choose the images the deploy form starts from (public
// ones unless set: a platform with its own registry points them there).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ImageReference } from '@lattice/crds';
import { createApp } from './app.js';
import { SessionStore } from './sessions.js';

const Env = z.object({
  LATTICE_KUBE_SERVER: z.url({ protocol: /^https$/ }),
  LATTICE_KUBE_CA: z.string().min(1),
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** Set to "false" only to serve plain http on loopback (tests, local development). */
  LATTICE_SECURE_COOKIES: z.enum(['true', 'false']).default('true'),
  LATTICE_CONSOLE_IMAGE_REDIS: ImageReference.default('redis:7'),
  LATTICE_CONSOLE_IMAGE_MINIO: ImageReference.default('minio/minio:latest'),
  LATTICE_CONSOLE_IMAGE_CRON: ImageReference.default('busybox:1.36'),
});

/**
 * The in-cluster apiserver: the address Kubernetes gives every container, and the cluster CA where
 * a pod has it (config/console-server mounts it there without a token: the console never acts as
 * itself). Empty outside a pod.
 */
function inCluster(env: NodeJS.ProcessEnv): Record<string, string> {
  const { KUBERNETES_SERVICE_HOST: host, KUBERNETES_SERVICE_PORT: port } = env;
  if (!host || !port) return {};
  return {
    LATTICE_KUBE_SERVER: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    LATTICE_KUBE_CA: '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt',
  };
}

const parsed = Env.safeParse({ ...inCluster(process.env), ...process.env });
if (!parsed.success) {
  console.error(`The console's configuration (its environment) is invalid:\n${z.prettifyError(parsed.error)}`);
  process.exit(1);
}
const env = parsed.data;
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
if (env.LATTICE_SECURE_COOKIES === 'false' && !LOOPBACK.has(env.HOST)) {
  // Without Secure, the session cookie would travel in clear text: allow that only on this machine.
  throw new Error(`LATTICE_SECURE_COOKIES=false is only allowed on a loopback HOST, not ${env.HOST}`);
}
const distDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist');
const app = createApp(
  {
    kube: { server: new URL(env.LATTICE_KUBE_SERVER), ca: readFileSync(env.LATTICE_KUBE_CA) },
    sessions: new SessionStore(),
    secureCookies: env.LATTICE_SECURE_COOKIES === 'true',
    deployImages: { redis: env.LATTICE_CONSOLE_IMAGE_REDIS, minio: env.LATTICE_CONSOLE_IMAGE_MINIO, cron: env.LATTICE_CONSOLE_IMAGE_CRON },
  },
  distDir,
);
const server = app.listen(env.PORT, env.HOST, () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : env.PORT;
  console.log(JSON.stringify({ level: 'info', msg: 'console listening', url: `http://${env.HOST}:${port}` }));
});
