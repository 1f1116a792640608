// Does a public URL answer? The check the controllers make before calling a Workload Ready: a
// real HTTPS request through the ingress (the same route, tunnel and replica path a client
// takes), sent to the ingress on this machine with the URL's host name (SNI and Host), so it
// needs no DNS. Any answer from the application counts, whatever its status; the ingress's own
// answers (no route, no ready replica, tunnel failure) carry INGRESS_HEADER and do not.
import https from 'node:https';
import { INGRESS_HEADER } from './http-proxy.js';

export interface UrlCheck {
  answered: boolean;
  /** What was seen, for the Ready condition's message. */
  message: string;
}

const TIMEOUT_MS = 5_000;

export function checkPublicUrl(url: string, ingress: { host: string; port: number }): Promise<UrlCheck> {
  const { hostname, pathname } = new URL(url);
  return new Promise((resolve) => {
    const req = https.request(
      {
        host: ingress.host,
        port: ingress.port,
        servername: hostname,
        path: pathname,
        method: 'GET',
        headers: { host: hostname, 'user-agent': 'lattice-operator (public URL check)' },
        // This checks that the route reaches the application; the certificate is the ingress's
        // own configuration (possibly one for a name that does not resolve here).
        rejectUnauthorized: false,
        agent: false,
        timeout: TIMEOUT_MS,
      },
      (res) => {
        res.resume();
        const refusal = res.headers[INGRESS_HEADER];
        resolve(
          refusal
            ? { answered: false, message: `${url} answers ${res.statusCode} from the ingress (${String(refusal)})` }
            : { answered: true, message: `${url} answers ${res.statusCode}` },
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS / 1000} s`)));
    req.on('error', (err) => resolve({ answered: false, message: `${url} does not answer: ${err.message}` }));
    req.end();
  });
}
