/**
 * Paces bulk writes (replays of a task's history) across every stream of
 * the process: at most `TURN_BYTES` of them per turn of the event loop, the
 * rest waiting, in order, for the next turns. A thousand clients asking for
 * a long history at once then cost a few milliseconds per turn, and other
 * requests (`/health`, new connections) are served between turns, instead
 * of waiting behind all of them. Live events are not paced.
 *
 * @module
 */

/** Bulk bytes written per turn of the event loop, across all streams. */
export const TURN_BYTES = 512 * 1024;

let spent = 0;
const waiting: { bytes: number; go: () => void }[] = [];
let timer: ReturnType<typeof setTimeout> | undefined;

function nextTurn(): void {
  timer = undefined;
  spent = 0;
  while (waiting.length && spent < TURN_BYTES) {
    const next = waiting.shift()!;
    spent += next.bytes;
    next.go();
  }
  // Another turn to release the rest, or to clear what this one spent.
  if (waiting.length || spent > 0) timer = setTimeout(nextTurn, 0);
}

/**
 * Accounts for `bytes` of bulk writing: undefined when they fit in this
 * turn (write now), else a promise of a later turn.
 */
export function pace(bytes: number): Promise<void> | undefined {
  timer ??= setTimeout(nextTurn, 0);
  if (waiting.length === 0 && spent < TURN_BYTES) {
    spent += bytes;
    return undefined;
  }
  return new Promise((go) => waiting.push({ bytes, go }));
}
