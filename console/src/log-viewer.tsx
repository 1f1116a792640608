// A live log viewer: the pod log API streamed through the BFF (a chunked fetch read as it comes),
// with a pod and container picker, the previous instance, follow (keep the newest line in view),
// pause (hold the view still; lines keep arriving underneath), search and download.
import { useQuery } from '@tanstack/react-query';
import { useEffect, useMemo, useRef, useState } from 'react';
import { api, objectPath, REQUESTED_WITH } from './api.js';
import type { Plural } from './lattice-object.js';

interface PodRow {
  name: string;
  node?: string;
  phase: string;
  containers: string[];
  restarts: number;
}

/** The most lines kept in the page; older ones drop off the top. */
const MAX_LINES = 5000;

export function LogViewer({ namespace, plural, name, version }: { namespace: string; plural: Plural; name: string; version: string | undefined }) {
  const pods = useQuery({
    queryKey: ['pods', namespace, plural, name, version],
    queryFn: () => api<PodRow[]>('GET', `${objectPath(namespace, plural, name)}/pods`),
    placeholderData: (previous) => previous,
  });
  const [podName, setPodName] = useState<string>();
  const [container, setContainer] = useState<string>();
  const [previous, setPrevious] = useState(false);
  const pod = pods.data?.find((p) => p.name === podName) ?? pods.data?.[0];
  const containerName = pod && (container !== undefined && pod.containers.includes(container) ? container : pod.containers[0]);

  if (pods.error) return <p className="error">Pods: {pods.error.message}</p>;
  return (
    <section aria-labelledby="logs-title">
      <h2 id="logs-title">Logs</h2>
      {!pods.data ? (
        <p aria-live="polite">Loading pods…</p>
      ) : !pod ? (
        <p>No pod runs yet, so there is no log to show.</p>
      ) : (
        <>
          <div className="log-controls">
            <div>
              <label htmlFor="log-pod">Pod</label>
              <select id="log-pod" value={pod.name} onChange={(e) => setPodName(e.target.value)}>
                {pods.data.map((p) => (
                  <option key={p.name} value={p.name}>
                    {p.name} ({p.phase}
                    {p.node ? ` on ${p.node}` : ''}
                    {p.restarts > 0 ? `, ${p.restarts} restarts` : ''})
                  </option>
                ))}
              </select>
            </div>
            <div>
              <label htmlFor="log-container">Container</label>
              <select id="log-container" value={containerName} onChange={(e) => setContainer(e.target.value)}>
                {pod.containers.map((c) => (
                  <option key={c}>{c}</option>
                ))}
              </select>
            </div>
            <div className="check">
              <input id="log-previous" type="checkbox" checked={previous} onChange={(e) => setPrevious(e.target.checked)} />
              <label htmlFor="log-previous">Previous instance</label>
            </div>
          </div>
          {/* A new phase restarts the stream: a log refused while the container was being created is there once it runs. */}
          <LogStream key={`${pod.name}/${containerName}/${previous}/${pod.phase}`} namespace={namespace} pod={pod.name} container={containerName} previous={previous} />
        </>
      )}
    </section>
  );
}

function LogStream({ namespace, pod, container, previous }: { namespace: string; pod: string; container: string | undefined; previous: boolean }) {
  const [lines, setLines] = useState<string[]>([]);
  const [state, setState] = useState<{ live: boolean; error?: string }>({ live: true });
  const [paused, setPaused] = useState<string[] | undefined>();
  const [follow, setFollow] = useState(true);
  const [search, setSearch] = useState('');
  const box = useRef<HTMLPreElement>(null);

  useEffect(() => {
    const abort = new AbortController();
    const params = new URLSearchParams({ previous: String(previous), follow: String(!previous) });
    if (container) params.set('container', container);
    void (async () => {
      const res = await fetch(`/api/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/log?${params}`, {
        headers: { 'x-requested-with': REQUESTED_WITH },
        signal: abort.signal,
      });
      if (!res.ok || !res.body) {
        const body = (await res.json().catch(() => ({}))) as { error?: string };
        setState({ live: false, error: body.error ?? `The console answered ${res.status}.` });
        return;
      }
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let partial = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const parts = (partial + value).split('\n');
        partial = parts.pop() ?? '';
        if (parts.length > 0) setLines((old) => [...old, ...parts].slice(-MAX_LINES));
      }
      if (partial) setLines((old) => [...old, partial].slice(-MAX_LINES));
      setState({ live: false });
    })().catch((err: unknown) => {
      if (!abort.signal.aborted) setState({ live: false, error: `The log stream broke: ${String(err)}` });
    });
    return () => abort.abort();
  }, [namespace, pod, container, previous]);

  const shown = useMemo(() => {
    const base = paused ?? lines;
    const needle = search.trim().toLowerCase();
    return needle ? base.filter((l) => l.toLowerCase().includes(needle)) : base;
  }, [paused, lines, search]);

  useEffect(() => {
    if (follow && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [shown, follow]);

  const download = () => {
    const url = URL.createObjectURL(new Blob([lines.join('\n') + '\n'], { type: 'text/plain' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = `${pod}${container ? `-${container}` : ''}${previous ? '-previous' : ''}.log`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };

  return (
    <>
      <div className="log-controls">
        <div>
          <label htmlFor="log-search">Search logs</label>
          <input id="log-search" type="search" value={search} onChange={(e) => setSearch(e.target.value)} />
        </div>
        <div className="check">
          <input id="log-follow" type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} />
          <label htmlFor="log-follow">Follow</label>
        </div>
        <button type="button" onClick={() => setPaused(paused ? undefined : lines)} aria-pressed={paused !== undefined}>
          {paused ? 'Resume' : 'Pause'}
        </button>
        <button type="button" onClick={download}>
          Download
        </button>
      </div>
      <p role="status" className="help">
        {state.error
          ? ''
          : paused
            ? `Paused: ${lines.length - paused.length} new lines held back.`
            : state.live
              ? `Live: ${lines.length} lines${search ? `, ${shown.length} matching` : ''}.`
              : `Log ended: ${lines.length} lines.`}
      </p>
      {state.error && (
        <p role="alert" className="error">
          {state.error}
        </p>
      )}
      <pre ref={box} className="log" role="log" tabIndex={0} aria-label="Log lines" aria-live="off">
        {shown.join('\n')}
      </pre>
    </>
  );
}
