import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { autostartFile, setLinuxAutostart } from './autostart.js';

describe('Linux autostart', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'lattice-autostart-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('writes an XDG autostart entry that starts the app hidden, and removes it', async () => {
    const file = autostartFile(dir);
    await setLinuxAutostart(true, '/opt/Lattice/lattice "beta"', file);
    expect(await readFile(file, 'utf8')).toContain('Exec="/opt/Lattice/lattice \\"beta\\"" --hidden');
    await setLinuxAutostart(false, '/opt/Lattice/lattice', file);
    await expect(stat(file)).rejects.toThrow(/ENOENT/);
    await setLinuxAutostart(false, '/opt/Lattice/lattice', file); // already gone: fine
  });
});
