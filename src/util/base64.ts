/**
 * Base64 of bytes, for Redis replies (the gateway) and stored model weights
 * (the Redis broker): both go through JSON, which carries text only. And
 * base64url, for the cursors the API hands out in URLs and headers.
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

/** The base64url text (URL- and header-safe, unpadded) of some bytes. */
export function encodeBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url");
}

/** The bytes of some base64url text. */
export function decodeBase64Url(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "base64url"));
}
