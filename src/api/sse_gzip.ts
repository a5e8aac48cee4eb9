/**
 * Gzip for event streams, for clients that send `Accept-Encoding: gzip`
 * (`STREAM_GZIP`). Hono's `compress` and `Deno.serve` leave
 * `text/event-stream` alone, because a compressor holds bytes back until it
 * has enough of them: a client would see its events late, or at the end.
 * Here every frame is flushed as it is written (`Z_SYNC_FLUSH`), so each
 * event leaves whole at once, while the compressor keeps its window across
 * events: a status event repeats most of the previous one, so it costs a
 * fraction of its size. Compression is synchronous: a frame's bytes are on
 * the connection when `write` returns, as without gzip.
 *
 * Memory: a compressor costs about 150 KB whatever its window (Deno's
 * zlib), ten times an idle stream without one, and most open streams are
 * idle (a task waiting, a quiet dashboard). So the gzip member is written
 * here (header, raw deflate, CRC-32 and length trailer) and its deflate
 * data may come from several compressors one after another: a stream's
 * compressor is freed once it has been idle for `IDLE_MS`, and the next
 * status event starts a fresh one (a flushed deflate stream may go on with
 * any blocks). While a stream has none, a small frame (a heartbeat) goes
 * out as a stored block: uncompressed, no compressor, no CPU.
 *
 * @module
 */
import { constants, crc32, createDeflateRaw } from "node:zlib";

/** How each stream's compressor is set up. */
export interface GzipSettings {
  /** Compression level, 1 (fast) to 9 (small). */
  level: number;
  /** Log2 of the window (9 to 15): how far back a repeat may be found. */
  windowBits: number;
  /** Memory for the match finder's hash, 1 (least) to 9. */
  memLevel: number;
  /** Bytes of output space per pass of the compressor. */
  chunkSize: number;
}

/**
 * The settings streams use: a 4 KB window holds several status events (one
 * is about 600 bytes), which is where the repeats are. A 5-minute task
 * takes 6% more bytes than with zlib's defaults (32 KB window, memLevel 8),
 * and each compressor 60 KB less (`BENCHMARKS.md`); a 512-byte window
 * (`windowBits` 9) is smaller than one event and loses most of the gain.
 */
export const GZIP_SETTINGS: GzipSettings = {
  level: 6,
  windowBits: 12,
  memLevel: 4,
  chunkSize: 16 * 1024,
};

/** A stream's compressor is freed after this long without a frame bigger than a heartbeat. */
export const IDLE_MS = 10_000;

/** Frames up to this size go out stored, uncompressed, on a stream that has no compressor. */
export const STORED_MAX_BYTES = 256;

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

/** One gzip member written frame by frame. */
export interface GzipEncoder {
  /** Encodes one frame; its bytes reach `emit` whole before this returns. */
  write(frame: Uint8Array): void;
  /** True while the stream holds a compressor. */
  readonly compressing: boolean;
  /** Writes the end of the member; nothing more is written. */
  end(): void;
  /** Frees the compressor; nothing more is written. */
  destroy(): void;
}

/** The gzip header: deflate, no name or time, unknown OS. */
const HEADER = new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);

/** A final, empty deflate block with fixed codes: the end of the deflate data. */
const FINAL_BLOCK = [0x03, 0x00];

/**
 * Starts a gzip member whose bytes go to `emit` in order, the header at
 * once; its compressor is freed after `idleMs` without a frame bigger than
 * `STORED_MAX_BYTES` (heartbeats go through it while it is there, but do
 * not keep it). Each frame is either compressed and flushed by the stream's compressor,
 * or (no compressor, small frame) stored as it is.
 */
export function createGzipEncoder(
  emit: (bytes: Uint8Array) => void,
  settings: GzipSettings = GZIP_SETTINGS,
  idleMs: number = IDLE_MS,
): GzipEncoder {
  let crc = 0;
  let size = 0;
  let deflate: Compressor | null = null;
  let lastCompressedAt = 0;
  let closed = false;
  const release = () => {
    deflate?.close();
    deflate = null;
    unwatchIdle(encoder);
  };
  const encoder: GzipEncoder & Sweepable = {
    get compressing() {
      return deflate !== null;
    },
    write(frame) {
      if (closed) return;
      crc = crc32(frame, crc);
      size = (size + frame.byteLength) >>> 0;
      const small = frame.byteLength <= STORED_MAX_BYTES;
      if (!deflate && small) {
        emit(storedBlock(frame));
        return;
      }
      if (!deflate) {
        deflate = openCompressor(settings);
        watchIdle(encoder);
      }
      // Heartbeats do not keep a compressor: only status events do.
      if (!small) lastCompressedAt = Date.now();
      for (const chunk of compressFlushed(deflate, frame, settings.chunkSize)) emit(chunk);
    },
    end() {
      if (closed) return;
      release();
      closed = true;
      const trailer = new Uint8Array(10);
      trailer.set(FINAL_BLOCK);
      const view = new DataView(trailer.buffer);
      view.setUint32(2, crc >>> 0, true);
      view.setUint32(6, size, true);
      emit(trailer);
    },
    destroy() {
      closed = true;
      release();
    },
    releaseIfIdle(now) {
      if (deflate && now - lastCompressedAt >= idleMs) release();
    },
  };
  emit(HEADER);
  return encoder;
}

