// Runs once before the integration suites (jest.config.js): the cluster serves the Lattice kinds
// before any suite starts an operator, whichever suite comes first.
import { installCrds } from './cluster.js';

export default async function globalSetup(): Promise<void> {
  await installCrds();
}
