/**
 * Base64 of bytes, for Redis replies (the gateway) and stored model weights
 * (the Redis broker): both go through JSON, which carries text only.
 *
 * @module
 */
import { Buffer } from "node:buffer";

/** The base64 text of some bytes. */
export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/** The bytes of some base64 text. */
export function decodeBase64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "base64"));
}
