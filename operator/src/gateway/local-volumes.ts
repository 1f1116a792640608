// lattice-local volumes: persistent storage on the provider that runs the pod.
//
// A StorageClass with volumeBindingMode WaitForFirstConsumer lets the real kube-scheduler choose
// the node first (it writes volume.kubernetes.io/selected-node on the claim); this provisioner
// then creates a PersistentVolume with node affinity to that provider, so the claim's pods always
// return to the provider that holds the data. The agent backs it with a Docker named volume.
// A released volume with reclaim policy Delete is removed on its provider, then from the API.
import type * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { isAlreadyExists, isNotFound } from '../kube/errors.js';
import { informer, type Cache } from '../kube/informer.js';

export const LOCAL_STORAGE_CLASS = 'lattice-local';
export const LOCAL_PROVISIONER = 'lattice.dev/local';
const SELECTED_NODE = 'volume.kubernetes.io/selected-node';

export const localVolumeName = (pvName: string) => `lattice-pv-${pvName}`;

/** Sends a VolumeDelete to a node's agent if it is connected; false when it is not. */
export type VolumeDeleter = (nodeName: string, volumeName: string) => boolean;

export class LocalVolumeProvisioner {
  private readonly claims: Cache<k8s.V1PersistentVolumeClaim>;
  private readonly volumes: Cache<k8s.V1PersistentVolume>;

  constructor(
    kc: k8s.KubeConfig,
    private readonly core: k8s.CoreV1Api,
    private readonly storage: k8s.StorageV1Api,
    private readonly deleteOnNode: VolumeDeleter,
    private readonly log: Logger,
  ) {
    this.claims = informer(kc, '/api/v1/persistentvolumeclaims', () => core.listPersistentVolumeClaimForAllNamespaces(), log);
    this.volumes = informer(kc, '/api/v1/persistentvolumes', () => core.listPersistentVolume(), log);
    const onClaim = (claim: k8s.V1PersistentVolumeClaim) => void this.provision(claim).catch((err) => this.log.error({ err }, 'provisioning failed'));
    this.claims.on('add', onClaim);
    this.claims.on('update', onClaim);
    const onVolume = (pv: k8s.V1PersistentVolume) => this.reclaim(pv);
    this.volumes.on('add', onVolume);
    this.volumes.on('update', onVolume);
  }

  async start(): Promise<void> {
    await this.ensureStorageClass();
    await Promise.all([this.claims.start(), this.volumes.start()]);
  }

  async stop(): Promise<void> {
    await Promise.all([this.claims.stop(), this.volumes.stop()]);
  }

  private async ensureStorageClass(): Promise<void> {
    try {
      await this.storage.createStorageClass({
        body: {
          metadata: { name: LOCAL_STORAGE_CLASS, labels: { 'app.kubernetes.io/part-of': 'lattice' } },
          provisioner: LOCAL_PROVISIONER,
          volumeBindingMode: 'WaitForFirstConsumer',
          reclaimPolicy: 'Delete',
          allowVolumeExpansion: false,
        },
      });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }

  private async provision(claim: k8s.V1PersistentVolumeClaim): Promise<void> {
    const node = claim.metadata?.annotations?.[SELECTED_NODE];
    if (claim.spec?.storageClassName !== LOCAL_STORAGE_CLASS || claim.status?.phase !== 'Pending' || !node || claim.spec.volumeName) return;
    const name = `pvc-${claim.metadata!.uid}`;
    if (this.volumes.get(name)) return;
    try {
      await this.core.createPersistentVolume({
        body: {
          metadata: {
            name,
            labels: { 'app.kubernetes.io/part-of': 'lattice' },
            annotations: { 'pv.kubernetes.io/provisioned-by': LOCAL_PROVISIONER },
          },
          spec: {
            capacity: { storage: claim.spec.resources?.requests?.storage ?? '1Gi' },
            accessModes: claim.spec.accessModes ?? ['ReadWriteOnce'],
            persistentVolumeReclaimPolicy: 'Delete',
            storageClassName: LOCAL_STORAGE_CLASS,
            volumeMode: 'Filesystem',
            claimRef: { namespace: claim.metadata!.namespace, name: claim.metadata!.name, uid: claim.metadata!.uid },
            // The path is notional: the agent maps the volume to a Docker named volume.
            local: { path: `/var/lib/lattice/volumes/${name}` },
            nodeAffinity: {
              required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] },
            },
          },
        },
      });
      this.log.info({ claim: `${claim.metadata!.namespace}/${claim.metadata!.name}`, node, volume: name }, 'provisioned local volume');
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }

  static nodeOf(pv: k8s.V1PersistentVolume): string | undefined {
    return pv.spec?.nodeAffinity?.required?.nodeSelectorTerms?.[0]?.matchExpressions?.find((e) => e.key === 'kubernetes.io/hostname')?.values?.[0];
  }

  private reclaim(pv: k8s.V1PersistentVolume): void {
    if (pv.metadata?.annotations?.['pv.kubernetes.io/provisioned-by'] !== LOCAL_PROVISIONER) return;
    if (pv.status?.phase !== 'Released' || pv.spec?.persistentVolumeReclaimPolicy !== 'Delete') return;
    const node = LocalVolumeProvisioner.nodeOf(pv);
    if (node) this.deleteOnNode(node, localVolumeName(pv.metadata!.name!));
  }

  /** Released volumes of a node whose agent just connected: ask it again to delete them. */
  reclaimPending(nodeName: string): void {
    for (const pv of this.volumes.list()) {
      if (LocalVolumeProvisioner.nodeOf(pv) === nodeName) this.reclaim(pv);
    }
  }

  /** The agent removed the Docker volume: the PersistentVolume can go. */
  async volumeDeleted(nodeName: string, volumeName: string, error: string): Promise<void> {
    const pv = this.volumes.list().find((v) => localVolumeName(v.metadata!.name!) === volumeName);
    if (!pv || LocalVolumeProvisioner.nodeOf(pv) !== nodeName) return; // not this agent's volume
    if (error) {
      this.log.warn({ node: nodeName, volume: volumeName, error }, 'provider could not delete a volume');
      return;
    }
    if (pv.status?.phase !== 'Released') return;
    try {
      await this.core.deletePersistentVolume({ name: pv.metadata!.name! });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
