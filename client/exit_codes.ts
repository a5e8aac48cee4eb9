/**
 * The terminal client's exit codes, one per kind of ending, so a script can
 * tell a failed training from a typo or a server that is down.
 *
 * @module
 */

/** Every exit code of `deno task client`. */
export const EXIT = {
  /** Every task followed ended `SUCCESS`. */
  success: 0,
  /** A task ended `FAILURE`. */
  failure: 1,
  /** Bad arguments, or the server refused the request (422, 409). */
  badArguments: 2,
  /** A task ended `CANCELLED` (and none failed). */
  cancelled: 3,
  /** A task is unknown or expired (404). */
  unknownTask: 4,
  /** The server could not be reached, or the stream could not be resumed. */
  unreachable: 5,
  /** Interrupted with Ctrl-C. */
  interrupted: 130,
} as const;

/** One of the client's exit codes. */
export type ExitCode = typeof EXIT[keyof typeof EXIT];

/** A reason to stop, with its exit code and a message in plain words. */
export class ClientExit extends Error {
  /** The exit code the process ends with. */
  readonly code: ExitCode;

  /** Makes an exit with `code`, explained by `message`. */
  constructor(code: ExitCode, message: string) {
    super(message);
    this.name = "ClientExit";
    this.code = code;
  }
}

/** The exit code for an HTTP error answer from the server. */
export function exitCodeForStatus(status: number): ExitCode {
  if (status === 404) return EXIT.unknownTask;
  if (status === 400 || status === 409 || status === 413 || status === 422) {
    return EXIT.badArguments;
  }
  return EXIT.unreachable;
}
