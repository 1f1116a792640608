#!/usr/bin/env node
// lattice: the cluster operator's command line for provider nodes.
//
//   lattice token create [--ttl 1h] [--uses 1] [--description TEXT]   a join token for a provider
//   lattice token list                                                the tokens, never their secrets
//   lattice token revoke ID                                           refuse a token from now on
//   lattice node revoke NAME                                          refuse a node from now on
//   lattice build [NAMESPACE/]WORKLOAD                                 build the newest commit of its ref
//
// It acts with the caller's kubeconfig (KUBECONFIG or --kubeconfig), so RBAC decides.
import * as k8s from '@kubernetes/client-node';
import { GROUP, VERSION } from '@lattice/crds';
import { Command, InvalidArgumentError } from 'commander';
import { REBUILD_ANNOTATION } from './build/job.js';
import { loadOrCreateCertificateAuthority } from './gateway/ca-store.js';
import { JoinTokens, parseJoinToken } from './gateway/join-tokens.js';
import { revokeNode } from './gateway/node-identities.js';
import { certificateFingerprint } from './gateway/pki.js';
import { isNotFound } from './kube/errors.js';

const DURATION = /^(\d+)(s|m|h|d)$/;

function seconds(value: string): number {
  const m = DURATION.exec(value);
  if (!m) throw new InvalidArgumentError('expected a duration like 30m, 12h or 7d');
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of at least 1');
  return n;
}

function kubeConfig(path?: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kc;
}

const program = new Command('lattice')
  .description('Manage Lattice provider nodes')
  .option('--kubeconfig <file>', 'kubeconfig to use (default: $KUBECONFIG, then ~/.kube/config)')
  .option('-n, --namespace <ns>', 'namespace of the Lattice gateway', 'lattice-system');

const token = program.command('token').description('join tokens for providers');
token
  .command('create')
  .description('create a join token; a provider joins with: lattice-agent join --token TOKEN')
  .option('--ttl <duration>', 'how long the token is valid', seconds, 3600)
  .option('--uses <n>', 'how many providers may join with it', positive, 1)
  .option('--description <text>', 'a note kept with the token')
  .action(async (opts: { ttl: number; uses: number; description?: string }) => {
    const { kubeconfig, namespace } = program.opts<{ kubeconfig?: string; namespace: string }>();
    const core = kubeConfig(kubeconfig).makeApiClient(k8s.CoreV1Api);
    const ca = await loadOrCreateCertificateAuthority(core, namespace);
    const created = await new JoinTokens(core, namespace).create({
      caFingerprint: await certificateFingerprint(ca.certificatePem),
      ttlSeconds: opts.ttl,
      usageLimit: opts.uses,
      description: opts.description,
    });
    console.log(created.token);
    console.error(`valid until ${created.expiration.toISOString()} for ${created.usageLimit} join(s)`);
  });

token
  .command('list')
  .description('list the join tokens (their ids, not their secrets): expiry, uses and description')
  .action(async () => {
    const { kubeconfig, namespace } = program.opts<{ kubeconfig?: string; namespace: string }>();
    const tokens = await new JoinTokens(kubeConfig(kubeconfig).makeApiClient(k8s.CoreV1Api), namespace).list();
    const now = new Date();
    const rows = tokens.map((t) => {
      const state = new Date(t.expiration) <= now ? 'expired' : t.uses >= t.usageLimit ? 'used up' : 'valid';
      return [t.id, state, t.expiration, `${t.uses}/${t.usageLimit}`, t.description ?? ''];
    });
    const table = [['ID', 'STATE', 'EXPIRES', 'USES', 'DESCRIPTION'], ...rows];
    const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
    for (const row of table) console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join('   ').trimEnd());
  });
token
  .command('revoke <id>')
  .description('refuse a join token from now on (the ID that `lattice token list` shows, or the whole token)')
  .action(async (id: string) => {
    const { kubeconfig, namespace } = program.opts<{ kubeconfig?: string; namespace: string }>();
    const tokenId = parseJoinToken(id)?.id ?? id;
    if (!(await new JoinTokens(kubeConfig(kubeconfig).makeApiClient(k8s.CoreV1Api), namespace).revoke(tokenId))) {
      console.error(`lattice: no join token has the id "${tokenId}"`);
      process.exitCode = 1;
      return;
    }
    console.log(`join token "${tokenId}" revoked`);
  });

const node = program.command('node').description('provider nodes');
node
  .command('revoke <name>')
  .description("refuse a node's certificate from now on, remove it from the cluster, and keep its name from being joined again")
  .action(async (name: string) => {
    const { kubeconfig, namespace } = program.opts<{ kubeconfig?: string; namespace: string }>();
    const core = kubeConfig(kubeconfig).makeApiClient(k8s.CoreV1Api);
    const revoked = await revokeNode(core, namespace, name);
    await core.deleteNode({ name }).catch((err) => {
      if (!isNotFound(err)) throw err;
    });
    if (!revoked) {
      console.error(`lattice: no joined node is called "${name}" (or it was revoked already)`);
      process.exitCode = 1;
      return;
    }
    console.log(`node "${name}" revoked`);
  });

program
  .command('build <workload>')
  .description('build a Workload from source again, from the newest commit of its ref ([NAMESPACE/]NAME; default namespace: the kubeconfig context\'s)')
  .action(async (workload: string) => {
    const kc = kubeConfig(program.opts<{ kubeconfig?: string }>().kubeconfig);
    const [namespace, name] = workload.includes('/') ? workload.split('/', 2) : [kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default', workload];
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    // A new value of the annotation is a new build request: the controller starts a build for it.
    const body = { metadata: { annotations: { [REBUILD_ANNOTATION]: new Date().toISOString() } } };
    try {
      await custom.patchNamespacedCustomObject(
        { group: GROUP, version: VERSION, plural: 'workloads', namespace: namespace!, name: name!, body },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
    } catch (err) {
      if (!isNotFound(err)) throw err;
      console.error(`lattice: no Workload "${name}" in namespace "${namespace}"`);
      process.exitCode = 1;
      return;
    }
    console.log(`workload "${namespace}/${name}": build requested; follow it with: kubectl get workload ${name} -n ${namespace} -w`);
  });

program.parseAsync().catch((err: Error) => {
  console.error(`lattice: ${err.message}`);
  process.exit(1);
});
