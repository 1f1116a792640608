// `lattice-agent join`: trade a join token for a node certificate.
//
// The token pins the gateway CA's fingerprint, so the agent first reads the gateway's certificate
// chain over TLS without trusting it, checks the CA against the pin, and only then talks gRPC to
// it with that CA as its only root: a man in the middle cannot pose as the gateway.
import tls from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { JoinResponseSchema, gatewayClient } from '@lattice/protocol';
import { createKeyAndCsr, fingerprint, saveIdentity, type Identity } from './identity.js';

const TOKEN = /^lt1\.[a-z0-9]{6}\.[a-z0-9]{24}\.([0-9a-f]{64})$/;

export class JoinError extends Error {}

function splitHostPort(gateway: string): { host: string; port: number } {
  const i = gateway.lastIndexOf(':');
  return { host: gateway.slice(0, i), port: Number(gateway.slice(i + 1)) };
}

/** The gateway's CA certificate, fetched over unauthenticated TLS and checked against the pin. */
async function discoverCa(gateway: string, pinned: string): Promise<string> {
  const { host, port } = splitHostPort(gateway);
  const chain = await new Promise<tls.DetailedPeerCertificate>((resolve, reject) => {
    const socket = tls.connect({ host, port, rejectUnauthorized: false, ALPNProtocols: ['h2'], servername: /^[\d.]+$/.test(host) ? undefined : host });
    socket.setTimeout(10_000, () => socket.destroy(new JoinError(`the gateway at ${gateway} did not answer within 10 s`)));
    socket.once('secureConnect', () => {
      resolve(socket.getPeerCertificate(true));
      socket.end();
    });
    socket.once('error', (err) => reject(new JoinError(`cannot reach the gateway at ${gateway}: ${err.message}`)));
  });
  // Walk to the top of the chain the server sent: that is the CA it claims.
  let cert = chain;
  while (cert.issuerCertificate && cert.issuerCertificate !== cert && cert.issuerCertificate.raw) cert = cert.issuerCertificate;
  const pem = `-----BEGIN CERTIFICATE-----\n${cert.raw.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
  if ((await fingerprint(pem)) !== pinned) {
    throw new JoinError(`the gateway at ${gateway} is not the one the join token was issued for (its CA does not match the token): check the address`);
  }
  return pem;
}

export async function join(options: { gateway: string; token: string; nodeName: string; stateDir: string }): Promise<Identity> {
  const m = TOKEN.exec(options.token.trim());
  if (!m) throw new JoinError('the join token is malformed: it looks like lt1.<id>.<secret>.<ca-hash>, as `lattice token create` prints it');
  const caPem = await discoverCa(options.gateway, m[1]!);
  const { keyPem, csrPem } = await createKeyAndCsr(options.nodeName);
  const client = gatewayClient(options.gateway, grpc.credentials.createSsl(Buffer.from(caPem)));
  try {
    const raw = await new Promise<unknown>((resolve, reject) =>
      client.Join({ token: options.token.trim(), nodeName: options.nodeName, csrPem }, { deadline: Date.now() + 30_000 }, (err, res) =>
        err ? reject(new JoinError(`the gateway refused to join: ${err.details || err.message}`)) : resolve(res),
      ),
    );
    const response = JoinResponseSchema.parse(raw);
    const identity: Identity = { nodeName: response.nodeName, gateway: options.gateway, keyPem, certificatePem: response.certificatePem, caPem };
    await saveIdentity(options.stateDir, identity);
    return identity;
  } finally {
    client.close();
  }
}
