// The provider's node identity: a private key made here (it never leaves this machine), the
// certificate the gateway signed for it, and the gateway CA pinned at join time. All of it lives
// in the state directory, readable by its owner only.
// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as x509 from '@peculiar/x509';
import { z } from 'zod';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;

export const NodeRecordSchema = z.object({ nodeName: z.string().min(1), gateway: z.string().min(1) });
export type NodeRecord = z.infer<typeof NodeRecordSchema>;

export interface Identity extends NodeRecord {
  keyPem: string;
  certificatePem: string;
  caPem: string;
}

const files = (stateDir: string) => ({
  key: path.join(stateDir, 'node.key'),
  cert: path.join(stateDir, 'node.crt'),
  ca: path.join(stateDir, 'ca.crt'),
  record: path.join(stateDir, 'node.json'),
});

export async function ensureStateDir(stateDir: string): Promise<void> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  await chmod(stateDir, 0o700);
}

/** A new key pair and a certificate request for it; the subject is only a hint to the gateway. */
export async function createKeyAndCsr(nodeName: string): Promise<{ keyPem: string; csrPem: string }> {
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${nodeName}`,
    keys: keys as unknown as Parameters<typeof x509.Pkcs10CertificateRequestGenerator.create>[0]['keys'],
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
  });
  const der = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { keyPem: x509.PemConverter.encode(der, 'PRIVATE KEY'), csrPem: csr.toString('pem') };
}

export async function saveIdentity(stateDir: string, identity: Identity): Promise<void> {
  await ensureStateDir(stateDir);
  const f = files(stateDir);
  await writeFile(f.key, identity.keyPem, { mode: 0o600 });
  await writeFile(f.cert, identity.certificatePem, { mode: 0o600 });
  await writeFile(f.ca, identity.caPem, { mode: 0o600 });
  const record: NodeRecord = { nodeName: identity.nodeName, gateway: identity.gateway };
  await writeFile(f.record, JSON.stringify(record, null, 2) + '\n', { mode: 0o600 });
}

export async function loadIdentity(stateDir: string): Promise<Identity> {
  const f = files(stateDir);
  let record: NodeRecord;
  try {
    record = NodeRecordSchema.parse(JSON.parse(await readFile(f.record, 'utf8')));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`this machine has not joined a cluster yet (no ${f.record}): run lattice-agent join first`, { cause: err });
    }
    throw new Error(`${f.record} is damaged (${(err as Error).message}): join again`, { cause: err });
  }
  const [keyPem, certificatePem, caPem] = await Promise.all([readFile(f.key, 'utf8'), readFile(f.cert, 'utf8'), readFile(f.ca, 'utf8')]);
  return { ...record, keyPem, certificatePem, caPem };
}

/** SHA-256 of a certificate's DER, hex: compared with the fingerprint pinned in the join token. */
export async function fingerprint(certificatePem: string): Promise<string> {
  const cert = new x509.X509Certificate(certificatePem);
  return Buffer.from(await cert.getThumbprint('SHA-256')).toString('hex');
}
