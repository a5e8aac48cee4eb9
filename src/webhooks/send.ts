/**
 * One HTTP attempt: a POST with a time limit, redirects not followed (a
 * redirect could lead to an address the guard refused), and no more of the
 * answer read than a small cap (a receiver's body says nothing we need).
 *
 * It goes through `node:http` rather than `fetch` for its `lookup`: the
 * connection is made to the addresses the guard checked
 * (`guardedLookup`), where `fetch` would resolve the name again.
 *
 * @module
 */
import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import { Buffer } from "node:buffer";
import { RefusedAddress } from "./address_guard.ts";
import type { WebhookRequest } from "./message.ts";

/** What came of an attempt. */
export interface SendOutcome {
  /** The receiver's HTTP status; null when none came. */
  status: number | null;
  /** What went wrong, in words; null for a 2xx. */
  error: string | null;
  durationMs: number;
  /** True when the connection was refused by the address guard (no request was sent). */
  refused?: boolean;
}

/** Bytes of a receiver's answer read at most (shown in the error of a failed attempt). */
export const MAX_ANSWER_BYTES = 1024;

/**
 * POSTs `request` to `url`, giving up after `timeoutMs` or when `cancel`
 * aborts; with `lookup`, the host's addresses come from it (the guard).
 */
export async function sendWebhook(
  url: string,
  request: WebhookRequest,
  timeoutMs: number,
  cancel?: AbortSignal,
  lookup?: LookupFunction,
): Promise<SendOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = cancel ? AbortSignal.any([timeout, cancel]) : timeout;
  try {
    const response = await post(url, request, signal, lookup);
    if (response.status >= 200 && response.status < 300) {
      return { status: response.status, error: null, durationMs: elapsed() };
    }
    const redirect = response.status >= 300 && response.status < 400
      ? ` (a redirect to ${response.location ?? "nowhere"}; redirects are not followed)`
      : "";
    const said = response.text.trim() ? `: ${response.text.trim().slice(0, 200)}` : "";
    return {
      status: response.status,
      error: `HTTP ${response.status}${redirect}${said}`,
      durationMs: elapsed(),
    };
  } catch (error) {
    if (error instanceof RefusedAddress) {
      return {
        status: null,
        error: `Not sent: the URL ${error.message}`,
        durationMs: elapsed(),
        refused: true,
      };
    }
    const message = cancel?.aborted
      ? "cancelled: the service stopped"
      : timeout.aborted
      ? `no answer within ${timeoutMs / 1000} s`
      : `could not connect: ${(error as Error).message}`;
    return { status: null, error: message, durationMs: elapsed() };
  }
}

/** The status, `Location` and first {@link MAX_ANSWER_BYTES} of the answer to a POST. */
function post(
  url: string,
  request: WebhookRequest,
  signal: AbortSignal,
  lookup: LookupFunction | undefined,
): Promise<{ status: number; location: string | null; text: string }> {
  const target = new URL(url);
  const client = target.protocol === "https:" ? https : http;
  const body = Buffer.from(request.body, "utf8");
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const req = client.request(target, {
      method: "POST",
      headers: { ...request.headers, "content-length": String(body.length) },
      // A connection of its own each time: a pooled one could outlive the check.
      agent: false,
      signal,
      ...(lookup ? { lookup } : {}),
    }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = () => {
        const location = res.headers.location;
        resolve({
          status: res.statusCode ?? 0,
          location: location ?? null,
          text: Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES).toString("utf8"),
        });
        res.destroy();
      };
      res.on("data", (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        if (size >= MAX_ANSWER_BYTES) done();
      });
      res.on("end", done);
      res.on("error", reject);
      res.on("close", () => reject(new Error("the receiver closed the connection mid-answer")));
    });
    req.on("error", reject);
    req.end(body);
  });
}
