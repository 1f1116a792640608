// Whether a Workload's name can name what it becomes: the rules its CRD has the apiserver check on
// create, checked again for Workloads stored before the CRD had them.
import { WORKLOAD_NAME_RULES, nameError, type Workload } from '@lattice/crds';

/** What is wrong with the name, or undefined if it is fine. */
export function nameProblem(wl: Workload): string | undefined {
  const error = nameError(WORKLOAD_NAME_RULES, wl);
  return error && `${error}. Names cannot change: create the Workload again under a valid name and delete this one.`;
}
