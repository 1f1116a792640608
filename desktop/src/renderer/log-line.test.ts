import { money } from './format.js';
import { formatLogLine } from './log-line.js';

describe('what the app shows', () => {
  it('reads an agent log line as time, level, message and the details that matter', () => {
    const line = JSON.stringify({ level: 40, time: Date.UTC(2026, 2, 1, 12, 0, 5), pid: 1, hostname: 'h', component: 'agent', msg: 'lost the gateway connection', code: 14 });
    expect(formatLogLine(line)).toMatch(/^\S+.* warn {2}lost the gateway connection {2}code=14$/);
    expect(formatLogLine('plain text from node')).toBe('plain text from node');
  });

  it('shows small earnings to the hundredth of a cent', () => {
    expect(money(14_400, 'USD')).toBe('$0.0144');
    expect(money(12_000_000, 'USD')).toBe('$12.00');
    expect(money(1_234_567, 'EUR')).toBe('€1.2346');
  });
});
