// Whether a Workload's name can name what it becomes. The CRD accepts any DNS subdomain, but the
// Service is named after the Workload (a DNS label: no dots, at most 63 characters, starting with
// a letter), the name is a label value (at most 63), and a StatefulSet's pods carry the label
// controller-revision-hash=<name>-<10 characters>, which leaves 52 for the name.
import type { Workload } from '@lattice/crds';

const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** What is wrong with the name, or undefined if it is fine. */
export function nameProblem(wl: Workload): string | undefined {
  const name = wl.metadata.name ?? '';
  const limit = wl.spec.volumes?.length ? 52 : 63;
  if (DNS_LABEL.test(name) && name.length <= limit) return undefined;
  return (
    `The name "${name}" cannot name this Workload's Service and pods: use at most ${limit} characters ` +
    `(lowercase letters, digits and '-', starting with a letter, no dots)${limit === 52 ? ' for a Workload with volumes' : ''}. ` +
    'Names cannot change: create the Workload again under a valid name and delete this one.'
  );
}
