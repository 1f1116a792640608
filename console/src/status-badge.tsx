// The status word in its colour, with a dot that is decoration only.
import type { StatusWord } from './status.js';

export function StatusBadge({ word }: { word: StatusWord }) {
  return (
    <p className={`status status-${word}`}>
      <span className="dot" aria-hidden="true" />
      Status: {word}
    </p>
  );
}
