// The kubelet paths this API serves. Pod-scoped paths name the container last; the kubelet also
// accepts the pod UID before it (/exec/{namespace}/{pod}/{uid}/{container}), which we check.
export type Route =
  | { kind: 'healthz' }
  | { kind: 'containerLogs' | 'exec' | 'attach'; namespace: string; pod: string; uid?: string; container: string }
  | { kind: 'portForward'; namespace: string; pod: string };

const SEGMENT = '([^/]+)';
const PATTERNS: [RegExp, (m: string[]) => Route][] = [
  [/^\/healthz$/, () => ({ kind: 'healthz' })],
  [
    new RegExp(`^/containerLogs/${SEGMENT}/${SEGMENT}/${SEGMENT}$`),
    ([ns, pod, container]) => ({ kind: 'containerLogs', namespace: ns!, pod: pod!, container: container! }),
  ],
  [
    new RegExp(`^/(exec|attach)/${SEGMENT}/${SEGMENT}(?:/${SEGMENT})?/${SEGMENT}$`),
    ([kind, ns, pod, uid, container]) => ({
      kind: kind as 'exec' | 'attach',
      namespace: ns!,
      pod: pod!,
      ...(uid ? { uid } : {}),
      container: container!,
    }),
  ],
  [new RegExp(`^/portForward/${SEGMENT}/${SEGMENT}(?:/[^/]+)?$`), ([ns, pod]) => ({ kind: 'portForward', namespace: ns!, pod: pod! })],
];

/** The route of a request path, or undefined (404). Segments are percent-decoded. */
export function matchRoute(pathname: string): Route | undefined {
  for (const [pattern, build] of PATTERNS) {
    const match = pattern.exec(pathname);
    if (!match) continue;
    try {
      return build(match.slice(1).map((s) => (s === undefined ? s : decodeURIComponent(s))) as string[]);
    } catch {
      return undefined; // malformed percent-encoding
    }
  }
  return undefined;
}
