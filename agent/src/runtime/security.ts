// The security profile every consumer container runs with. The code inside is a stranger's, on a
// provider's machine: nothing in a pod description can widen this profile, it is not built from
// the pod at all (the gateway also refuses pods asking for more, but the agent does not rely on it).
import type Docker from 'dockerode';

/**
 * The capabilities kept out of Docker's default set: what an ordinary image needs to start, most
 * often an entrypoint that runs as root to prepare its data directory and then drops to its own
 * user (postgres, nginx, redis...):
 * - CHOWN, FOWNER, FSETID, DAC_OVERRIDE: chown/chmod its files and write to directories it is
 *   about to take over;
 * - SETUID, SETGID: switch to the unprivileged user (gosu, su-exec, nginx workers);
 * - KILL: signal its own children when they run as another user;
 * - NET_BIND_SERVICE: listen on ports below 1024 (80, 443) inside the pod's own network.
 * Left out of Docker's defaults: NET_RAW (raw sockets: spoofing, ARP on the bridge), MKNOD,
 * SYS_CHROOT, SETPCAP, SETFCAP, AUDIT_WRITE.
 */
export const CONTAINER_CAPABILITIES = [
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'SETUID',
  'SETGID',
  'KILL',
  'NET_BIND_SERVICE',
] as const;

/** A fork bomb stops here rather than at the provider's process table. */
export const PIDS_LIMIT = 1024;

/**
 * The HostConfig fields that confine a container. Host namespaces are never joined: the network
 * and IPC namespaces are the pod sandbox's (set by the caller), PID and UTS stay private.
 * Docker's default seccomp and AppArmor profiles stay on (they are only off when asked).
 */
export function confinement(capabilities: readonly string[]): Docker.HostConfig {
  return {
    Privileged: false,
    CapDrop: ['ALL'],
    CapAdd: [...capabilities],
    // setuid binaries in the image cannot regain what was dropped.
    SecurityOpt: ['no-new-privileges'],
    PidsLimit: PIDS_LIMIT,
    PidMode: '',
    UTSMode: '',
    UsernsMode: '',
    Devices: [],
    // The agent restarts containers itself (restart policy, back-off, restart counts).
    RestartPolicy: { Name: 'no' },
    // Bounded logs in the format `docker logs`, hence `kubectl logs`, reads: the kubelet's defaults.
    LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '5' } },
  };
}
