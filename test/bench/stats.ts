// Small statistics for the benchmarks: percentiles and a printed comparison with a baseline
// measured in the same run (absolute figures on a shared 2-core machine mean little alone).

export function percentile(samples: number[], p: number): number {
  if (!samples.length) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export interface Row {
  what: string;
  samples: number[];
  baseline: number[];
  unit?: string;
}

const fmt = (n: number) => (Number.isFinite(n) ? n.toFixed(n < 10 ? 2 : 0) : 'n/a');

/** Prints p50/p99 of each row beside its baseline, and the ratios. */
export function report(title: string, baselineName: string, rows: Row[]): void {
  console.log(`\n## ${title}`);
  console.log(`| case | n | p50 | p99 | ${baselineName} p50 | ${baselineName} p99 | ratio p50 | ratio p99 |`);
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    const unit = r.unit ?? 'ms';
    const [p50, p99, b50, b99] = [percentile(r.samples, 50), percentile(r.samples, 99), percentile(r.baseline, 50), percentile(r.baseline, 99)];
    console.log(
      `| ${r.what} | ${r.samples.length} | ${fmt(p50)} ${unit} | ${fmt(p99)} ${unit} | ${fmt(b50)} ${unit} | ${fmt(b99)} ${unit} | ${fmt(p50 / b50)}x | ${fmt(p99 / b99)}x |`,
    );
  }
}
