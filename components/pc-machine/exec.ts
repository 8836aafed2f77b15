/**
 * `exec()` over a serial console: the command is typed between two `echo`s of a unique marker.
 * The markers are typed with an empty pair of quotes in the middle (`"__PCM_x""_B__"`), so the
 * terminal's echo of the typed line never contains the printed marker (`__PCM_x_B__`); the
 * command's output is what the guest prints between the two printed markers, and the end marker
 * carries `$?`.
 */

export interface ExecResult {
  /** What the command printed (stdout and stderr, CR LF turned into LF, escape sequences removed). */
  output: string;
  /** The command's exit status (`$?`). */
  status: number;
}

export interface ExecMarkers {
  /** The line to type, ending with a carriage return. */
  line: string;
  /** Matches the printed begin marker and the line break after it. */
  begin: RegExp;
  /** Matches the printed end marker; group 1 is the status. */
  end: RegExp;
}

let counter = 0;

/** A token of letters and digits unlikely to appear in any output. */
export function makeToken(): string {
  counter = (counter + 1) % 1e6;
  const random = Math.floor(Math.random() * 36 ** 6)
    .toString(36)
    .padStart(6, '0');
  return `${random}${counter.toString(36)}`;
}

export function buildExec(command: string, token = makeToken()): ExecMarkers {
  if (/[\r\n]/.test(command)) throw new TypeError('exec: the command must be a single line');
  const trimmed = command.trim();
  if (!trimmed) throw new TypeError('exec: empty command');
  // `cmd &; echo` is a syntax error: after a trailing & or ; no separator is needed.
  const body = /(^|[^&])&$|;$/.test(trimmed) ? `${trimmed} ` : `${trimmed}; `;
  const tag = `__PCM_${token}`;
  const line = `echo "${tag}""_B__"; ${body}echo "${tag}""_E$?__"\r`;
  return {
    line,
    begin: new RegExp(`${tag}_B__\\r?\\n`),
    end: new RegExp(`${tag}_E(\\d+)__`),
  };
}

/** The command output between the markers, with CR LF (and stray CR before LF) turned into LF. */
export function cleanExecOutput(raw: string): string {
  return raw.replace(/\r+\n/g, '\n');
}
