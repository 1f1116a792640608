import { initialValues, validate } from './deploy-form.js';

const values = { ...initialValues, name: 'web', image: 'nginx:1.27' };

describe('the deploy form', () => {
  test('a complete form gives a spec with only what the user set', () => {
    const { spec, errors } = validate({ ...values, port: '8080', env: [{ name: 'MODE', value: 'prod' }] });
    expect(errors).toEqual({});
    expect(spec).toEqual({
      image: 'nginx:1.27',
      replicas: 1,
      resources: { cpu: '250m', memory: '256Mi' },
      ports: [{ name: 'http', port: 8080 }],
      env: [{ name: 'MODE', value: 'prod' }],
    });
  });

  test('each bad value is reported on its own field, with the schema message', () => {
    const { errors } = validate({
      ...values,
      name: 'Web App',
      cpu: 'lots',
      port: '70000',
      replicas: 'two',
      env: [{ name: '1BAD', value: '' }],
    });
    expect(Object.keys(errors).sort()).toEqual(['cpu', 'env.0.name', 'name', 'port', 'replicas']);
    expect(errors.cpu).toBe('must be a positive Kubernetes quantity, such as 250m, 0.5 or 2');
  });

  test('an image is required', () => {
    expect(validate({ ...values, image: '' }).errors.image).toBeDefined();
  });
});
