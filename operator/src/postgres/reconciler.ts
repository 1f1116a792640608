// Reconciling one PostgresInstance: apply what it becomes, bring the live server's settings to
// the spec, then report what is.
//
//   1. Read the instance from the cache and its spec through the zod schema.
//   2. Refuse (in status) what cannot run: an unreadable spec, a name its children cannot have
//      (the CRD refuses it too, on create), a StatefulSet of that name it does
//      not manage, a change of major version (the CRD refuses it too; an object stored before that
//      rule, or a rule bypassed, must not reach a data directory of another version).
//   3. The password: from spec.passwordSecretRef, else the one generated earlier (kept in the
//      connection Secret), else a new one. Apply the connection Secret.
//   4. Settings: while the server runs, the desired ones are checked by PostgreSQL in the pod and
//      the reloadable ones applied (pg_reload_conf). Rejected ones leave the pod template alone.
//   5. Apply the Service and the StatefulSet (the restart-only settings are in its pod template,
//      so a change of them rolls the pod), and report the status.
import { isDeepStrictEqual } from 'node:util';
import type * as k8s from '@kubernetes/client-node';
import { API_VERSION, POSTGRES_INSTANCE_NAME_RULES, PostgresInstanceSpec, storedNameProblem, type PostgresInstance, type PostgresInstanceStatus } from '@lattice/crds';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { ReconcileResult } from '../controller/controller.js';
import { changedConditions, findCondition, nextConditions } from '../controller/conditions.js';
import { splitKey } from '../controller/keys.js';
import type { Applier } from '../kube/apply.js';
import type { EventRecorder, EventTarget } from '../kube/events.js';
import { isControlledBy } from '../kube/owners.js';
import { tcpPortsOf, type PublicEndpoints } from '../gateway/ingress/exposure.js';
import { POSTGRES_INSTANCES, type PostgresCaches, type StoredInstance } from './caches.js';
import { POSTGRES_PORT, connectionSecretName, generatePassword, serviceHost } from './connection.js';
import type { PodExec } from './exec.js';
import type { PostgresImages } from './images.js';
import { CONTAINER_NAME, VERSION_LABEL, connectionSecret, service, statefulSet, type PasswordSource } from './objects.js';
import { APPLY_SETTINGS_SCRIPT, INVALID_SETTINGS_EXIT, rejectionMessage } from './scripts.js';
import { commandLineSettings, desiredSettings, managedParameterProblem, renderConf, splitSettings, type Settings } from './settings.js';
import { READY, assess, failed, isReady, waiting, type Assessment, type SettingsVerdict } from './status.js';
import { textOf } from '../kube/secret-data.js';

/** How soon settings are checked again when the running server could not be reached. */
const UNREACHABLE_RETRY_MS = 5_000;
const EXEC_TIMEOUT_MS = 30_000;

export class PostgresReconciler {
  constructor(
    private readonly caches: PostgresCaches,
    private readonly applier: Applier,
    private readonly exec: PodExec,
    private readonly events: EventRecorder,
    private readonly placement: { images: PostgresImages; providerSelector?: Record<string, string>; publicEndpoints?: PublicEndpoints },
  ) {}

  async reconcile(key: string, log: Logger): Promise<ReconcileResult | void> {
    const { namespace = '', name } = splitKey(key);
    const stored = this.caches.instances.get(name, namespace);
    // Deleted, or being deleted: the garbage collector removes the children.
    if (!stored || stored.metadata?.deletionTimestamp) return;

    const spec = PostgresInstanceSpec.safeParse(stored.spec);
    if (!spec.success) return this.report(stored, failed('InvalidSpec', `spec cannot be read: ${z.prettifyError(spec.error)}`), log);
    const pg = { ...stored, apiVersion: API_VERSION, kind: 'PostgresInstance', metadata: stored.metadata ?? {}, spec: spec.data } as PostgresInstance;
    // The CRD refuses such a name on create; an instance stored before it did is reported here.
    const badName = storedNameProblem('PostgresInstance', POSTGRES_INSTANCE_NAME_RULES, pg);
    if (badName) return this.report(stored, failed('InvalidName', badName), log);

    const current = this.caches.statefulSets.get(name, namespace);
    if (current && !isControlledBy(current, pg.metadata.uid)) {
      const message = `A StatefulSet named ${name} already exists and is not managed by this PostgresInstance. Delete it, or give the PostgresInstance another name.`;
      return this.report(stored, failed('NameConflict', message), log);
    }
    const runningVersion = current?.metadata?.labels?.[VERSION_LABEL];
    if (runningVersion && runningVersion !== pg.spec.version) {
      const message =
        `spec.version is ${pg.spec.version}, but the data directory is PostgreSQL ${runningVersion}: major version upgrades are not supported. ` +
        `Set spec.version back to ${runningVersion}, or create a new PostgresInstance and move the data with pg_dump and pg_restore.`;
      return this.report(stored, failed('VersionChangeRefused', message), log);
    }

    const password = await this.password(pg);
    if ('missing' in password) return this.report(stored, waiting('PasswordSecretMissing', password.missing), log);
    const connection = { host: serviceHost(name, namespace), port: POSTGRES_PORT, username: pg.spec.owner, password: password.value, dbname: pg.spec.database };
    await this.applier.apply(connectionSecret(pg, connection, this.publicAddress(pg)));

    const pod = this.caches.podOf(namespace, name);
    const settings = desiredSettings(pg.spec);
    const managed = managedParameterProblem(pg.spec.parameters);
    const verdict: SettingsVerdict = managed
      ? { result: 'invalid', message: managed }
      : pod && isReady(pod)
        ? await this.applySettings(pod, settings, log)
        : { result: 'unchecked' };

    await this.applier.apply(service(pg));
    await this.applier.apply(
      statefulSet(pg, {
        image: this.placement.images(pg.spec.version),
        providerSelector: this.placement.providerSelector,
        password: password.source,
        // Rejected settings never reach the pod template: the running server keeps its own.
        settingsArgs: verdict.result === 'invalid' && current ? currentSettingsArgs(current) : commandLineSettings(splitSettings(settings).postmaster),
        currentClaims: current?.spec?.volumeClaimTemplates,
      }),
    );
    await this.report(stored, assess(pg, pod, verdict), log);
    // The server was Ready but not reachable for the check (an agent restarting): look again.
    if (pod && isReady(pod) && verdict.result === 'unchecked') return { requeueAfterMs: UNREACHABLE_RETRY_MS };
  }

