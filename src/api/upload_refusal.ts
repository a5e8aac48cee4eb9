/**
 * The answer to an upload with problems (readings or temperatures): it is
 * refused whole, naming how many problems and the first, with up to
 * `LISTED_PROBLEMS` of them listed.
 *
 * @module
 */
import type { RejectedLine } from "../meters/csv.ts";
import { ApiError } from "./errors.ts";

/** Problems listed in an error; the count says how many there were in all. */
export const LISTED_PROBLEMS = 100;

/** A `422` with `code` for an upload with `problems` (at least one), counted by `unit`. */
export function uploadRefused(
  code: string,
  problems: readonly RejectedLine[],
  unit: "line" | "item",
): ApiError {
  const first = problems[0];
  const where = first.line ? `${unit} ${first.line}: ` : "";
  return new ApiError(
    422,
    code,
    `The upload has ${problems.length} problem${
      problems.length === 1 ? "" : "s"
    }, so nothing was stored. First: ${where}${first.reason}. Fix them and send the whole upload again.`,
    {
      counted_by: unit,
      problem_count: problems.length,
      problems: problems.slice(0, LISTED_PROBLEMS),
    },
  );
}
