// The price of the tunnel: requests through a public URL (client -> gateway ingress over HTTPS ->
// the agent's gRPC stream -> the container) against direct requests to the same container at its
// IP on the agent's Docker bridge, and PostgreSQL (pgbench, select-only) through the gateway's
// public TCP port against direct connections to the same server. Both measured in this run, on
// one machine, so the ratio is the cost of the relay (TLS termination, two hops, the multiplexed
// stream), not of a network.
//
// The real operator (controllers, gateway, ingress on loopback) and a real agent, as `make up` runs them.
import http from 'node:http';
import https from 'node:https';
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import autocannon from 'autocannon';
import Docker from 'dockerode';
import { adminKubeConfig, kubectl, repoRoot, secretData, uniqueName, waitFor } from '../support/cluster.js';
import { OperatorProcess, createJoinToken, freePort } from '../support/operator.js';
import { REGISTRY, joinedAgent, runAgent, stopAgent, type AgentProcess, removeSuiteLeftovers } from '../support/providers.js';
import { report } from './stats.js';

const REQUESTS = Number(process.env.BENCH_INGRESS_REQUESTS ?? 1000);
const SECONDS = Number(process.env.BENCH_INGRESS_SECONDS ?? 8);
const CONNECTIONS = 10;
const BASE_DOMAIN = 'lattice.localhost';
const RUN_LABEL = 'provider.lattice.dev/bench-run';
const PGBENCH_IMAGE = `${REGISTRY}/lattice/postgres:15`;
const kc = adminKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);

// A minimal server: what is measured is the path to it, not the application.
const SERVER = `require('http').createServer((q, s) => s.end('ok')).listen(8080); process.on('SIGTERM', () => process.exit(0));`;

interface Target {
  url: string;
  /** The Host (and TLS server name) of a public URL reached at 127.0.0.1. */
  host?: string;
}

/** Sequential requests on one keep-alive connection: each one's latency, in ms. */
async function latencies(target: Target, n: number): Promise<number[]> {
  const secure = target.url.startsWith('https:');
  const agent = secure ? new https.Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false, servername: target.host }) : new http.Agent({ keepAlive: true, maxSockets: 1 });
  const get = secure ? https.get : http.get;
  const samples: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const t0 = process.hrtime.bigint();
      await new Promise<void>((resolve, reject) => {
        get(target.url, { agent, headers: target.host ? { host: target.host } : {} }, (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
        }).on('error', reject);
      });
      samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  } finally {
    agent.destroy();
  }
  return samples.slice(Math.min(20, n / 10)); // the first ones warm the connection and the JIT
}

/** Requests per second with CONNECTIONS keep-alive connections for SECONDS. */
async function throughput(target: Target): Promise<{ rps: number; mean: number; p99: number; errors: number }> {
  const result = await autocannon({
    url: target.url,
    connections: CONNECTIONS,
    duration: SECONDS,
    ...(target.host ? { headers: { host: target.host }, servername: target.host } : {}),
  });
  // autocannon's percentiles are whole milliseconds: the mean says more at these latencies.
  return { rps: result.requests.average, mean: result.latency.average, p99: result.latency.p99, errors: result.errors + result.non2xx };
}

/**
 * Runs pgbench from the PostgreSQL image on the host's network (Debian ships pgbench with the
 * server, not the client the tests install): its output, and the files it wrote in `dir`.
 */
async function runPgbench(args: string[], dir: string): Promise<string> {
  const docker = new Docker();
  const container = await docker.createContainer({
    Image: PGBENCH_IMAGE,
    Entrypoint: ['pgbench'],
    Cmd: args,
    WorkingDir: '/out',
    HostConfig: { NetworkMode: 'host', Binds: [`${dir}:/out`] },
    Labels: { 'lattice.dev/bench': 'pgbench' },
  });
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    const output = (await container.logs({ stdout: true, stderr: true })).toString();
    if (StatusCode !== 0) throw new Error(`pgbench ${args.join(' ')} exited ${StatusCode}: ${output}`);
    return output;
  } finally {
    await container.remove({ force: true });
  }
}

