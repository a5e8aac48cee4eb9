/**
 * Training failures that are the data's fault, not the code's: they carry
 * a code and a hint that reach the task's `error_details`.
 *
 * @module
 */

/** A training failure with a machine-readable code and a plain-words hint. */
export class TrainingError extends Error {
  /** Machine-readable reason, such as `not_enough_readings`. */
  readonly code: string;
  /** What the user can do about it. */
  readonly hint: string;

  /** Creates the error. */
  constructor(code: string, message: string, hint: string) {
    super(message);
    this.name = "TrainingError";
    this.code = code;
    this.hint = hint;
  }
}
