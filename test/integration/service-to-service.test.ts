// Service to service across providers: a Node.js Workload on provider A reads rows from a
// PostgresInstance placed on provider B, by the `host` of its connection Secret
// (<instance>.<namespace>.svc, port 5432), as an application in any cluster would. The pods are
// on two agents, each on a provider machine of its own behind NAT with its own Docker engine
// (hack/machines); the connection goes pod -> agent A's listener -> gateway -> agent B's tunnel ->
// PostgreSQL, on the agents' mutual-TLS gRPC streams only.
//
// Each Service has its own address on the namespace network: two Workloads' Services on one port
// (`web` and `api`, both on 80) each reach their own pods from a client pod, by name.
//
// The application speaks the PostgreSQL protocol itself (SCRAM-SHA-256, simple query): the
// node:18 image has no npm packages, and this keeps the test free of anything but the real path.
import path from 'node:path';
import { mkdir, writeFile } from 'node:fs/promises';
import * as k8s from '@kubernetes/client-node';
import { adminKubeConfig, kubectl, stateDir, uniqueName, waitFor } from '../support/cluster.js';
import { OperatorProcess, createJoinToken, freePort } from '../support/operator.js';
import { PUBLIC_ADDRESS, createMachine, ensureInternet, removeAllMachines } from '../support/machines.js';
import { engineOf, joinedAgent, runAgent, stopAgent, BUSYBOX, REGISTRY, type AgentProcess, removeSuiteLeftovers } from '../support/providers.js';

const kc = adminKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const namespace = uniqueName('svc');
/** Another tenant's namespace, with a pod on the same provider as the reader. */
const otherNamespace = `${namespace}-x`;
const gatewayNamespace = `${namespace}-gw`;
const RUN_LABEL = 'provider.lattice.dev/svc-run';
const apps: AgentProcess = { name: `${namespace}-a`, stateDir: '', output: [] };
const databases: AgentProcess = { name: `${namespace}-b`, stateDir: '', output: [] };
let operator: OperatorProcess;

