// The provider machines: what each offers and what the pods on it ask for, whether it takes work
// now (availability) and whether it is Ready. Read with the user's own rights: a user who may not
// list nodes is told so.
import { useQuery } from '@tanstack/react-query';
import { api, ApiError } from '../api.js';

interface Provider {
  name: string;
  ready: boolean;
  readyMessage: string;
  available: boolean;
  unavailableBecause: string;
  offered: { cpu: number; memory: number };
  used: { cpu: number; memory: number };
}

const cores = (n: number) => `${Number(n.toFixed(2))} CPU`;
const bytes = (n: number) => (n >= 2 ** 30 ? `${Number((n / 2 ** 30).toFixed(1))} GiB` : `${Math.round(n / 2 ** 20)} MiB`);
const percent = (used: number, offered: number) => (offered > 0 ? Math.round((100 * used) / offered) : 0);

export function ProvidersPage() {
  const providers = useQuery({
    queryKey: ['providers'],
    queryFn: () => api<{ usedKnown: boolean; providers: Provider[] }>('GET', '/providers'),
    refetchOnWindowFocus: true,
    retry: false,
  });
  return (
    <section aria-labelledby="providers-title">
      <h1 id="providers-title">Providers</h1>
      <p>The machines that run your apps. Each offers some CPU and memory; the scheduler places replicas only where their requests fit.</p>
      {providers.error ? (
        <p role="alert" className="error">
          {providers.error instanceof ApiError && providers.error.status === 403
            ? `Not allowed: your account may not list provider nodes. ${providers.error.message}`
            : providers.error.message}
        </p>
      ) : !providers.data ? (
        <p aria-live="polite">Loading providers…</p>
      ) : providers.data.providers.length === 0 ? (
        <p>No provider has joined yet. A provider joins with a token from <code>lattice token create</code> and <code>lattice-agent join</code>.</p>
      ) : (
        <>
          {!providers.data.usedKnown && (
            <p className="help">Used capacity is not shown: your account may not list the pods of every namespace.</p>
          )}
          <table>
            <caption>Provider nodes</caption>
            <thead>
              <tr>
                <th scope="col">Provider</th>
                <th scope="col">Ready</th>
                <th scope="col">Available</th>
                <th scope="col">CPU used of offered</th>
                <th scope="col">Memory used of offered</th>
              </tr>
            </thead>
            <tbody>
              {providers.data.providers.map((p) => (
                <tr key={p.name}>
                  <th scope="row">{p.name}</th>
                  <td className={p.ready ? 'ok' : 'bad'} title={p.readyMessage}>
                    {p.ready ? 'Ready' : 'Not ready'}
                  </td>
                  <td>{p.available ? 'Taking work' : `Not taking work (${p.unavailableBecause})`}</td>
                  <td>
                    {providers.data.usedKnown ? `${cores(p.used.cpu)} of ${cores(p.offered.cpu)} (${percent(p.used.cpu, p.offered.cpu)}%)` : `${cores(p.offered.cpu)} offered`}
                  </td>
                  <td>
                    {providers.data.usedKnown
                      ? `${bytes(p.used.memory)} of ${bytes(p.offered.memory)} (${percent(p.used.memory, p.offered.memory)}%)`
                      : `${bytes(p.offered.memory)} offered`}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
