// Keeps the gateway CA in a Secret: created by the first gateway that starts, read by the others.
import type * as k8s from '@kubernetes/client-node';
import { isAlreadyExists, isNotFound } from '../kube/errors.js';
import { createCertificateAuthority, type CertificateAuthority } from './pki.js';
import { textOf } from '../kube/secret-data.js';

export const CA_SECRET_NAME = 'lattice-gateway-ca';

export async function loadOrCreateCertificateAuthority(core: k8s.CoreV1Api, namespace: string): Promise<CertificateAuthority> {
  const existing = await read(core, namespace);
  if (existing) return existing;
  const ca = await createCertificateAuthority('lattice-gateway-ca');
  try {
    await core.createNamespacedSecret({
      namespace,
      body: {
        metadata: { name: CA_SECRET_NAME, labels: { 'app.kubernetes.io/part-of': 'lattice' } },
        type: 'kubernetes.io/tls',
        stringData: { 'tls.crt': ca.certificatePem, 'tls.key': ca.privateKeyPem },
      },
    });
    return ca;
  } catch (err) {
    // Another replica won the race: use its CA, never two.
    if (!isAlreadyExists(err)) throw err;
    const winner = await read(core, namespace);
    if (!winner) throw new Error(`Secret ${namespace}/${CA_SECRET_NAME} vanished while being created`, { cause: err });
    return winner;
  }
}

async function read(core: k8s.CoreV1Api, namespace: string): Promise<CertificateAuthority | undefined> {
  try {
    const secret = await core.readNamespacedSecret({ name: CA_SECRET_NAME, namespace });
    const crt = secret.data?.['tls.crt'];
    const key = secret.data?.['tls.key'];
    if (!crt || !key) throw new Error(`Secret ${namespace}/${CA_SECRET_NAME} lacks tls.crt or tls.key`);
    return { certificatePem: textOf(crt), privateKeyPem: textOf(key) };
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
