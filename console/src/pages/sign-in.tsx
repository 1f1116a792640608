// Sign-in: paste a Kubernetes bearer token. The BFF checks it with the apiserver and keeps it
// server-side; the page never stores it.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { api, forgetUser, type SessionInfo } from '../api.js';

export function SignInPage() {
  const [token, setToken] = useState('');
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const signIn = useMutation({
    mutationFn: (value: string) => api<SessionInfo>('POST', '/session', { token: value }),
    onSuccess: async (session) => {
      await forgetUser(queryClient, session);
      await navigate({ to: '/' });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    signIn.mutate(token);
  };
  return (
    <section className="narrow" aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">Sign in to Lattice</h1>
      <p>
        Paste a Kubernetes bearer token, for example from <code>kubectl create token my-account</code>. The console acts
        with exactly this identity; your cluster&apos;s RBAC decides what you can see and change.
      </p>
      <form onSubmit={submit} noValidate>
        <label htmlFor="token">Kubernetes token</label>
        <textarea
          id="token"
          name="token"
          rows={5}
          autoComplete="off"
          spellCheck={false}
          required
          value={token}
          onChange={(e) => setToken(e.target.value)}
          aria-describedby={signIn.error ? 'sign-in-error' : undefined}
        />
        {signIn.error && (
          <p id="sign-in-error" role="alert" className="error">
            {signIn.error.message}
          </p>
        )}
        <button type="submit" className="primary" disabled={signIn.isPending || token.trim() === ''}>
          Sign in
        </button>
      </form>
    </section>
  );
}
