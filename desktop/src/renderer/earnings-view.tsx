// What this node has earned: the total, per day, and the reserved usage behind it, as the
// cluster metered it.
import type { Earnings } from '../contract.js';
import { money, oneDecimal } from './format.js';
import { UsageChart } from './usage-chart.js';

export function EarningsView({ earnings }: { earnings: Earnings | null }) {
  if (!earnings) return <p>No earnings reported yet: they appear once the cluster has metered this node.</p>;
  const coreSeconds = earnings.days.reduce((n, d) => n + d.cpuCoreSeconds, 0);
  const gibSeconds = earnings.days.reduce((n, d) => n + d.memoryGibSeconds, 0);
  return (
    <>
      <dl className="figures">
        <div>
          <dt id="total-label">Total earned</dt>
          <dd aria-labelledby="total-label">{money(earnings.totalMicros, earnings.currency)}</dd>
        </div>
        <div>
          <dt id="cpu-label">CPU reserved (core-seconds)</dt>
          <dd aria-labelledby="cpu-label">{oneDecimal(coreSeconds)}</dd>
        </div>
        <div>
          <dt id="memory-label">Memory reserved (GiB-seconds)</dt>
          <dd aria-labelledby="memory-label">{oneDecimal(gibSeconds)}</dd>
        </div>
      </dl>
      <p className="hint">
        Prices: {money(earnings.cpuCoreHourPrice * 1e6, earnings.currency)} per CPU core-hour, {money(earnings.memoryGibHourPrice * 1e6, earnings.currency)} per GiB-hour of memory.
      </p>
      <table>
        <caption>Earnings per day</caption>
        <thead>
          <tr>
            <th scope="col">Day (UTC)</th>
            <th scope="col">CPU core-hours</th>
            <th scope="col">Memory GiB-hours</th>
            <th scope="col">Earned</th>
          </tr>
        </thead>
        <tbody>
          {[...earnings.days].reverse().map((d) => (
            <tr key={d.date}>
              <th scope="row">{d.date}</th>
              <td>{(d.cpuCoreSeconds / 3600).toFixed(3)}</td>
              <td>{(d.memoryGibSeconds / 3600).toFixed(3)}</td>
              <td>{money(d.amountMicros, earnings.currency)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <UsageChart samples={earnings.samples} />
    </>
  );
}
