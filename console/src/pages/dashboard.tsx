// The dashboard: a live card per Workload, PostgresInstance and CronWorkload in the chosen
// namespace, grouped by kind, or a first step for a new user.
import { Link, useNavigate } from '@tanstack/react-router';
import { KIND_LABEL } from '../kind-labels.js';
import type { Tagged } from '../lattice-object.js';
import { NamespacePicker } from '../namespace-picker.js';
import { ResourceCard } from '../resource-card.js';
import { useResourceStream } from '../resource-stream.js';
import { dashboardRoute } from '../router.js';
import { useNow } from '../use-now.js';

export function DashboardPage() {
  const { namespace } = dashboardRoute.useSearch();
  const navigate = useNavigate();
  return (
    <section aria-labelledby="dashboard-title">
      <div className="page-head">
        <h1 id="dashboard-title">Workloads</h1>
        <NamespacePicker namespace={namespace} onChange={(ns) => void navigate({ to: '/', search: { namespace: ns } })} />
      </div>
      {namespace === undefined ? <p>Choose a namespace to see its Workloads.</p> : <ObjectList namespace={namespace} />}
    </section>
  );
}

function ObjectList({ namespace }: { namespace: string }) {
  const workloads = useResourceStream(namespace, 'workloads');
  const databases = useResourceStream(namespace, 'postgresinstances');
  const crons = useResourceStream(namespace, 'cronworkloads');
  const now = useNow(10_000);
  const deploy = (
    <Link to="/deploy" search={{ namespace }} className="button primary">
      Deploy an app
    </Link>
  );
  // Workloads are what every user may see; the other kinds may be refused on their own.
  if (workloads.problem) {
    return (
      <p role="alert" className="error">
        {workloads.problem}
      </p>
    );
  }
  if (workloads.objects === undefined) return <p aria-live="polite">Loading Workloads…</p>;
  const sections: { plural: Tagged['plural']; items: Tagged[]; problem?: string }[] = [
    { plural: 'workloads', items: workloads.objects.map((object) => ({ plural: 'workloads', object })) },
    { plural: 'postgresinstances', items: (databases.objects ?? []).map((object) => ({ plural: 'postgresinstances', object })), problem: databases.problem },
    { plural: 'cronworkloads', items: (crons.objects ?? []).map((object) => ({ plural: 'cronworkloads', object })), problem: crons.problem },
  ];
  if (sections.every((s) => s.items.length === 0 && !s.problem)) {
    return (
      <div className="empty">
        <h2>No Workloads in {namespace} yet</h2>
        <p>
          Lattice runs apps, PostgreSQL databases and cron jobs for you on provider machines. Deploy one from a container image or a Git
          repository to get started.
        </p>
        {deploy}
      </div>
    );
  }
  return (
    <>
      <div className="toolbar">{deploy}</div>
      {sections
        .filter((s) => s.items.length > 0 || s.problem)
        .map(({ plural, items, problem }) => (
          <section key={plural} aria-labelledby={`section-${plural}`}>
            <h2 id={`section-${plural}`}>{KIND_LABEL[plural].section}</h2>
            {problem && (
              <p role="alert" className="error">
                {problem}
              </p>
            )}
            <ul className="cards" aria-label={`${KIND_LABEL[plural].section} in ${namespace}`}>
              {items.map((tagged) => (
                <li key={tagged.object.metadata.uid ?? tagged.object.metadata.name}>
                  <ResourceCard namespace={namespace} tagged={tagged} now={now} />
                </li>
              ))}
            </ul>
          </section>
        ))}
    </>
  );
}
