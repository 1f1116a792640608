// The frame around every page: the product name, the main navigation, who is signed in, and sign-out.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, Outlet, useNavigate, useRouterState } from '@tanstack/react-router';
import { useEffect, useState } from 'react';
import { api, forgetUser, sessionQuery } from './api.js';

export function Shell() {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const session = useQuery({ ...sessionQuery, throwOnError: false });
  // The namespace last worked in, so that coming back from the providers page returns to it.
  const current = useRouterState({ select: (state) => (state.location.search as { namespace?: string }).namespace });
  const [namespace, setNamespace] = useState(current);
  useEffect(() => {
    if (current !== undefined) setNamespace(current);
  }, [current]);
  const signOut = useMutation({
    mutationFn: () => api<void>('DELETE', '/session'),
    onSuccess: async () => {
      await forgetUser(queryClient);
      setNamespace(undefined);
      await navigate({ to: '/sign-in' });
    },
  });
  return (
    <>
      <header className="top">
        <Link to="/" className="brand">
          Lattice
        </Link>
        {session.data && (
          <nav aria-label="Main">
            <Link to="/" search={namespace === undefined ? {} : { namespace }}>
              Workloads
            </Link>
            <Link to="/providers">Providers</Link>
          </nav>
        )}
        {session.data && (
          <div className="who">
            <span>
              Signed in as <strong>{session.data.username}</strong>
            </span>
            <button type="button" onClick={() => signOut.mutate()} disabled={signOut.isPending}>
              Sign out
            </button>
          </div>
        )}
      </header>
      <main>
        <Outlet />
      </main>
    </>
  );
}
