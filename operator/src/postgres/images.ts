// The image of each PostgreSQL major version: 127.0.0.1:5001/lattice/postgres:<version> (built by
// hack/images), or LATTICE_POSTGRES_IMAGE_<version> from the operator's environment, e.g.
// LATTICE_POSTGRES_IMAGE_15=registry.example.com/postgres:15.8.
import type { PostgresInstanceSpec } from '@lattice/crds';

export type PostgresImages = (version: PostgresInstanceSpec['version']) => string;

export function postgresImages(env: NodeJS.ProcessEnv): PostgresImages {
  return (version) => env[`LATTICE_POSTGRES_IMAGE_${version}`] ?? `127.0.0.1:5001/lattice/postgres:${version}`;
}
