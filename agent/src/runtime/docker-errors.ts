// Narrowing of what dockerode rejects with: an Error carrying the HTTP status and Docker's JSON.

interface DockerApiError extends Error {
  statusCode?: number;
  json?: { message?: string } | null;
}

function asDockerError(err: unknown): DockerApiError | undefined {
  return err instanceof Error ? (err as DockerApiError) : undefined;
}

export function dockerStatusCode(err: unknown): number | undefined {
  return asDockerError(err)?.statusCode;
}

export function isNotFound(err: unknown): boolean {
  return dockerStatusCode(err) === 404;
}

/** Docker's own message ("No such image: ..."), without dockerode's "(HTTP code 404) ..." prefix. */
export function dockerMessage(err: unknown): string {
  const e = asDockerError(err);
  if (!e) return String(err);
  const fromJson = e.json?.message;
  return (typeof fromJson === 'string' && fromJson) || e.message.trim();
}

/** Runs a Docker call whose 404 (already gone) or 304 (already stopped) means the work is done. */
export async function ignoreGone(call: Promise<unknown>): Promise<void> {
  try {
    await call;
  } catch (err) {
    const code = dockerStatusCode(err);
    if (code !== 404 && code !== 304) throw err;
  }
}
