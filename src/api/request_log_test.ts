import assert from "node:assert/strict";
import { Hono } from "hono";
import { redactedPath, requestLog } from "./request_log.ts";

Deno.test("credential-like query values are redacted; the rest stays readable", () => {
  assert.equal(
    redactedPath("http://h/trainmodel/events?token=eyJ.abc.def&status=SUCCESS&api_key=wk_1"),
    "/trainmodel/events?token=[redacted]&status=SUCCESS&api_key=[redacted]",
  );
  assert.equal(redactedPath("http://h/meters"), "/meters");
});

Deno.test("one line per request, with its status and no token", async () => {
  const lines: string[] = [];
  const app = new Hono().use(requestLog((line) => lines.push(line)));
  app.get("/x", (c) => c.text("ok", 201));
  await (await app.request("/x?token=secret-value")).text();
  assert.equal(lines.length, 1);
  assert.match(lines[0], /^GET \/x\?token=\[redacted\] 201 \d+ms$/);
});
