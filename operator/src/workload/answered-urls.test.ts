import type * as k8s from '@kubernetes/client-node';
import { AnsweredUrls } from './answered-urls.js';

const pod = (uid: string): k8s.V1Pod => ({ metadata: { uid } });
const URL = 'https://web--shop.lattice.localhost';

describe('answered public URLs', () => {
  test('an answer holds for the same URL and the same ready pods, in any order', () => {
    const urls = new AnsweredUrls();
    expect(urls.has('shop/web', URL, [pod('a'), pod('b')])).toBe(false);
    urls.record('shop/web', URL, [pod('a'), pod('b')], true);
    expect(urls.has('shop/web', URL, [pod('b'), pod('a')])).toBe(true);
    expect(urls.has('shop/api', URL, [pod('a'), pod('b')])).toBe(false);
  });

  test('a replaced replica, another replica count or another URL needs a new check', () => {
    const urls = new AnsweredUrls();
    urls.record('shop/web', URL, [pod('a'), pod('b')], true);
    expect(urls.has('shop/web', URL, [pod('a'), pod('c')])).toBe(false);
    expect(urls.has('shop/web', URL, [pod('a')])).toBe(false);
    expect(urls.has('shop/web', 'https://web--shop.example.com', [pod('a'), pod('b')])).toBe(false);
  });

  test('a failed check or a deleted Workload forgets the answer', () => {
    const urls = new AnsweredUrls();
    urls.record('shop/web', URL, [pod('a')], true);
    urls.record('shop/web', URL, [pod('a')], false);
    expect(urls.has('shop/web', URL, [pod('a')])).toBe(false);
    urls.record('shop/web', URL, [pod('a')], true);
    urls.forget('shop/web');
    expect(urls.has('shop/web', URL, [pod('a')])).toBe(false);
  });
});
