import assert from "node:assert/strict";
import { decodeBase64, encodeBase64 } from "./base64.ts";

Deno.test("base64 round-trips bytes, including a view into a larger buffer", () => {
  assert.equal(encodeBase64(new TextEncoder().encode("OK")), "T0s=");
  assert.equal(encodeBase64(new Uint8Array([0xff, 0x00, 0x61])), "/wBh");
  const big = Uint8Array.from({ length: 200_000 }, (_, i) => (i * 7) % 256);
  assert.deepEqual(decodeBase64(encodeBase64(big)), big);
  const view = big.subarray(10, 13);
  assert.deepEqual(decodeBase64(encodeBase64(view)), view);
});
