import type * as k8s from '@kubernetes/client-node';
import fc from 'fast-check';
import type { PodResolver } from './pod-translation.js';
import { pullCredentials } from './pull-credentials.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

const pod = (...secrets: string[]): k8s.V1Pod => ({
  metadata: { name: 'web-7d9f', namespace: 'shop', uid: 'u1' },
  spec: { containers: [{ name: 'app', image: 'registry.example.net/shop/web:1' }], imagePullSecrets: secrets.map((name) => ({ name })) },
});

/** Secrets of namespace shop, their data given in plain text. */
function resolver(secrets: Record<string, Record<string, string>>): PodResolver {
  return {
    secret: (namespace, name) => (namespace === 'shop' && secrets[name] ? { data: Object.fromEntries(Object.entries(secrets[name]).map(([k, v]) => [k, b64(v)])) } : undefined),
    configMap: () => undefined,
    localVolume: () => undefined,
  capacity: () => undefined,
  hostIP: '10.0.0.1',
  };
}

const dockerConfig = (auths: Record<string, unknown>) => ({ '.dockerconfigjson': JSON.stringify({ auths }) });

describe('pullCredentials', () => {
  test('reads user and password from auth, or from username and password, of every registry of every Secret', () => {
    const r = resolver({
      a: dockerConfig({ 'registry.example.net': { auth: b64('deploy:pa:ss') } }),
      b: dockerConfig({ 'https://index.docker.io/v1/': { username: 'me', password: 'hub' } }),
      legacy: { '.dockercfg': JSON.stringify({ 'old.example.net': { auth: b64('u:p') } }) },
    });
    expect(pullCredentials(pod('a', 'b', 'legacy'), r)).toEqual({
      auths: [
        { server: 'registry.example.net', username: 'deploy', password: 'pa:ss' },
        { server: 'https://index.docker.io/v1/', username: 'me', password: 'hub' },
        { server: 'old.example.net', username: 'u', password: 'p' },
      ],
      problems: [],
    });
  });

  test('skips a Secret that is missing or unreadable, naming it and why, and keeps the others', () => {
    const r = resolver({
      good: dockerConfig({ 'registry.example.net': { auth: b64('deploy:tok') } }),
      notjson: { '.dockerconfigjson': '{"auths": ' },
      wrongshape: { '.dockerconfigjson': JSON.stringify({ auths: ['registry.example.net'] }) },
      nokey: { token: 'x' },
      nocolon: dockerConfig({ 'registry.example.net': { auth: b64('no-colon') } }),
    });
    const { auths, problems } = pullCredentials(pod('gone', 'notjson', 'wrongshape', 'nokey', 'nocolon', 'good'), r);
    expect(auths).toEqual([{ server: 'registry.example.net', username: 'deploy', password: 'tok' }]);
    expect(problems).toEqual([
      'imagePullSecrets: Secret "gone" does not exist',
      'imagePullSecrets: Secret "notjson" has a .dockerconfigjson that is not JSON',
      expect.stringContaining('imagePullSecrets: Secret "wrongshape" has a .dockerconfigjson that is not a Docker config'),
      expect.stringContaining('imagePullSecrets: Secret "nokey" has no .dockerconfigjson key'),
      'imagePullSecrets: Secret "nocolon" has an auth for registry.example.net that is not base64 of user:password',
    ]);
  });

  test('never throws, whatever a tenant puts in the Secret', () => {
    const json = fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => JSON.stringify({ auths: v })), fc.dictionary(fc.string(), fc.record({ auth: fc.string() })).map((a) => JSON.stringify({ auths: a })));
    fc.assert(
      fc.property(json, fc.constantFrom('.dockerconfigjson', '.dockercfg', 'other'), (data, key) => {
        // Read, or skipped with one problem; never thrown.
        const { auths, problems } = pullCredentials(pod('s'), resolver({ s: { [key]: data } }));
        expect(problems.length === 0 || (problems.length === 1 && auths.length === 0)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
