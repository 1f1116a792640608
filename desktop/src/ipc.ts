// The names on the IPC wire, apart from the schemas so the preload stays small (no zod in it):
// the contract (contract.ts) checks that it describes exactly these methods.
export const METHOD_NAMES = ['getState', 'checkDocker', 'join', 'saveSettings', 'startAgent', 'stopAgent', 'pauseUntilTomorrow', 'openConsole'] as const;
export type MethodName = (typeof METHOD_NAMES)[number];

/** The IPC channel of a method. */
export const channel = (method: MethodName) => `lattice:${method}`;
/** Events from the main process: the current state and log, then every change. */
export const EVENT_CHANNEL = 'lattice:event';
/** The renderer asks for events. */
export const SUBSCRIBE_CHANNEL = 'lattice:subscribe';
