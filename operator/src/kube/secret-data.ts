// Secret data (and ConfigMap binaryData) as the apiserver sends it: each value base64.

/** One value's bytes. */
export const bytesOf = (base64: string): Buffer => Buffer.from(base64, 'base64');

/** One value as UTF-8 text. */
export const textOf = (base64: string): string => bytesOf(base64).toString();

/** Every value of a Secret as UTF-8 text, by key. */
export const secretText = (secret: { data?: Record<string, string> }): Record<string, string> =>
  Object.fromEntries(Object.entries(secret.data ?? {}).map(([key, value]) => [key, textOf(value)]));
