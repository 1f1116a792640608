// `$(VAR)` references in a container's env values, command and args, expanded as the kubelet
// expands them (k8s.io/kubernetes third_party/forked/golang/expansion): `$(NAME)` becomes the
// variable's value when it is defined, and stays as written when it is not; `$$` is a literal `$`.
// Bounded: each variable may double the next (B=$(A)$(A), C=$(B)$(B)...), and a tenant's pod must
// not make the gateway build a string of gigabytes.

/** What the agent takes for one value (protocol: longText). */
export const MAX_EXPANDED_LENGTH = 32 * 1024;

export class ExpansionTooLong extends Error {}

/** `input` with each `$(NAME)` that `lookup` knows replaced by its value; throws ExpansionTooLong past `maxLength`. */
export function expand(input: string, lookup: (name: string) => string | undefined, maxLength = MAX_EXPANDED_LENGTH): string {
  if (!input.includes('$')) return input;
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const next = input[cursor + 1];
    let advance = 1;
    if (next === '$') {
      out += '$';
    } else if (next === '(') {
      const close = input.indexOf(')', cursor + 2);
      if (close < 0) {
        out += '$(';
      } else {
        const name = input.slice(cursor + 2, close);
        out += lookup(name) ?? `$(${name})`;
        advance = close - cursor;
      }
    } else {
      out += `$${next}`;
    }
    cursor += advance;
    checkpoint = cursor + 1;
    if (out.length > maxLength) throw new ExpansionTooLong(`expands to more than ${maxLength} characters`);
  }
  return out + input.slice(checkpoint);
}

/** Looks a name up in env as it stands: the last definition wins, as in the container. */
export function envLookup(env: ReadonlyArray<{ name: string; value: string; fromPodIp?: boolean }>): (name: string) => string | undefined {
  return (name) => {
    for (let i = env.length - 1; i >= 0; i--) {
      const e = env[i]!;
      // The pod IP is the agent's to fill in: a reference to it stays as written.
      if (e.name === name) return e.fromPodIp ? undefined : e.value;
    }
    return undefined;
  };
}
