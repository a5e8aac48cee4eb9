/**
 * Keeps a node server's listener accepting connections.
 *
 * When the process runs out of file handles while connections pour in,
 * Deno's `node:http` listener stops accepting for good, without an error
 * event: the process lives, `server.listening` stays true, and every later
 * client waits in the kernel's backlog. So this watchdog checks that the
 * listener still accepts: every interval it makes one loopback connection
 * to it, and if no connection at all arrived since the last check, it
 * closes the listening socket (open connections stay) and listens again on
 * the same address. A probe that cannot connect (no file handle free now)
 * proves nothing and is tried again at the next check.
 *
 * @module
 */
import type { Server } from "node:http";
import { connect } from "node:net";

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
  const probeHost = address.hostname === "0.0.0.0" || address.hostname === "::"
    ? "127.0.0.1"
    : address.hostname;

  const check = () => {
    if (!server.listening || (probing && !arrived)) relisten();
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
    console.error(
      `The HTTP listener on port ${address.port} stopped accepting connections ` +
        `(the process may have run out of file handles); listening again.`,
    );
    try {
      server.close();
      server.listen(address.port, address.hostname);
    } catch (error) {
      console.error("Listening again failed; will retry:", (error as Error).message);
    }
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
