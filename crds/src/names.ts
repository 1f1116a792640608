// What the name of an object must be for Lattice to name its children after it. Each kind carries
// its rules as CEL at the root of its CRD (the only place a rule can read metadata.name), so that
// `kubectl apply` refuses a name the controller could not use; the controllers run the same rules
// (`check`) on what is stored, for objects created before the rules existed.
import type { CelValidation } from './extensions.js';

/** A Service's name, like any label value, holds at most 63 characters. */
export const MAX_LABEL_LENGTH = 63;
/**
 * A StatefulSet labels its pods controller-revision-hash=<name>-<10 characters>, so its name has
 * 11 characters less than a label value.
 */
export const MAX_STATEFULSET_NAME_LENGTH = MAX_LABEL_LENGTH - 11;
/** A DNS label that starts with a letter, as a Service's name must (RFC 1035): no dots. */
export const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** A rule about the name of an object: the CEL the apiserver runs, and its twin for the controller. */
export interface NameRule<T> extends CelValidation {
  message: string;
  check: (object: T) => boolean;
}

type Named = { metadata: { name?: string } };
const nameOf = (object: Named) => object.metadata.name ?? '';

/**
 * What every name rule shares. `oldSelf` is optional, so that the rule runs on create (where it is
 * none) and can let an object stored before the rule existed stay writable (its status, its
 * finalizers). The error is reported on metadata: a CRD may not name metadata.name itself.
 */
export const NAME_RULE = { optionalOldSelf: true, fieldPath: '.metadata' } as const;

// A name never changes, so a rule about the name alone is checked on create only.

/** The name is a DNS label of at most `max` characters. */
export function dnsLabelName<T extends Named>(max: number, message: string): NameRule<T> {
  return {
    rule: `oldSelf.hasValue() || (size(self.metadata.name) <= ${max} && self.metadata.name.matches('${DNS_LABEL.source}'))`,
    ...NAME_RULE,
    message,
    check: (object) => nameOf(object).length <= max && DNS_LABEL.test(nameOf(object)),
  };
}

/** The name has at most `max` characters. */
export function shortName<T extends Named>(max: number, message: string): NameRule<T> {
  return {
    rule: `oldSelf.hasValue() || size(self.metadata.name) <= ${max}`,
    ...NAME_RULE,
    message,
    check: (object) => nameOf(object).length <= max,
  };
}

/** The message of the first rule the object's name breaks, if any. */
export function nameError<T>(rules: readonly NameRule<T>[], object: T): string | undefined {
  return rules.find((rule) => !rule.check(object))?.message;
}

/**
 * For the status of an object stored before its CRD had the rules: what is wrong with its name,
 * and what to do, since a name cannot change.
 */
export function storedNameProblem<T>(kind: string, rules: readonly NameRule<T>[], object: T): string | undefined {
  const error = nameError(rules, object);
  return error && `${error}. Names cannot change: create the ${kind} again under a valid name and delete this one.`;
}
