/**
 * Keeps a node server's listener accepting connections.
 *
 * When the process runs out of file handles while connections pour in,
 * Deno's `node:http` listener stops accepting for good, without an error
 * event: the process lives, `server.listening` stays true, and every later
 * client waits in the kernel's backlog. So this watchdog checks that the
 * listener still accepts: every interval it makes one loopback connection
 * to it, and if no connection at all arrived since the last check, it
 * closes the listening socket (open connections, event streams included,
 * stay) and listens again on the same address. A check that comes late (the
 * event loop was busy) gives no verdict. A probe that cannot connect (no file handle free now)
 * proves nothing and is tried again at the next check.
 *
 * @module
 */
import type { Server } from "node:http";
import { connect } from "node:net";
import { logger } from "./logging/logging.ts";

const log = logger("http");

/** How often the listener is checked by default. */
export const WATCHDOG_INTERVAL_MS = 2_000;

/** A running watchdog. */
export interface ListenerWatchdog {
  /** Times the listener was found stuck and listened again. */
  restarts(): number;
  stop(): void;
}

/**
 * Checks every `intervalMs` that `server` accepts connections on
 * `hostname:port`, and listens again when it does not.
 */
export function watchListener(
  server: Server,
  address: { hostname: string; port: number },
  intervalMs = WATCHDOG_INTERVAL_MS,
): ListenerWatchdog {
  let arrived = true;
  let probing = false;
  let restarts = 0;
  const seen = () => (arrived = true);
  server.on("connection", seen);
  const probeHost = address.hostname === "0.0.0.0"
    ? "127.0.0.1"
    : address.hostname === "::"
    ? "::1"
    : address.hostname;
  let lastCheck = performance.now();

  const check = () => {
    // A check that fires late means the event loop was busy: the probe could
    // not be accepted meanwhile, so it proves nothing about the listener.
    const late = performance.now() - lastCheck > intervalMs * 1.5;
    lastCheck = performance.now();
    if (!server.listening || (probing && !arrived && !late)) relisten();
    arrived = false;
    probing = true;
    const probe = connect(address.port, probeHost);
    probe.on("error", () => {
      // No handle free, or refused while re-listening: no verdict this time.
      arrived = true;
    });
    // The server's side sees it (or not) within the interval; then let go.
    probe.setTimeout(intervalMs / 2, () => probe.destroy());
    probe.on("connect", () => probe.end());
  };

  const relisten = () => {
    restarts++;
    log.error(
      `The HTTP listener on port ${address.port} stopped accepting connections ` +
        `(the process may have run out of file handles); listening again.`,
    );
    // A failure to listen again is an 'error' event (logged by the server's
    // handler); the next check sees the server not listening and tries again.
    server.close();
    server.listen(address.port, address.hostname);
  };

  const timer = setInterval(check, intervalMs);
  return {
    restarts: () => restarts,
    stop() {
      clearInterval(timer);
      server.off("connection", seen);
    },
  };
}
