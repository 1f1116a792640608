// The console's BFF facing a hostile signed-in user: whatever body they send to a write route, the
// answer is a 4xx with a JSON error saying what is wrong (never a 5xx, never a crash), and the BFF
// serves on. The real BFF process, signed in with a real token against the real apiserver.
import fc from 'fast-check';
import { kubectl, uniqueName } from '../support/cluster.js';
import { namespaceEditor, startBff, type Bff } from '../support/console.js';

const namespace = uniqueName('it-bff');
let bff: Bff;
let cookie: string;

const headers = () => ({ 'content-type': 'application/json', 'x-requested-with': 'lattice-console', cookie });

beforeAll(async () => {
  await kubectl(['create', 'namespace', namespace]);
  await kubectl(['apply', '-f', '-'], { input: namespaceEditor(namespace, 'mallory') });
  const token = (await kubectl(['create', 'token', 'mallory', '-n', namespace, '--duration=1h'])).trim();
  bff = await startBff();
  const signIn = await fetch(`${bff.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-requested-with': 'lattice-console' }, body: JSON.stringify({ token }) });
  expect(signIn.status).toBe(201);
  cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
});

afterAll(async () => {
  bff?.child.kill();
  await kubectl(['delete', 'namespace', namespace, '--wait=false']).catch(() => undefined);
});

// Every route that takes a body, on objects that exist or not.
const WRITES: [method: string, path: string][] = [
  ['POST', `/api/namespaces/${namespace}/workloads`],
  ['POST', `/api/namespaces/${namespace}/postgresinstances`],
  ['POST', `/api/namespaces/${namespace}/cronworkloads`],
  ['PATCH', `/api/namespaces/${namespace}/workloads/web/suspend`],
  ['PATCH', `/api/namespaces/${namespace}/workloads/web/scale`],
  ['DELETE', `/api/namespaces/${namespace}/workloads/web`],
  ['POST', '/api/session'],
];

async function send(method: string, path: string, body: string): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${bff.url}${path}`, { method, headers: headers(), body });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json };
}

const refusedClearly = ({ status, json }: { status: number; json: unknown }) => {
  expect(status).toBeGreaterThanOrEqual(400);
  expect(status).toBeLessThan(500);
  expect(typeof (json as { error?: unknown }).error).toBe('string');
};

describe('a signed-in user sending the console anything', () => {
  test('any JSON body to any write route is refused with a 4xx that says why', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...WRITES), fc.jsonValue(), async ([method, path], body) => {
        refusedClearly(await send(method, path, JSON.stringify(body)));
      }),
      { numRuns: 200 },
    );
  });

  test('a body that is not JSON is refused with a 400', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...WRITES), fc.string({ minLength: 1 }), async ([method, path], body) => {
        fc.pre(!isJson(body));
        const answer = await send(method, path, body);
        expect(answer.status).toBe(400);
      }),
      { numRuns: 100 },
    );
  });

  test('a body over 256 KiB is refused with a 413', async () => {
    const answer = await send('POST', `/api/namespaces/${namespace}/workloads`, JSON.stringify({ name: 'big', spec: { image: 'x'.repeat(300 * 1024) } }));
    expect(answer.status).toBe(413);
  });

  test('and the console serves on, the user still signed in', async () => {
    const res = await fetch(`${bff.url}/api/session`, { headers: headers() });
    expect(res.status).toBe(200);
    expect(bff.child.exitCode).toBeNull();
  });
});

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
