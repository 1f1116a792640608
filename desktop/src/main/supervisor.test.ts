// The supervisor with real child processes (node -e …): crash, restart with growing delays, stop.
import { once } from 'node:events';
import { AgentSupervisor, backoffDelay, type AgentCommand } from './supervisor.js';

const node = (script: string): AgentCommand => ({ command: process.execPath, args: ['-e', script] });

describe('backoffDelay', () => {
  it('doubles from the initial delay up to the cap', () => {
    const backoff = { initialMs: 1000, maxMs: 60_000 };
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((a) => backoffDelay(a, backoff))).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000]);
    expect(backoffDelay(10_000, backoff)).toBe(60_000);
  });
});

describe('AgentSupervisor', () => {
  let supervisor: AgentSupervisor | undefined;
  afterEach(async () => {
    await supervisor?.stop();
    supervisor = undefined;
  });

  it('restarts an agent that keeps crashing, waiting longer each time', async () => {
    supervisor = new AgentSupervisor(node('console.log("up"); process.exit(3)'), { initialMs: 100, maxMs: 400, stableAfterMs: 60_000 });
    const exits: number[] = [];
    supervisor.on('exit', () => exits.push(Date.now()));
    supervisor.start();
    while (exits.length < 4) await once(supervisor, 'exit');
    const gaps = exits.slice(1).map((t, i) => t - exits[i]!);
    // Delays of 100, 200, 400 ms (plus the time node takes to start and exit).
    expect(gaps[0]).toBeGreaterThanOrEqual(100);
    expect(gaps[1]).toBeGreaterThanOrEqual(200);
    expect(gaps[2]).toBeGreaterThanOrEqual(400);
    expect(supervisor.restarts).toBeGreaterThanOrEqual(3);
    expect(supervisor.lastExit).toBe('exited with code 3');
    expect(supervisor.log).toContain('up');
  });

  it('restarts an agent that was killed, and learns its new admin address', async () => {
    const script = 'console.log(JSON.stringify({ msg: "agent starting", admin: "http://127.0.0.1:" + (40000 + process.pid % 1000) })); setInterval(() => {}, 1000)';
    supervisor = new AgentSupervisor(node(script), { initialMs: 50, maxMs: 50, stableAfterMs: 60_000 });
    supervisor.start();
    const waitFor = async (check: () => boolean) => {
      while (!check()) await once(supervisor!, 'change');
    };
    await waitFor(() => supervisor!.adminUrl !== null);
    const firstPid = supervisor.pid!;
    process.kill(firstPid, 'SIGKILL');
    await waitFor(() => supervisor!.pid !== null && supervisor!.pid !== firstPid && supervisor!.adminUrl !== null);
    expect(supervisor.state).toBe('running');
    expect(supervisor.restarts).toBe(1);
    expect(supervisor.lastExit).toBe('killed by SIGKILL');
  });

  it('stops an agent for good: no restart after a requested stop', async () => {
    supervisor = new AgentSupervisor(node('setInterval(() => {}, 1000)'), { initialMs: 10, maxMs: 10, stableAfterMs: 60_000 });
    supervisor.start();
    await once(supervisor, 'change');
    const pid = supervisor.pid;
    await supervisor.stop();
    expect(supervisor.state).toBe('stopped');
    expect(supervisor.pid).toBeNull();
    expect(supervisor.restarts).toBe(0);
    expect(() => process.kill(pid!, 0)).toThrow();
  });

  it('resets the delay after a run that lasted', async () => {
    supervisor = new AgentSupervisor(node('setTimeout(() => process.exit(1), 150)'), { initialMs: 50, maxMs: 10_000, stableAfterMs: 100 });
    supervisor.start();
    await once(supervisor, 'exit');
    await once(supervisor, 'exit');
    // Each run outlived stableAfterMs, so each restart waited only the initial delay.
    expect(supervisor.nextRestartAt!.getTime() - Date.now()).toBeLessThanOrEqual(50);
  });
});
