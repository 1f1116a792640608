import type * as k8s from '@kubernetes/client-node';
import { PodNotReady, PodRefused, toAgentPod, type PodResolver } from './pod-translation.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

function pod(annotations: Record<string, string>): k8s.V1Pod {
  return {
    metadata: { name: 'web-7d9f', namespace: 'shop', uid: 'u1', annotations },
    spec: { containers: [{ name: 'app', image: 'busybox:1' }] },
  };
}

function resolver(secrets: Record<string, Record<string, string>>): PodResolver {
  return {
    secret: (namespace, name) => (namespace === 'shop' && secrets[name] ? { data: Object.fromEntries(Object.entries(secrets[name]).map(([k, v]) => [k, b64(v)])) } : undefined),
    configMap: () => undefined,
    localVolume: () => undefined,
  capacity: () => undefined,
  hostIP: '10.0.0.1',
  };
}

const marked = pod({ 'lattice.dev/tailnet-secret': 'ts', 'lattice.dev/tailnet-ports': '5432,8080' });

describe('expose: tailnet on the gateway side', () => {
  it("sends the pod's tailnet ports with the login server and auth key of its namespace's Secret", () => {
    const sent = toAgentPod(marked, resolver({ ts: { loginServer: 'https://hs.example.net\n', authKey: 'key-1' } }));
    expect(sent.tailnet).toEqual({ loginServer: 'https://hs.example.net', authKey: 'key-1', hostname: 'web-7d9f', ports: [5432, 8080] });
    expect(toAgentPod(pod({}), resolver({})).tailnet).toBeUndefined();
  });

  it('waits for the Secret and its keys, and refuses what cannot work', () => {
    expect(() => toAgentPod(marked, resolver({}))).toThrow(PodNotReady);
    expect(() => toAgentPod(marked, resolver({ ts: { loginServer: 'https://hs.example.net' } }))).toThrow(/no key "authKey"/);
    expect(() => toAgentPod(marked, resolver({ ts: { loginServer: 'hs.example.net', authKey: 'k' } }))).toThrow(PodRefused);
    expect(() => toAgentPod(pod({ 'lattice.dev/tailnet-secret': 'ts', 'lattice.dev/tailnet-ports': '80,http' }), resolver({}))).toThrow(/port numbers/);
  });

  it('changes the revision when the key rotates, so the node rejoins with it', () => {
    const one = toAgentPod(marked, resolver({ ts: { loginServer: 'https://hs', authKey: 'k1' } }));
    const two = toAgentPod(marked, resolver({ ts: { loginServer: 'https://hs', authKey: 'k2' } }));
    expect(one.revision).not.toBe(two.revision);
  });
});
