// One object in full: its state, what is wrong in the API's own words, its conditions and Events,
// its actions, and by kind its connection details (PostgreSQL), schedule and run history (cron),
// and its logs. The object itself comes live from the same watch the dashboard uses.
import { Link, useNavigate } from '@tanstack/react-router';
import { ConnectionPanel } from '../connection-panel.js';
import { CronPanel } from '../cron-panel.js';
import { DeleteButton } from '../delete-button.js';
import { KIND_LABEL } from '../kind-labels.js';
import { PLURALS, type Plural, type Tagged } from '../lattice-object.js';
import { LogViewer } from '../log-viewer.js';
import { useResourceStream } from '../resource-stream.js';
import { detailsRoute } from '../router.js';
import { ScaleControl } from '../scale-control.js';
import { StatusBadge } from '../status-badge.js';
import { age, problemOf, problemTitle, statusWord } from '../status.js';
import { SuspendButton } from '../suspend-button.js';
import { Conditions, Events } from '../timeline.js';
import { useNow } from '../use-now.js';

export function DetailsPage() {
  const { plural, name } = detailsRoute.useParams();
  const { namespace } = detailsRoute.useSearch();
  if (!(PLURALS as readonly string[]).includes(plural) || namespace === undefined) {
    return (
      <section aria-labelledby="details-title">
        <h1 id="details-title">Not found</h1>
        <p>
          This address names no Lattice object. Go back to the <Link to="/">dashboard</Link>.
        </p>
      </section>
    );
  }
  return <Details namespace={namespace} plural={plural as Plural} name={name} />;
}

function Details({ namespace, plural, name }: { namespace: string; plural: Plural; name: string }) {
  const stream = useResourceStream(namespace, plural);
  const navigate = useNavigate();
  const now = useNow(10_000);
  const object = stream.objects?.find((o) => o.metadata.name === name);
  const back = (
    <Link to="/" search={{ namespace }}>
      Back to {namespace}
    </Link>
  );
  if (stream.problem) {
    return (
      <section aria-labelledby="details-title">
        <h1 id="details-title">{name}</h1>
        <p role="alert" className="error">
          {stream.problem}
        </p>
        {back}
      </section>
    );
  }
  if (!stream.objects) return <p aria-live="polite">Loading {name}…</p>;
  if (!object) {
    return (
      <section aria-labelledby="details-title">
        <h1 id="details-title">{name}</h1>
        <p>
          There is no {KIND_LABEL[plural].one} named {name} in {namespace} (any more).
        </p>
        {back}
      </section>
    );
  }
  const tagged = { plural, object } as Tagged;
  const problem = problemOf(object.status?.conditions);
  const version = object.metadata.resourceVersion;
  return (
    <section aria-labelledby="details-title">
      <p>{back}</p>
      <div className="page-head">
        <div>
          <p className="kind">
            {KIND_LABEL[plural].one} in {namespace}, created {age(object.metadata.creationTimestamp, now)} ago
          </p>
          <h1 id="details-title">{name}</h1>
          <StatusBadge word={statusWord(tagged)} />
        </div>
        <div className="actions">
          {tagged.plural === 'workloads' && <ScaleControl namespace={namespace} name={name} replicas={tagged.object.spec?.replicas ?? 1} />}
          {tagged.plural !== 'postgresinstances' && <SuspendButton namespace={namespace} plural={plural} name={name} suspended={tagged.object.spec?.suspend === true} />}
          <DeleteButton namespace={namespace} plural={plural} name={name} onDeleted={() => void navigate({ to: '/', search: { namespace } })} />
        </div>
      </div>
      {problem && (
        <div role="alert" className="error">
          <strong>{problemTitle(problem)}</strong>: {problem.message}
        </div>
      )}
      <Summary tagged={tagged} />
      {tagged.plural === 'postgresinstances' && <ConnectionPanel namespace={namespace} name={name} ready={tagged.object.status?.phase === 'Running'} />}
      {tagged.plural === 'cronworkloads' && <CronPanel namespace={namespace} cron={tagged.object} />}
      <section aria-labelledby="timeline-title">
        <h2 id="timeline-title">What happened</h2>
        <Conditions conditions={object.status?.conditions ?? []} />
        <h3>Events</h3>
        <Events namespace={namespace} plural={plural} name={name} version={version} />
      </section>
      <LogViewer namespace={namespace} plural={plural} name={name} version={version} />
    </section>
  );
}

function Summary({ tagged }: { tagged: Tagged }) {
  switch (tagged.plural) {
    case 'workloads': {
      const { spec, status } = tagged.object;
      return (
        <dl className="facts">
          <dt>Runs</dt>
          <dd>{spec?.image ?? (spec?.source ? `${spec.source.url} (${spec.source.ref ?? 'main'}), built as ${spec.build?.strategy ?? 'unknown'}` : 'unknown')}</dd>
          <dt>Ready</dt>
          <dd>
            {status?.readyReplicas ?? 0} of {spec?.replicas ?? 1}
          </dd>
          <dt>Nodes</dt>
          <dd>{status?.nodes?.length ? status.nodes.join(', ') : 'none yet'}</dd>
          <dt>Each replica asks for</dt>
          <dd>
            {spec?.resources?.cpu ?? '250m'} CPU, {spec?.resources?.memory ?? '256Mi'} memory
          </dd>
          <dt>URL</dt>
          <dd>
            {status?.url ? (
              <a href={status.url} target="_blank" rel="noreferrer noopener">
                {status.url}
              </a>
            ) : (
              'none (no public port, or not assigned yet)'
            )}
          </dd>
          {status?.build?.message && (
            <>
              <dt>Latest build</dt>
              <dd>{status.build.message}</dd>
            </>
          )}
        </dl>
      );
    }
    case 'postgresinstances': {
      const { spec, status } = tagged.object;
      return (
        <dl className="facts">
          <dt>PostgreSQL</dt>
          <dd>{spec?.version ?? '15'}</dd>
          <dt>Database</dt>
          <dd>
            {spec?.database} (owner {spec?.owner})
          </dd>
          <dt>Storage</dt>
          <dd>{spec?.storage?.size}</dd>
          <dt>Node</dt>
          <dd>{status?.node ?? 'none yet'}</dd>
        </dl>
      );
    }
    case 'cronworkloads': {
      const { spec } = tagged.object;
      return (
        <dl className="facts">
          <dt>Runs</dt>
          <dd>
            {spec?.template?.image}
            {spec?.template?.command && <code> {spec.template.command.join(' ')}</code>}
          </dd>
        </dl>
      );
    }
  }
}