// Connects to $DB_HOST:$DB_PORT as $DB_USER, runs $QUERY every second and prints each result as
// one JSON line (or the error), so the test reads what the application read from its log.
const CLIENT = String.raw`
const net = require('net'), crypto = require('crypto');
const { DB_HOST: host, DB_PORT: port, DB_USER: user, DB_PASSWORD: password, DB_NAME: database, QUERY: query } = process.env;
const msg = (type, body) => { const b = Buffer.alloc(5); b.write(type); b.writeInt32BE(body.length + 4, 1); return Buffer.concat([b, body]); };
const cstr = (s) => Buffer.from(s + '\0');
const hmac = (key, data) => crypto.createHmac('sha256', key).update(data).digest();
function queryOnce() {
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(port), host);
    let buf = Buffer.alloc(0), nonce, clientFirstBare, serverSignature, rows = [];
    sock.on('error', reject);
    sock.on('connect', () => {
      const params = Buffer.concat([cstr('user'), cstr(user), cstr('database'), cstr(database), Buffer.from([0])]);
      const body = Buffer.alloc(4); body.writeInt32BE(196608);
      const all = Buffer.concat([body, params]); const len = Buffer.alloc(4); len.writeInt32BE(all.length + 4);
      sock.write(Buffer.concat([len, all]));
    });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 5 && buf.length >= 1 + buf.readInt32BE(1)) {
        const type = String.fromCharCode(buf[0]), body = buf.subarray(5, 1 + buf.readInt32BE(1));
        buf = buf.subarray(1 + buf.readInt32BE(1));
        if (type === 'R') {
          const code = body.readInt32BE(0);
          if (code === 10) {
            nonce = crypto.randomBytes(18).toString('base64');
            clientFirstBare = 'n=,r=' + nonce;
            const first = Buffer.from('n,,' + clientFirstBare), len = Buffer.alloc(4); len.writeInt32BE(first.length);
            sock.write(msg('p', Buffer.concat([cstr('SCRAM-SHA-256'), len, first])));
          } else if (code === 11) {
            const serverFirst = body.subarray(4).toString();
            const attrs = Object.fromEntries(serverFirst.split(',').map((kv) => [kv[0], kv.slice(2)]));
            const salted = crypto.pbkdf2Sync(password, Buffer.from(attrs.s, 'base64'), Number(attrs.i), 32, 'sha256');
            const clientKey = hmac(salted, 'Client Key'), storedKey = crypto.createHash('sha256').update(clientKey).digest();
            const finalNoProof = 'c=biws,r=' + attrs.r;
            const authMessage = clientFirstBare + ',' + serverFirst + ',' + finalNoProof;
            const signature = hmac(storedKey, authMessage);
            const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i])).toString('base64');
            serverSignature = hmac(hmac(salted, 'Server Key'), authMessage).toString('base64');
            sock.write(msg('p', Buffer.from(finalNoProof + ',p=' + proof)));
          } else if (code === 12) {
            if (body.subarray(4).toString() !== 'v=' + serverSignature) reject(new Error('the server did not prove it knows the password'));
          } else if (code !== 0) reject(new Error('unsupported authentication ' + code));
        } else if (type === 'Z') {
          if (rows === null) { sock.end(msg('X', Buffer.alloc(0))); }
          else if (!sock.asked) { sock.asked = true; sock.write(msg('Q', cstr(query))); }
          else { resolve(rows); rows = null; sock.end(msg('X', Buffer.alloc(0))); }
        } else if (type === 'D') {
          const n = body.readInt16BE(0); let off = 2; const row = [];
          for (let i = 0; i < n; i++) { const l = body.readInt32BE(off); off += 4; row.push(l < 0 ? null : body.subarray(off, off + l).toString()); off += Math.max(l, 0); }
          rows.push(row);
        } else if (type === 'E') reject(new Error(body.toString().replace(/\0/g, ' ').trim()));
      }
    });
  });
}
setInterval(() => queryOnce().then((rows) => console.log(JSON.stringify({ rows })), (err) => console.log(JSON.stringify({ error: err.message }))), 1000);
process.on('SIGTERM', () => process.exit(0));
`;

const secretEnv = (name: string, key: string) => ({ name, valueFrom: { secretKeyRef: { name: 'db-connection', key } } });

async function apply(manifest: Record<string, unknown>): Promise<void> {
  await kubectl(['apply', '--server-side', '-f', '-'], { input: JSON.stringify(manifest) });
}

async function nodeReady(name: string): Promise<boolean> {
  const node = await core.readNode({ name }).catch(() => undefined);
  const ready = node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  return !!ready && !node?.spec?.taints?.some((t) => t.key.startsWith('node.kubernetes.io/'));
}

beforeAll(async () => {
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await core.createNamespace({ body: { metadata: { name: gatewayNamespace } } });
  await core.createNamespace({ body: { metadata: { name: otherNamespace } } });
  const [grpcPort, kubeletPort] = [await freePort(), await freePort()];
  // The providers' machines, and the cluster's public address the gateway listens on for them.
  await ensureInternet();
  const machines = await Promise.all([createMachine(), createMachine()]);
  operator = OperatorProcess.start({
    identity: 'svc-operator',
    namespace: gatewayNamespace,
    watchNamespace: namespace,
    grpcHost: PUBLIC_ADDRESS,
    grpcPort,
    kubeletPort,
    // PostgreSQL only on provider B.
    extra: ['--postgres-provider-selector', `${RUN_LABEL}=${namespace}-b`],
  });
  await operator.gatewayListening();
  const token = await createJoinToken(gatewayNamespace, 2);
  for (const [i, [agent, role]] of ([[apps, 'a'], [databases, 'b']] as const).entries()) {
    const offer = { cpu: '2', memory: '2Gi', maxPods: 10, labels: { [RUN_LABEL]: `${namespace}-${role}` } };
    Object.assign(agent, await joinedAgent(agent.name, `${PUBLIC_ADDRESS}:${grpcPort}`, token, offer, { machine: machines[i] }));
    runAgent(agent);
  }
  for (const agent of [apps, databases]) await waitFor(`node ${agent.name} Ready and schedulable`, () => nodeReady(agent.name), { timeoutMs: 60_000 });
}, 180_000);

