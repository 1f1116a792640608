// The frame around every page: the product name, who is signed in, and sign-out.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, Outlet, useNavigate } from '@tanstack/react-router';
import { api, forgetUser, sessionQuery } from './api.js';

export function Shell() {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const session = useQuery({ ...sessionQuery, throwOnError: false });
  const signOut = useMutation({
    mutationFn: () => api<void>('DELETE', '/session'),
    onSuccess: async () => {
      await forgetUser(queryClient);
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
            <Link to="/">Workloads</Link>
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
