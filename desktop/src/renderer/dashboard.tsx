// The joined machine: status and controls of the agent, settings, the pods running here, the
// earnings, and the agent's log, all live.
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { SettingsSchema, type AppState, type Result } from '../contract.js';
import { api } from './api.js';
import { EarningsView } from './earnings-view.js';
import { bytes, cores, money } from './format.js';
import { formatLogLine } from './log-line.js';
import { draftOf, fieldErrors, SettingsFields, toSettings } from './settings-fields.js';

const PROCESS: Record<AppState['agent']['process'], string> = {
  stopped: 'stopped',
  starting: 'starting',
  running: 'running',
  restarting: 'restarting after a crash',
  stopping: 'stopping',
};

function AgentControls({ state }: { state: AppState }) {
  const [error, setError] = useState('');
  const act = (action: () => Promise<Result>) => {
    setError('');
    void action().then((r) => !r.ok && setError(r.error), (err: Error) => setError(err.message));
  };
  const { agent } = state;
  const running = agent.process !== 'stopped';
  return (
    <section aria-labelledby="agent-heading">
      <h2 id="agent-heading">Agent</h2>
      <p>
        The agent is <strong>{PROCESS[agent.process]}</strong>
        {agent.pid !== null && <> (process {agent.pid})</>}
        {agent.process === 'running' && <>, {agent.connection === 'connected' ? 'connected to the cluster' : agent.connection === 'unknown' ? 'starting up' : 'not connected to the cluster'}</>}.{' '}
        {agent.restarts > 0 && (
          <>
            Restarted {agent.restarts} {agent.restarts === 1 ? 'time' : 'times'}; last it {agent.lastExit}.
          </>
        )}
      </p>
      {state.pausedUntil && <p>Paused until {new Date(state.pausedUntil).toLocaleString()}.</p>}
      <div className="buttons">
        <button type="button" disabled={running} onClick={() => act(api.startAgent)}>
          Start
        </button>
        <button type="button" disabled={!running} onClick={() => act(api.stopAgent)}>
          Stop
        </button>
        <button type="button" disabled={!!state.pausedUntil} onClick={() => act(api.pauseUntilTomorrow)}>
          Pause until tomorrow
        </button>
        {state.consoleUrl && (
          <button type="button" onClick={() => act(api.openConsole)}>
            Open console
          </button>
        )}
      </div>
      {error && <p role="alert">{error}</p>}
    </section>
  );
}

function SettingsForm({ state }: { state: AppState }) {
  const [draft, setDraft] = useState(() => draftOf(state.settings));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState('');
  const [error, setError] = useState('');

  async function submit(e: FormEvent) {
    e.preventDefault();
    setMessage('');
    setError('');
    const settings = SettingsSchema.safeParse(toSettings(draft));
    if (!settings.success) {
      setErrors(fieldErrors(settings.error.issues));
      setError('Some settings need fixing: see the fields marked below.');
      return;
    }
    const result = await api.saveSettings(settings.data).catch((err: Error): Result => ({ ok: false, error: err.message }));
    if (result.ok) {
      setErrors({});
      setMessage('Saved. The cluster applies the new settings at once.');
    } else {
      setErrors(result.fields ?? {});
      setError(result.error);
    }
  }

  return (
    <section aria-labelledby="settings-heading">
      <h2 id="settings-heading">Settings</h2>
      <form aria-label="Settings" onSubmit={(e) => void submit(e)} noValidate>
        <SettingsFields draft={draft} onChange={setDraft} machine={state.machine} errors={errors} />
        {error && <p role="alert">{error}</p>}
        {message && <p role="status">{message}</p>}
        <button type="submit">Save settings</button>
      </form>
    </section>
  );
}

function Pods({ pods, earnings }: { pods: AppState['pods']; earnings: AppState['earnings'] }) {
  const earned = new Map(earnings?.pods.map((p) => [`${p.namespace}/${p.name}`, p.amountMicros]));
  return (
    <section aria-labelledby="pods-heading">
      <h2 id="pods-heading">Pods running here</h2>
      {pods.length === 0 ? (
        <p>No pods are running on this machine.</p>
      ) : (
        <table aria-labelledby="pods-heading">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Namespace</th>
              <th scope="col">Phase</th>
              <th scope="col">CPU</th>
              <th scope="col">Memory</th>
              <th scope="col">Earned</th>
            </tr>
          </thead>
          <tbody>
            {pods.map((p) => (
              <tr key={p.uid}>
                <th scope="row">{p.name}</th>
                <td>{p.namespace}</td>
                <td>{p.phase}</td>
                <td>{cores(p.cpuMillis)}</td>
                <td>{bytes(p.memoryBytes)}</td>
                <td>{earnings ? money(earned.get(`${p.namespace}/${p.name}`) ?? 0, earnings.currency) : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Log({ lines }: { lines: string[] }) {
  const ref = useRef<HTMLPreElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [lines]);
  return (
    <section aria-labelledby="log-heading">
      <h2 id="log-heading">Agent log</h2>
      <pre ref={ref} role="log" aria-labelledby="log-heading" className="log" tabIndex={0}>
        {lines.map(formatLogLine).join('\n')}
      </pre>
    </section>
  );
}

export function Dashboard({ state, log }: { state: AppState; log: string[] }) {
  return (
    <main>
      <header>
        <h1>{state.node}</h1>
        <p role="status" className={`status status-${state.tray.status}`}>
          {state.tray.tooltip}
        </p>
      </header>
      <AgentControls state={state} />
      <Pods pods={state.pods} earnings={state.earnings} />
      <section aria-labelledby="earnings-heading">
        <h2 id="earnings-heading">Earnings</h2>
        <EarningsView earnings={state.earnings} />
      </section>
      <SettingsForm state={state} />
      <Log lines={log} />
    </main>
  );
}
