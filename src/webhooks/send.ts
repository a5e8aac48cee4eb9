/**
 * One HTTP attempt: a POST with a time limit, redirects not followed (a
 * redirect could lead to an address the guard refused), and no more of the
 * answer read than a small cap (a receiver's body says nothing we need).
 *
 * @module
 */
import type { WebhookRequest } from "./message.ts";

/** What came of an attempt. */
export interface SendOutcome {
  /** The receiver's HTTP status; null when none came. */
  status: number | null;
  /** What went wrong, in words; null for a 2xx. */
  error: string | null;
  durationMs: number;
}

/** Bytes of a receiver's answer read at most (shown in the error of a failed attempt). */
export const MAX_ANSWER_BYTES = 1024;

/** POSTs `request` to `url`, giving up after `timeoutMs` or when `cancel` aborts. */
export async function sendWebhook(
  url: string,
  request: WebhookRequest,
  timeoutMs: number,
  cancel?: AbortSignal,
): Promise<SendOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = cancel ? AbortSignal.any([timeout, cancel]) : timeout;
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: request.headers,
      body: request.body,
      redirect: "manual",
      signal,
    });
    const text = await readCapped(response);
    if (response.status >= 200 && response.status < 300) {
      return { status: response.status, error: null, durationMs: elapsed() };
    }
    const redirect = response.status >= 300 && response.status < 400
      ? ` (a redirect to ${
        response.headers.get("location") ?? "nowhere"
      }; redirects are not followed)`
      : "";
    const said = text.trim() ? `: ${text.trim().slice(0, 200)}` : "";
    return {
      status: response.status,
      error: `HTTP ${response.status}${redirect}${said}`,
      durationMs: elapsed(),
    };
  } catch (error) {
    const message = cancel?.aborted
      ? "cancelled: the service stopped"
      : timeout.aborted
      ? `no answer within ${timeoutMs / 1000} s`
      : `could not connect: ${(error as Error).message}`;
    return { status: null, error: message, durationMs: elapsed() };
  }
}

/** Reads at most {@link MAX_ANSWER_BYTES} of a body, then lets the rest go. */
async function readCapped(response: Response): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < MAX_ANSWER_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return new TextDecoder().decode(bytes.subarray(0, MAX_ANSWER_BYTES));
}
