// The node certificate is short-lived (the gateway's --node-certificate-seconds, 30 days by
// default) and renewed before it expires, as the kubelet rotates its client certificate: at 70% of
// its lifetime the agent makes a new key, asks the gateway (authenticated by the current
// certificate) to sign it, keeps the new pair in the state directory, and connects again with it.
// A stolen certificate so serves a thief for weeks at most, and not past the next renewal.
import { JoinResponseSchema, type GatewayClient } from '@lattice/protocol';
import { certificateValidity, createKeyAndCsr, type Identity } from './identity.js';

const RENEW_AT = 0.7;

/** When the certificate is due for renewal, and when it expires. */
export function renewalTimes(certificatePem: string): { due: Date; notAfter: Date } {
  const { notBefore, notAfter } = certificateValidity(certificatePem);
  return { due: new Date(notBefore.getTime() + (notAfter.getTime() - notBefore.getTime()) * RENEW_AT), notAfter };
}

/** A new key and certificate for the node, signed by the gateway `client` is connected to with the current one. */
export async function renewIdentity(client: GatewayClient, identity: Identity): Promise<Identity> {
  const { keyPem, csrPem } = await createKeyAndCsr(identity.nodeName);
  const raw = await new Promise<unknown>((resolve, reject) =>
    client.Renew({ csrPem }, { deadline: Date.now() + 30_000 }, (err, res) => (err ? reject(new Error(`the gateway refused to renew: ${err.details || err.message}`)) : resolve(res))),
  );
  const response = JoinResponseSchema.parse(raw);
  if (response.nodeName !== identity.nodeName) throw new Error(`the gateway renewed a certificate for "${response.nodeName}", not "${identity.nodeName}"`);
  return { ...identity, keyPem, certificatePem: response.certificatePem, caPem: response.caPem };
}
