import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { TailnetBinaryMissing, startTailnetNode } from './node.js';

const spec = { loginServer: 'http://127.0.0.1:9', authKey: 'tskey-secret', hostname: 'web-1', forwards: [{ port: 80, target: '172.18.0.2:80' }], stateDir: '/nonexistent' };
const log = pino({ level: 'silent' });

/** A stand-in executable (a shell script) for lattice-tailnet. */
async function fake(script: string): Promise<string> {
  const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'fake-tailnet-')), 'lattice-tailnet');
  await writeFile(file, `#!/bin/sh\n${script}\n`, { mode: 0o755 });
  return file;
}

describe('a tailnet node', () => {
  it('says the binary is missing when the provider has none', async () => {
    await expect(startTailnetNode('/nonexistent/lattice-tailnet', spec, log)).rejects.toThrow(TailnetBinaryMissing);
  });

  it('gets the auth key in its environment, not its arguments, and resolves with what it printed once joined', async () => {
    const binary = await fake('case "$*" in *tskey*) exit 3;; esac; [ "$TS_AUTHKEY" = tskey-secret ] || exit 4; echo \'{"ips":["100.64.0.7"],"dnsName":"web-1.tailnet.test"}\'; exec sleep 30');
    const node = await startTailnetNode(binary, spec, log);
    expect(node.joined).toEqual({ ips: ['100.64.0.7'], dnsName: 'web-1.tailnet.test' });
    node.stop();
    await node.exited;
  });

  it('rejects with what it said when it cannot join', async () => {
    const binary = await fake('echo "joining the tailnet at http://127.0.0.1:9: connection refused" >&2; exit 1');
    await expect(startTailnetNode(binary, spec, log)).rejects.toThrow(/could not join the tailnet at http:\/\/127\.0\.0\.1:9: .*connection refused/);
  });
});
