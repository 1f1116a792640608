// The routes. Each page is loaded on demand (its own chunk); the signed-in pages sit under a
// layout route that sends anyone without a session to /sign-in.
import type { QueryClient } from '@tanstack/react-query';
import { createRootRouteWithContext, createRoute, createRouter, lazyRouteComponent, redirect } from '@tanstack/react-router';
import { sessionQuery } from './api.js';
import { Shell } from './shell.js';

/** `?namespace=` on the dashboard, deploy and details pages: which namespace the user works in. */
export interface NamespaceSearch {
  namespace?: string;
}

const validateSearch = (search: Record<string, unknown>): NamespaceSearch =>
  typeof search.namespace === 'string' && search.namespace !== '' ? { namespace: search.namespace } : {};

const rootRoute = createRootRouteWithContext<{ queryClient: QueryClient }>()({ component: Shell });

const signInRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/sign-in',
  component: lazyRouteComponent(() => import('./pages/sign-in.js'), 'SignInPage'),
});

const signedInRoute = createRoute({
  getParentRoute: () => rootRoute,
  id: 'signed-in',
  beforeLoad: async ({ context }) => {
    try {
      await context.queryClient.ensureQueryData(sessionQuery);
    } catch {
      throw redirect({ to: '/sign-in' });
    }
  },
});

export const dashboardRoute = createRoute({
  getParentRoute: () => signedInRoute,
  path: '/',
  validateSearch,
  component: lazyRouteComponent(() => import('./pages/dashboard.js'), 'DashboardPage'),
});

export const deployRoute = createRoute({
  getParentRoute: () => signedInRoute,
  path: '/deploy',
  validateSearch,
  component: lazyRouteComponent(() => import('./pages/deploy.js'), 'DeployPage'),
});

export const detailsRoute = createRoute({
  getParentRoute: () => signedInRoute,
  path: '/resources/$plural/$name',
  validateSearch,
  component: lazyRouteComponent(() => import('./pages/details.js'), 'DetailsPage'),
});

export const providersRoute = createRoute({
  getParentRoute: () => signedInRoute,
  path: '/providers',
  component: lazyRouteComponent(() => import('./pages/providers.js'), 'ProvidersPage'),
});

const routeTree = rootRoute.addChildren([
  signInRoute,
  signedInRoute.addChildren([dashboardRoute, deployRoute, detailsRoute, providersRoute]),
]);

export function createConsoleRouter(queryClient: QueryClient) {
  return createRouter({ routeTree, context: { queryClient }, defaultPreload: 'intent' });
}

declare module '@tanstack/react-router' {
  interface Register {
    router: ReturnType<typeof createConsoleRouter>;
  }
}