/**
 * The parts of a `node:zlib` stream used here: its native handle, driven
 * synchronously as `zlib.deflateRawSync` drives it (Node's and Deno's
 * `processChunkSync`), but kept open across frames, so that each frame is
 * compressed and flushed before `write` returns: no turn of the event loop
 * between an event and its bytes.
 */
interface Compressor {
  _handle: {
    writeSync(
      flush: number,
      input: Uint8Array,
      inOffset: number,
      inLength: number,
      output: Uint8Array,
      outOffset: number,
      outLength: number,
    ): void;
  };
  /** After each `writeSync`: output space left, input left. */
  _writeState: Uint32Array;
  close(): void;
}

function openCompressor(settings: GzipSettings): Compressor {
  const stream = createDeflateRaw({
    level: settings.level,
    windowBits: settings.windowBits,
    memLevel: settings.memLevel,
    chunkSize: 64, // the stream's own output buffer is never used: keep it small
  }) as unknown as Compressor;
  if (typeof stream._handle?.writeSync !== "function" || !stream._writeState) {
    throw new Error("node:zlib has no synchronous handle here; set STREAM_GZIP=false");
  }
  return stream;
}

/** Output space for one pass of the compressor, shared: each pass copies out what it made. */
let scratch = new Uint8Array(0);

/** Compresses `frame` and flushes it (`Z_SYNC_FLUSH`): the bytes that carry it, whole. */
function compressFlushed(deflate: Compressor, frame: Uint8Array, chunkSize: number): Uint8Array[] {
  if (scratch.byteLength !== chunkSize) scratch = new Uint8Array(chunkSize);
  const out: Uint8Array[] = [];
  let inOffset = 0;
  let inLength = frame.byteLength;
  while (true) {
    deflate._handle.writeSync(
      constants.Z_SYNC_FLUSH,
      frame,
      inOffset,
      inLength,
      scratch,
      0,
      scratch.byteLength,
    );
    const [outLeft, inLeft] = deflate._writeState;
    const made = scratch.byteLength - outLeft;
    if (made > 0) out.push(scratch.slice(0, made));
    // Output space left over: the frame is in, and flushed.
    if (outLeft !== 0) return out;
    inOffset += inLength - inLeft;
    inLength = inLeft;
  }
}

/**
 * A frame as a stored (uncompressed) deflate block: a byte of block header
 * (not final, stored), the length and its complement, then the bytes. It
 * starts and ends on a byte boundary, as every flushed block does.
 */
function storedBlock(frame: Uint8Array): Uint8Array {
  const block = new Uint8Array(5 + frame.byteLength);
  const length = frame.byteLength;
  block[0] = 0x00;
  block[1] = length & 0xff;
  block[2] = length >> 8;
  block[3] = ~length & 0xff;
  block[4] = (~length >> 8) & 0xff;
  block.set(frame, 5);
  return block;
}

/** How often the process looks for idle compressors. */
const SWEEP_MS = 1000;

/** A stream whose compressor the sweep may free. */
interface Sweepable {
  releaseIfIdle(now: number): void;
}

/** Streams holding a compressor, checked for idleness by one timer for the process. */
const idle = new Set<Sweepable>();
let sweeper: ReturnType<typeof setInterval> | undefined;

function watchIdle(encoder: Sweepable): void {
  idle.add(encoder);
  if (sweeper !== undefined) return;
  sweeper = setInterval(() => {
    const now = Date.now();
    for (const e of idle) e.releaseIfIdle(now);
  }, SWEEP_MS);
  // The sweep never keeps the process alive by itself.
  Deno.unrefTimer(sweeper);
}

/** Stops watching a stream; the sweep stops with the last one (nothing left running). */
function unwatchIdle(encoder: Sweepable): void {
  idle.delete(encoder);
  if (idle.size > 0 || sweeper === undefined) return;
  clearInterval(sweeper);
  sweeper = undefined;
}
