import { EventCorrelator, type EventTarget } from './events.js';

const pod = (uid: string): EventTarget => ({ apiVersion: 'v1', kind: 'Pod', name: `p-${uid}`, namespace: 'ns', uid });
const at = (minutes: number) => new Date(Date.UTC(2026, 0, 1, 0, minutes));

describe('the event correlator', () => {
  test('counts an event seen again on the one stored, then stores anew after 10 minutes', () => {
    const c = new EventCorrelator();
    expect(c.correlate(pod('a'), 'Warning', 'BackOff', 'restarting', at(0))).toEqual({ action: 'create' });
    c.stored(pod('a'), 'Warning', 'BackOff', 'restarting', { name: 'e1', count: 1, firstTimestamp: at(0), lastTimestamp: at(0) });
    expect(c.correlate(pod('a'), 'Warning', 'BackOff', 'restarting', at(2))).toEqual({ action: 'count', name: 'e1', count: 2, firstTimestamp: at(0) });
    c.stored(pod('a'), 'Warning', 'BackOff', 'restarting', { name: 'e1', count: 2, firstTimestamp: at(0), lastTimestamp: at(2) });
    expect(c.correlate(pod('a'), 'Warning', 'BackOff', 'restarting', at(13))).toEqual({ action: 'create' });
  });

  test('keeps different messages, reasons and objects apart', () => {
    const c = new EventCorrelator();
    c.stored(pod('a'), 'Normal', 'Pulled', 'image x', { name: 'e1', count: 1, firstTimestamp: at(0), lastTimestamp: at(0) });
    expect(c.correlate(pod('a'), 'Normal', 'Pulled', 'image y', at(1)).action).toBe('create');
    expect(c.correlate(pod('a'), 'Normal', 'Started', 'image x', at(1)).action).toBe('create');
    expect(c.correlate(pod('b'), 'Normal', 'Pulled', 'image x', at(1)).action).toBe('create');
  });

  test('lets 25 events of one object through, then drops the flood, leaving other objects alone', () => {
    const c = new EventCorrelator();
    const outcomes = Array.from({ length: 1000 }, (_, i) => c.correlate(pod('flood'), 'Warning', 'Flood', `message ${i}`, at(0)).action);
    expect(outcomes.filter((a) => a !== 'drop')).toHaveLength(25);
    expect(outcomes.slice(25).every((a) => a === 'drop')).toBe(true);
    expect(c.correlate(pod('quiet'), 'Normal', 'Started', 'started', at(0)).action).toBe('create');
  });
});
