// The BFF's only way to the kube-apiserver: every request carries the signed-in user's own bearer
// token, so the apiserver's authentication and RBAC decide what the console may do for them.
import type { IncomingMessage } from 'node:http';
import https from 'node:https';

/** Where the apiserver is and the CA its serving certificate chains to. */
export interface KubeTarget {
  server: URL;
  ca: Buffer;
}

/** A refusal from the apiserver, carried to the browser with its status and message intact. */
export class KubeError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export interface KubeRequest {
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  body?: unknown;
  contentType?: string;
}

function open(target: KubeTarget, token: string, request: KubeRequest, signal?: AbortSignal) {
  const url = new URL(request.path, target.server);
  const body = request.body === undefined ? undefined : JSON.stringify(request.body);
  return new Promise<IncomingMessage>((resolve, reject) => {
    const req = https.request(url, {
      method: request.method ?? 'GET',
      ca: target.ca,
      signal,
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/json',
        ...(body !== undefined && { 'content-type': request.contentType ?? 'application/json' }),
      },
    });
    req.on('response', resolve);
    req.on('error', reject);
    req.end(body);
  });
}

async function readAll(res: IncomingMessage): Promise<string> {
  let text = '';
  res.setEncoding('utf8');
  for await (const chunk of res) text += chunk;
  return text;
}

/** The apiserver's Status object, when it sent one, turned into a KubeError. */
function refusal(status: number, text: string): KubeError {
  try {
    const parsed = JSON.parse(text) as { message?: string; reason?: string };
    return new KubeError(status, parsed.reason ?? 'Unknown', parsed.message ?? text);
  } catch {
    return new KubeError(status, 'Unknown', text || `the Kubernetes API answered ${status}`);
  }
}

/** One request with a JSON answer; rejects with KubeError on any status from 400 up. */
export async function kubeJson(target: KubeTarget, token: string, request: KubeRequest): Promise<unknown> {
  const res = await open(target, token, request);
  const text = await readAll(res);
  const status = res.statusCode ?? 500;
  if (status >= 400) throw refusal(status, text);
  return text ? JSON.parse(text) : {};
}

/** A streamed answer (logs): the open response once the status is known good. */
export async function kubeStream(target: KubeTarget, token: string, path: string, signal: AbortSignal): Promise<IncomingMessage> {
  const res = await open(target, token, { path }, signal);
  if ((res.statusCode ?? 500) >= 400) throw refusal(res.statusCode ?? 500, await readAll(res));
  return res;
}

/**
 * A Kubernetes watch: calls `onEvent` with each decoded event line until the apiserver ends the
 * stream or `signal` aborts it. Resolves when the stream ends.
 */
export async function kubeWatch(
  target: KubeTarget,
  token: string,
  path: string,
  onEvent: (event: unknown) => void,
  signal: AbortSignal,
): Promise<void> {
  const res = await open(target, token, { path }, signal);
  if ((res.statusCode ?? 500) >= 400) throw refusal(res.statusCode ?? 500, await readAll(res));
  res.setEncoding('utf8');
  let buffered = '';
  try {
    for await (const chunk of res) {
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line) onEvent(JSON.parse(line));
      }
    }
  } catch (err) {
    if (!signal.aborted) throw err;
  }
}
