// Whether a Workload's name can name what it becomes: the rules its CRD has the apiserver check on
// create, checked again for Workloads stored before the CRD had them.
import { WORKLOAD_NAME_RULES, storedNameProblem, type Workload } from '@lattice/crds';

/** What is wrong with the name, or undefined if it is fine. */
export function nameProblem(wl: Workload): string | undefined {
  return storedNameProblem('Workload', WORKLOAD_NAME_RULES, wl);
}
