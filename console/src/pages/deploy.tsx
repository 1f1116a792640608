// Deploy an app, a database, a service or a cron job. The fields follow the chosen type; the form
// is checked in the browser with the CRDs' own zod schemas (errors appear on the field); the BFF
// checks again, and the apiserver has the last word. Creating is a server-side apply. The images
// the prebuilt types start from are the console's configuration, read from the BFF.
import { useMutation, useQuery } from '@tanstack/react-query';
import { Link, useNavigate } from '@tanstack/react-router';
import { TIME_ZONES } from '@lattice/crds';
import { useState, type FormEvent } from 'react';
import { api, collectionPath, deployImagesQuery } from '../api.js';
import { DEPLOY_TYPES, initialValues, typeDescription, validate, valuesFor, type DeployType, type DeployValues, type FieldErrors } from '../deploy-form.js';
import type { DeployImages } from '../deploy-images.js';
import { Field } from '../field.js';
import { deployRoute } from '../router.js';
import { previewSchedule } from '../schedule-preview.js';
import { formatTime } from '../time.js';

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
  return <DeployFormWithImages namespace={namespace} />;
}

function DeployFormWithImages({ namespace }: { namespace: string }) {
  const images = useQuery(deployImagesQuery);
  if (images.data) return <DeployForm namespace={namespace} images={images.data} />;
  return (
    <section aria-labelledby="deploy-title">
      <h1 id="deploy-title">Deploy an app</h1>
      {images.error ? (
        <p role="alert" className="error">
          The console could not read its default images: {images.error.message}
        </p>
      ) : (
        <p aria-live="polite">Loading the deploy form…</p>
      )}
    </section>
  );
}

