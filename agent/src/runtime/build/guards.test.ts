import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BuildRequestSchema } from '@lattice/protocol';
import { checkRepository, contextIn } from './builds.js';
import { projectFacts } from './project.js';

let dir: string;
beforeEach(async () => (dir = await mkdtemp(path.join(tmpdir(), 'build-guards-'))));
afterEach(() => rm(dir, { recursive: true, force: true }));

test('the context directory stays inside the checkout, even through a symlink the repository holds', async () => {
  await mkdir(path.join(dir, 'app'));
  await symlink('/', path.join(dir, 'root'));
  await symlink('app', path.join(dir, 'alias'));
  await writeFile(path.join(dir, 'file'), '');
  await expect(contextIn(dir, 'app')).resolves.toMatch(/app$/);
  await expect(contextIn(dir, 'alias')).resolves.toMatch(/app$/);
  await expect(contextIn(dir, undefined)).resolves.toBeTruthy();
  await expect(contextIn(dir, 'root')).rejects.toThrow(/outside the repository/);
  await expect(contextIn(dir, 'missing')).rejects.toThrow(/not a directory/);
  await expect(contextIn(dir, 'file')).rejects.toThrow(/not a directory/);
});

test('paths in the request must stay inside the repository', () => {
  const request = { url: 'https://x/y.git', ref: 'main', strategy: 'node', repository: 'r/builds/ns/a', baseImages: 'r/lattice' };
  expect(() => BuildRequestSchema.parse({ ...request, contextDir: '../..' })).toThrow(/inside the repository/);
  expect(() => BuildRequestSchema.parse({ ...request, dockerfile: '/etc/Dockerfile' })).toThrow(/inside the repository/);
  expect(BuildRequestSchema.parse({ ...request, contextDir: 'services/api' }).contextDir).toBe('services/api');
});

test("a build pushes only to its own namespace's repositories", () => {
  expect(() => checkRepository('127.0.0.1:5001/builds/shop/web', 'shop')).not.toThrow();
  expect(() => checkRepository('127.0.0.1:5001/builds/other/web', 'shop')).toThrow(/only to <registry>\/builds\/shop/);
  expect(() => checkRepository('127.0.0.1:5001/lattice/node', 'shop')).toThrow();
  expect(() => checkRepository('builds/shop/web', 'shop')).toThrow();
});

test("the project's files are read only when they are regular files, never through a symlink", async () => {
  await writeFile(path.join(dir, 'secret'), 'web: cat /etc/shadow\n');
  await symlink(path.join(dir, 'secret'), path.join(dir, 'Procfile'));
  await symlink('/etc/passwd', path.join(dir, 'package.json'));
  const facts = await projectFacts(dir);
  expect(facts.procfileWeb).toBeUndefined();
  expect(facts.packageJson).toBeUndefined();
});
