// The offer (tier or exact CPU and memory) and the availability window: one set of fields for the
// onboarding wizard and the settings form. A draft holds what the user typed; toSettings turns it
// into the contract's Settings for zod to judge.
import { useId } from 'react';
import { DAYS, type Machine, type Settings } from '../contract.js';
import { Field } from './field.js';

export interface Draft {
  cpuCores: string;
  memoryGib: string;
  limited: boolean;
  start: string;
  end: string;
  days: Settings['availability']['days'];
  timeZone: string;
  autoStart: boolean;
}

export const draftOf = (s: Settings): Draft => ({
  cpuCores: String(s.cpuCores),
  memoryGib: String(s.memoryGib),
  limited: s.availability.limited,
  start: s.availability.start,
  end: s.availability.end,
  days: s.availability.days,
  timeZone: s.availability.timeZone,
  autoStart: s.autoStart,
});

const number = (text: string) => (text.trim() === '' ? Number.NaN : Number(text));

export const toSettings = (d: Draft) => ({
  cpuCores: number(d.cpuCores),
  memoryGib: number(d.memoryGib),
  availability: { limited: d.limited, start: d.start, end: d.end, days: d.days, timeZone: d.timeZone.trim() },
  autoStart: d.autoStart,
});

const TIERS = [
  { name: 'Small', cpuCores: 1, memoryGib: 1 },
  { name: 'Medium', cpuCores: 2, memoryGib: 4 },
  { name: 'Large', cpuCores: 4, memoryGib: 8 },
];

const DAY_NAMES: Record<(typeof DAYS)[number], string> = { mon: 'Monday', tue: 'Tuesday', wed: 'Wednesday', thu: 'Thursday', fri: 'Friday', sat: 'Saturday', sun: 'Sunday' };

export function SettingsFields(props: { draft: Draft; onChange: (d: Draft) => void; machine: Machine; errors: Record<string, string> }) {
  const { draft, onChange, machine, errors } = props;
  const set = (change: Partial<Draft>) => onChange({ ...draft, ...change });
  const tierId = useId();
  const machineGib = Math.floor((machine.memoryBytes / 2 ** 30) * 100) / 100;
  const tier = TIERS.find((t) => String(t.cpuCores) === draft.cpuCores && String(t.memoryGib) === draft.memoryGib)?.name ?? 'Custom';
  return (
    <>
      <fieldset>
        <legend>What this machine offers</legend>
        <div className="field">
          <label htmlFor={tierId}>Resource tier</label>
          <select
            id={tierId}
            value={tier}
            onChange={(e) => {
              const t = TIERS.find((x) => x.name === e.target.value);
              if (t) set({ cpuCores: String(t.cpuCores), memoryGib: String(t.memoryGib) });
            }}
          >
            <option value="Custom">Custom</option>
            {TIERS.map((t) => (
              <option key={t.name} value={t.name} disabled={t.cpuCores > machine.cpuCores || t.memoryGib > machineGib}>
                {t.name}: {t.cpuCores} CPU, {t.memoryGib} GiB
              </option>
            ))}
          </select>
        </div>
        <Field label="CPU cores" inputMode="decimal" value={draft.cpuCores} onChange={(e) => set({ cpuCores: e.target.value })} error={errors.cpuCores} hint={`This machine has ${machine.cpuCores}.`} />
        <Field label="Memory (GiB)" inputMode="decimal" value={draft.memoryGib} onChange={(e) => set({ memoryGib: e.target.value })} error={errors.memoryGib} hint={`This machine has ${machineGib} GiB.`} />
      </fieldset>
      <fieldset>
        <legend>When it is available</legend>
        <label className="check">
          <input type="checkbox" checked={draft.limited} onChange={(e) => set({ limited: e.target.checked })} /> Only during these hours
        </label>
        <div className="row">
          <Field label="From" type="time" value={draft.start} disabled={!draft.limited} onChange={(e) => set({ start: e.target.value })} error={errors['availability.start']} />
          <Field label="Until" type="time" value={draft.end} disabled={!draft.limited} onChange={(e) => set({ end: e.target.value })} error={errors['availability.end']} />
          <Field label="Time zone" value={draft.timeZone} disabled={!draft.limited} onChange={(e) => set({ timeZone: e.target.value })} error={errors['availability.timeZone']} />
        </div>
        <fieldset className="days" disabled={!draft.limited} aria-describedby={errors['availability.days'] ? 'days-error' : undefined}>
          <legend>Days</legend>
          {DAYS.map((d) => (
            <label key={d} className="check">
              <input
                type="checkbox"
                checked={draft.days.includes(d)}
                onChange={(e) => set({ days: e.target.checked ? DAYS.filter((x) => x === d || draft.days.includes(x)) : draft.days.filter((x) => x !== d) })}
              />{' '}
              {DAY_NAMES[d]}
            </label>
          ))}
          {errors['availability.days'] && (
            <small id="days-error" className="error">
              {errors['availability.days']}
            </small>
          )}
        </fieldset>
      </fieldset>
      <label className="check">
        <input type="checkbox" checked={draft.autoStart} onChange={(e) => set({ autoStart: e.target.checked })} /> Start Lattice when I log in
      </label>
    </>
  );
}

/** zod's issues as field errors, keyed like the main process keys them (settings fields without their prefix). */
export function fieldErrors(issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const issue of issues) errors[issue.path.map(String).join('.').replace(/^settings\./, '') || 'form'] ??= issue.message;
  return errors;
}
