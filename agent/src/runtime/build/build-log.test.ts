import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { BuildLog, END_MARKER, printLogScript } from './build-log.js';
import { secretsOf } from './git.js';

let dir: string;
beforeEach(async () => (dir = await mkdtemp(path.join(tmpdir(), 'build-log-'))));
afterEach(() => rm(dir, { recursive: true, force: true }));

test('secrets never reach the file: the password and its basic-auth form are masked', async () => {
  const secrets = secretsOf({ username: 'u', password: 's3cr3t' });
  const log = new BuildLog(path.join(dir, 'log'), secrets);
  log.write(`fetching with s3cr3t and ${Buffer.from('u:s3cr3t').toString('base64')}\npartial `);
  log.write('line\n');
  await log.end(0);
  const text = await readFile(path.join(dir, 'log'), 'utf8');
  expect(text).toBe(`fetching with *** and ***\npartial line\n${END_MARKER} 0\n`);
});

test('the printer prints every line as written and exits with the end marker status', async () => {
  const file = path.join(dir, 'log');
  const log = new BuildLog(file, []);
  log.line('npm install');
  log.write('added 0 packages\nno newline yet');
  const printed = promisify(execFile)('sh', ['-c', printLogScript(file)]).catch((err: { code: number; stdout: string }) => err);
  log.write(' ...done\n');
  await log.end(3);
  const result = (await printed) as { code: number; stdout: string };
  expect(result.code).toBe(3);
  expect(result.stdout).toBe('npm install\nadded 0 packages\nno newline yet ...done\n');
});
