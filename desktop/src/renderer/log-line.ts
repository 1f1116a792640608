// The agent logs JSON (pino); the log view shows each line as "time level message details".
const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
const ROUTINE = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'component', 'part', 'node']);

export function formatLogLine(line: string): string {
  if (!line.startsWith('{')) return line;
  try {
    const entry = JSON.parse(line) as Record<string, unknown>;
    const time = typeof entry.time === 'number' ? new Date(entry.time).toLocaleTimeString() : '';
    const level = LEVELS[entry.level as number] ?? String(entry.level ?? '');
    const details = Object.entries(entry)
      .filter(([key]) => !ROUTINE.has(key))
      .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
      .join(' ');
    return `${time} ${level.padEnd(5)} ${String(entry.msg ?? '')}${details ? `  ${details}` : ''}`;
  } catch {
    return line;
  }
}
