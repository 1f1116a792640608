// The DesktopApi over the development server (src/dev/server.ts): the same contract the Electron
// preload exposes, over HTTP calls and a server-sent event stream. The per-run secret arrives in
// the URL's fragment (never sent to a server), is kept for this tab and dropped from the address.
import { AppEventSchema, METHODS, METHOD_NAMES, type AppEvent, type DesktopApi, type MethodName } from '../contract.js';

const SECRET_KEY = 'lattice-dev-secret';

function takeSecret(): string {
  const given = /secret=([A-Za-z0-9_-]+)/.exec(location.hash)?.[1];
  if (given) {
    sessionStorage.setItem(SECRET_KEY, given);
    history.replaceState(null, '', location.pathname);
  }
  return sessionStorage.getItem(SECRET_KEY) ?? '';
}

export function httpApi(): DesktopApi {
  const authorization = `Bearer ${takeSecret()}`;

  async function call(method: MethodName, args: unknown[]): Promise<unknown> {
    const res = await fetch(`/api/call/${method}`, { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body: JSON.stringify({ args }) });
    const body: unknown = await res.json();
    if (!res.ok) throw new Error((body as { error?: string }).error ?? `HTTP ${res.status}`);
    return METHODS[method].output.parse(body);
  }

  /** Reads the event stream, and reads it again after a break (the server restarted, a network blip). */
  function onEvent(listener: (event: AppEvent) => void): () => void {
    const abort = new AbortController();
    const follow = async () => {
      while (!abort.signal.aborted) {
        try {
          const res = await fetch('/api/events', { headers: { authorization }, signal: abort.signal });
          if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
          const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
          let buffer = '';
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            buffer += value;
            let end: number;
            while ((end = buffer.indexOf('\n\n')) >= 0) {
              const message = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              const data = message
                .split('\n')
                .filter((l) => l.startsWith('data: '))
                .map((l) => l.slice(6))
                .join('\n');
              if (data) listener(AppEventSchema.parse(JSON.parse(data)));
            }
          }
        } catch (err) {
          if (abort.signal.aborted) return;
          console.warn('the event stream broke; reconnecting', err);
        }
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    };
    void follow();
    return () => abort.abort();
  }

  const methods = Object.fromEntries(METHOD_NAMES.map((m) => [m, (...args: unknown[]) => call(m, args)]));
  return { ...methods, onEvent } as DesktopApi;
}
