import { commandLineSettings, desiredSettings, managedParameterProblem, needsRestart, recommendedSettings, renderConf, splitSettings } from './settings.js';

const MiB = 2 ** 20;

describe('recommendedSettings', () => {
  test('256Mi: a quarter for shared_buffers, three quarters for the cache, connections in proportion', () => {
    expect(recommendedSettings(256 * MiB)).toEqual({
      shared_buffers: '65536kB',
      effective_cache_size: '196608kB',
      max_connections: '51',
      work_mem: '1285kB',
      maintenance_work_mem: '16384kB',
    });
  });

  test('connections and maintenance_work_mem stay within bounds', () => {
    expect(recommendedSettings(32 * MiB)).toMatchObject({ max_connections: '20', maintenance_work_mem: '2048kB' });
    expect(recommendedSettings(64 * 1024 * MiB)).toMatchObject({ max_connections: '500', maintenance_work_mem: '2097152kB' });
  });
});

test('spec.parameters override the recommendations, whatever the case of their names', () => {
  const settings = desiredSettings({ resources: { cpu: '1', memory: '1Gi' }, parameters: { Work_Mem: '8MB', log_min_duration_statement: '250ms' } });
  expect(settings).toMatchObject({ work_mem: '8MB', log_min_duration_statement: '250ms', shared_buffers: '262144kB' });
  expect(settings).not.toHaveProperty('Work_Mem');
});

test.each([
  ['shared_buffers', true],
  ['max_connections', true],
  ['Shared_Preload_Libraries', true],
  ['work_mem', false],
  ['log_min_duration_statement', false],
  ['pg_stat_statements.track', false],
])('%s needs a restart: %s', (name, restart) => {
  expect(needsRestart(name)).toBe(restart);
});

test('settings split into restart-only and reloadable, in name order', () => {
  const { postmaster, reloadable } = splitSettings({ work_mem: '4MB', shared_buffers: '64MB', effective_cache_size: '1GB', max_connections: '50' });
  expect(Object.keys(postmaster)).toEqual(['max_connections', 'shared_buffers']);
  expect(Object.keys(reloadable)).toEqual(['effective_cache_size', 'work_mem']);
});

test('settings become -c arguments', () => {
  expect(commandLineSettings({ shared_buffers: '64MB', max_connections: '50' })).toEqual(['-c', 'max_connections=50', '-c', 'shared_buffers=64MB']);
});

test('conf values are quoted, quotes and backslashes escaped', () => {
  expect(renderConf({ work_mem: '4MB', search_path: `"$user", it's`, application_name: 'a\\b' })).toBe(
    [`application_name = 'a\\\\b'`, `search_path = '"$user", it''s'`, `work_mem = '4MB'`].join('\n'),
  );
});

test('settings Lattice manages are refused, by name', () => {
  expect(managedParameterProblem({ work_mem: '4MB' })).toBeUndefined();
  expect(managedParameterProblem({ Port: '5433', listen_addresses: 'localhost' })).toMatch(/sets Port, listen_addresses, which Lattice manages/);
});
