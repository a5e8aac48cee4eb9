import assert from "node:assert/strict";
import { Hono } from "hono";
import { limitBody, sizeInWords } from "./body_limit.ts";
import { ApiError } from "./errors.ts";

Deno.test("a body over the limit is a 413 naming the limit and the advice; one within it passes", async () => {
  const app = new Hono();
  app.onError((error) => {
    assert.ok(error instanceof ApiError);
    return new Response(JSON.stringify({ code: error.code, message: error.message }), {
      status: error.status,
    });
  });
  app.post(
    "/",
    limitBody(1024, "send less."),
    async (c) => c.text(String((await c.req.text()).length)),
  );
  const post = (size: number) => app.request("/", { method: "POST", body: "x".repeat(size) });
  const within = await post(1024);
  assert.equal(within.status, 200);
  assert.equal(await within.text(), "1024");
  const over = await post(1025);
  assert.equal(over.status, 413);
  assert.deepEqual(await over.json(), {
    code: "body_too_large",
    message: "The request body is over 1 KiB; send less.",
  });
});

Deno.test("sizes in words", () => {
  assert.equal(sizeInWords(16 * 1024 * 1024), "16 MiB");
  assert.equal(sizeInWords(64 * 1024), "64 KiB");
  assert.equal(sizeInWords(16_384), "16 KiB");
  assert.equal(sizeInWords(300), "300 bytes");
  assert.equal(sizeInWords(1500), "1500 bytes");
});
