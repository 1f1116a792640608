import { applyChange, type WorkloadObject } from './lattice-object.js';

const wl = (name: string, replicas = 1): WorkloadObject => ({ metadata: { name }, spec: { replicas } });

test('watch events add, replace and remove by name, keeping the list sorted', () => {
  let list = applyChange([], { type: 'ADDED', object: wl('web') });
  list = applyChange(list, { type: 'ADDED', object: wl('api') });
  expect(list.map((w) => w.metadata.name)).toEqual(['api', 'web']);
  list = applyChange(list, { type: 'MODIFIED', object: wl('web', 3) });
  expect(list[1]?.spec?.replicas).toBe(3);
  list = applyChange(list, { type: 'DELETED', object: wl('api') });
  expect(list.map((w) => w.metadata.name)).toEqual(['web']);
});
