/**
 * Every open event stream of this process on one shared clock, instead of
 * two timers per stream: a tick every tenth of the heartbeat interval (at
 * most a second apart) sends heartbeats to the streams whose turn it is (so
 * each stream gets one every `heartbeatMs`, and 10,000 streams never beat
 * at once), and ends the streams that reached `streamMaxMs`. A heartbeat frame is
 * encoded once per task per tick, whatever the number of its streams.
 *
 * Streams are kept in the order they opened, which is also the order of
 * their deadlines (the maximum duration is the same for all), so the tick
 * only looks at the streams that are due. The clock runs only while a
 * stream is open.
 *
 * At shutdown every stream gets a short `retry:` hint and a clean end, so
 * clients reconnect at once (to another instance behind the load balancer)
 * and resume where they were with `Last-Event-ID`.
 *
 * @module
 */
import { sseFrame, sseRetryFrame } from "./sse_frame.ts";
import type { SseSink } from "./sse_sink.ts";
import { logger } from "../logging/logging.ts";

const log = logger("streams");

/** An open stream, as the clock sees it. */
export interface OpenStream {
  /** The task it follows, named in its heartbeats (null: a stream of several). */
  taskId: string | null;
  sink: SseSink;
  /** False when its client asked for no heartbeats (`?events=` without `heartbeat`). */
  heartbeats?: boolean;
}

/** The open streams of one process. */
export interface OpenStreams {
  /**
   * Registers a stream: it gets heartbeats until it closes, and is ended at
   * the maximum duration or when the server shuts down.
   */
  add(stream: OpenStream): void;
  /** Streams open now. */
  count(): number;
  /** Clients dropped because they stopped reading, since start. */
  droppedSlow(): number;
  /** Counts one client dropped for not reading. */
  noteSlow(): void;
  /**
   * Ends every stream; later ones are ended at once. With `retryMs`, each
   * stream is first sent a `retry:` field of `retryMs()` milliseconds (asked
   * per stream, so reconnections can be spread), so its `EventSource`
   * reconnects soon (to another instance) and resumes with `Last-Event-ID`.
   */
  close(retryMs?: () => number): void;
}

/** Timing of the shared clock. */
export interface OpenStreamsOptions {
  heartbeatMs: number;
  streamMaxMs: number;
  /** Clock, for tests. */
  now?: () => number;
}

/** Ticks per heartbeat interval, when the interval allows (ticks come at most every second). */
const SLOTS = 10;

interface Entry extends OpenStream {
  slot: number;
  deadline: number;
}

/** Creates the registry of open streams. */
export function createOpenStreams(options: OpenStreamsOptions): OpenStreams {
  const now = options.now ?? Date.now;
  // A tick at least every second, so streams end on time whatever the
  // heartbeat interval; the ring has one slot per tick of an interval.
  const tickMs = Math.min(1000, Math.max(10, options.heartbeatMs / SLOTS));
  const slots = Math.max(1, Math.round(options.heartbeatMs / tickMs));
  const ring = Array.from({ length: slots }, () => new Set<Entry>());
  const byDeadline = new Set<Entry>();
  let slot = 0;
  let timer: ReturnType<typeof setInterval> | undefined;
  let dropped = 0;
  let closed = false;

  function tick(): void {
    slot = (slot + 1) % slots;
    const t = now();
    for (const entry of byDeadline) {
      if (entry.deadline > t) break;
      finish(entry); // its close callback removes it
    }
    const frames = new Map<string | null, Uint8Array>();
    const timestamp = new Date(t).toISOString();
    for (const entry of ring[slot]) {
      let frame = frames.get(entry.taskId);
      if (!frame) {
        frame = sseFrame({ task_id: entry.taskId, type: "heartbeat", timestamp });
        frames.set(entry.taskId, frame);
      }
      // A client with unread bytes past the limit gets no heartbeat: it
      // has data waiting, and its stream is deciding whether to drop it.
      if (!entry.sink.full) entry.sink.write(frame);
    }
  }

  /**
   * Ends a stream; one whose client has unread bytes past the limit is cut,
   * since a clean end would keep its buffer and connection for as long as
   * that client holds them.
   */
  function finish(entry: Entry): void {
    if (entry.sink.full) {
      dropped++;
      entry.sink.drop();
    } else {
      entry.sink.end();
    }
  }

  function remove(entry: Entry): void {
    ring[entry.slot].delete(entry);
    byDeadline.delete(entry);
    if (byDeadline.size === 0 && timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
    }
  }

  return {
    add(stream) {
      if (closed) {
        stream.sink.end();
        return;
      }
      // The slot served last: its next turn is a whole interval away.
      const entry: Entry = { ...stream, slot, deadline: now() + options.streamMaxMs };
      if (stream.heartbeats !== false) ring[slot].add(entry);
      byDeadline.add(entry);
      timer ??= setInterval(tick, tickMs);
      stream.sink.onClose(() => remove(entry));
    },
    count: () => byDeadline.size,
    droppedSlow: () => dropped,
    noteSlow() {
      dropped++;
      log.debug(
        "dropped a slow client: it left its buffered bytes unread past the stall time ({dropped} so far)",
        { dropped },
      );
    },
    close(retryMs) {
      closed = true;
      for (const entry of byDeadline) {
        // Whole frames only are ever written, so this one starts a frame.
        if (retryMs && !entry.sink.full) entry.sink.write(sseRetryFrame(retryMs()));
        finish(entry);
      }
    },
  };
}
