// What runs inside the PostgreSQL container. The image has PostgreSQL's binaries and nothing
// else (no entrypoint), so the start logic is here, as POSIX sh run by the unprivileged postgres
// user. The server runs as PID 1 (exec), so stopping the container stops PostgreSQL cleanly.

/** The data volume; PGDATA is a directory inside it (initdb wants to create or own PGDATA). */
export const DATA_MOUNT = '/var/lib/postgresql';
export const PGDATA = `${DATA_MOUNT}/data`;
export const PASSWORD_MOUNT = '/etc/lattice/password';
export const PASSWORD_FILE = `${PASSWORD_MOUNT}/password`;
/** Debian's default socket directory: the image's postgres user owns it. */
export const SOCKET_DIR = '/var/run/postgresql';
/** The fragment with the reloadable settings, included by postgresql.conf. */
export const SETTINGS_FILE = 'lattice.conf';

/**
 * Starts the server: `sh -c START_SCRIPT postgres [-c name=value]...`, with LATTICE_OWNER,
 * LATTICE_DATABASE and LATTICE_PASSWORD_FILE in the environment.
 *
 * 1. An empty volume is initialised beside PGDATA (initdb: local connections by peer, so only the
 *    container's own postgres user is superuser; every other connection by SCRAM password; then
 *    the owner role and its database), and moved into place only when complete: a start killed
 *    half-way begins again instead of finding a cluster without its database.
 * 2. Every start sets the owner's password from the mounted Secret, in single-user mode before the
 *    server listens. This is how a rotated password takes effect: the agent re-creates a pod's
 *    containers when a Secret they mount changes, so the new password is set by the next start,
 *    on the same data. The statement is never logged (log_min_error_statement=panic) and the
 *    password never appears in a command line.
 * 3. exec postgres, with the restart-only settings as arguments.
 */
export const START_SCRIPT = `set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  init="$PGDATA.init"
  rm -rf "$init"
  initdb --pgdata="$init" --username=postgres --auth-local=peer --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  printf '%s\\n' "listen_addresses = '*'" "include_if_exists = '${SETTINGS_FILE}'" >>"$init/postgresql.conf"
  echo 'host all all all scram-sha-256' >>"$init/pg_hba.conf"
  printf '%s\\n' "CREATE ROLE \\"$LATTICE_OWNER\\" LOGIN;" "CREATE DATABASE \\"$LATTICE_DATABASE\\" OWNER \\"$LATTICE_OWNER\\";" |
    postgres --single -D "$init" postgres >/dev/null
  if [ -d "$PGDATA" ]; then rmdir "$PGDATA"; fi
  mv "$init" "$PGDATA"
  echo "lattice: initialised $PGDATA with database $LATTICE_DATABASE owned by $LATTICE_OWNER"
fi
password=$(sed "s/'/''/g" "$LATTICE_PASSWORD_FILE")
printf "ALTER ROLE \\"%s\\" PASSWORD '%s';\\n" "$LATTICE_OWNER" "$password" |
  postgres --single -D "$PGDATA" -c log_min_error_statement=panic postgres >/dev/null
unset password
exec postgres -D "$PGDATA" "$@"
`;

/** Exit status of APPLY_SETTINGS_SCRIPT when PostgreSQL rejects a setting (its message on stderr). */
export const INVALID_SETTINGS_EXIT = 3;

/**
 * Run in the live container: `sh -c APPLY_SETTINGS_SCRIPT apply <lattice.conf> [-c name=value]...`.
 *
 * First every desired setting, the restart-only ones too, is checked by this server's own binary
 * (`postgres -C` reads the configuration, applies the -c values, and fails on an unknown name or
 * an invalid value; it runs beside a live server without touching it). If PostgreSQL rejects one,
 * nothing changes. Otherwise lattice.conf is replaced when it differs and the server reloads it.
 */
export const APPLY_SETTINGS_SCRIPT = `set -eu
conf=$1
shift
if ! problem=$(postgres -D "$PGDATA" "$@" -C data_directory 2>&1 >/dev/null); then
  printf '%s\\n' "$problem" >&2
  exit ${INVALID_SETTINGS_EXIT}
fi
target="$PGDATA/${SETTINGS_FILE}"
if printf '%s\\n' "$conf" | cmp -s - "$target"; then exit 0; fi
printf '%s\\n' "$conf" >"$target.new"
mv "$target.new" "$target"
psql -h ${SOCKET_DIR} -d postgres -qAtc 'SELECT pg_reload_conf()' >/dev/null
echo reloaded
`;

/** Ready when the server accepts connections and answers a query (over the local socket). */
export const READINESS_COMMAND = [
  'sh',
  '-c',
  `pg_isready -q -h ${SOCKET_DIR} && psql -h ${SOCKET_DIR} -d postgres -qAtc 'SELECT 1' >/dev/null`,
];

/**
 * PostgreSQL's own words from what `postgres -C` printed on stderr, without the log prefix:
 *   2026-01-02 03:04:05.678 GMT [52] FATAL:  invalid value for parameter "work_mem": "banana"
 * becomes: invalid value for parameter "work_mem": "banana".
 */
export function rejectionMessage(stderr: string): string {
  return stderr
    .split('\n')
    .map((line) => line.replace(/^.*?\b(?:FATAL|ERROR|LOG|DETAIL|HINT):\s+/, '').trim())
    .filter(Boolean)
    .join('; ');
}
