// The image of each PostgreSQL major version: <registry>/lattice/postgres:<version> (built by
// hack/images), or LATTICE_POSTGRES_IMAGE_<version> from the operator's environment, e.g.
// LATTICE_POSTGRES_IMAGE_15=registry.example.com/postgres:15.8.
import type { PostgresInstanceSpec } from '@lattice/crds';
import { postgresImage } from '../platform-images.js';

export type PostgresImages = (version: PostgresInstanceSpec['version']) => string;

export function postgresImages(env: NodeJS.ProcessEnv, registry: string): PostgresImages {
  return (version) => env[`LATTICE_POSTGRES_IMAGE_${version}`] ?? postgresImage(registry, version);
}