afterAll(async () => {
  const file = path.join(stateDir, 'logs', 'service-to-service.log');
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, [`--- operator\n${operator?.output.join('\n')}`, ...[apps, databases].map((a) => `--- agent ${a.name}\n${a.output.join('')}`)].join('\n')).catch(() => undefined);
  await operator?.stop('SIGTERM');
  await Promise.all([apps, databases].map((a) => stopAgent(a)));
  await removeSuiteLeftovers({ namespaces: [namespace, otherNamespace], gatewayNamespace, agents: [apps, databases] });
  await removeAllMachines();
}, 120_000);

test('a Node.js Workload on provider A reads rows from a PostgresInstance on provider B by its Service name', async () => {
  await apply({
    apiVersion: 'lattice.dev/v1alpha1',
    kind: 'PostgresInstance',
    metadata: { name: 'db', namespace },
    spec: { version: '15', database: 'app', owner: 'app', storage: { size: '1Gi' }, resources: { cpu: '500m', memory: '256Mi' } },
  });
  await kubectl(['wait', '--for=condition=Ready', '--timeout=150s', '-n', namespace, 'postgresinstance/db']);
  const db = await core.readNamespacedPod({ name: 'db-0', namespace });
  expect(db.spec?.nodeName).toBe(databases.name);
  // Rows written on the server itself (kubectl exec, as the postgres superuser over the local socket).
  await kubectl([
    'exec', '-n', namespace, 'db-0', '-c', 'postgres', '--',
    'psql', '-v', 'ON_ERROR_STOP=1', '-d', 'app', '-c',
    "CREATE TABLE planets (name text); INSERT INTO planets VALUES ('mercury'), ('venus'), ('earth'); GRANT SELECT ON planets TO app;",
  ]);

  await apply({
    apiVersion: 'lattice.dev/v1alpha1',
    kind: 'Workload',
    metadata: { name: 'reader', namespace },
    spec: {
      image: `${REGISTRY}/lattice/node:18`,
      command: ['node', '-e', CLIENT],
      env: [
        secretEnv('DB_HOST', 'host'),
        secretEnv('DB_PORT', 'port'),
        secretEnv('DB_USER', 'username'),
        secretEnv('DB_PASSWORD', 'password'),
        secretEnv('DB_NAME', 'dbname'),
        { name: 'QUERY', value: 'SELECT name FROM planets ORDER BY name' },
      ],
      resources: { cpu: '100m', memory: '64Mi' },
      placement: { providerSelector: { [RUN_LABEL]: `${namespace}-a` } },
    },
  });
  await kubectl(['wait', '--for=condition=Ready', '--timeout=120s', '-n', namespace, 'workload/reader']);
  const reader = (await core.listNamespacedPod({ namespace, labelSelector: 'lattice.dev/workload=reader' })).items[0]!;
  expect(reader.spec?.nodeName).toBe(apps.name);

  // What the application printed: the rows, read through db.<namespace>.svc:5432.
  const logs = await waitFor(
    'the reader to print the rows',
    async () => {
      const out = await kubectl(['logs', '-n', namespace, reader.metadata!.name!, '--tail', '5']);
      if (out.includes('"rows"')) return out;
      throw new Error(out.trim().split('\n').pop() || 'no output yet');
    },
    { timeoutMs: 60_000, intervalMs: 1000 },
  );
  const last = JSON.parse(logs.trim().split('\n').filter((l) => l.includes('"rows"')).pop()!);
  expect(last).toEqual({ rows: [['earth'], ['mercury'], ['venus']] });

  // The bytes went through the gateway: it counted the relayed connections.
  const text = await (await fetch(operator.url('/metrics'))).text();
  expect(text).toMatch(new RegExp(`lattice_gateway_service_connections_total\\{namespace="${namespace}",service="db",outcome="relayed"\\} [1-9]`));
});

