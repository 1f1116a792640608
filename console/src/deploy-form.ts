// The deploy form's values, turned into a Workload spec and checked with the very zod schemas the
// CRD is generated from, so the browser refuses exactly what the apiserver would, on the field.
import { ObjectName, WorkloadSpec } from '@lattice/crds';

export interface EnvRow {
  name: string;
  value: string;
}

export interface DeployValues {
  name: string;
  image: string;
  port: string;
  replicas: string;
  cpu: string;
  memory: string;
  env: EnvRow[];
}

export const initialValues: DeployValues = { name: '', image: '', port: '', replicas: '1', cpu: '250m', memory: '256Mi', env: [] };

/** Field errors keyed by the spec path of the input they belong to (`image`, `env.0.name`, …). */
export type FieldErrors = Record<string, string>;

/** A whole number from a text input; anything else becomes NaN, which the schema refuses. */
const integer = (text: string) => (/^\s*-?\d+\s*$/.test(text) ? Number(text) : Number.NaN);

/** The spec the form describes: only what the user set, so the CRD's defaults do the rest. */
export function toSpec(values: DeployValues) {
  return {
    image: values.image.trim(),
    replicas: integer(values.replicas),
    resources: { cpu: values.cpu.trim(), memory: values.memory.trim() },
    ...(values.port.trim() !== '' && { ports: [{ name: 'http', port: integer(values.port) }] }),
    ...(values.env.length > 0 && { env: values.env.map((row) => ({ name: row.name, value: row.value })) }),
  };
}

/** Spec paths shown on a different input than their own path suggests. */
const FIELD_OF: Record<string, string> = { 'ports.0.port': 'port', 'resources.cpu': 'cpu', 'resources.memory': 'memory' };

export function validate(values: DeployValues): { spec: ReturnType<typeof toSpec>; errors: FieldErrors } {
  const spec = toSpec(values);
  const errors: FieldErrors = {};
  const name = ObjectName.safeParse(values.name.trim());
  if (!name.success) {
    errors.name = 'must be lower-case letters, digits, dashes and dots, starting and ending with a letter or digit';
  }
  const result = WorkloadSpec.safeParse(spec);
  for (const issue of result.success ? [] : result.error.issues) {
    const path = issue.path.map(String).join('.');
    const field = FIELD_OF[path] ?? (path === '' ? 'form' : path);
    errors[field] ??= issue.message;
  }
  return { spec, errors };
}
