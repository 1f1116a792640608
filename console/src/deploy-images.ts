// The images the deploy form's prebuilt types start from. Whoever runs the console chooses them
// (console/server/main.ts reads them from its environment, with public defaults) and the BFF
// serves them at GET /api/deploy-images: one schema for both ends, so the browser takes only what
// the server could have started with.
import { ImageReference } from '@lattice/crds';
import { z } from 'zod';

export const DeployImages = z.strictObject({
  redis: ImageReference,
  minio: ImageReference,
  /** The cron job's image: one with a shell, since its command runs with sh -c. */
  cron: ImageReference,
});
export type DeployImages = z.infer<typeof DeployImages>;
