// The app: onboarding until this machine has joined, then the dashboard. State and log lines
// arrive as events from the main process.
import { useEffect, useState } from 'react';
import type { AppState } from '../contract.js';
import { api } from './api.js';
import { Dashboard } from './dashboard.js';
import { Onboarding } from './onboarding.js';

const LOG_LINES = 500;

export function App() {
  const [state, setState] = useState<AppState | null>(null);
  const [log, setLog] = useState<string[]>([]);
  useEffect(
    () =>
      api.onEvent((event) => {
        if (event.type === 'state') setState(event.state);
        else setLog((previous) => [...previous, ...event.lines].slice(-LOG_LINES));
      }),
    [],
  );
  if (!state) return <p role="status">Starting…</p>;
  return state.phase === 'onboarding' ? <Onboarding state={state} /> : <Dashboard state={state} log={log} />;
}
