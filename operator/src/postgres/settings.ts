// postgresql.conf settings of an instance: PostgreSQL's own sizing advice for the memory the
// container is given, overridden by spec.parameters, split by what a change of each one needs.
//
// Settings with context `postmaster` are read only when the server starts: they are passed as
// `-c name=value` arguments of the postgres command in the pod template, so changing one rolls
// the pod (a restart). Every other setting is written to lattice.conf in the data directory and
// applied with pg_reload_conf(), without a restart (see scripts.ts).
import type { PostgresInstanceSpec } from '@lattice/crds';
import { parseQuantity } from '@lattice/crds';

export type Settings = Record<string, string>;

/** PostgreSQL 15's settings with context `postmaster` (SELECT name FROM pg_settings WHERE context = 'postmaster'). */
export const POSTMASTER_PARAMETERS: ReadonlySet<string> = new Set([
  'archive_mode', 'autovacuum_freeze_max_age', 'autovacuum_max_workers', 'autovacuum_multixact_freeze_max_age',
  'bonjour', 'bonjour_name', 'cluster_name', 'data_sync_retry', 'dynamic_shared_memory_type', 'event_source',
  'hot_standby', 'huge_page_size', 'huge_pages', 'ignore_invalid_pages', 'jit_provider', 'logging_collector',
  'max_connections', 'max_files_per_process', 'max_locks_per_transaction', 'max_logical_replication_workers',
  'max_pred_locks_per_transaction', 'max_prepared_transactions', 'max_replication_slots', 'max_wal_senders',
  'max_worker_processes', 'min_dynamic_shared_memory', 'old_snapshot_threshold', 'recovery_target',
  'recovery_target_action', 'recovery_target_inclusive', 'recovery_target_lsn', 'recovery_target_name',
  'recovery_target_time', 'recovery_target_timeline', 'recovery_target_xid', 'shared_buffers', 'shared_memory_type',
  'shared_preload_libraries', 'superuser_reserved_connections', 'track_activity_query_size', 'track_commit_timestamp',
  'unix_socket_group', 'unix_socket_permissions', 'wal_buffers', 'wal_decode_buffer_size', 'wal_level', 'wal_log_hints',
]);

/**
 * Settings Lattice decides, because the pod depends on them (where the data and the socket are,
 * that the server listens on the pod's address and port 5432, that lattice.conf is read).
 */
export const MANAGED_PARAMETERS: ReadonlySet<string> = new Set([
  'config_file', 'data_directory', 'external_pid_file', 'hba_file', 'ident_file', 'include', 'include_dir',
  'include_if_exists', 'listen_addresses', 'port', 'unix_socket_directories',
]);

/** PostgreSQL matches setting names case-insensitively. */
const normalize = (name: string) => name.toLowerCase();

export const needsRestart = (name: string): boolean => POSTMASTER_PARAMETERS.has(normalize(name));

const KB = 1024;
const clamp = (n: number, min: number, max: number) => Math.min(max, Math.max(min, n));

/**
 * PostgreSQL's sizing advice for a server that has `memoryBytes` to itself: shared_buffers a
 * quarter of it, effective_cache_size three quarters (the planner's estimate of what the OS
 * caches), connections in proportion (each costs a few MB), work_mem so that three sorts per
 * connection fit in what shared_buffers leaves, maintenance_work_mem a sixteenth (up to 2GB).
 */
export function recommendedSettings(memoryBytes: number): Settings {
  const kb = Math.floor(memoryBytes / KB);
  const sharedBuffers = Math.max(128, Math.floor(kb / 4));
  const maxConnections = clamp(Math.floor(kb / KB / 5), 20, 500);
  return {
    shared_buffers: `${sharedBuffers}kB`,
    effective_cache_size: `${Math.floor((kb * 3) / 4)}kB`,
    max_connections: String(maxConnections),
    work_mem: `${Math.max(64, Math.floor((kb - sharedBuffers) / (maxConnections * 3)))}kB`,
    maintenance_work_mem: `${clamp(Math.floor(kb / 16), KB, 2 * KB * KB)}kB`,
  };
}

/** The recommended settings for spec.resources.memory, with spec.parameters over them. */
export function desiredSettings(spec: Pick<PostgresInstanceSpec, 'resources' | 'parameters'>): Settings {
  const own = Object.entries(spec.parameters ?? {}).map(([name, value]) => [normalize(name), value]);
  return { ...recommendedSettings(parseQuantity(spec.resources.memory)), ...Object.fromEntries(own) };
}

/** Why spec.parameters cannot be used as they are, or undefined. */
export function managedParameterProblem(parameters: Settings | undefined): string | undefined {
  const managed = Object.keys(parameters ?? {}).filter((name) => MANAGED_PARAMETERS.has(normalize(name)));
  if (managed.length === 0) return undefined;
  return `spec.parameters sets ${managed.join(', ')}, which Lattice manages (the server must listen on port 5432 and keep its data and socket where the pod expects them). Remove ${managed.length === 1 ? 'it' : 'them'} from spec.parameters.`;
}

/** The settings read only at start, and those a reload applies. */
export function splitSettings(settings: Settings): { postmaster: Settings; reloadable: Settings } {
  const entries = Object.entries(settings).sort(([a], [b]) => a.localeCompare(b));
  return {
    postmaster: Object.fromEntries(entries.filter(([name]) => needsRestart(name))),
    reloadable: Object.fromEntries(entries.filter(([name]) => !needsRestart(name))),
  };
}

/** `-c name=value` arguments of the postgres command, in name order (a stable pod template). */
export function commandLineSettings(settings: Settings): string[] {
  return Object.entries(settings)
    .sort(([a], [b]) => a.localeCompare(b))
    .flatMap(([name, value]) => ['-c', `${name}=${value}`]);
}

/** A postgresql.conf fragment; values quoted, a quote in a value doubled as the file format asks. */
export function renderConf(settings: Settings): string {
  return Object.entries(settings)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => `${name} = '${value.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`)
    .join('\n');
}
