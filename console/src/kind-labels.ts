// How the console names each kind to a user.
import type { Plural } from './lattice-object.js';

export const KIND_LABEL: Record<Plural, { one: string; section: string }> = {
  workloads: { one: 'App', section: 'Apps' },
  postgresinstances: { one: 'PostgreSQL database', section: 'Databases' },
  cronworkloads: { one: 'Cron job', section: 'Cron jobs' },
};
