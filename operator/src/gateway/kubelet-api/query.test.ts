import { QueryError, parseExecQuery, parseLogQuery } from './query.js';

const q = (s: string) => new URLSearchParams(s);

describe('parseLogQuery', () => {
  test('what the apiserver sends for kubectl logs -f --tail 10 --timestamps', () => {
    expect(parseLogQuery(q('follow=true&tailLines=10&timestamps=true'))).toEqual({
      stream: 'All',
      options: { follow: true, previous: false, timestamps: true, sinceSeconds: null, sinceTime: '', tailLines: 10, limitBytes: null },
    });
  });

  test('sinceTime, limitBytes, previous and the legacy tail parameter', () => {
    const { options } = parseLogQuery(q('sinceTime=2026-01-02T03:04:05Z&limitBytes=100&previous=1&tail=3'));
    expect(options).toMatchObject({ sinceTime: '2026-01-02T03:04:05Z', limitBytes: 100, previous: true, tailLines: 3 });
    expect(parseLogQuery(q('tail=all')).options.tailLines).toBeNull();
  });

  test.each([
    ['tailLines=-1', 'tailLines'],
    ['follow=yes', 'follow'],
    ['sinceSeconds=0', 'sinceSeconds'],
    ['sinceTime=yesterday', 'sinceTime'],
    ['sinceSeconds=5&sinceTime=2026-01-02T03:04:05Z', 'at most one of sinceSeconds or sinceTime'],
    ['stream=Stdout&tailLines=1', 'tailLines cannot be combined'],
    ['stream=Both', 'stream'],
  ])('%s is refused, naming what is wrong', (query, mention) => {
    expect(() => parseLogQuery(q(query))).toThrow(QueryError);
    expect(() => parseLogQuery(q(query))).toThrow(mention);
  });
});

describe('parseExecQuery', () => {
  test('the kubelet parameter names and "1" flags', () => {
    expect(parseExecQuery(q('command=sh&command=-c&command=echo+hi&input=1&output=1&error=1')).options).toEqual({
      command: ['sh', '-c', 'echo hi'],
      stdin: true,
      stdout: true,
      stderr: true,
      tty: false,
    });
  });

  test('a terminal has no separate stderr', () => {
    expect(parseExecQuery(q('command=sh&output=1&error=1&tty=1')).options).toMatchObject({ stdout: true, stderr: false, tty: true });
  });

  test('a command and at least one stream are required', () => {
    expect(() => parseExecQuery(q('output=1'))).toThrow('a command is required');
    expect(() => parseExecQuery(q('command=ls'))).toThrow('at least 1 of stdin, stdout, stderr');
  });
});
