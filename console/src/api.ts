// Calls to the console's own API. Every call sends the header the BFF's CSRF check wants, and an
// error answer becomes an ApiError that carries the BFF's (or the apiserver's) message.
import type { QueryClient } from '@tanstack/react-query';
import { DeployImages } from './deploy-images.js';

export const REQUESTED_WITH = 'lattice-console';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function api<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const res = await fetch(`/api${path}`, {
    method,
    credentials: 'same-origin',
    headers: {
      'x-requested-with': REQUESTED_WITH,
      ...(body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  if (res.status === 204) return undefined as T;
  const payload = (await res.json().catch(() => ({}))) as { error?: string };
  if (!res.ok) throw new ApiError(res.status, payload.error ?? `The console answered ${res.status}.`);
  return payload as T;
}

export interface SessionInfo {
  username: string;
}

export interface NamespaceChoice {
  canList: boolean;
  namespaces: string[];
}

export const sessionQuery = {
  queryKey: ['session'],
  queryFn: () => api<SessionInfo>('GET', '/session'),
  retry: false,
  staleTime: 60_000,
} as const;

export const namespacesQuery = {
  queryKey: ['namespaces'],
  queryFn: () => api<NamespaceChoice>('GET', '/namespaces'),
  staleTime: 60_000,
} as const;

/** The deploy form's default images: set when the console starts, so read once. */
export const deployImagesQuery = {
  queryKey: ['deploy-images'],
  queryFn: async () => DeployImages.parse(await api<unknown>('GET', '/deploy-images')),
  staleTime: Infinity,
} as const;

/**
 * Forgets everything read with the previous identity, and the identity itself, so that a new
 * sign-in (or none) starts clean. The session query is reset, not removed, so the header's
 * observer of it stays attached and shows the new user.
 */
export async function forgetUser(queryClient: QueryClient, session?: SessionInfo): Promise<void> {
  queryClient.removeQueries({ predicate: (query) => query.queryKey[0] !== sessionQuery.queryKey[0] });
  if (session) queryClient.setQueryData(sessionQuery.queryKey, session);
  else await queryClient.resetQueries({ queryKey: sessionQuery.queryKey });
}

export const collectionPath = (namespace: string, plural: string) => `/namespaces/${encodeURIComponent(namespace)}/${plural}`;
export const objectPath = (namespace: string, plural: string, name: string) => `${collectionPath(namespace, plural)}/${encodeURIComponent(name)}`;
