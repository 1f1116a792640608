// One object at a glance: its name and kind, state in words and colour, what matters for its kind
// (replicas, nodes, URL; or schedule and next run), its age, a link to its details, and stop/start
// and delete (after a confirmation that names it).
import { Link } from '@tanstack/react-router';
import { useId } from 'react';
import { DeleteButton } from './delete-button.js';
import { KIND_LABEL } from './kind-labels.js';
import type { Tagged } from './lattice-object.js';
import { age, problemOf, problemTitle, statusWord } from './status.js';
import { StatusBadge } from './status-badge.js';
import { SuspendButton } from './suspend-button.js';
import { formatTime } from './time.js';

export function ResourceCard({ namespace, tagged, now }: { namespace: string; tagged: Tagged; now: number }) {
  const { plural, object } = tagged;
  const { name } = object.metadata;
  const titleId = useId();
  const problem = problemOf(object.status?.conditions);
  return (
    <article className="card" aria-labelledby={titleId}>
      <p className="kind">{KIND_LABEL[plural].one}</p>
      <h3 id={titleId}>{name}</h3>
      <StatusBadge word={statusWord(tagged)} />
      <dl>
        <Facts tagged={tagged} />
        <dt>Age</dt>
        <dd>{age(object.metadata.creationTimestamp, now)}</dd>
      </dl>
      {problem && (
        <p className="error">
          <strong>{problemTitle(problem)}</strong>: {problem.message}
        </p>
      )}
      <div className="actions">
        <Link to="/resources/$plural/$name" params={{ plural, name }} search={{ namespace }} aria-label={`Details of ${name}`}>
          Details
        </Link>
        {plural !== 'postgresinstances' && <SuspendButton namespace={namespace} plural={plural} name={name} suspended={object.spec?.suspend === true} />}
        <DeleteButton namespace={namespace} plural={plural} name={name} />
      </div>
    </article>
  );
}

/** The rows that differ by kind. */
function Facts({ tagged }: { tagged: Tagged }) {
  switch (tagged.plural) {
    case 'workloads': {
      const { spec, status } = tagged.object;
      const nodes = status?.nodes ?? [];
      return (
        <>
          <dt>Ready</dt>
          <dd>
            {status?.readyReplicas ?? 0} of {spec?.replicas ?? 1}
          </dd>
          <dt>Nodes</dt>
          <dd>{nodes.length > 0 ? nodes.join(', ') : 'none yet'}</dd>
          {status?.url && (
            <>
              <dt>URL</dt>
              <dd>
                <a href={status.url} target="_blank" rel="noreferrer noopener">
                  {status.url}
                </a>
              </dd>
            </>
          )}
        </>
      );
    }
    case 'postgresinstances': {
      const { spec, status } = tagged.object;
      return (
        <>
          <dt>Database</dt>
          <dd>{spec?.database ?? 'unknown'}</dd>
          <dt>Node</dt>
          <dd>{status?.node ?? 'none yet'}</dd>
        </>
      );
    }
    case 'cronworkloads': {
      const { spec, status } = tagged.object;
      return (
        <>
          <dt>Schedule</dt>
          <dd>
            <code>{spec?.schedule}</code> ({spec?.timeZone ?? 'UTC'})
          </dd>
          <dt>Next run</dt>
          <dd>{status?.nextScheduleTime ? formatTime(status.nextScheduleTime) : 'not scheduled'}</dd>
          <dt>Last run</dt>
          <dd>{status?.lastScheduleTime ? formatTime(status.lastScheduleTime) : 'never'}</dd>
        </>
      );
    }
  }
}
