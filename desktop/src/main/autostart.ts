// Start at login on Linux: Electron's setLoginItemSettings covers macOS and Windows only, so the
// app writes (or removes) an XDG autostart entry, which every freedesktop session honours.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export const autostartFile = (configHome = process.env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config')) => path.join(configHome, 'autostart', 'lattice.desktop');

/** The desktop entry that starts `executable` hidden in the tray. */
export function autostartEntry(executable: string): string {
  const quoted = `"${executable.replace(/(["`$\\])/g, '\\$1')}"`;
  return ['[Desktop Entry]', 'Type=Application', 'Name=Lattice', 'Comment=Lend this machine to a Lattice cluster', `Exec=${quoted} --hidden`, 'X-GNOME-Autostart-enabled=true', ''].join('\n');
}

export async function setLinuxAutostart(enabled: boolean, executable: string, file = autostartFile()): Promise<void> {
  if (!enabled) return rm(file, { force: true });
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, autostartEntry(executable), { mode: 0o644 });
}
