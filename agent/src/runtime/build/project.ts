// What a build reads from the checked-out context directory: the facts the Dockerfile is
// generated from, and the list of files sent to Docker as the build context.
import { lstat, readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { BuildConfigError, type ProjectFacts } from './dockerfile.js';

/** A regular file's text; never through a symlink, which could point at the provider's own files. */
export async function readText(file: string): Promise<string | undefined> {
  try {
    if (!(await lstat(file)).isFile()) return undefined;
    return await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** The `web:` command of a Procfile. */
export function procfileWeb(procfile: string | undefined): string | undefined {
  const line = procfile?.split('\n').find((l) => /^web\s*:/.test(l));
  return line?.replace(/^web\s*:\s*/, '').trim() || undefined;
}

export async function projectFacts(dir: string): Promise<ProjectFacts> {
  const packageText = await readText(path.join(dir, 'package.json'));
  let packageJson: ProjectFacts['packageJson'];
  if (packageText !== undefined) {
    try {
      packageJson = JSON.parse(packageText) as ProjectFacts['packageJson'];
    } catch (err) {
      throw new BuildConfigError(`package.json is not valid JSON: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  const entries = await readdir(dir);
  return {
    packageJson,
    npmLockfile: entries.includes('package-lock.json'),
    requirementsTxt: entries.includes('requirements.txt'),
    pyprojectToml: entries.includes('pyproject.toml'),
    procfileWeb: procfileWeb(await readText(path.join(dir, 'Procfile'))),
    pythonFiles: entries.filter((e) => e.endsWith('.py')),
  };
}

/** Every file of the context (relative paths), without the .git folder: what Docker is sent. */
export async function contextFiles(dir: string): Promise<string[]> {
  const all = await readdir(dir, { recursive: true });
  return all.filter((f) => f !== '.git' && !f.startsWith(`.git${path.sep}`));
}
