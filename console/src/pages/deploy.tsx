// Deploy an app from a container image. The form is checked in the browser with the CRD's own zod
// schema (errors appear on the field); the BFF checks again, and the apiserver has the last word.
import { useMutation } from '@tanstack/react-query';
import { Link, useNavigate } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { api, workloadsPath } from '../api.js';
import { initialValues, validate, type DeployValues, type FieldErrors } from '../deploy-form.js';
import { deployRoute } from '../router.js';
import { Field } from '../field.js';

export function DeployPage() {
  const { namespace } = deployRoute.useSearch();
  if (namespace === undefined) {
    return (
      <section aria-labelledby="deploy-title">
        <h1 id="deploy-title">Deploy an app</h1>
        <p>
          Choose a namespace on the <Link to="/">dashboard</Link> first.
        </p>
      </section>
    );
  }
  return <DeployForm namespace={namespace} />;
}

function DeployForm({ namespace }: { namespace: string }) {
  const navigate = useNavigate();
  const [values, setValues] = useState<DeployValues>(initialValues);
  const [errors, setErrors] = useState<FieldErrors>({});
  const create = useMutation({
    mutationFn: (body: { name: string; spec: unknown }) => api('POST', workloadsPath(namespace), body),
    onSuccess: () => navigate({ to: '/', search: { namespace } }),
  });
  const set = (patch: Partial<DeployValues>) => setValues((v) => ({ ...v, ...patch }));
  const setEnv = (index: number, patch: Partial<DeployValues['env'][number]>) =>
    set({ env: values.env.map((row, i) => (i === index ? { ...row, ...patch } : row)) });

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const { spec, errors: found } = validate(values);
    setErrors(found);
    const first = Object.keys(found)[0];
    if (first !== undefined) {
      // Take keyboard and screen-reader users straight to the first problem.
      event.currentTarget.querySelector<HTMLElement>(`[data-field="${first}"]`)?.focus();
      return;
    }
    create.mutate({ name: values.name.trim(), spec });
  };

  return (
    <section aria-labelledby="deploy-title">
      <h1 id="deploy-title">Deploy an app</h1>
      <p>
        Run a container image in namespace <strong>{namespace}</strong>.
      </p>
      <form onSubmit={submit} noValidate className="deploy">
        <Field id="name" label="Name" error={errors.name} help="Lower-case letters, digits and dashes, e.g. web-app.">
          <input value={values.name} onChange={(e) => set({ name: e.target.value })} autoComplete="off" />
        </Field>
        <Field id="image" label="Image" error={errors.image} help="e.g. nginx:1.27 or ghcr.io/org/app:v2.">
          <input value={values.image} onChange={(e) => set({ image: e.target.value })} autoComplete="off" />
        </Field>
        <Field id="port" label="Port (optional)" error={errors.port} help="The port your app listens on, e.g. 8080.">
          <input inputMode="numeric" value={values.port} onChange={(e) => set({ port: e.target.value })} />
        </Field>
        <Field id="replicas" label="Replicas" error={errors.replicas}>
          <input inputMode="numeric" value={values.replicas} onChange={(e) => set({ replicas: e.target.value })} />
        </Field>
        <Field id="cpu" label="CPU" error={errors.cpu} help="Cores: 250m is a quarter of one.">
          <input value={values.cpu} onChange={(e) => set({ cpu: e.target.value })} />
        </Field>
        <Field id="memory" label="Memory" error={errors.memory} help="e.g. 256Mi or 1Gi.">
          <input value={values.memory} onChange={(e) => set({ memory: e.target.value })} />
        </Field>
        <fieldset>
          <legend>Environment variables</legend>
          {values.env.map((row, i) => (
            <div className="env-row" key={i}>
              <Field id={`env.${i}.name`} label={`Name of variable ${i + 1}`} error={errors[`env.${i}.name`]}>
                <input value={row.name} onChange={(e) => setEnv(i, { name: e.target.value })} autoComplete="off" />
              </Field>
              <Field id={`env.${i}.value`} label={`Value of variable ${i + 1}`} error={errors[`env.${i}.value`]}>
                <input value={row.value} onChange={(e) => setEnv(i, { value: e.target.value })} autoComplete="off" />
              </Field>
              <button type="button" onClick={() => set({ env: values.env.filter((_, j) => j !== i) })}>
                Remove variable {i + 1}
              </button>
            </div>
          ))}
          <button type="button" onClick={() => set({ env: [...values.env, { name: '', value: '' }] })}>
            Add variable
          </button>
        </fieldset>
        {(errors.form ?? create.error) && (
          <p role="alert" className="error">
            {errors.form ?? create.error?.message}
          </p>
        )}
        <div className="actions">
          <button type="submit" className="primary" disabled={create.isPending}>
            Deploy
          </button>
          <Link to="/" search={{ namespace }}>
            Cancel
          </Link>
        </div>
      </form>
    </section>
  );
}
