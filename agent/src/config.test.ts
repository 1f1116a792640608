// The config file is the provider's to write, and so to get wrong: whatever it holds, loading it
// gives a config or an error that names the file, never a crash of another kind.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { loadConfig } from './config.js';

let dir: string;
beforeAll(async () => (dir = await mkdtemp(path.join(os.tmpdir(), 'agent-config-'))));
afterAll(() => rm(dir, { recursive: true, force: true }));

/** What loading `text` gives: 'ok', or the error, which must name the file. */
async function load(text: string): Promise<string> {
  const file = path.join(dir, 'config.yaml');
  await writeFile(file, text);
  try {
    await loadConfig(file);
    return 'ok';
  } catch (err) {
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain(file);
    return (err as Error).message;
  }
}

const fields = ['gateway', 'cpu', 'memory', 'maxPods', 'labels', 'availability', 'registryRelayPort', 'adminPort', 'logLevel', 'dockerSocket', 'sandboxImage'];

describe("a provider's config file", () => {
  test('with any values in its fields loads or says what is wrong in it', async () => {
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.constantFrom(...fields), fc.jsonValue()), async (config) => {
        await load(stringify(config));
      }),
      { numRuns: 300 },
    );
  });

  test('that is not YAML, or not a map, says so', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.jsonValue().map((v) => JSON.stringify(v))), async (text) => {
        await load(text);
      }),
      { numRuns: 300 },
    );
  });

  test('names the field at fault', async () => {
    expect(await load('cpu: lots\n')).toMatch(/cpu: cpu must be a quantity/);
    expect(await load('maxPods: 100000\n')).toMatch(/maxPods/);
    expect(await load('unknownField: 1\n')).toMatch(/unrecognized key/i);
  });
});
