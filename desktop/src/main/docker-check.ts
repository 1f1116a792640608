// Does Docker answer? The agent runs every pod as Docker containers, so the app checks before
// joining and says plainly how to install or start it when it does not.
import Docker from 'dockerode';
import type { DockerStatus } from '../contract.js';

const HOW_TO: Record<string, string> = {
  linux: 'Install Docker Engine (https://docs.docker.com/engine/install/), then start it with `sudo systemctl start docker` and make sure your user may use it (`sudo usermod -aG docker $USER`, then log in again).',
  darwin: 'Install Docker Desktop for Mac (https://docs.docker.com/desktop/setup/install/mac-install/) and open it; wait until it says "Docker Desktop is running".',
  win32: 'Install Docker Desktop for Windows (https://docs.docker.com/desktop/setup/install/windows-install/) and start it; wait until it says "Docker Desktop is running".',
};

export async function checkDocker(socketPath?: string, platform: string = process.platform): Promise<DockerStatus> {
  const docker = new Docker(socketPath ? { socketPath } : undefined);
  try {
    const version = await Promise.race([
      docker.version(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no answer within 5 s')), 5_000).unref()),
    ]);
    return { ok: true, version: version.Version, message: `Docker ${version.Version} is running.` };
  } catch (err) {
    const how = HOW_TO[platform] ?? HOW_TO.linux!;
    return { ok: false, version: null, message: `Docker does not answer (${(err as Error).message}). ${how}` };
  }
}
