// The provider's node identity: a private key made here (it never leaves this machine), the
// certificate the gateway signed for it, and the gateway CA pinned at join time. All of it lives
// in the state directory, readable by its owner only.
// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
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

/** Writes the identity, each file whole or not at all (a renewal rewrites a working identity). */
export async function saveIdentity(stateDir: string, identity: Identity): Promise<void> {
  await ensureStateDir(stateDir);
  const f = files(stateDir);
  const record: NodeRecord = { nodeName: identity.nodeName, gateway: identity.gateway };
  const contents: [string, string][] = [
    [f.key, identity.keyPem],
    [f.cert, identity.certificatePem],
    [f.ca, identity.caPem],
    [f.record, JSON.stringify(record, null, 2) + '\n'],
  ];
  for (const [file, content] of contents) await writeFile(`${file}.new`, content, { mode: 0o600 });
  for (const [file] of contents) await rename(`${file}.new`, file);
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

/** When a certificate starts and stops being valid. */
export function certificateValidity(certificatePem: string): { notBefore: Date; notAfter: Date } {
  const cert = new x509.X509Certificate(certificatePem);
  return { notBefore: cert.notBefore, notAfter: cert.notAfter };
}

/** SHA-256 of a certificate's DER, hex: compared with the fingerprint pinned in the join token. */
export async function fingerprint(certificatePem: string): Promise<string> {
  const cert = new x509.X509Certificate(certificatePem);
  return Buffer.from(await cert.getThumbprint('SHA-256')).toString('hex');
}
