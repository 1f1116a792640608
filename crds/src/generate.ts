// `make crds` (npm run generate -w crds): writes the CRDs and the API reference from the schemas.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generatedFiles, repoRoot } from './outputs.js';

for (const [file, content] of generatedFiles()) {
  mkdirSync(path.dirname(path.join(repoRoot, file)), { recursive: true });
  writeFileSync(path.join(repoRoot, file), content);
  console.log(`wrote ${file}`);
}
