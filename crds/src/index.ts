// The Lattice API: zod schemas, their types and the names of the kinds. Browser-safe (no node:
// imports), so that the console validates forms with the same schemas the CRDs come from.
export * from './group.js';
export * from './common.js';
export * from './names.js';
export { parseQuantity } from './quantity.js';
export { CRON_MACROS, Schedule, TIME_ZONES, TimeZone, cronerError, scheduleRuleErrors } from './cron.js';
export type { KindDefinition, PrinterColumn } from './kind.js';
export * from './workload.js';
export * from './postgres-instance.js';
export * from './cron-workload.js';

import { cronWorkloadKind } from './cron-workload.js';
import type { KindDefinition } from './kind.js';
import { postgresInstanceKind } from './postgres-instance.js';
import { workloadKind } from './workload.js';

/** Every kind, in the order the CRDs and the reference list them. */
export const KINDS: readonly KindDefinition[] = [workloadKind, postgresInstanceKind, cronWorkloadKind];
