// A build's log: a file the agent appends to, which the build pod's container prints as it grows
// (so `kubectl logs -f` on the build pod follows it through the ordinary container log path).
// Every line passes through here, and every secret of the build is masked before it is written.
import { createWriteStream, type WriteStream } from 'node:fs';

/** The line that ends the log; the container exits with the status it carries. */
export const END_MARKER = '@@lattice-build-exit';
const TAIL_LINES = 30;

export class BuildLog {
  private readonly stream: WriteStream;
  private readonly tail: string[] = [];
  private partial = '';

  constructor(
    file: string,
    private readonly secrets: readonly string[],
  ) {
    this.stream = createWriteStream(file, { flags: 'a', mode: 0o644 });
  }

  /** Text as it comes (chunks of a process's output); written line by line. */
  write(text: string): void {
    const lines = (this.partial + text).split(/\r?\n|\r/);
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.line(line);
  }

  line(text: string): void {
    const masked = this.mask(text);
    this.tail.push(masked);
    if (this.tail.length > TAIL_LINES) this.tail.shift();
    this.stream.write(`${masked}\n`);
  }

  /** The last lines written, for a failed build's message. */
  lastLines(): string {
    return this.tail.join('\n');
  }

  mask(text: string): string {
    let out = text;
    for (const secret of this.secrets) if (secret) out = out.split(secret).join('***');
    return out;
  }

  /** Writes the end marker with the exit status and closes the file. */
  async end(exitCode: number): Promise<void> {
    if (this.partial) this.line(this.partial);
    this.partial = '';
    this.stream.write(`${END_MARKER} ${exitCode}\n`);
    await new Promise<void>((resolve) => this.stream.end(resolve));
  }
}

/**
 * What the build pod's container runs: prints the log file as it grows, and exits with the status
 * of the end marker. It reads line by line with the shell's `read`, which keeps a line that is
 * still being written for the next pass, so nothing is cut or printed twice.
 */
export function printLogScript(file: string): string {
  return [
    `until [ -e ${file} ]; do sleep 0.2; done`,
    `exec < ${file}`,
    "rest=''",
    'while :; do',
    '  if IFS= read -r line; then',
    '    line="$rest$line"; rest=\'\'',
    `    case "$line" in "${END_MARKER} "*) exit "\${line#${END_MARKER} }";; esac`,
    `    printf '%s\\n' "$line"`,
    '  else',
    '    rest="$rest$line"; sleep 0.2',
    '  fi',
    'done',
  ].join('\n');
}