  /** Where the gateway serves the instance publicly: its tcp host and the port it allocated (on the Service). */
  private publicAddress(pg: PostgresInstance): { host: string; port: number } | undefined {
    const endpoints = this.placement.publicEndpoints;
    if (pg.spec.expose !== 'public' || !endpoints) return undefined;
    const service = this.caches.services.get(pg.metadata.name!, pg.metadata.namespace);
    const port = service && isControlledBy(service, pg.metadata.uid) ? tcpPortsOf(service).postgres : undefined;
    return port ? { host: endpoints.tcpHost, port } : undefined;
  }

  /** The owner's password and the Secret the pod reads it from; never logged. */
  private async password(pg: PostgresInstance): Promise<{ source: PasswordSource; value: string } | { missing: string }> {
    const { name, namespace } = pg.metadata as { name: string; namespace: string };
    const ref = pg.spec.passwordSecretRef;
    if (ref) {
      const secret = await this.applier.read<k8s.V1Secret>({ apiVersion: 'v1', kind: 'Secret', metadata: { name: ref.name, namespace } });
      const value = secret?.data?.[ref.key];
      if (value === undefined) {
        return {
          missing: `spec.passwordSecretRef names key ${ref.key} of Secret ${ref.name}, which ${secret ? 'has no such key' : 'does not exist'}. Create it, or remove spec.passwordSecretRef to have a password generated.`,
        };
      }
      return { source: { secretName: ref.name, key: ref.key }, value: textOf(value) };
    }
    const secretName = connectionSecretName(name);
    // Read from the API, not a cache: a cache that has not seen the Secret yet would make a second password.
    const existing = await this.applier.read<k8s.V1Secret>({ apiVersion: 'v1', kind: 'Secret', metadata: { name: secretName, namespace } });
    const kept = existing && isControlledBy(existing, pg.metadata.uid) ? existing.data?.password : undefined;
    return { source: { secretName, key: 'password' }, value: kept ? textOf(kept) : generatePassword() };
  }

  /** Checks every desired setting in the running server and applies the reloadable ones. */
  private async applySettings(pod: k8s.V1Pod, settings: Settings, log: Logger): Promise<SettingsVerdict> {
    const target = { namespace: pod.metadata!.namespace!, name: pod.metadata!.name!, container: CONTAINER_NAME };
    const command = ['sh', '-c', APPLY_SETTINGS_SCRIPT, 'apply', renderConf(splitSettings(settings).reloadable), ...commandLineSettings(settings)];
    try {
      const result = await this.exec.run(target, command, EXEC_TIMEOUT_MS);
      if (result.exitCode === INVALID_SETTINGS_EXIT) return { result: 'invalid', message: rejectionMessage(result.stderr) };
      if (result.exitCode !== 0) throw new Error(`exit code ${result.exitCode}: ${result.stderr.trim()}`);
      if (result.stdout.includes('reloaded')) log.info({ pod: target.name }, 'settings reloaded');
      return { result: 'applied' };
    } catch (err) {
      log.info({ err, pod: target.name }, 'could not check the settings in the running server; retrying');
      return { result: 'unchecked' };
    }
  }

  /** Applies the status if it changed, and tells the story of its transitions as Events. */
  private async report(stored: StoredInstance, assessment: Assessment, log: Logger): Promise<void> {
    const { name, namespace, generation = 0, uid } = stored.metadata!;
    const previous = stored.status?.conditions;
    const conditions = nextConditions(previous, assessment.conditions, generation, new Date());
    const status: PostgresInstanceStatus = { observedGeneration: generation, ...assessment.status, conditions };
    // JSON drops the undefined fields, as the API would.
    if (isDeepStrictEqual(JSON.parse(JSON.stringify(status)), stored.status)) return;

    const target: EventTarget = { apiVersion: API_VERSION, kind: 'PostgresInstance', name: name!, namespace: namespace!, uid: uid! };
    await this.applier.applyStatus(POSTGRES_INSTANCES, target, status);
    log.debug({ phase: status.phase }, 'status updated');

    for (const condition of changedConditions(previous, conditions)) {
      const before = findCondition(previous, condition.type);
      const verdict = assessment.conditions.find((v) => v.type === condition.type)!;
      // Ready tells its status changes; Degraded its problems.
      const worthTelling = condition.type === READY ? before?.status !== condition.status : verdict.warning === true;
      if (worthTelling) await this.events.record(target, verdict.warning ? 'Warning' : 'Normal', condition.reason, condition.message);
    }
  }
}

/** The `-c` arguments of the StatefulSet's pod template as applied (after the `$0` of sh -c). */
function currentSettingsArgs(current: k8s.V1StatefulSet): string[] {
  return current.spec?.template.spec?.containers.find((c) => c.name === CONTAINER_NAME)?.args?.slice(1) ?? [];
}
