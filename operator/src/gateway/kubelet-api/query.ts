// The query strings the kube-apiserver sends to a kubelet, validated. Parameter names and value
// forms are the kubelet's: v1.PodLogOptions for /containerLogs (the apiserver's LogLocation), and
// input/output/error/tty="1" plus repeated command for /exec (its streamParams).
import type { ExecOptions, LogOptions } from '@lattice/protocol';
import { z } from 'zod';

/** Go's strconv.ParseBool, which decodes the kubelet's boolean query parameters. */
const goBool = z
  .enum(['1', 't', 'T', 'TRUE', 'true', 'True', '0', 'f', 'F', 'FALSE', 'false', 'False'])
  .transform((v) => ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v));
const int64 = z
  .string()
  .regex(/^\d{1,15}$/, 'must be a non-negative integer')
  .transform(Number);
const rfc3339 = z.iso.datetime({ offset: true });

const LogQuerySchema = z
  .object({
    follow: goBool.default(false),
    previous: goBool.default(false),
    timestamps: goBool.default(false),
    sinceSeconds: int64.refine((n) => n >= 1, 'must be at least 1').optional(),
    sinceTime: rfc3339.optional(),
    tailLines: int64.optional(),
    // The kubelet still honours the pre-1.0 `tail` parameter: a count, or "all".
    tail: z.union([z.literal('all'), int64]).optional(),
    limitBytes: int64.refine((n) => n >= 1, 'must be at least 1').optional(),
    // Sent by apiservers with the PodLogsQuerySplitStreams feature.
    stream: z.enum(['All', 'Stdout', 'Stderr']).default('All'),
  })
  .refine((q) => q.sinceSeconds === undefined || q.sinceTime === undefined, {
    message: 'at most one of sinceSeconds or sinceTime may be specified',
  })
  .refine((q) => q.stream === 'All' || (q.tailLines === undefined && q.tail === undefined), {
    message: 'tailLines cannot be combined with a stream other than All',
  });

export interface LogQuery {
  options: LogOptions;
  /** Which of the container's output streams the client wants. */
  stream: 'All' | 'Stdout' | 'Stderr';
}

export interface ExecQuery {
  options: ExecOptions;
}

export class QueryError extends Error {}

/** First value of each parameter: the kubelet, like Go's url.Values.Get, ignores repeats. */
function firstValues(params: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of params) if (!(key in out)) out[key] = value;
  return out;
}

function describe(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}

export function parseLogQuery(params: URLSearchParams): LogQuery {
  const parsed = LogQuerySchema.safeParse(firstValues(params));
  if (!parsed.success) throw new QueryError(`invalid log options: ${describe(parsed.error)}`);
  const q = parsed.data;
  const tailLines = q.tailLines ?? (q.tail === 'all' ? undefined : q.tail);
  return {
    stream: q.stream,
    options: {
      follow: q.follow,
      previous: q.previous,
      timestamps: q.timestamps,
      sinceSeconds: q.sinceSeconds ?? null,
      sinceTime: q.sinceTime ?? '',
      tailLines: tailLines ?? null,
      limitBytes: q.limitBytes ?? null,
    },
  };
}

const ExecQuerySchema = z.object({
  command: z.array(z.string().max(32 * 1024)).min(1, 'a command is required').max(256),
  // The kubelet treats exactly "1" as set (remotecommand.NewOptions).
  input: z.string().optional(),
  output: z.string().optional(),
  error: z.string().optional(),
  tty: z.string().optional(),
});

export function parseExecQuery(params: URLSearchParams): ExecQuery {
  const parsed = ExecQuerySchema.safeParse({ ...firstValues(params), command: params.getAll('command') });
  if (!parsed.success) throw new QueryError(`invalid exec options: ${describe(parsed.error)}`);
  const q = parsed.data;
  const tty = q.tty === '1';
  const options: ExecOptions = {
    command: q.command,
    stdin: q.input === '1',
    stdout: q.output === '1',
    // A terminal has one output stream: stderr goes to stdout, as on the kubelet.
    stderr: q.error === '1' && !tty,
    tty,
  };
  if (!options.stdin && !options.stdout && !options.stderr) {
    throw new QueryError('invalid exec options: you must specify at least 1 of stdin, stdout, stderr');
  }
  return { options };
}
