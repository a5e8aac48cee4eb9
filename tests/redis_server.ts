/**
 * Starts a private `redis-server` (Debian's package) on a free port for
 * tests, persistence off unless asked, and stops it. When the program is
 * missing, Redis tests are skipped with a plain message, or fail when `CI`
 * is set.
 *
 * @module
 */

/** A running test Redis. */
export interface TestRedis {
  port: number;
  /** `redis://127.0.0.1:{port}` */
  url: string;
  /** Its working directory (the append-only file lives here). */
  dir: string;
  /** Its process id now (it changes on restart), e.g. to freeze it with SIGSTOP. */
  readonly pid: number;
  /** Stops it (SIGTERM; it writes its AOF first when enabled). */
  stop(): Promise<void>;
  /** Kills it with SIGKILL. */
  kill(): Promise<void>;
  /** Starts it again on the same port and directory. */
  restart(): Promise<void>;
}

function findRedisServer(): string | null {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      const path = `${dir}/redis-server`;
      if (Deno.statSync(path).isFile) return path;
    } catch { /* not here */ }
  }
  return null;
}

/** Path of `redis-server`, or null. */
export const REDIS_SERVER = findRedisServer();

let warned = false;

/**
 * Test options for a test that needs Redis: ignored with a message when
 * `redis-server` is missing, unless `CI` is set (then it runs, and fails).
 */
export function needsRedis(): { ignore: boolean } {
  if (REDIS_SERVER || Deno.env.get("CI")) return { ignore: false };
  if (!warned) {
    warned = true;
    console.warn(
      "SKIPPED: Redis tests need `redis-server` on PATH (Debian: apt-get install redis-server). Set CI=1 to make them fail instead.",
    );
  }
  return { ignore: true };
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * Waits for redis-server's own "Ready to accept connections" line. (A raw
 * Deno.connect probe would do, but in Deno 2.9 an earlier raw socket in the
 * process makes aborted streaming fetches keep their connections open.)
 */
async function waitUntilReady(child: Deno.ChildProcess, timeoutMs: number): Promise<void> {
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const timer = setTimeout(() => reader.cancel(), timeoutMs);
  let seen = "";
  try {
    while (!seen.includes("Ready to accept connections")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`redis-server did not start within ${timeoutMs} ms:\n${seen}`);
      seen += value;
    }
  } finally {
    clearTimeout(timer);
  }
  // Keep draining its output so it never blocks on a full pipe.
  (async () => {
    try {
      while (!(await reader.read()).done) { /* discard */ }
    } catch { /* stopped */ }
  })();
}

/** Starts a private redis-server. */
export async function startRedis(options: { appendOnly?: boolean } = {}): Promise<TestRedis> {
  if (!REDIS_SERVER) {
    throw new Error(
      "redis-server is not installed; install it (Debian: apt-get install redis-server) to run the Redis tests.",
    );
  }
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "wattcast-redis-" });
  let child: Deno.ChildProcess;
  const spawn = async () => {
    child = new Deno.Command(REDIS_SERVER!, {
      args: [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        options.appendOnly ? "yes" : "no",
        "--appendfsync",
        "always",
        "--dir",
        dir,
        "--daemonize",
        "no",
        "--loglevel",
        "notice",
      ],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    await waitUntilReady(child, 10_000);
  };
  await spawn();
  const stopWith = async (signal: Deno.Signal) => {
    try {
      child.kill(signal);
    } catch { /* already gone */ }
    await child.status;
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    get pid() {
      return child.pid;
    },
    async stop() {
      await stopWith("SIGTERM");
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
    kill: () => stopWith("SIGKILL"),
    async restart() {
      await stopWith("SIGTERM");
      await spawn();
    },
  };
}
