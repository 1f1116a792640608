// An object's story: its conditions (what is true now, and since when) and its Events (what
// happened, newest first), as Kubernetes' own words.
import { useQuery } from '@tanstack/react-query';
import type { Condition } from '@lattice/crds';
import { api, objectPath } from './api.js';
import type { Plural } from './lattice-object.js';
import { formatTime } from './time.js';

interface EventRow {
  type: string;
  reason: string;
  message: string;
  count: number;
  time: string;
  source: string;
}

export function Conditions({ conditions }: { conditions: readonly Condition[] }) {
  if (conditions.length === 0) return <p>The operator has not reported any condition yet.</p>;
  return (
    <table>
      <caption>Conditions</caption>
      <thead>
        <tr>
          <th scope="col">Condition</th>
          <th scope="col">Status</th>
          <th scope="col">Reason</th>
          <th scope="col">Message</th>
          <th scope="col">Since</th>
        </tr>
      </thead>
      <tbody>
        {conditions.map((c) => (
          <tr key={c.type}>
            <th scope="row">{c.type}</th>
            <td>{c.status === 'True' ? 'yes' : c.status === 'False' ? 'no' : 'unknown'}</td>
            <td>{c.reason}</td>
            <td>{c.message}</td>
            <td>{formatTime(c.lastTransitionTime)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Refetched whenever the object changes (`version`): new Events come with new status, with no polling. */
export function Events({ namespace, plural, name, version }: { namespace: string; plural: Plural; name: string; version: string | undefined }) {
  const events = useQuery({
    queryKey: ['events', namespace, plural, name, version],
    queryFn: () => api<EventRow[]>('GET', `${objectPath(namespace, plural, name)}/events`),
    placeholderData: (previous) => previous,
  });
  if (events.error) return <p className="error">Events: {events.error.message}</p>;
  if (!events.data) return <p aria-live="polite">Loading events…</p>;
  if (events.data.length === 0) return <p>No events yet.</p>;
  return (
    <ol className="timeline" aria-label="Events, newest first">
      {events.data.map((e, i) => (
        <li key={`${e.time}-${e.reason}-${i}`} className={e.type === 'Warning' ? 'warning' : undefined}>
          <time dateTime={e.time}>{e.time ? formatTime(e.time) : 'unknown time'}</time>{' '}
          <strong>
            {e.type === 'Warning' ? 'Warning: ' : ''}
            {e.reason}
          </strong>
          {e.count > 1 && <span> ({e.count} times)</span>} — {e.message}
          {e.source && <span className="help"> ({e.source})</span>}
        </li>
      ))}
    </ol>
  );
}
