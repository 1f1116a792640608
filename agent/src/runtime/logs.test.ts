import { limitBytes, logQuery } from './logs.js';
import type { StdioChunk } from './stdio.js';

const base = { follow: false, tailLines: null, sinceSeconds: null, sinceTime: '', timestamps: false, previous: false, limitBytes: null };

describe('log options', () => {
  it('maps the kubelet\'s options to Docker\'s query', () => {
    expect(logQuery(base, 0)).toEqual({ stdout: true, stderr: true, follow: false, timestamps: false, tail: 'all' });
    expect(logQuery({ ...base, follow: true, timestamps: true, tailLines: 0 }, 0)).toMatchObject({ follow: true, timestamps: true, tail: 0 });
  });

  it('turns sinceSeconds and sinceTime into a Unix time', () => {
    expect(logQuery({ ...base, sinceSeconds: 60 }, 1_700_000_000_500).since).toBe('1699999940.500');
    expect(logQuery({ ...base, sinceTime: '2024-05-01T10:00:00Z' }, 0).since).toBe('1714557600.000');
    expect(logQuery({ ...base, sinceTime: 'garbage' }, 0).since).toBeUndefined();
  });

  it('cuts the output at limitBytes', async () => {
    async function* chunks(): AsyncGenerator<StdioChunk> {
      yield { channel: 1, data: Buffer.from('abc') };
      yield { channel: 2, data: Buffer.from('defg') };
      yield { channel: 1, data: Buffer.from('never') };
    }
    const out: string[] = [];
    for await (const c of limitBytes(chunks(), 5)) out.push(`${c.channel}:${c.data.toString()}`);
    expect(out).toEqual(['1:abc', '2:de']);
    const unlimited: string[] = [];
    for await (const c of limitBytes(chunks(), null)) unlimited.push(c.data.toString());
    expect(unlimited.join('')).toBe('abcdefgnever');
  });
});
