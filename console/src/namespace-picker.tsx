// Which namespace to work in: a choice among those the user may list, or, when RBAC does not let
// them list namespaces, a field to type the one they were given.
import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { namespacesQuery } from './api.js';

export function NamespacePicker({ namespace, onChange }: { namespace: string | undefined; onChange: (ns: string) => void }) {
  const choice = useQuery(namespacesQuery);
  const [typed, setTyped] = useState(namespace ?? '');
  if (choice.isPending) return <p aria-live="polite">Loading namespaces…</p>;
  if (choice.data?.canList && choice.data.namespaces.length > 0) {
    return (
      <div className="namespace">
        <label htmlFor="namespace">Namespace</label>
        <select id="namespace" value={namespace ?? ''} onChange={(e) => onChange(e.target.value)}>
          {namespace === undefined && <option value="">Choose a namespace</option>}
          {choice.data.namespaces.map((ns) => (
            <option key={ns}>{ns}</option>
          ))}
        </select>
      </div>
    );
  }
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (typed.trim() !== '') onChange(typed.trim());
  };
  return (
    <form className="namespace" onSubmit={submit}>
      <label htmlFor="namespace">Namespace</label>
      <input id="namespace" value={typed} onChange={(e) => setTyped(e.target.value)} aria-describedby="namespace-help" />
      <button type="submit">Open</button>
      <p id="namespace-help" className="help">
        Your account may not list namespaces: type the one you were given access to.
      </p>
    </form>
  );
}