function DeployForm({ namespace, images }: { namespace: string; images: DeployImages }) {
  const navigate = useNavigate();
  const [values, setValues] = useState<DeployValues>(initialValues);
  const [errors, setErrors] = useState<FieldErrors>({});
  const create = useMutation({
    mutationFn: (request: { plural: string; body: { name: string; spec: unknown } }) => api('POST', collectionPath(namespace, request.plural), request.body),
    onSuccess: () => navigate({ to: '/', search: { namespace } }),
  });
  const type = DEPLOY_TYPES[values.type];
  const has = (input: Parameters<typeof type.fields.has>[0]) => type.fields.has(input);
  const set = (patch: Partial<DeployValues>) => setValues((v) => ({ ...v, ...patch }));
  const setEnv = (index: number, patch: Partial<DeployValues['env'][number]>) =>
    set({ env: values.env.map((row, i) => (i === index ? { ...row, ...patch } : row)) });
  const text = (key: keyof DeployValues, extra: Record<string, unknown> = {}) => (
    <input value={values[key] as string} onChange={(e) => set({ [key]: e.target.value })} autoComplete="off" {...extra} />
  );

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const { plural, spec, errors: found } = validate(values);
    setErrors(found);
    const first = Object.keys(found)[0];
    if (first !== undefined) {
      // Take keyboard and screen-reader users straight to the first problem.
      event.currentTarget.querySelector<HTMLElement>(`[data-field="${first}"]`)?.focus();
      return;
    }
    create.mutate({ plural, body: { name: values.name.trim(), spec } });
  };

  const preview = values.type === 'cron' ? previewSchedule(values.schedule, values.timeZone, 3) : undefined;
  return (
    <section aria-labelledby="deploy-title">
      <h1 id="deploy-title">Deploy an app</h1>
      <p>
        Deploy into namespace <strong>{namespace}</strong>.
      </p>
      <form onSubmit={submit} noValidate className="deploy">
        <Field id="type" label="Type" error={undefined} help={typeDescription(values.type, images)}>
          <select
            value={values.type}
            onChange={(e) => {
              setErrors({});
              setValues(valuesFor(e.target.value as DeployType, values, images));
            }}
          >
            {Object.entries(DEPLOY_TYPES).map(([key, info]) => (
              <option key={key} value={key}>
                {info.label}
              </option>
            ))}
          </select>
        </Field>
        <Field id="name" label="Name" error={errors.name} help="Lower-case letters, digits and dashes, e.g. web-app.">
          {text('name')}
        </Field>
        {has('image') && (
          <Field id="image" label="Image" error={errors.image} help={`e.g. ${images.cron} or ghcr.io/org/app:v2.`}>
            {text('image')}
          </Field>
        )}
        {has('git') && (
          <>
            <Field id="gitUrl" label="Git repository URL" error={errors.gitUrl} help="https://, ssh:// or git@host:path.">
              {text('gitUrl')}
            </Field>
            <Field id="gitRef" label="Branch" error={errors.gitRef} help="A branch (followed: new commits are built and rolled out), a tag or a commit.">
              {text('gitRef')}
            </Field>
            <Field id="contextDir" label="Directory (optional)" error={errors.contextDir} help="Where in the repository the app is, e.g. services/api.">
              {text('contextDir')}
            </Field>
          </>
        )}
        {has('buildCommand') && (
          <Field id="buildCommand" label="Build command (optional)" error={errors.buildCommand} help="e.g. npm run build.">
            {text('buildCommand')}
          </Field>
        )}
        {has('startCommand') && (
          <Field id="startCommand" label="Start command (optional)" error={errors.startCommand} help="e.g. npm start.">
            {text('startCommand')}
          </Field>
        )}
        {has('database') && (
          <Field id="database" label="Database name" error={errors.database} help="Lower-case letters, digits and _; the owner role has the same name.">
            {text('database')}
          </Field>
        )}
        {has('minioUser') && (
          <>
            <Field id="minioUser" label="Root user" error={errors.minioUser}>
              {text('minioUser')}
            </Field>
            <Field id="minioPassword" label="Root password" error={errors.minioPassword} help="At least 8 characters.">
              {text('minioPassword', { type: 'password' })}
            </Field>
          </>
        )}
        {has('schedule') && (
          <>
            <Field id="schedule" label="Schedule" error={errors.schedule} help='Cron syntax: minute hour day-of-month month day-of-week, e.g. "30 2 * * *", or @hourly, @daily…'>
              {text('schedule', { spellCheck: false })}
            </Field>
            <Field id="timeZone" label="Time zone" error={errors.timeZone}>
              <select value={values.timeZone} onChange={(e) => set({ timeZone: e.target.value })}>
                {TIME_ZONES.map((tz) => (
                  <option key={tz}>{tz}</option>
                ))}
              </select>
            </Field>
            <div className="preview" role="status" aria-label="Schedule preview">
              {preview ? (
                <>
                  <p>
                    <strong>{preview.words}</strong>
                  </p>
                  <p>Next runs:</p>
                  <ol>
                    {preview.next.map((d) => (
                      <li key={d.toISOString()}>
                        <time dateTime={d.toISOString()}>{formatTime(d)}</time>
                      </li>
                    ))}
                  </ol>
                </>
              ) : (
                <p>This schedule cannot be read yet.</p>
              )}
            </div>
          </>
        )}
        {has('command') && (
          <Field id="command" label="Command (optional)" error={errors.command} help="Run with sh -c, e.g. ./backup.sh --all. Empty runs the image's own command.">
            {text('command', { spellCheck: false })}
          </Field>
        )}
        {has('port') && (
          <Field id="port" label={values.type === 'image' ? 'Port (optional)' : 'Port'} error={errors.port} help="The port your app listens on, e.g. 8080.">
            {text('port', { inputMode: 'numeric' })}
          </Field>
        )}
        {has('public') && (
          <div className="field check">
            <input id="field-public" type="checkbox" checked={values.public} onChange={(e) => set({ public: e.target.checked })} aria-describedby="field-public-help" />
            <label htmlFor="field-public">Public URL</label>
            <p id="field-public-help" className="help">
              Anyone on the internet can reach the port at an https:// address.
            </p>
          </div>
        )}
        {has('replicas') && (
          <Field id="replicas" label="Replicas" error={errors.replicas}>
            {text('replicas', { inputMode: 'numeric' })}
          </Field>
        )}
        <Field id="cpu" label="CPU" error={errors.cpu} help="Cores: 250m is a quarter of one.">
          {text('cpu')}
        </Field>
        <Field id="memory" label="Memory" error={errors.memory} help="e.g. 256Mi or 1Gi.">
          {text('memory')}
        </Field>
        {has('storage') && (
          <Field id="storage" label="Storage" error={errors.storage} help="Size of the data volume, e.g. 1Gi.">
            {text('storage')}
          </Field>
        )}
        {has('providers') && (
          <Field id="providers" label="Provider labels (optional)" error={errors.providers} help="Run only on providers with all these labels, e.g. topology.kubernetes.io/region=eu.">
            {text('providers', { spellCheck: false })}
          </Field>
        )}
        {has('env') && (
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
        )}
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
