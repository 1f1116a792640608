// The kubelet nodes beside the embedded control plane (hack/kubelet-nodes, run as
// `hack/cluster nodes ...`): real kubelets, each with its own containerd in network and mount
// namespaces of its own, on the cluster network 198.18.128.0/24. A suite that needs them calls
// ensureKubeletNodes() in its beforeAll: it starts what is missing and is quick when they run, and
// removeKubeletNodes() in its afterAll: untainted real nodes would take other suites' pods.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot, stateDir } from './cluster.js';

export const KUBELET_NODE_LABEL = 'lattice.dev/kubelet-node';
/** The host's address on the cluster network: the apiserver (:6443) and the registry (:5001) for the nodes. */
export const CLUSTER_ADDRESS = '198.18.128.1';
/** The nodes' pod ranges: node N has 10.244.N.0/24. */
export const POD_CIDR = '10.244.0.0/16';

/** The name of kubelet node N (1-based). */
export const kubeletNodeName = (n: number): string => `lattice-node-${n}`;

/** Kubelet nodes join the embedded control plane only, not a cluster of CLUSTER=existing. */
export function kubeletNodesPossible(): boolean {
  try {
    return readFileSync(path.join(stateDir, 'cluster-kind'), 'utf8').trim() === 'local';
  } catch {
    return false;
  }
}

/**
 * Makes sure `count` kubelet nodes run and are Ready (`hack/cluster nodes up COUNT`); rejects with
 * the script's output when it fails. On a clean machine this installs containerd, runc and the CNI
 * plugins and pushes the pause image first (a minute or two); when they run, it takes a second or two.
 */
export function ensureKubeletNodes(count = 2): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile(
      path.join(repoRoot, 'hack/cluster'),
      ['nodes', 'up', String(count)],
      { cwd: repoRoot, timeout: 540_000, maxBuffer: 16 * 1024 * 1024, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`hack/cluster nodes up ${count} failed (${err.code ?? err.signal}):\n${stderr}${stdout}`));
        else resolve(Array.from({ length: count }, (_, i) => kubeletNodeName(i + 1)));
      },
    );
  });
}

/** Removes the kubelet nodes (`hack/cluster nodes down`): their processes, namespaces and Node objects. */
export function removeKubeletNodes(): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(path.join(repoRoot, 'hack/cluster'), ['nodes', 'down'], { cwd: repoRoot, timeout: 120_000, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`hack/cluster nodes down failed (${err.code ?? err.signal}):\n${stderr}${stdout}`));
      else resolve();
    });
  });
}
