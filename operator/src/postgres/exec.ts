// A command in a pod's container through the apiserver's exec subresource, which reaches the
// provider's agent through the gateway's kubelet API: the operator never talks to a provider.
import { Writable } from 'node:stream';
import * as k8s from '@kubernetes/client-node';

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

function collector(chunks: Buffer[]): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
}

/** The exit code the kubelet reports in the final status ("NonZeroExitCode" with an ExitCode cause). */
function exitCode(status: k8s.V1Status): number {
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  if (cause?.message) return Number(cause.message);
  throw new Error(`exec failed: ${status.message ?? status.reason ?? 'no status'}`);
}

export class PodExec {
  private readonly exec: k8s.Exec;

  constructor(kc: k8s.KubeConfig) {
    this.exec = new k8s.Exec(kc);
  }

  /** Runs `command` and resolves with its exit code and output; rejects if it could not run. */
  run(pod: { namespace: string; name: string; container: string }, command: string[], timeoutMs: number): Promise<ExecResult> {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    return new Promise<ExecResult>((resolve, reject) => {
      let status: k8s.V1Status | undefined;
      const timer = setTimeout(() => reject(new Error(`exec in ${pod.namespace}/${pod.name} timed out after ${timeoutMs} ms`)), timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        if (!status) return reject(new Error(`exec in ${pod.namespace}/${pod.name} ended without a status`));
        try {
          resolve({ exitCode: exitCode(status), stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
        } catch (e) {
          reject(e as Error);
        }
      };
      this.exec
        .exec(pod.namespace, pod.name, pod.container, command, collector(out), collector(err), null, false, (s) => {
          status = s;
        })
        .then((ws) => {
          ws.on('close', finish);
          ws.on('error', (e) => {
            clearTimeout(timer);
            reject(e);
          });
        }, (e: unknown) => {
          clearTimeout(timer);
          // A refused websocket rejects with an ErrorEvent, not an Error: keep its message (e.g. a 403).
          reject(e instanceof Error ? e : new Error((e as { message?: string } | undefined)?.message ?? String(e)));
        });
    });
  }
}
