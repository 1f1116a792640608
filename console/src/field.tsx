// A labelled form field whose error is tied to its input (aria-invalid, aria-describedby), so a
// screen reader reads the problem with the field.
import { cloneElement, type ReactElement } from 'react';

interface FieldProps {
  id: string;
  label: string;
  error: string | undefined;
  help?: string;
  children: ReactElement<Record<string, unknown>>;
}

export function Field({ id, label, error, help, children }: FieldProps) {
  const domId = `field-${id.replaceAll('.', '-')}`;
  const described = [help && `${domId}-help`, error && `${domId}-error`].filter(Boolean).join(' ');
  return (
    <div className={error ? 'field invalid' : 'field'}>
      <label htmlFor={domId}>{label}</label>
      {cloneElement(children, {
        id: domId,
        'data-field': id,
        'aria-invalid': error ? true : undefined,
        'aria-describedby': described || undefined,
      })}
      {help && (
        <p id={`${domId}-help`} className="help">
          {help}
        </p>
      )}
      {error && (
        <p id={`${domId}-error`} className="field-error">
          {error}
        </p>
      )}
    </div>
  );
}
