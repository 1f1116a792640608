// The images the deploy form's prebuilt types start from. Whoever runs the console chooses them
// (console/server/main.ts reads them from its environment, with public defaults) and the BFF
// serves them at GET /api/deploy-images: one schema for both ends, so the browser takes only what
// the server could have started with.
import { z } from 'zod';

/** An image reference as the Workload and CronWorkload schemas take it: no spaces, at most 512 characters. */
export const ImageReference = z
  .string()
  .regex(/^[^\s]+$/, 'must be an image reference without spaces, e.g. registry.example.com/team/redis:7')
  .max(512);

export const DeployImages = z.strictObject({
  redis: ImageReference,
  minio: ImageReference,
  /** The cron job's image: one with a shell, since its command runs with sh -c. */
  cron: ImageReference,
});
export type DeployImages = z.infer<typeof DeployImages>;
