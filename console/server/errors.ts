// One JSON error shape for every route: `{ error, issues? }`, with the status that fits.
import type { NextFunction, Request, Response } from 'express';
import { z } from 'zod';
import { KubeError } from './kube.js';

/** Thrown by routes for a request the console itself refuses. */
export class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function sendError(err: unknown, res: Response): void {
  if (err instanceof z.ZodError) {
    res.status(400).json({
      error: 'The request is not valid: ' + err.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
      issues: err.issues.map((i) => ({ path: i.path.map(String), message: i.message })),
    });
  } else if (err instanceof KubeError) {
    const prefix = err.status === 403 ? 'Kubernetes refused: ' : 'Kubernetes answered: ';
    res.status(err.status).json({ error: prefix + err.message, reason: err.reason });
  } else if (err instanceof RequestError) {
    res.status(err.status).json({ error: err.message });
  } else if (isClientError(err)) {
    res.status(err.status).json({ error: BODY_ERRORS[err.type ?? ''] ?? err.message });
  } else {
    console.error(JSON.stringify({ level: 'error', msg: 'console request failed', err: String(err) }));
    res.status(502).json({ error: 'The console could not reach the Kubernetes API; try again shortly.' });
  }
}

/** An error express.json() raised for the request's body (http-errors: a 4xx status, a type). */
function isClientError(err: unknown): err is { status: number; type?: string; message: string } {
  const status = (err as { status?: unknown } | null)?.status;
  return typeof status === 'number' && status >= 400 && status < 500 && (err as { expose?: unknown }).expose === true;
}

const BODY_ERRORS: Record<string, string> = {
  'entity.parse.failed': 'The request body is not valid JSON (an object or a list).',
  'entity.too.large': 'The request body is larger than the console takes (256 KiB).',
  'encoding.unsupported': 'The request body has an encoding the console does not take.',
};

// Express knows an error handler by its four parameters.
export function errorHandler(err: unknown, _req: Request, res: Response, _next: NextFunction): void {
  if (res.headersSent) return;
  sendError(err, res);
}
