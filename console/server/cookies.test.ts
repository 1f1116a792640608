import type { Request } from 'express';
import { secureCookiesFor } from './cookies.js';

/** The little of an express request secureCookiesFor reads. */
const request = (remoteAddress: string, hostname: string, secure = false) => ({ socket: { remoteAddress }, hostname, secure }) as unknown as Request;

describe('secureCookiesFor', () => {
  test('kubectl port-forward from a browser on the same machine: plain cookies, which browsers keep on http://localhost', () => {
    for (const [peer, host] of [['127.0.0.1', 'localhost'], ['::1', '[::1]'], ['::ffff:127.0.0.1', '127.0.0.1']] as const) {
      expect([peer, host, secureCookiesFor(true, request(peer, host))]).toEqual([peer, host, false]);
    }
  });

  test('anything else keeps Secure: an Ingress or a load balancer, a sidecar proxy sending the public name, TLS', () => {
    expect(secureCookiesFor(true, request('10.244.1.7', 'console.example.net'))).toBe(true);
    expect(secureCookiesFor(true, request('10.244.1.7', 'localhost'))).toBe(true);
    expect(secureCookiesFor(true, request('127.0.0.6', 'console.example.net'))).toBe(true);
    expect(secureCookiesFor(true, request('127.0.0.1', 'localhost', true))).toBe(true);
  });

  test('a console configured without Secure cookies never sets them', () => {
    expect(secureCookiesFor(false, request('10.244.1.7', 'console.example.net'))).toBe(false);
  });
});
