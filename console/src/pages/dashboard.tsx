// The dashboard: a live card per Workload in the chosen namespace, or a first step for a new user.
import { Link, useNavigate } from '@tanstack/react-router';
import { useEffect, useState } from 'react';
import { NamespacePicker } from '../namespace-picker.js';
import { dashboardRoute } from '../router.js';
import { WorkloadCard } from '../workload-card.js';
import { useWorkloadStream } from '../workload-stream.js';

export function DashboardPage() {
  const { namespace } = dashboardRoute.useSearch();
  const navigate = useNavigate();
  return (
    <section aria-labelledby="dashboard-title">
      <div className="page-head">
        <h1 id="dashboard-title">Workloads</h1>
        <NamespacePicker namespace={namespace} onChange={(ns) => void navigate({ to: '/', search: { namespace: ns } })} />
      </div>
      {namespace === undefined ? <p>Choose a namespace to see its Workloads.</p> : <WorkloadList namespace={namespace} />}
    </section>
  );
}

/** Re-renders now and then so that ages move on without any request. */
function useNow(intervalMs: number): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

function WorkloadList({ namespace }: { namespace: string }) {
  const { workloads, problem } = useWorkloadStream(namespace);
  const now = useNow(10_000);
  const deploy = (
    <Link to="/deploy" search={{ namespace }} className="button primary">
      Deploy an app
    </Link>
  );
  if (problem) {
    return (
      <p role="alert" className="error">
        {problem}
      </p>
    );
  }
  if (workloads === undefined) return <p aria-live="polite">Loading Workloads…</p>;
  if (workloads.length === 0) {
    return (
      <div className="empty">
        <h2>No Workloads in {namespace} yet</h2>
        <p>A Workload is an app Lattice runs for you on provider machines. Deploy one from a container image to get started.</p>
        {deploy}
      </div>
    );
  }
  return (
    <>
      <div className="toolbar">{deploy}</div>
      <ul className="cards" aria-label={`Workloads in ${namespace}`}>
        {workloads.map((workload) => (
          <li key={workload.metadata.uid ?? workload.metadata.name}>
            <WorkloadCard namespace={namespace} workload={workload} now={now} />
          </li>
        ))}
      </ul>
    </>
  );
}
