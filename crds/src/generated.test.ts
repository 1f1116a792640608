// The committed CRDs and API reference must be what the schemas generate now: CI fails on a schema
// change without `make crds`, instead of a cluster running a stale CRD.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { generatedFiles, repoRoot } from './outputs.js';

test.each([...generatedFiles()])('%s is up to date (run `make crds` if not)', (file, expected) => {
  const onDisk = path.join(repoRoot, file);
  expect(existsSync(onDisk) && readFileSync(onDisk, 'utf8')).toBe(expected);
});
