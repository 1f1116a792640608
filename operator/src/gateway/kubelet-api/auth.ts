// Authentication and authorization the way a kubelet does it with --authentication x509 and
// --authorization-mode Webhook: the client certificate (verified against the cluster's client CA
// during the TLS handshake) names the user (CN) and groups (O), and a SubjectAccessReview decides
// whether that user may use the node's subresource.
import type { TLSSocket } from 'node:tls';
import type * as k8s from '@kubernetes/client-node';

export interface UserInfo {
  name: string;
  groups: string[];
}

/** The verified client certificate's identity, or undefined for an anonymous/unverified client. */
export function authenticate(socket: TLSSocket): UserInfo | undefined {
  if (!socket.authorized) return undefined;
  const subject = socket.getPeerCertificate().subject as Record<string, string | string[] | undefined> | undefined;
  const cn = subject?.CN;
  const name = Array.isArray(cn) ? cn[0] : cn;
  if (!name) return undefined;
  const o = subject?.O;
  return { name, groups: [...(o === undefined ? [] : Array.isArray(o) ? o : [o]), 'system:authenticated'] };
}

/**
 * Every path this API serves (/containerLogs, /exec, /attach) is a `nodes/proxy` request in the
 * kubelet's GetRequestAttributes: `nodes/log` covers only the node's own /logs/ files.
 */
export const NODE_SUBRESOURCE = 'proxy';

/** The API verb of an HTTP method, as the kubelet maps it. */
export function verbFor(method: string): string {
  return { POST: 'create', GET: 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete' }[method] ?? '';
}

export interface Decision {
  allowed: boolean;
  reason: string;
}

export type Authorizer = (
  user: UserInfo,
  attributes: { verb: string; subresource: string; nodeName?: string },
) => Promise<Decision>;

/** Asks the apiserver, as the kubelet's webhook authorizer does. */
export function subjectAccessReviewAuthorizer(api: k8s.AuthorizationV1Api): Authorizer {
  return async (user, { verb, subresource, nodeName }) => {
    const review = await api.createSubjectAccessReview({
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: user.name,
          groups: user.groups,
          resourceAttributes: { verb, group: '', version: 'v1', resource: 'nodes', subresource, ...(nodeName ? { name: nodeName } : {}) },
        },
      },
    });
    return { allowed: review.status?.allowed === true, reason: review.status?.reason ?? '' };
  };
}
