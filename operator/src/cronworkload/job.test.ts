import { CronWorkload } from '@lattice/crds';
import { runJob } from './job.js';

const cw = CronWorkload.parse({
  apiVersion: 'lattice.dev/v1alpha1',
  kind: 'CronWorkload',
  metadata: { name: 'nightly', namespace: 'team', uid: 'uid-1', labels: { 'app.kubernetes.io/part-of': 'shop' } },
  spec: {
    schedule: '30 2 * * *',
    template: {
      image: '127.0.0.1:5001/lattice/busybox:1',
      command: ['sh', '-c'],
      args: ['echo hi'],
      env: [
        { name: 'MODE', value: 'full' },
        { name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: 'db', key: 'uri' } } },
      ],
      resources: { cpu: '500m', memory: '128Mi' },
      activeDeadlineSeconds: 600,
      backoffLimit: 2,
    },
  },
});

describe('the Job of a run', () => {
  const job = runJob(cw, { scheduledAt: new Date('2026-01-01T02:30:00Z') });
  const pod = job.spec!.template.spec!;
  const container = pod.containers[0]!;

  test('is named for its time and owned by the CronWorkload, so it goes when the CronWorkload does', () => {
    expect(job.metadata).toMatchObject({
      name: 'nightly-29453910',
      namespace: 'team',
      annotations: { 'lattice.dev/scheduled-at': '2026-01-01T02:30:00.000Z' },
      ownerReferences: [{ apiVersion: 'lattice.dev/v1alpha1', kind: 'CronWorkload', name: 'nightly', uid: 'uid-1', controller: true }],
    });
  });

  test('retries with backoffLimit and stops at activeDeadlineSeconds, and is never deleted by a TTL', () => {
    expect(job.spec).toMatchObject({ backoffLimit: 2, activeDeadlineSeconds: 600 });
    expect(job.spec!.ttlSecondsAfterFinished).toBeUndefined();
    expect(pod.restartPolicy).toBe('Never');
  });

  test('runs on provider nodes only', () => {
    expect(pod.nodeSelector).toEqual({ 'lattice.dev/provider': 'true' });
    expect(pod.tolerations).toEqual([{ key: 'lattice.dev/provider', operator: 'Exists', effect: 'NoSchedule' }]);
  });

  test("runs the template's container, with requests equal to limits and no API token", () => {
    expect(container).toMatchObject({
      image: '127.0.0.1:5001/lattice/busybox:1',
      command: ['sh', '-c'],
      args: ['echo hi'],
      env: [
        { name: 'MODE', value: 'full' },
        { name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: 'db', key: 'uri' } } },
      ],
      resources: { requests: { cpu: '500m', memory: '128Mi' }, limits: { cpu: '500m', memory: '128Mi' } },
    });
    expect(pod.automountServiceAccountToken).toBe(false);
  });

  test("pulls with the template's pull secrets", () => {
    const withSecrets = CronWorkload.parse({ ...cw, spec: { ...cw.spec, template: { ...cw.spec.template, imagePullSecrets: [{ name: 'registry-login' }] } } });
    expect(runJob(withSecrets, { scheduledAt: new Date() }).spec!.template.spec!.imagePullSecrets).toEqual([{ name: 'registry-login' }]);
    expect(pod.imagePullSecrets).toBeUndefined();
  });

  test('labels the Job and its pods with the app.kubernetes.io set and the CronWorkload', () => {
    const labels = {
      'app.kubernetes.io/name': 'nightly',
      'app.kubernetes.io/instance': 'nightly',
      'app.kubernetes.io/component': 'run',
      'app.kubernetes.io/managed-by': 'lattice-operator',
      'app.kubernetes.io/part-of': 'shop',
      'lattice.dev/cronworkload': 'nightly',
    };
    expect(job.metadata!.labels).toEqual(labels);
    expect(job.spec!.template.metadata!.labels).toEqual(labels);
  });

  test('a run by hand carries its run-now value instead of a scheduled time', () => {
    const manual = runJob(cw, { runNow: 'now please' });
    expect(manual.metadata!.name).toMatch(/^nightly-now-[0-9a-f]{8}$/);
    expect(manual.metadata!.annotations).toEqual({ 'lattice.dev/run-now': 'now please' });
  });
});
