// The gateway's certificate authority. It signs two kinds of certificate:
//  - node client certificates, from the CSR an agent sends with its join token (CN = node name);
//  - the gateway's own gRPC serving certificate.
// The CA lives in a Secret so that every operator replica, and a restarted one, signs with the
// same key; agents pin it at join time.
// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const EC_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 60 * 60 * 1000;
/** The organisation in every node certificate's subject; the gateway accepts no other. */
export const NODE_ORGANIZATION = 'lattice:providers';

export interface CertificateAuthority {
  certificatePem: string;
  privateKeyPem: string;
}

export interface IssuedCertificate {
  certificatePem: string;
  serialNumber: string;
  notAfter: Date;
}

export async function generateKeyPair(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(EC_ALGORITHM, true, ['sign', 'verify']);
}

export async function privateKeyToPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

async function privateKeyFromPem(pem: string): Promise<CryptoKey> {
  const der = x509.PemConverter.decodeFirst(pem);
  return webcrypto.subtle.importKey('pkcs8', der, EC_ALGORITHM, false, ['sign']);
}

function randomSerial(): string {
  // 16 random bytes with the top bit clear: a positive serial, as RFC 5280 asks.
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = bytes[0]! & 0x7f;
  return Buffer.from(bytes).toString('hex');
}

export async function createCertificateAuthority(commonName: string, validDays = 3650): Promise<CertificateAuthority> {
  const keys = await generateKeyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=${commonName}`,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + validDays * DAY_MS),
    keys,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certificatePem: cert.toString('pem'), privateKeyPem: await privateKeyToPem(keys.privateKey) };
}

/** SHA-256 of the CA certificate's DER, hex: what a join token pins. */
export async function certificateFingerprint(certificatePem: string): Promise<string> {
  const cert = new x509.X509Certificate(certificatePem);
  return Buffer.from(await cert.getThumbprint('SHA-256')).toString('hex');
}

export class NodeCsrError extends Error {}

/**
 * Signs an agent's certificate request as a client certificate for `nodeName`. The CSR's own
 * subject is ignored: the gateway decides the identity, the agent only proves it holds the key.
 */
export async function signNodeCertificate(
  ca: CertificateAuthority,
  csrPem: string,
  nodeName: string,
  validMs = 30 * DAY_MS,
): Promise<IssuedCertificate> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem);
  } catch {
    throw new NodeCsrError('the certificate request is not a PEM-encoded PKCS#10 request');
  }
  if (!(await csr.verify())) {
    throw new NodeCsrError('the certificate request is not signed by the key it carries');
  }
  return issue(ca, {
    subject: `CN=${nodeName}, O=${NODE_ORGANIZATION}`,
    publicKey: csr.publicKey,
    validDays: validMs / DAY_MS,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth], false),
    ],
  });
}

/** A serving certificate for the gateway's gRPC endpoint, valid for the given DNS names and IPs. */
export async function issueServingCertificate(
  ca: CertificateAuthority,
  hosts: string[],
  validDays = 365,
): Promise<IssuedCertificate & { privateKeyPem: string }> {
  const keys = await generateKeyPair();
  const isIp = (h: string) => /^[\d.]+$/.test(h) || h.includes(':');
  const issued = await issue(ca, {
    subject: `CN=lattice-gateway`,
    publicKey: keys.publicKey,
    validDays,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension(hosts.map((h) => ({ type: isIp(h) ? 'ip' : 'dns', value: h }))),
    ],
  });
  return { ...issued, privateKeyPem: await privateKeyToPem(keys.privateKey) };
}

async function issue(
  ca: CertificateAuthority,
  params: { subject: string; publicKey: x509.PublicKeyType; validDays: number; extensions: x509.Extension[] },
): Promise<IssuedCertificate> {
  const caCert = new x509.X509Certificate(ca.certificatePem);
  const serialNumber = randomSerial();
  const notAfter = new Date(Date.now() + params.validDays * DAY_MS);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber,
    subject: params.subject,
    issuer: caCert.subject,
    // Backdated for clocks a little behind, by at most a tenth of its life (renewal counts from it).
    notBefore: new Date(Date.now() - Math.min(60_000, (params.validDays * DAY_MS) / 10)),
    notAfter,
    publicKey: params.publicKey,
    signingKey: await privateKeyFromPem(ca.privateKeyPem),
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [...params.extensions, await x509.AuthorityKeyIdentifierExtension.create(caCert)],
  });
  return { certificatePem: cert.toString('pem'), serialNumber, notAfter };
}
