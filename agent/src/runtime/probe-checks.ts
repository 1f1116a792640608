// Carrying out one probe: an HTTP GET or a TCP connect to the pod IP (the agent reaches the pod
// over the namespace's bridge, as the kubelet reaches pods from the host), or a command run in the
// container. Each settles within its timeout and never rejects.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type Docker from 'dockerode';
import type { Probe } from '@lattice/protocol';
import { startExec } from './exec.js';
import type { ProbeCheck, ProbeOutcome } from './probes.js';

// What the kubelet keeps of an exec probe's output for the event message.
const MAX_EXEC_OUTPUT = 10 * 1024;

function httpGet(podIp: string, action: NonNullable<Probe['httpGet']>, timeoutMs: number): Promise<ProbeOutcome> {
  const scheme = action.scheme === 'HTTPS' ? 'https' : 'http';
  const path = action.path || '/';
  const url = `${scheme}://${podIp}:${action.port}${path.startsWith('/') ? path : `/${path}`}`;
  return new Promise((resolve) => {
    const headers: Record<string, string> = { 'User-Agent': 'kube-probe/lattice', Accept: '*/*' };
    for (const h of action.headers) headers[h.name] = h.value;
    // Like the kubelet, HTTPS probes do not verify the certificate: the pod IP is in no certificate.
    const request = (scheme === 'https' ? https : http).get(url, { headers, timeout: timeoutMs, rejectUnauthorized: false }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      const ok = status >= 200 && status < 400;
      resolve({ ok, message: ok ? '' : `HTTP probe failed with statuscode: ${status}` });
    });
    request.on('timeout', () => request.destroy(new Error(`context deadline exceeded (timeout ${timeoutMs} ms)`)));
    request.on('error', (err) => resolve({ ok: false, message: `Get "${url}": ${err.message}` }));
  });
}

function tcpSocket(podIp: string, port: number, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: podIp, port, timeout: timeoutMs });
    const done = (outcome: ProbeOutcome) => {
      socket.destroy();
      resolve(outcome);
    };
    socket.on('connect', () => done({ ok: true, message: '' }));
    socket.on('timeout', () => done({ ok: false, message: `dial tcp ${podIp}:${port}: i/o timeout` }));
    socket.on('error', (err) => done({ ok: false, message: `dial tcp ${podIp}:${port}: ${err.message}` }));
  });
}

async function execProbe(docker: Docker, containerId: string, command: string[], timeoutMs: number): Promise<ProbeOutcome> {
  const abort = new AbortController();
  const session = startExec(docker, containerId, { command, stdin: false, stdout: true, stderr: true, tty: false }, abort.signal);
  let output = '';
  const collected = (async () => {
    for await (const chunk of session.output) {
      if (output.length < MAX_EXEC_OUTPUT) output += chunk.data.toString('utf8');
    }
  })().catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const exitCode = await Promise.race([session.exit, timedOut]);
    if (exitCode === 'timeout') return { ok: false, message: `command timed out after ${timeoutMs} ms` };
    await collected;
    const text = output.slice(0, MAX_EXEC_OUTPUT).trim();
    return { ok: exitCode === 0, message: exitCode === 0 ? '' : text || `command exited with ${exitCode}` };
  } catch (err) {
    return { ok: false, message: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

/** The check for probes of the container `containerId` in the pod at `podIp`. */
export function probeCheck(docker: Docker, podIp: string, containerId: string): ProbeCheck {
  return async (probe, timeoutMs) => {
    switch (probe.handler) {
      case 'httpGet':
        if (probe.httpGet) return httpGet(podIp, probe.httpGet, timeoutMs);
        break;
      case 'tcpSocket':
        if (probe.tcpSocket) return tcpSocket(podIp, probe.tcpSocket.port, timeoutMs);
        break;
      case 'exec':
        if (probe.exec) return execProbe(docker, containerId, probe.exec.command, timeoutMs);
        break;
    }
    return { ok: false, message: `the ${probe.handler} probe has no ${probe.handler} action` };
  };
}
