/**
 * Gzip for event streams, for clients that send `Accept-Encoding: gzip`
 * (`STREAM_GZIP`). Hono's `compress` and `Deno.serve` leave
 * `text/event-stream` alone, because a compressor holds bytes back until it
 * has enough of them: a client would see its events late, or at the end.
 * Here every frame is flushed as it is written (`Z_SYNC_FLUSH`), so each
 * event leaves whole at once, while the compressor keeps its window across
 * events: a status event repeats most of the previous one, so it costs a
 * fraction of its size.
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
import { constants, crc32, createDeflateRaw, type DeflateRaw } from "node:zlib";

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
 * is about 600 bytes), which is where the repeats are; the ratio is the
 * same as with zlib's 32 KB default (`BENCHMARKS.md`).
 */
export const GZIP_SETTINGS: GzipSettings = {
  level: 6,
  windowBits: 12,
  memLevel: 4,
  chunkSize: 2048,
};

/** A stream's compressor is freed after this long without a compressed frame. */
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
  /** Encodes one frame; its bytes reach `emit` whole (now, or after a compressor's turn). */
  write(frame: Uint8Array): void;
  /** Bytes of frames written that have not reached `emit` yet (uncompressed). */
  readonly pendingBytes: number;
  /** True while the stream holds a compressor. */
  readonly compressing: boolean;
  /** Resolves once every frame written has reached `emit`. */
  settled(): Promise<void>;
  /** Writes the end of the member (after every pending frame), then calls `done`. */
  end(done: () => void): void;
  /** Frees the compressor at once; nothing more is written. */
  destroy(): void;
}

/** The gzip header: deflate, no name or time, unknown OS. */
const HEADER = new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);

/** A final, empty deflate block with fixed codes: the end of the deflate data. */
const FINAL_BLOCK = [0x03, 0x00];

/**
 * Starts a gzip member whose bytes go to `emit` in order, the header at
 * once; its compressor is freed after `idleMs` without a compressed frame. Each frame is either compressed and flushed by the stream's
 * compressor, or (no compressor, small frame) stored as it is.
 */
export function createGzipEncoder(
  emit: (bytes: Uint8Array) => void,
  settings: GzipSettings = GZIP_SETTINGS,
  idleMs: number = IDLE_MS,
): GzipEncoder {
  let crc = 0;
  let size = 0;
  let deflate: DeflateRaw | null = null;
  let pending = 0;
  let pendingBytes = 0;
  let lastCompressedAt = 0;
  let closed = false;
  const waiters: (() => void)[] = [];
  const settle = () => {
    for (const wake of waiters.splice(0)) wake();
  };
  const compressed = (bytes: number) => {
    pendingBytes -= bytes;
    if (--pending === 0) settle();
  };
  const release = () => {
    deflate?.destroy();
    deflate = null;
    idle.delete(encoder);
  };
  const encoder: GzipEncoder & { releaseIfIdle(now: number): void } = {
    get pendingBytes() {
      return pendingBytes;
    },
    get compressing() {
      return deflate !== null;
    },
    write(frame) {
      if (closed) return;
      crc = crc32(frame, crc);
      size = (size + frame.byteLength) >>> 0;
      if (!deflate && frame.byteLength <= STORED_MAX_BYTES) {
        emit(storedBlock(frame));
        return;
      }
      if (!deflate) {
        deflate = createDeflateRaw({
          level: settings.level,
          windowBits: settings.windowBits,
          memLevel: settings.memLevel,
          chunkSize: settings.chunkSize,
          flush: constants.Z_SYNC_FLUSH,
        });
        deflate.on("data", (chunk: Uint8Array) => closed || emit(chunk));
        deflate.on("error", () => {}); // only after destroy(); the stream is ending then
        watchIdle(encoder);
      }
      lastCompressedAt = Date.now();
      pending++;
      pendingBytes += frame.byteLength;
      deflate.write(frame, () => compressed(frame.byteLength));
    },
    settled() {
      if (pending === 0 || closed) return Promise.resolve();
      return new Promise((wake) => waiters.push(wake));
    },
    end(done) {
      if (closed) return done();
      void this.settled().then(() => {
        if (closed) return done();
        release();
        const trailer = new Uint8Array(10);
        trailer.set(FINAL_BLOCK);
        const view = new DataView(trailer.buffer);
        view.setUint32(2, crc >>> 0, true);
        view.setUint32(6, size, true);
        emit(trailer);
        closed = true;
        done();
      });
    },
    destroy() {
      closed = true;
      release();
      settle();
    },
    releaseIfIdle(now) {
      if (deflate && pending === 0 && now - lastCompressedAt >= idleMs) release();
    },
  };
  emit(HEADER);
  return encoder;
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

/** Streams holding a compressor, checked for idleness by one timer for the process. */
const idle = new Set<{ releaseIfIdle(now: number): void }>();
let sweeper: ReturnType<typeof setInterval> | undefined;

function watchIdle(encoder: { releaseIfIdle(now: number): void }): void {
  idle.add(encoder);
  if (sweeper !== undefined) return;
  const timer = setInterval(() => {
    const now = Date.now();
    for (const e of idle) e.releaseIfIdle(now);
    if (idle.size === 0) {
      clearInterval(timer);
      sweeper = undefined;
    }
  }, SWEEP_MS);
  // The sweep never keeps the process alive by itself.
  Deno.unrefTimer(timer);
  sweeper = timer;
}
