// Builds the SPA into console/dist, which the BFF serves. JSX goes through esbuild's automatic
// runtime (no React plugin needed); each page is its own chunk (see the lazy routes in src/router.tsx).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root,
  esbuild: { jsx: 'automatic' },
  build: { outDir: path.join(root, 'dist'), emptyOutDir: true, target: 'es2022' },
});
