import { initialValues, typeDescription, validate, valuesFor } from './deploy-form.js';
import { DeployImages } from './deploy-images.js';

const values = { ...initialValues, name: 'web', image: 'nginx:1.27' };
/** As a platform with its own registry would configure the console. */
const images: DeployImages = { redis: 'registry.example.com/base/redis:7.2', minio: 'registry.example.com/base/minio:2025', cron: 'registry.example.com/base/busybox:1' };

describe('the deploy form', () => {
  test('a complete container-image form gives a Workload spec with only what the user set', () => {
    const { plural, spec, errors } = validate({ ...values, port: '8080', public: true, env: [{ name: 'MODE', value: 'prod' }] });
    expect(errors).toEqual({});
    expect(plural).toBe('workloads');
    expect(spec).toEqual({
      image: 'nginx:1.27',
      replicas: 1,
      resources: { cpu: '250m', memory: '256Mi' },
      ports: [{ name: 'http', port: 8080, expose: 'public' }],
      env: [{ name: 'MODE', value: 'prod' }],
    });
  });

  test('each bad value is reported on its own field, with the schema message', () => {
    const { errors } = validate({ ...values, name: 'Web App', cpu: 'lots', port: '70000', replicas: 'two', env: [{ name: '1BAD', value: '' }] });
    expect(Object.keys(errors).sort()).toEqual(['cpu', 'env.0.name', 'name', 'port', 'replicas']);
    expect(errors.cpu).toBe('must be a positive Kubernetes quantity, such as 250m, 0.5 or 2');
  });

  test("a name the kind's children cannot be named after is refused on the field, with the API's own rule", () => {
    expect(validate({ ...values, name: 'my.app' }).errors.name).toMatch(/DNS label of at most 63 characters/);
    expect(validate({ ...values, name: 'a'.repeat(63) }).errors.name).toBeUndefined();
    const withVolume = { ...values, type: 'redis' as const, image: 'redis:7', storage: '1Gi', name: 'a'.repeat(53) };
    expect(validate(withVolume).errors.name).toMatch(/spec\.volumes.*at most 52/);
    expect(validate({ ...values, type: 'cron', schedule: '0 * * * *', name: 'a'.repeat(51) }).errors.name).toMatch(/at most 50/);
    expect(validate({ ...values, type: 'postgres', database: 'app', storage: '1Gi', name: 'app.db' }).errors.name).toMatch(/PostgresInstance's name/);
  });

  test('an image is required', () => {
    expect(validate({ ...values, image: '' }).errors.image).toBeDefined();
  });

  test('a Node.js app from Git is a Workload with source and build; a bad URL is shown on the Git field', () => {
    const node = { ...valuesFor('node', values, images), gitUrl: 'https://github.com/org/app.git', startCommand: 'npm start' };
    const { spec, errors } = validate(node);
    expect(errors).toEqual({});
    expect(spec).toMatchObject({ source: { url: 'https://github.com/org/app.git', ref: 'main' }, build: { strategy: 'node', startCommand: 'npm start' }, ports: [{ port: 3000 }] });
    expect(validate({ ...node, gitUrl: 'github.com/org/app' }).errors.gitUrl).toBe('must be an https:// or ssh:// Git URL, or git@host:path');
  });

  test('PostgreSQL is a PostgresInstance whose owner is named like its database', () => {
    const { plural, spec, errors } = validate({ ...valuesFor('postgres', values, images), database: 'shop' });
    expect(errors).toEqual({});
    expect(plural).toBe('postgresinstances');
    expect(spec).toEqual({ database: 'shop', owner: 'shop', storage: { size: '1Gi' }, resources: { cpu: '500m', memory: '512Mi' } });
    expect(validate({ ...valuesFor('postgres', values, images), database: 'Shop-DB' }).errors.database).toBeDefined();
  });

  test('a cron job is a CronWorkload; a bad schedule is shown on the schedule field with the API message', () => {
    const cron = { ...valuesFor('cron', values, images), schedule: '*/5 * * * *', command: 'echo hi' };
    const { plural, spec, errors } = validate(cron);
    expect(errors).toEqual({});
    expect(plural).toBe('cronworkloads');
    expect(spec).toMatchObject({ schedule: '*/5 * * * *', timeZone: 'UTC', template: { command: ['sh', '-c', 'echo hi'] } });
    expect(validate({ ...cron, schedule: '61 * * * *' }).errors.schedule).toMatch(/^minute \(the 1st field\) must be 0-59/);
  });

  test('Redis, MinIO and cron jobs start from the configured images and name them; MinIO wants a real password', () => {
    expect(validate(valuesFor('redis', values, images)).spec).toMatchObject({ image: images.redis, ports: [{ port: 6379, protocol: 'TCP' }] });
    expect(valuesFor('minio', values, images).image).toBe(images.minio);
    expect(valuesFor('cron', values, images).image).toBe(images.cron);
    expect(typeDescription('redis', images)).toBe(`Redis from the image ${images.redis} (a provider must be able to pull it), on port 6379 with its data on a provider volume.`);
    expect(typeDescription('minio', images)).toContain(`from the image ${images.minio} `);
    expect(typeDescription('cron', images)).toContain(images.cron);
    expect(validate({ ...valuesFor('minio', values, images), minioPassword: 'short' }).errors.minioPassword).toBeDefined();
  });

  test('a type without a default image keeps what was typed out of the image field', () => {
    expect(valuesFor('image', valuesFor('redis', values, images), images).image).toBe('');
  });

  test('a configured image must be a reference without spaces', () => {
    expect(DeployImages.safeParse(images).success).toBe(true);
    const bad = DeployImages.safeParse({ ...images, redis: 'redis 7' });
    expect(bad.error?.issues).toEqual([expect.objectContaining({ path: ['redis'], message: 'must be an image reference without spaces, e.g. registry.example.com/team/redis:7' })]);
  });
});

test('provider labels become spec.placement.providerSelector; a malformed pair is refused on the field', () => {
  expect(validate({ ...values, providers: 'region=eu, gpu=true' }).spec).toMatchObject({ placement: { providerSelector: { region: 'eu', gpu: 'true' } } });
  expect(validate({ ...values, providers: 'region' }).errors.providers).toBeDefined();
});
