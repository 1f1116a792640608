// The API group every Lattice kind lives in. Kind-specific names (kind, plural, short names) are
// declared next to each kind's schema.

export const GROUP = 'lattice.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** `kubectl get lattice` lists every Lattice kind. */
export const CATEGORY = 'lattice';