/** pgbench select-only with 4 clients: transactions per second and each transaction's latency (ms). */
async function pgbench(uri: string): Promise<{ tps: number; latencies: number[] }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lattice-pgbench-'));
  await chmod(dir, 0o777); // pgbench runs as the image's postgres user
  try {
    const stdout = await runPgbench(['-n', '-S', '-c', '4', '-j', '2', '-T', String(SECONDS), '-l', uri], dir);
    const tps = Number(/tps = ([\d.]+)/.exec(stdout)?.[1]);
    const latencies: number[] = [];
    for (const file of await readdir(dir)) {
      // client_id transaction_no time(us) script_no time_epoch time_us
      for (const line of (await readFile(path.join(dir, file), 'utf8')).split('\n')) {
        const us = Number(line.split(' ')[2]);
        if (Number.isFinite(us) && line) latencies.push(us / 1000);
      }
    }
    return { tps, latencies };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function printThroughput(title: string, rows: { what: string; value: number; baseline: number; unit: string }[]): void {
  console.log(`\n## ${title}`);
  console.log('| case | through the gateway | direct | ratio |');
  console.log('| --- | --- | --- | --- |');
  const fmt = (n: number) => n.toFixed(n < 10 ? 2 : 0);
  for (const r of rows) {
    const ratio = r.baseline > 0 ? `${(r.value / r.baseline).toFixed(2)}x` : 'n/a';
    console.log(`| ${r.what} | ${fmt(r.value)} ${r.unit} | ${fmt(r.baseline)} ${r.unit} | ${ratio} |`);
  }
}

async function main(): Promise<void> {
  const namespace = uniqueName('bench-ingress');
  const gatewayNamespace = `${namespace}-gw`;
  const agent: AgentProcess = { name: `${namespace}-p`, stateDir: '', output: [] };
  await kubectl(['apply', '--server-side', '--force-conflicts', '-k', path.join(repoRoot, 'config/crd')]);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await core.createNamespace({ body: { metadata: { name: gatewayNamespace } } });
  const [grpcPort, kubeletPort, ingressPort] = [await freePort(), await freePort(), await freePort()];
  const tcpFirst = 21_000 + Math.floor(Math.random() * 500) * 10;
  const operator = OperatorProcess.start({
    identity: 'bench-ingress',
    namespace: gatewayNamespace,
    watchNamespace: namespace,
    grpcPort,
    kubeletPort,
    extra: [
      ...['--ingress-base-domain', BASE_DOMAIN, '--ingress-address', '127.0.0.1', '--ingress-port', String(ingressPort)],
      ...['--ingress-tcp-ports', `${tcpFirst}-${tcpFirst + 9}`, '--ingress-tcp-host', '127.0.0.1', '--postgres-provider-selector', `${RUN_LABEL}=${namespace}`],
      // The data path is measured, not the per-client request cap (all load comes from one address).
      ...['--ingress-max-requests-per-client', '0'],
    ],
  });
  try {
    await operator.gatewayListening();
    const token = await createJoinToken(gatewayNamespace, 1);
    Object.assign(agent, await joinedAgent(agent.name, `127.0.0.1:${grpcPort}`, token, { cpu: '2', memory: '2Gi', maxPods: 10, labels: { [RUN_LABEL]: namespace } }));
    runAgent(agent);
    await kubectl(['apply', '--server-side', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'lattice.dev/v1alpha1',
        kind: 'Workload',
        metadata: { name: 'web', namespace },
        spec: {
          image: `${REGISTRY}/lattice/node:18`,
          command: ['node', '-e', SERVER],
          ports: [{ name: 'http', port: 8080, expose: 'public' }],
          resources: { cpu: '500m', memory: '128Mi' },
          placement: { providerSelector: { [RUN_LABEL]: namespace } },
        },
      }),
    });
    await kubectl(['apply', '--server-side', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'lattice.dev/v1alpha1',
        kind: 'PostgresInstance',
        metadata: { name: 'db', namespace },
        spec: { version: '15', database: 'app', owner: 'app', storage: { size: '1Gi' }, resources: { cpu: '500m', memory: '256Mi' }, expose: 'public' },
      }),
    });
    await kubectl(['wait', '--for=condition=Ready', '--timeout=180s', '-n', namespace, 'workload/web', 'postgresinstance/db']);

    // HTTP: the public URL (at 127.0.0.1 with its host name) against the container's IP.
    const podIp = (name: string) =>
      waitFor(`${name}'s IP`, async () => (await core.listNamespacedPod({ namespace, labelSelector: name })).items.find((p) => p.status?.podIP)?.status?.podIP, { timeoutMs: 30_000 });
    const publicTarget: Target = { url: `https://127.0.0.1:${ingressPort}/`, host: `web--${namespace}.${BASE_DOMAIN}` };
    const directTarget: Target = { url: `http://${await podIp('lattice.dev/workload=web')}:8080/` };
    const viaGateway = await latencies(publicTarget, REQUESTS);
    const direct = await latencies(directTarget, REQUESTS);
    report('HTTP request latency, one keep-alive connection, sequential', 'direct to the container', [
      { what: 'GET / through the public URL (HTTPS, tunnel)', samples: viaGateway, baseline: direct },
    ]);
    const [tGateway, tDirect] = [await throughput(publicTarget), await throughput(directTarget)];
    printThroughput(`HTTP throughput, ${CONNECTIONS} connections, ${SECONDS} s (autocannon)`, [
      { what: 'requests per second', value: tGateway.rps, baseline: tDirect.rps, unit: 'req/s' },
      { what: 'mean latency under load', value: tGateway.mean, baseline: tDirect.mean, unit: 'ms' },
      { what: 'latency p99 under load', value: tGateway.p99, baseline: tDirect.p99, unit: 'ms' },
    ]);
    if (tGateway.errors || tDirect.errors) console.log(`errors: through the gateway ${tGateway.errors}, direct ${tDirect.errors}`);

    // PostgreSQL: the Secret's public URI against the pod IP, same credentials.
    const data = await waitFor(
      'the public URI in the connection Secret',
      async () => {
        const s = secretData(await core.readNamespacedSecret({ name: 'db-connection', namespace }));
        return s.publicUri ? s : undefined;
      },
      { timeoutMs: 30_000 },
    );
    const publicUri = data.publicUri!;
    const directUri = `postgresql://${encodeURIComponent(data.username!)}:${encodeURIComponent(data.password!)}@${await podIp('lattice.dev/postgres-instance=db')}:5432/${data.dbname}`;
    const initDir = await mkdtemp(path.join(os.tmpdir(), 'lattice-pgbench-'));
    await runPgbench(['-i', '-s', '1', '-q', directUri], initDir).finally(() => rm(initDir, { recursive: true, force: true }));
    const pgGateway = await pgbench(publicUri);
    const pgDirect = await pgbench(directUri);
    report(`PostgreSQL transaction latency, pgbench -S, 4 clients, ${SECONDS} s`, 'direct to the pod', [
      { what: 'SELECT through the public TCP port (tunnel)', samples: pgGateway.latencies, baseline: pgDirect.latencies },
    ]);
    printThroughput('PostgreSQL throughput (pgbench -S, 4 clients)', [{ what: 'transactions per second', value: pgGateway.tps, baseline: pgDirect.tps, unit: 'tps' }]);
  } finally {
    await operator.stop();
    await stopAgent(agent);
    await removeSuiteLeftovers({ namespaces: [namespace], gatewayNamespace, agents: [agent] });
  }
}

await main();
