import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Settings } from '../contract.js';
import { defaultSettings, offerConfig, SettingsStore, validateSettings } from './settings.js';

const machine = { cpuCores: 4, memoryBytes: 8 * 2 ** 30 };
const valid: Settings = {
  cpuCores: 2,
  memoryGib: 4,
  availability: { limited: true, start: '22:00', end: '06:00', days: ['mon', 'fri'], timeZone: 'Europe/Berlin' },
  autoStart: false,
};

describe('validateSettings', () => {
  it('accepts settings within the machine', () => {
    expect(validateSettings(valid, machine)).toEqual({ ok: true, settings: valid });
    expect(validateSettings(defaultSettings(machine, 'UTC'), machine).ok).toBe(true);
  });

  it('refuses more than the machine has, naming the field and the limit', () => {
    const result = validateSettings({ ...valid, cpuCores: 6, memoryGib: 16 }, machine);
    expect(result).toMatchObject({ ok: false, fields: { cpuCores: 'this machine has 4 CPU cores: offer at most that', memoryGib: 'this machine has 8 GiB of memory: offer at most that' } });
  });

  it('refuses malformed hours, no days, an unknown time zone and an empty window', () => {
    const bad = (availability: Partial<Settings['availability']>) => validateSettings({ ...valid, availability: { ...valid.availability, ...availability } }, machine);
    expect(bad({ start: '25:00' })).toMatchObject({ ok: false, fields: { 'availability.start': 'the start time must be HH:MM' } });
    expect(bad({ days: [] })).toMatchObject({ ok: false, fields: { 'availability.days': 'choose at least one day' } });
    expect(bad({ timeZone: 'Mars/Olympus' })).toMatchObject({ ok: false, fields: { 'availability.timeZone': expect.stringContaining('not a time zone') } });
    expect(bad({ start: '08:00', end: '08:00' })).toMatchObject({ ok: false, fields: { 'availability.end': expect.any(String) } });
    // An unlimited window is not checked for an empty range.
    expect(bad({ limited: false, start: '08:00', end: '08:00' }).ok).toBe(true);
  });

  it('refuses a non-number and too small an offer', () => {
    expect(validateSettings({ ...valid, cpuCores: 'two' }, machine)).toMatchObject({ ok: false, fields: { cpuCores: 'CPU must be a number of cores' } });
    expect(validateSettings({ ...valid, memoryGib: 0.1 }, machine)).toMatchObject({ ok: false, fields: { memoryGib: 'offer at least 0.25 GiB of memory' } });
  });
});

describe('offerConfig', () => {
  it('says the offer in the agent config terms', () => {
    expect(offerConfig({ ...valid, cpuCores: 1.5, memoryGib: 0.5 })).toEqual({
      cpu: '1500m',
      memory: '512Mi',
      availability: { timeZone: 'Europe/Berlin', days: ['mon', 'fri'], start: '22:00', end: '06:00' },
    });
    expect(offerConfig({ ...valid, availability: { ...valid.availability, limited: false } })).not.toHaveProperty('availability');
  });
});

describe('SettingsStore', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'lattice-desktop-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("writes the offer into the agent's config, keeping the keys it does not own, and reads it back", async () => {
    const store = new SettingsStore(dir, path.join(dir, 'agent'));
    await store.save(valid);
    const config = parseYaml(await readFile(store.agentConfigFile, 'utf8')) as Record<string, unknown>;
    await writeFile(store.agentConfigFile, `gateway: gw.example:7443\nmaxPods: 7\ncpu: ${String(config.cpu)}\nmemory: ${String(config.memory)}\navailability: ${JSON.stringify(config.availability)}\n`);
    expect(await store.settings(defaultSettings(machine))).toEqual(valid);

    await store.save({ ...valid, cpuCores: 1, availability: { ...valid.availability, limited: false } });
    const after = parseYaml(await readFile(store.agentConfigFile, 'utf8')) as Record<string, unknown>;
    expect(after).toEqual({ gateway: 'gw.example:7443', maxPods: 7, cpu: '1000m', memory: '4096Mi' });
    expect((await store.settings(defaultSettings(machine))).availability.limited).toBe(false);
  });
});
