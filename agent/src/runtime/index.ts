export { DockerRuntime, type DockerRuntimeOptions } from './runtime.js';
export type { ExecSession } from './exec.js';
export type { StdioChunk } from './stdio.js';