test("the pod's /etc/hosts names the namespace's Services in every form Kubernetes gives them", async () => {
  const reader = (await core.listNamespacedPod({ namespace, labelSelector: 'lattice.dev/workload=reader' })).items[0]!;
  const hosts = await kubectl(['exec', '-n', namespace, reader.metadata!.name!, '--', 'cat', '/etc/hosts']);
  expect(hosts).toMatch(new RegExp(`\\sdb db\\.${namespace} db\\.${namespace}\\.svc db\\.${namespace}\\.svc\\.cluster\\.local`));
  expect(hosts).toContain(reader.status!.podIP!);
});

/** Run in a pod: connects to host:port and prints OPEN, the error code, or TIMEOUT. */
const probe = (host: string, port: number, timeoutMs = 15_000) =>
  `require('net').connect(${port}, ${JSON.stringify(host)}).on('connect', () => { console.log('OPEN'); process.exit(0); }).on('error', (e) => { console.log(e.code); process.exit(0); }); setTimeout(() => { console.log('TIMEOUT'); process.exit(0); }, ${timeoutMs});`;

test("a pod of another namespace on the same provider can neither name nor reach this namespace's Services", async () => {
  const reader = (await core.listNamespacedPod({ namespace, labelSelector: 'lattice.dev/workload=reader' })).items[0]!;
  // The reader's own namespace: its listener answers.
  expect((await kubectl(['exec', '-n', namespace, reader.metadata!.name!, '--', 'node', '-e', probe('db', 5432)])).trim()).toBe('OPEN');
  // Where that listener is: the Service's own address on this namespace's network on provider A.
  const address = serviceAddresses(await kubectl(['exec', '-n', namespace, reader.metadata!.name!, '--', 'cat', '/etc/hosts'])).get('db');
  expect(address).toMatch(/^\d+\.\d+\.\d+\.\d+$/);

  // Another tenant's pod, bound to the same provider.
  await core.createNamespacedPod({
    namespace: otherNamespace,
    body: {
      metadata: { name: 'intruder' },
      spec: {
        nodeName: apps.name,
        tolerations: [{ operator: 'Exists' }],
        containers: [{ name: 'app', image: `${REGISTRY}/lattice/node:18`, command: ['sleep', '3600'], resources: { limits: { cpu: '100m', memory: '64Mi' } } }],
      },
    },
  });
  await kubectl(['wait', '--for=condition=Ready', '--timeout=90s', '-n', otherNamespace, 'pod/intruder']);
  // A name no DNS answers here may take the resolver's whole timeout: 5 s is enough to tell.
  const attempt = async (host: string, timeoutMs?: number) => (await kubectl(['exec', '-n', otherNamespace, 'intruder', '--', 'node', '-e', probe(host, 5432, timeoutMs)])).trim();
  // The name leads nowhere (no DNS answers it here: not found, or no answer at all).
  expect(await attempt(`db.${namespace}.svc`, 5000)).toMatch(/ENOTFOUND|EAI_AGAIN|TIMEOUT/);
  expect(await attempt(address!)).toMatch(/ECONNREFUSED|TIMEOUT/);
});

/** The address /etc/hosts gives each name (its first name on the line). */
function serviceAddresses(hosts: string): Map<string, string> {
  return new Map(hosts.split('\n').flatMap((line) => {
    const [address, name] = line.trim().split(/\s+/);
    return address && name && !address.startsWith('#') ? [[name, address] as [string, string]] : [];
  }));
}

