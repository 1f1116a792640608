// Production builds of Lattice's programs: each bundled by esbuild into one file with its
// dependencies, so what runs holds no TypeScript, no tsx and no dev dependency. Used by the release
// images (hack/release-images) and the desktop app's agent executable (desktop/scripts/build-agent.ts).
//
//   node --import tsx hack/bundles.ts OUTDIR   OUTDIR/operator/{lattice-operator,lattice}.mjs,
//                                               OUTDIR/console/{server/main.mjs,dist/},
//                                               OUTDIR/agent/lattice-agent.cjs
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import protobuf from 'protobufjs';
import { build as vite } from 'vite';
import { LOADER_OPTIONS, PROTO_PATH } from '@lattice/protocol';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** agent.proto as protobufjs JSON, parsed the way @grpc/proto-loader's loadSync parses it (its keepCase: camelCased fields). */
function embeddedProto(): string {
  return JSON.stringify(new protobuf.Root().loadSync(PROTO_PATH, { keepCase: LOADER_OPTIONS.keepCase }).toJSON());
}

/**
 * ssh2 (dockerode's SSH transport, unused: the agent talks to the local Docker socket) tries its
 * native helpers in a try/catch and goes on without them. In the bundle each is a module that
 * throws, as a missing one would: a single executable can load no addon, and Node warns of any
 * require that is not a built-in.
 */
const withoutNativeAddons: esbuild.Plugin = {
  name: 'without-native-addons',
  setup(build) {
    build.onResolve({ filter: /^cpu-features$|\.node$/ }, (args) => ({ path: args.path, namespace: 'native-addon' }));
    build.onLoad({ filter: /.*/, namespace: 'native-addon' }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`${args.path} is not in the bundle`)});`,
      loader: 'js',
    }));
  },
};

const common = (entry: string, outfile: string): esbuild.BuildOptions => ({
  entryPoints: [path.join(repoRoot, entry)],
  outfile,
  bundle: true,
  platform: 'node',
  target: `node${process.versions.node.split('.')[0]}`,
  logLevel: 'warning',
  plugins: [withoutNativeAddons],
  // No agent.proto beside the bundle: it is read at build time (see protocol/src/load.ts).
  define: { LATTICE_EMBEDDED_PROTO: JSON.stringify(embeddedProto()) },
});

/**
 * An ES module (the operator and the console await at top level) whose CommonJS dependencies
 * require Node's built-ins, which an ES module bundle can only do through a require of its own.
 */
const esm: esbuild.BuildOptions = {
  format: 'esm',
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
};

/** agent/src/cli.ts as one CommonJS file: a single executable's main script must be CommonJS. */
export async function bundleAgent(outfile: string): Promise<void> {
  const options = common('agent/src/cli.ts', outfile);
  await esbuild.build({
    ...options,
    format: 'cjs',
    // ESM's import.meta.url, which a CommonJS bundle lacks: the bundle's (or executable's) own path.
    banner: { js: "const importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
    define: { ...options.define, 'import.meta.url': 'importMetaUrl' },
  });
}

/** The operator, and beside it the `lattice` CLI (join tokens, revocation) it runs in its pod for an admin. */
export async function bundleOperator(outdir: string): Promise<void> {
  await esbuild.build({ ...common('operator/src/main.ts', path.join(outdir, 'lattice-operator.mjs')), ...esm });
  await esbuild.build({ ...common('operator/src/cli.ts', path.join(outdir, 'lattice.mjs')), ...esm });
}

/** The BFF in outdir/server, the SPA (`vite build`) in outdir/dist, where the BFF looks for it. */
export async function bundleConsole(outdir: string): Promise<void> {
  await esbuild.build({ ...common('console/server/main.ts', path.join(outdir, 'server/main.mjs')), ...esm });
  await vite({ configFile: path.join(repoRoot, 'console/vite.config.ts'), logLevel: 'error', build: { outDir: path.join(outdir, 'dist') } });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const outdir = path.resolve(process.argv[2] ?? 'dist/bundles');
  await rm(outdir, { recursive: true, force: true });
  await Promise.all([
    bundleOperator(path.join(outdir, 'operator')),
    bundleConsole(path.join(outdir, 'console')),
    bundleAgent(path.join(outdir, 'agent/lattice-agent.cjs')),
  ]);
}
