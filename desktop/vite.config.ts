// Builds the renderer into desktop/dist/renderer: Electron loads it from disk, the development
// server serves it to a browser. Relative asset paths, so file:// works.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root: path.join(root, 'src/renderer'),
  base: './',
  esbuild: { jsx: 'automatic' },
  build: { outDir: path.join(root, 'dist/renderer'), emptyOutDir: true, target: 'es2022' },
});
