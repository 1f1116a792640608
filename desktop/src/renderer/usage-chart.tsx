// Reserved CPU and memory over time, as a small SVG line chart (each line scaled to its own peak).
import type { Earnings } from '../contract.js';
import { bytes, cores } from './format.js';

const W = 600;
const H = 140;
const PAD = 4;

export function UsageChart({ samples }: { samples: Earnings['samples'] }) {
  if (samples.length < 2) return <p>The usage chart appears after a few meterings.</p>;
  const t0 = Date.parse(samples[0]!.at);
  const t1 = Date.parse(samples[samples.length - 1]!.at);
  const line = (value: (s: Earnings['samples'][number]) => number) => {
    const peak = Math.max(1, ...samples.map(value));
    return samples
      .map((s) => {
        const x = PAD + ((Date.parse(s.at) - t0) / Math.max(1, t1 - t0)) * (W - 2 * PAD);
        const y = H - PAD - (value(s) / peak) * (H - 2 * PAD);
        return `${x.toFixed(1)},${y.toFixed(1)}`;
      })
      .join(' ');
  };
  const last = samples[samples.length - 1]!;
  const label = `Reserved usage over time, from ${new Date(t0).toLocaleTimeString()} to ${new Date(t1).toLocaleTimeString()}: now ${cores(last.cpuMillis)} and ${bytes(last.memoryBytes)} for ${last.pods} pods`;
  return (
    <figure>
      <svg role="img" aria-label={label} viewBox={`0 0 ${W} ${H}`} className="chart">
        <rect x="0" y="0" width={W} height={H} className="chart-bg" />
        <polyline points={line((s) => s.cpuMillis)} className="cpu" fill="none" />
        <polyline points={line((s) => s.memoryBytes)} className="memory" fill="none" strokeDasharray="6 4" />
      </svg>
      <figcaption>
        <span className="cpu-key">CPU</span> and <span className="memory-key">memory</span> reserved on this machine
      </figcaption>
    </figure>
  );
}
