// Runs once before the integration suites (jest.config.js): the cluster serves the Lattice kinds
// before any suite starts an operator, whichever suite comes first. jest loads a global setup
// outside its module mapping, so this one is JavaScript and loads the TypeScript helper with tsx.
import { tsImport } from 'tsx/esm/api';

export default async function globalSetup() {
  const { installCrds } = await tsImport('./cluster.ts', import.meta.url);
  await installCrds();
}
