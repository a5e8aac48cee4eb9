/**
 * Gzip for event streams, for clients that send `Accept-Encoding: gzip`
 * (`STREAM_GZIP`). Hono's `compress` and `Deno.serve` leave
 * `text/event-stream` alone, because a compressor holds bytes back until it
 * has enough of them: a client would see its events late, or at the end.
 * Here every frame is written with `Z_SYNC_FLUSH`, so each event leaves
 * whole at once (a few bytes more per event), while the compressor keeps
 * its window across events: a status event repeats most of the previous
 * one, so it costs a fraction of its size.
 *
 * A compressed sink wraps the sink of the connection (`sse_sink.ts`), so
 * the buffer limit and the slow-client rule apply to the compressed bytes
 * the client has not read. Each open stream holds its own compressor: the
 * window and hash sizes (`GZIP_SETTINGS`) keep that small for thousands of
 * idle streams (`BENCHMARKS.md`, section "Gzip on event streams").
 *
 * @module
 */
import { constants, createGzip, type Gzip } from "node:zlib";

/** How each stream's compressor is set up. */
export interface GzipSettings {
  /** Compression level, 1 (fast) to 9 (small). */
  level: number;
  /** Log2 of the window (9 to 15): how far back a repeat may be found. */
  windowBits: number;
  /** Memory for the match finder's hash, 1 (least) to 9. */
  memLevel: number;
  /** Bytes of each output buffer the compressor allocates. */
  chunkSize: number;
}

/**
 * The settings streams use: a 4 KB window holds several status events (one
 * is about 600 bytes), which is where the repeats are; a small hash and
 * output buffer keep an idle stream's compressor at a few tens of KB
 * instead of zlib's default 256 KB and more.
 */
export const GZIP_SETTINGS: GzipSettings = {
  level: 6,
  windowBits: 12,
  memLevel: 4,
  chunkSize: 2048,
};

/**
 * True when an `Accept-Encoding` header accepts gzip: `gzip` (or `x-gzip`)
 * with a non-zero weight, or `*` with one when gzip is not named.
 */
export function acceptsGzip(header: string | null | undefined): boolean {
  if (!header) return false;
  let gzip: number | undefined;
  let any: number | undefined;
  for (const part of header.split(",")) {
    const [coding, ...params] = part.split(";").map((s) => s.trim().toLowerCase());
    let q = 1;
    for (const param of params) {
      const match = /^q\s*=\s*([0-9.]+)$/.exec(param);
      if (match) q = Number(match[1]);
    }
    if (Number.isNaN(q)) q = 0;
    if (coding === "gzip" || coding === "x-gzip") gzip = Math.max(gzip ?? 0, q);
    else if (coding === "*") any = q;
  }
  return (gzip ?? any ?? 0) > 0;
}

/** A gzip stream whose every write comes out whole at once (`Z_SYNC_FLUSH`). */
export function createFlushingGzip(settings: GzipSettings = GZIP_SETTINGS): Gzip {
  return createGzip({
    level: settings.level,
    windowBits: settings.windowBits,
    memLevel: settings.memLevel,
    chunkSize: settings.chunkSize,
    flush: constants.Z_SYNC_FLUSH,
  });
}
