// How numbers read in the app.
export const money = (micros: number, currency: string) =>
  new Intl.NumberFormat('en-US', { style: 'currency', currency, minimumFractionDigits: 2, maximumFractionDigits: 4 }).format(micros / 1e6);

export const cores = (millis: number) => `${Math.round(millis) / 1000} CPU`;

export function bytes(n: number): string {
  if (n >= 2 ** 30) return `${Math.round((n / 2 ** 30) * 100) / 100} GiB`;
  return `${Math.round(n / 2 ** 20)} MiB`;
}

export const oneDecimal = (n: number) => (Math.round(n * 10) / 10).toLocaleString('en-US');
