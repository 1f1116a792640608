// The security profile every consumer container runs with. The code inside is a stranger's, on a
// provider's machine: nothing in a pod description can widen this profile (the gateway also
// refuses pods asking for more, but the agent does not rely on it); a pod may only narrow it
// (capabilities.drop, readOnlyRootFilesystem, runAsNonRoot: container-config.ts).
import type Docker from 'dockerode';
export { CONTAINER_CAPABILITIES } from '@lattice/protocol';

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
