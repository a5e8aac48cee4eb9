/**
 * The stream slots conformance suite: every behaviour of `StreamSlots`, run
 * against each implementation (in process and Redis). Instances opened on
 * one backend share its store, as API instances share one Redis.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { StreamSlotOptions, StreamSlots } from "./stream_slots.ts";

/** A store several instances can be opened on, for one test. */
export interface SlotBackend {
  open(options: StreamSlotOptions): StreamSlots;
  /** Releases the store (after each instance is closed). */
  close(): Promise<void>;
}

/** Builds a fresh, empty backend. */
export type SlotBackendFactory = () => Promise<SlotBackend>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Registers the suite for one implementation. */
export function streamSlotsConformance(
  name: string,
  factory: SlotBackendFactory,
  options: { testOptions?: Partial<Deno.TestDefinition> } = {},
): void {
  const test = (
    title: string,
    fn: (backend: SlotBackend, opened: StreamSlots[]) => Promise<void>,
  ) =>
    Deno.test({
      name: `${name} stream slots: ${title}`,
      ...options.testOptions,
      fn: async () => {
        const backend = await factory();
        const opened: StreamSlots[] = [];
        const tracked: SlotBackend = {
          open: (o) => {
            const slots = backend.open(o);
            opened.push(slots);
            return slots;
          },
          close: backend.close,
        };
        try {
          await fn(tracked, opened);
        } finally {
          for (const slots of opened) await slots.close();
          await backend.close();
        }
      },
    });

  test("slots are taken up to the cap; a released one can be taken again", async (backend) => {
    const slots = backend.open({ limit: 3 });
    const taken = [];
    for (let i = 0; i < 3; i++) taken.push(await slots.acquire("alice"));
    assert.deepEqual(taken.map((r) => [r.acquired, r.held]), [[true, 1], [true, 2], [true, 3]]);
    assert.ok(taken.every((r) => r.slot !== null && !r.unavailable && r.limit === 3));
    assert.equal(new Set(taken.map((r) => r.slot!.id)).size, 3);
    const refused = await slots.acquire("alice");
    assert.equal(refused.acquired, false);
    assert.equal(refused.slot, null);
    assert.equal(refused.held, 3);
    assert.ok(refused.retryAfterSeconds >= 1 && refused.retryAfterSeconds <= 60);
    assert.equal(await slots.held("alice"), 3);
    await taken[1].slot!.release();
    await taken[1].slot!.release(); // twice is harmless
    assert.equal(await taken[1].slot!.renew(), false, "a released slot is not renewed");
    assert.equal(await slots.held("alice"), 2);
    const again = await slots.acquire("alice");
    assert.equal(again.acquired, true);
    assert.equal(again.held, 3);
    for (const r of [taken[0], taken[2], again]) await r.slot!.release();
    assert.equal(await slots.held("alice"), 0);
  });

  test("keys are capped apart", async (backend) => {
    const slots = backend.open({ limit: 1 });
    const a = await slots.acquire("alice");
    assert.equal(a.acquired, true);
    assert.equal((await slots.acquire("alice")).acquired, false);
    const b = await slots.acquire("bob");
    assert.equal(b.acquired, true);
    await a.slot!.release();
    await b.slot!.release();
  });

  test("instances on one store share the cap, and never both take the last slot", async (backend) => {
    const one = backend.open({ limit: 4 });
    const two = backend.open({ limit: 4 });
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? one : two).acquire("shared")),
    );
    assert.equal(results.filter((r) => r.acquired).length, 4);
    assert.equal(await one.held("shared"), 4);
    assert.equal(await two.held("shared"), 4);
    for (const r of results) await r.slot?.release();
    assert.equal(await two.held("shared"), 0);
  });

  test("slots of an instance that stops renewing (a crash) expire", async (backend) => {
    const crashed = backend.open({ limit: 2, ttlMs: 600 });
    const survivor = backend.open({ limit: 2, ttlMs: 600 });
    assert.equal((await crashed.acquire("alice")).acquired, true);
    assert.equal((await crashed.acquire("alice")).acquired, true);
    await crashed.close(); // heartbeats stop; nothing is released
    assert.equal((await survivor.acquire("alice")).acquired, false);
    await sleep(900);
    assert.equal(await survivor.held("alice"), 0);
    const after = await survivor.acquire("alice");
    assert.equal(after.acquired, true);
    await after.slot!.release();
  });

  test("a held slot is kept by its heartbeat past its lifetime", async (backend) => {
    const holder = backend.open({ limit: 1, ttlMs: 600 });
    const other = backend.open({ limit: 1, ttlMs: 600 });
    const held = await holder.acquire("alice");
    assert.equal(held.acquired, true);
    await sleep(1500); // more than twice the lifetime: renewed every 200 ms
    assert.equal(await other.held("alice"), 1);
    assert.equal((await other.acquire("alice")).acquired, false);
    assert.equal(await held.slot!.renew(), true);
    await held.slot!.release();
    const next = await other.acquire("alice");
    assert.equal(next.acquired, true);
    await next.slot!.release();
  });

  test("a cap of 0 is no cap", async (backend) => {
    const slots = backend.open({ limit: 0 });
    const results = await Promise.all(Array.from({ length: 30 }, () => slots.acquire("k")));
    assert.ok(results.every((r) => r.acquired && r.slot !== null));
    for (const r of results) await r.slot!.release();
  });
}
