// The kubelet API's serving certificate, obtained the way a kubelet with serverTLSBootstrap gets
// its own: a CertificateSigningRequest for the kubernetes.io/kubelet-serving signer, which the
// kube-controller-manager signs with the cluster CA. The apiserver verifies kubelets against that
// CA (--kubelet-certificate-authority), so this works on any conformant cluster without a CA of
// our own. The gateway approves its own request: it holds the RBAC to (see config/rbac).
// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import { isIP } from 'node:net';
import * as k8s from '@kubernetes/client-node';
import * as x509 from '@peculiar/x509';
// pki.ts also gives @peculiar/x509 its crypto provider.
import { generateKeyPair, privateKeyToPem } from '../pki.js';

export const KUBELET_SERVING_SIGNER = 'kubernetes.io/kubelet-serving';

export interface ServingCertificate {
  certificatePem: string;
  privateKeyPem: string;
  notAfter: Date;
}

export interface ServingCertificateRequest {
  /** The node identity in the subject: CN=system:node:<nodeName>, O=system:nodes. */
  nodeName: string;
  /** Where the apiserver reaches us: IP addresses and DNS names for the subjectAltName. */
  hosts: string[];
  timeoutMs?: number;
}

/** Creates, approves and waits for a kubelet-serving CSR; deletes it once signed. */
export async function requestServingCertificate(
  kc: k8s.KubeConfig,
  { nodeName, hosts, timeoutMs = 60_000 }: ServingCertificateRequest,
): Promise<ServingCertificate> {
  if (hosts.length === 0) throw new Error('a kubelet serving certificate needs at least one IP address or DNS name');
  const keys = await generateKeyPair();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=system:node:${nodeName}, O=system:nodes`,
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [new x509.SubjectAlternativeNameExtension(hosts.map((h) => ({ type: isIP(h) ? 'ip' : 'dns', value: h })))],
  });

  const api = kc.makeApiClient(k8s.CertificatesV1Api);
  const created = await api.createCertificateSigningRequest({
    body: {
      apiVersion: 'certificates.k8s.io/v1',
      kind: 'CertificateSigningRequest',
      metadata: { generateName: 'lattice-kubelet-serving-', labels: { 'app.kubernetes.io/managed-by': 'lattice-gateway' } },
      spec: {
        request: Buffer.from(csr.toString('pem')).toString('base64'),
        signerName: KUBELET_SERVING_SIGNER,
        // No key encipherment: the signer accepts these two usages for a non-RSA key.
        usages: ['digital signature', 'server auth'],
      },
    },
  });
  const name = created.metadata!.name!;
  try {
    created.status = {
      conditions: [
        {
          type: 'Approved',
          status: 'True',
          reason: 'LatticeGatewayServingCertificate',
          message: `the Lattice gateway approved its own kubelet API serving certificate for ${hosts.join(', ')}`,
        },
      ],
    };
    await api.replaceCertificateSigningRequestApproval({ name, body: created });
    const certificatePem = await waitForCertificate(kc, name, timeoutMs);
    return {
      certificatePem,
      privateKeyPem: await privateKeyToPem(keys.privateKey),
      notAfter: new x509.X509Certificate(certificatePem).notAfter,
    };
  } finally {
    await api.deleteCertificateSigningRequest({ name }).catch(() => undefined);
  }
}

/** Watches the CSR until the signer has issued it (or refused it). */
async function waitForCertificate(kc: k8s.KubeConfig, name: string, timeoutMs: number): Promise<string> {
  let watch: AbortController | undefined;
  let settled = false;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<string>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`CertificateSigningRequest ${name} was not signed within ${timeoutMs} ms: is the kube-controller-manager's kubelet-serving signer running?`)),
        timeoutMs,
      );
      new k8s.Watch(kc)
        .watch(
          '/apis/certificates.k8s.io/v1/certificatesigningrequests',
          { fieldSelector: `metadata.name=${name}` },
          (_phase, csr: k8s.V1CertificateSigningRequest) => {
            const failed = csr.status?.conditions?.find((c) => (c.type === 'Denied' || c.type === 'Failed') && c.status === 'True');
            if (failed) reject(new Error(`CertificateSigningRequest ${name} was ${failed.type.toLowerCase()}: ${failed.message ?? failed.reason ?? ''}`));
            else if (csr.status?.certificate) resolve(Buffer.from(csr.status.certificate, 'base64').toString('utf8'));
          },
          (err: unknown) => {
            if (err) reject(err instanceof Error ? err : new Error(String(err)));
          },
        )
        .then((controller) => {
          if (settled) controller.abort();
          else watch = controller;
        }, reject);
    });
  } finally {
    settled = true;
    clearTimeout(timer);
    watch?.abort();
  }
}
