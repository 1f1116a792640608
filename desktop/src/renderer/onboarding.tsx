// The wizard: Docker must answer; then where to join (gateway, token, node name), what to offer,
// when, and the terms. Joining runs the agent's real join flow in the main process.
import { useEffect, useState, type FormEvent } from 'react';
import { JoinRequestSchema, type AppState, type DockerStatus } from '../contract.js';
import { api } from './api.js';
import { Field } from './field.js';
import { draftOf, fieldErrors, SettingsFields, toSettings } from './settings-fields.js';

export function Onboarding({ state }: { state: AppState }) {
  const [docker, setDocker] = useState<DockerStatus | null>(null);
  const [gateway, setGateway] = useState('');
  const [token, setToken] = useState('');
  const [nodeName, setNodeName] = useState('');
  const [draft, setDraft] = useState(() => draftOf(state.settings));
  const [accepted, setAccepted] = useState(false);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState('');
  const [joining, setJoining] = useState(false);

  const check = () => {
    setDocker(null);
    void api.checkDocker().then(setDocker);
  };
  useEffect(check, []);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError('');
    const request = JoinRequestSchema.safeParse({ gateway, token, nodeName, settings: toSettings(draft), acceptTerms: accepted });
    if (!request.success) {
      setErrors(fieldErrors(request.error.issues));
      setError('Some answers need fixing: see the fields marked below.');
      return;
    }
    setErrors({});
    setJoining(true);
    try {
      const result = await api.join(request.data);
      if (!result.ok) {
        setErrors(result.fields ?? {});
        setError(result.error);
      }
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setJoining(false);
    }
  }

  return (
    <main>
      <h1>Join a Lattice cluster</h1>
      <section aria-labelledby="docker-heading">
        <h2 id="docker-heading">Docker</h2>
        {docker === null ? (
          <p role="status">Checking Docker…</p>
        ) : docker.ok ? (
          <p role="status">{docker.message}</p>
        ) : (
          <div role="alert">
            <p>{docker.message}</p>
            <button type="button" onClick={check}>
              Check Docker again
            </button>
          </div>
        )}
      </section>
      <form aria-label="Join" onSubmit={(e) => void submit(e)} noValidate>
        <fieldset>
          <legend>The cluster</legend>
          <Field label="Gateway address" placeholder="gateway.example.net:7443" value={gateway} onChange={(e) => setGateway(e.target.value)} error={errors.gateway} />
          <Field label="Join token" placeholder="lt1.…" autoComplete="off" value={token} onChange={(e) => setToken(e.target.value)} error={errors.token} hint="The cluster operator gives you one (lattice token create)." />
          <Field label="Node name" placeholder="my-laptop" value={nodeName} onChange={(e) => setNodeName(e.target.value)} error={errors.nodeName} />
        </fieldset>
        <SettingsFields draft={draft} onChange={setDraft} machine={state.machine} errors={errors} />
        <p className="terms">
          Pods from the cluster run on this machine as Docker containers, with the CPU and memory you offer, during your hours. You are paid for what the cluster reserves here, at
          the platform's published prices.
        </p>
        <label className="check">
          <input type="checkbox" checked={accepted} onChange={(e) => setAccepted(e.target.checked)} aria-describedby={errors.acceptTerms ? 'terms-error' : undefined} /> I accept the
          provider terms
        </label>
        {errors.acceptTerms && (
          <small id="terms-error" className="error">
            {errors.acceptTerms}
          </small>
        )}
        {error && <p role="alert">{error}</p>}
        <button type="submit" disabled={joining || docker?.ok === false}>
          {joining ? 'Joining…' : 'Join'}
        </button>
      </form>
    </main>
  );
}
