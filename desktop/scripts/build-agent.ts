// Builds the agent the packaged desktop app runs: agent/src/cli.ts bundled by esbuild into one
// CommonJS file (bundleAgent in hack/bundles.ts, as in the agent's release image; the main script
// of a single-executable application may require only Node's built-ins), then made a Node
// single-executable application: a copy of this Node's binary with the bundle injected by postject.
// Output: desktop/build/agent/lattice-agent (lattice-agent.exe on Windows), for this platform and
// architecture only: each platform builds its own.
// An unchanged bundle on the same Node reuses the executable already built.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, chmod, copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { bundleAgent } from '../../hack/bundles.js';
import { AGENT_EXECUTABLE, BUILT_AGENT_DIR } from '../src/main/agent-command.js';

const repoRoot = path.resolve(BUILT_AGENT_DIR, '../../..');
const workDir = path.resolve(BUILT_AGENT_DIR, '../agent-sea');
const bundleFile = path.join(workDir, 'agent.cjs');
const blobFile = path.join(workDir, 'agent.blob');
const stampFile = path.join(workDir, 'inputs.sha256');
const executable = path.join(BUILT_AGENT_DIR, AGENT_EXECUTABLE);
// Node's documented fuse: its presence in the binary tells Node a SEA blob was injected.
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/** The injection: the blob Node makes from the bundle, into a copy of this Node's binary. */
async function makeExecutable(): Promise<void> {
  const seaConfig = path.join(workDir, 'sea-config.json');
  await writeFile(seaConfig, JSON.stringify({ main: bundleFile, output: blobFile, disableExperimentalSEAWarning: true }));
  execFileSync(process.execPath, ['--experimental-sea-config', seaConfig], { stdio: 'inherit' });
  await mkdir(BUILT_AGENT_DIR, { recursive: true });
  await rm(executable, { force: true });
  await copyFile(process.execPath, executable);
  await chmod(executable, 0o755);
  // macOS: the copied binary's signature would no longer match once injected; ad-hoc sign after.
  if (process.platform === 'darwin') execFileSync('codesign', ['--remove-signature', executable], { stdio: 'inherit' });
  const postject = createRequire(import.meta.url).resolve('postject/dist/cli.js');
  const macho = process.platform === 'darwin' ? ['--macho-segment-name', 'NODE_SEA'] : [];
  execFileSync(process.execPath, [postject, executable, 'NODE_SEA_BLOB', blobFile, '--sentinel-fuse', SEA_FUSE, ...macho], { stdio: 'inherit' });
  if (process.platform === 'darwin') execFileSync('codesign', ['--sign', '-', executable], { stdio: 'inherit' });
}

const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

const started = Date.now();
await mkdir(workDir, { recursive: true });
await bundleAgent(bundleFile);
const inputs = createHash('sha256')
  .update(await readFile(bundleFile))
  .update(`${process.version} ${process.platform} ${process.arch}`)
  .digest('hex');
const previous = await readFile(stampFile, 'utf8').catch(() => '');
if (previous === inputs && (await exists(executable))) {
  console.log(`${path.relative(repoRoot, executable)} is up to date`);
} else {
  await rm(stampFile, { force: true });
  await makeExecutable();
  await writeFile(stampFile, inputs);
  console.log(`built ${path.relative(repoRoot, executable)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