/** A Workload on `provider` whose HTTP port 80 answers "hello from <name>". */
const greeter = (name: string, provider: AgentProcess) => ({
  apiVersion: 'lattice.dev/v1alpha1',
  kind: 'Workload',
  metadata: { name, namespace },
  spec: {
    image: BUSYBOX,
    // httpd as PID 1 would ignore SIGTERM: the shell ends at once on it, taking httpd along.
    command: ['sh', '-c', `mkdir -p /tmp/www && echo "hello from ${name}" > /tmp/www/index.html && httpd -f -p 80 -h /tmp/www & trap 'exit 0' TERM; wait`],
    ports: [{ name: 'http', port: 80 }],
    resources: { cpu: '50m', memory: '32Mi' },
    placement: { providerSelector: { [RUN_LABEL]: provider.name } },
  },
});

test('two Services of a namespace on the same port each reach their own pods, and a deleted one stops answering', async () => {
  // One on each provider: the client's agent relays to both through the gateway.
  await apply(greeter('web', databases));
  await apply(greeter('api', apps));
  // A client pod on provider A, as a developer would start one to try the Services.
  await core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name: 'client' },
      spec: {
        nodeName: apps.name,
        tolerations: [{ operator: 'Exists' }],
        terminationGracePeriodSeconds: 0,
        containers: [{ name: 'sh', image: BUSYBOX, command: ['sleep', '3600'], resources: { limits: { cpu: '50m', memory: '32Mi' } } }],
      },
    },
  });
  await kubectl(['wait', '--for=condition=Ready', '--timeout=90s', '-n', namespace, 'workload/web', 'workload/api', 'pod/client']);
  // (This busybox's wget crashes with its own -T: the timeout applet bounds it.)
  const get = async (url: string) => (await kubectl(['exec', '-n', namespace, 'client', '--', 'sh', '-c', `timeout 5 wget -qO- ${url} 2>&1; true`])).trim();
  const answers = (url: string, expected: string) =>
    waitFor(`${url} to answer "${expected}"`, async () => {
      const body = await get(url);
      if (body === expected) return true;
      throw new Error(body || 'no answer');
    }, { timeoutMs: 30_000, intervalMs: 500 });

  await answers('http://web/', 'hello from web');
  await answers('http://api/', 'hello from api');
  await answers(`http://api.${namespace}.svc.cluster.local/`, 'hello from api');
  // Each name at an address of its own on the namespace network, none of them its gateway's.
  const hosts = serviceAddresses(await kubectl(['exec', '-n', namespace, 'client', '--', 'cat', '/etc/hosts']));
  const [web, api] = [hosts.get('web'), hosts.get('api')];
  expect(web).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  expect(api).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  expect(new Set([web, api, hosts.get('db')]).size).toBe(3);
  const [network] = await engineOf(apps).listNetworks({ filters: { label: [`lattice.dev/namespace=${namespace}`] } });
  expect([web, api]).not.toContain((await engineOf(apps).getNetwork(network!.Id).inspect()).IPAM?.Config?.[0]?.Gateway);

  // api goes (its Workload, and with it its Service): its name leaves the client's /etc/hosts,
  // nothing answers at its name or its former address any more, and web keeps answering.
  await kubectl(['delete', '-n', namespace, 'workload/api', '--wait=false']);
  await waitFor('api to be gone from the client\'s /etc/hosts', async () => {
    const names = serviceAddresses(await kubectl(['exec', '-n', namespace, 'client', '--', 'cat', '/etc/hosts']));
    if (!names.has('api')) return true;
    throw new Error(`api still at ${names.get('api')}`);
  }, { timeoutMs: 30_000, intervalMs: 500 });
  // No name: busybox says so at once, or Docker's DNS, asked next, finds no answer in time.
  expect(await get('http://api/')).toMatch(/bad address|Terminated/);
  expect(await get(`http://${api}/`)).not.toContain('hello from api');
  expect(await get('http://web/')).toBe('hello from web');
});
