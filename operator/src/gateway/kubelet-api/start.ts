// Starting the kubelet API against a cluster: its serving certificate from the kubelet-serving
// signer (renewed before it expires), the cluster's client CA, SubjectAccessReview authorization.
import type { AddressInfo } from 'node:net';
import type https from 'node:https';
import * as k8s from '@kubernetes/client-node';
import { pino, type Logger } from 'pino';
import { subjectAccessReviewAuthorizer } from './auth.js';
import { readClientCa } from './client-ca.js';
import { createKubeletApi } from './kubelet-api.js';
import type { NodeConnections, PodLocator } from './pods.js';
import { requestServingCertificate, type ServingCertificate } from './serving-certificate.js';

export interface KubeletApiConfig {
  kc: k8s.KubeConfig;
  /** Names the certificate's subject, system:node:<identity>; the gateway serves many nodes. */
  identity: string;
  /** The address to listen on, and the addresses Nodes advertise (the certificate's SANs). */
  listenHost: string;
  port: number;
  advertisedHosts: string[];
  locatePod: PodLocator;
  connections: NodeConnections;
  logger?: Logger;
}

export interface RunningKubeletApi {
  server: https.Server;
  port: number;
  close(): Promise<void>;
}

/** Renew when this fraction of the certificate's lifetime is left, as the kubelet roughly does. */
const RENEW_AT_REMAINING = 0.2;
const RETRY_MS = 60_000;
/** setTimeout's largest delay; a longer wait is taken in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export async function startKubeletApi(config: KubeletApiConfig): Promise<RunningKubeletApi> {
  const logger = config.logger ?? pino({ level: 'silent' });
  const requestCertificate = () =>
    requestServingCertificate(config.kc, { nodeName: config.identity, hosts: config.advertisedHosts });
  const [certificate, clientCaPem] = await Promise.all([requestCertificate(), readClientCa(config.kc)]);
  const server = createKubeletApi({
    tls: { certificatePem: certificate.certificatePem, privateKeyPem: certificate.privateKeyPem, clientCaPem },
    authorize: subjectAccessReviewAuthorizer(config.kc.makeApiClient(k8s.AuthorizationV1Api)),
    locatePod: config.locatePod,
    connections: config.connections,
    logger,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.listenHost, () => {
      server.off('error', reject);
      resolve();
    });
  });

  let timer: NodeJS.Timeout | undefined;
  const renewAt = (cert: ServingCertificate) => {
    const lifetime = cert.notAfter.getTime() - Date.now();
    schedule(new Date(Date.now() + lifetime * (1 - RENEW_AT_REMAINING)));
  };
  const schedule = (when: Date) => {
    const wait = when.getTime() - Date.now();
    timer = setTimeout(() => (wait > MAX_TIMER_MS ? schedule(when) : void renew()), Math.min(Math.max(wait, 0), MAX_TIMER_MS));
    timer.unref();
  };
  const renew = async () => {
    try {
      const next = await requestCertificate();
      server.setSecureContext({ cert: next.certificatePem, key: next.privateKeyPem, ca: clientCaPem });
      logger.info({ notAfter: next.notAfter }, 'renewed the kubelet API serving certificate');
      renewAt(next);
    } catch (err) {
      logger.error({ err }, 'renewing the kubelet API serving certificate failed; retrying');
      schedule(new Date(Date.now() + RETRY_MS));
    }
  };
  renewAt(certificate);

  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: async () => {
      clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
