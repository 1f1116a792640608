// The provider's settings, and where they live: the offer (CPU, memory, availability window) in
// the agent's own config file, which the running agent watches and applies live (the gateway
// updates the Node: allocatable and the outside-hours taint follow, no re-join); what only the
// app uses (auto-start, pause, terms) in the app's preferences file beside it.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { z } from 'zod';
import { parseQuantity } from '@lattice/crds';
import { DAYS, SettingsSchema, type Machine, type Result, type Settings } from '../contract.js';

export const thisMachine = (): Machine => ({ cpuCores: os.cpus().length, memoryBytes: os.totalmem() });

const GIB = 2 ** 30;

/** The defaults a new provider starts from: half the machine, around the clock. */
export function defaultSettings(machine: Machine, timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone): Settings {
  return {
    cpuCores: Math.max(1, Math.floor(machine.cpuCores / 2)),
    memoryGib: Math.max(0.25, Math.floor(machine.memoryBytes / GIB / 2)),
    availability: { limited: false, start: '09:00', end: '17:00', days: [...DAYS], timeZone },
    autoStart: true,
  };
}

/** Whether a time zone is one Intl knows (the gateway evaluates the window with it). */
function knownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Validates settings against the schema and this machine; errors are keyed by field. */
export function validateSettings(input: unknown, machine: Machine): { ok: true; settings: Settings } | Extract<Result, { ok: false }> {
  const parsed = SettingsSchema.safeParse(input);
  const fields: Record<string, string> = {};
  if (!parsed.success) {
    for (const issue of parsed.error.issues) fields[issue.path.join('.') || 'settings'] ??= issue.message;
  } else {
    const s = parsed.data;
    if (s.cpuCores > machine.cpuCores) fields.cpuCores = `this machine has ${machine.cpuCores} CPU cores: offer at most that`;
    const machineGib = Math.floor((machine.memoryBytes / GIB) * 100) / 100;
    if (s.memoryGib > machineGib) fields.memoryGib = `this machine has ${machineGib} GiB of memory: offer at most that`;
    if (s.availability.limited && s.availability.start === s.availability.end) fields['availability.end'] = 'the end time must differ from the start time';
    if (!knownTimeZone(s.availability.timeZone)) fields['availability.timeZone'] = `"${s.availability.timeZone}" is not a time zone, e.g. Europe/Berlin or UTC`;
  }
  const problems = Object.entries(fields);
  if (problems.length || !parsed.success) return { ok: false, error: `The settings were not saved: ${problems.map(([, m]) => m).join('; ')}`, fields };
  return { ok: true, settings: parsed.data };
}

/** The agent config keys the app owns; every other key in the file is left as it is. */
export function offerConfig(settings: Settings): { cpu: string; memory: string; availability?: { timeZone: string; days: Settings['availability']['days']; start: string; end: string } } {
  const { limited, start, end, days, timeZone } = settings.availability;
  return {
    cpu: `${Math.round(settings.cpuCores * 1000)}m`,
    memory: `${Math.round(settings.memoryGib * 1024)}Mi`,
    ...(limited ? { availability: { timeZone, days: DAYS.filter((d) => days.includes(d)), start, end } } : {}),
  };
}

/** Settings as the agent's config file (and the app's preferences) say them. */
export function settingsFrom(agentConfig: Record<string, unknown>, prefs: Prefs, fallback: Settings): Settings {
  const availability = z
    .object({ timeZone: z.string(), days: z.array(z.enum(DAYS)), start: z.string(), end: z.string() })
    .safeParse(agentConfig.availability);
  const quantity = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? parseQuantity(String(v)) : undefined);
  const cpu = quantity(agentConfig.cpu);
  const memory = quantity(agentConfig.memory);
  return {
    cpuCores: cpu !== undefined ? Math.round(cpu * 1000) / 1000 : fallback.cpuCores,
    memoryGib: memory !== undefined ? Math.round((memory / GIB) * 100) / 100 : fallback.memoryGib,
    availability: availability.success
      ? { limited: true, ...availability.data, days: availability.data.days.length ? availability.data.days : [...DAYS] }
      : { ...fallback.availability, limited: false },
    autoStart: prefs.autoStart,
  };
}

/** What only the app keeps. */
export const PrefsSchema = z.object({
  autoStart: z.boolean().default(true),
  /** The provider asked the agent to stop (it stays stopped across app restarts). */
  stopped: z.boolean().default(false),
  pausedUntil: z.string().nullable().default(null),
  termsAcceptedAt: z.string().nullable().default(null),
});
export type Prefs = z.infer<typeof PrefsSchema>;

/** Writes through a temporary file and a rename, so the agent never reads half a file. */
async function writeAtomically(file: string, text: string): Promise<void> {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(4).toString('hex')}`);
  await writeFile(temporary, text, { mode: 0o600 });
  await rename(temporary, file);
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export class SettingsStore {
  readonly agentConfigFile: string;
  private readonly prefsFile: string;

  constructor(
    appDir: string,
    readonly agentStateDir: string,
  ) {
    this.agentConfigFile = path.join(agentStateDir, 'config.yaml');
    this.prefsFile = path.join(appDir, 'desktop.json');
  }

  async agentConfig(): Promise<Record<string, unknown>> {
    const text = await readText(this.agentConfigFile);
    const parsed: unknown = text ? parseYaml(text) : {};
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  }

  async prefs(): Promise<Prefs> {
    const text = await readText(this.prefsFile);
    const parsed = PrefsSchema.safeParse(text ? JSON.parse(text) : {});
    return parsed.success ? parsed.data : PrefsSchema.parse({});
  }

  async savePrefs(change: Partial<Prefs>): Promise<Prefs> {
    const prefs = { ...(await this.prefs()), ...change };
    await mkdir(path.dirname(this.prefsFile), { recursive: true, mode: 0o700 });
    await writeAtomically(this.prefsFile, JSON.stringify(prefs, null, 2));
    return prefs;
  }

  async settings(fallback: Settings): Promise<Settings> {
    return settingsFrom(await this.agentConfig(), await this.prefs(), fallback);
  }

  /** Saves validated settings: the offer into the agent's config (applied live), the rest into the prefs. */
  async save(settings: Settings): Promise<void> {
    const { availability: _previous, ...rest } = await this.agentConfig();
    await mkdir(this.agentStateDir, { recursive: true, mode: 0o700 });
    await writeAtomically(this.agentConfigFile, toYaml({ ...rest, ...offerConfig(settings) }));
    await this.savePrefs({ autoStart: settings.autoStart });
  }
}
