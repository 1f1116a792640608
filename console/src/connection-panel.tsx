// A PostgreSQL database's connection details, from its connection Secret, read only when the user
// asks (reveal or copy), masked until revealed, each with a copy button.
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, objectPath } from './api.js';

type Connection = Partial<Record<'uri' | 'jdbc-uri' | 'host' | 'port' | 'username' | 'password' | 'dbname', string>>;

const ROWS: { key: keyof Connection; label: string }[] = [
  { key: 'uri', label: 'Connection string' },
  { key: 'jdbc-uri', label: 'JDBC URL' },
  { key: 'host', label: 'Host' },
  { key: 'port', label: 'Port' },
  { key: 'dbname', label: 'Database' },
  { key: 'username', label: 'User' },
  { key: 'password', label: 'Password' },
];

const MASK = '••••••••••••';

export function ConnectionPanel({ namespace, name, ready }: { namespace: string; name: string; ready: boolean }) {
  const [revealed, setRevealed] = useState(false);
  const [copied, setCopied] = useState<string>();
  const connection = useQuery({
    queryKey: ['connection', namespace, name],
    queryFn: () => api<Connection>('GET', `${objectPath(namespace, 'postgresinstances', name)}/connection`),
    enabled: false,
    retry: false,
  });
  const load = async () => (connection.data ? connection.data : (await connection.refetch({ throwOnError: true })).data!);
  const copy = async (key: keyof Connection, label: string) => {
    const value = (await load())[key] ?? '';
    await navigator.clipboard.writeText(value);
    setCopied(label);
  };
  const reveal = async () => {
    if (!revealed) await load();
    setRevealed(!revealed);
  };
  return (
    <section aria-labelledby="connection-title">
      <h2 id="connection-title">Connection</h2>
      <p className="help">
        Apps in the cluster connect with these details; they are also in the Secret <code>{name}-connection</code>, which a Workload can
        read with <code>valueFrom.secretKeyRef</code>.{!ready && ' The database is not ready yet: connections will be refused until it is.'}
      </p>
      <div className="actions">
        <button type="button" onClick={() => void reveal().catch(() => undefined)} aria-pressed={revealed}>
          {revealed ? 'Hide connection details' : 'Reveal connection details'}
        </button>
      </div>
      {connection.error && (
        <p role="alert" className="error">
          {connection.error.message}
        </p>
      )}
      <dl className="connection">
        {ROWS.map(({ key, label }) => (
          <div key={key}>
            <dt>
              <label htmlFor={`connection-${key}`}>{label}</label>
            </dt>
            <dd>
              {/* Read-only fields: selectable and announced with their label; masked until revealed. */}
              <input
                id={`connection-${key}`}
                readOnly
                className="secret"
                value={revealed && connection.data ? (connection.data[key] ?? '') : MASK}
                spellCheck={false}
              />{' '}
              <button type="button" onClick={() => void copy(key, label).catch(() => undefined)} aria-label={`Copy ${label.toLowerCase()}`}>
                Copy
              </button>
            </dd>
          </div>
        ))}
      </dl>
      <p role="status" aria-live="polite">
        {copied && `${copied} copied to the clipboard.`}
      </p>
    </section>
  );
}
