/**
 * Runs the project's own entry points as separate processes for end-to-end
 * tests, capturing their output.
 *
 * @module
 */

const root = new URL("..", import.meta.url).pathname;

/** A running process of the project. */
export interface Proc {
  name: string;
  child: Deno.ChildProcess;
  /** Everything it printed so far. */
  output(): string;
  /** True once it has exited. */
  exited(): boolean;
  /** Resolves when its output matches `pattern`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Sends a signal and waits for it to exit. */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

/** Starts `deno run -A {script} {args}` from the project root. */
export function spawnDeno(
  name: string,
  script: string,
  env: Record<string, string>,
  args: string[] = [],
  denoFlags: string[] = [],
): Proc {
  return spawnProcess(name, Deno.execPath(), [
    "run",
    "-A",
    ...denoFlags,
    `${root}${script}`,
    ...args,
  ], env);
}

/** Starts `command {args}` from the project root, capturing its output. */
export function spawnProcess(
  name: string,
  command: string,
  args: string[],
  env: Record<string, string>,
): Proc {
  const child = new Deno.Command(command, {
    args,
    cwd: root,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) text += chunk;
  };
  const drained = Promise.all([drain(child.stdout), drain(child.stderr)]).catch(() => {});
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  return {
    name,
    child,
    output: () => text,
    exited: () => exited,
    async waitFor(pattern, timeoutMs = 30_000) {
      const until = Date.now() + timeoutMs;
      while (!pattern.test(text)) {
        if (exited) throw new Error(`${name} exited before printing ${pattern}:\n${text}`);
        if (Date.now() > until) throw new Error(`${name} did not print ${pattern}:\n${text}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async stop(signal: Deno.Signal = "SIGTERM") {
      if (!exited) {
        try {
          child.kill(signal);
        } catch { /* already gone */ }
      }
      const result = await status;
      await drained;
      return result;
    },
  };
}

/** `deno task dev` running in its own process group, and how to kill it. */
export interface DevProcess {
  /** Everything it printed so far. */
  output(): string;
  /** Kills the whole process group at once (SIGKILL): no shutdown code runs. */
  kill(): Promise<void>;
}

/**
 * Starts `deno task dev` in its own process group (`setsid`), so SIGKILL
 * reaches the server under the task runner, and waits until it listens.
 */
export async function startDev(
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<DevProcess> {
  const dev = spawnProcess("deno task dev", "setsid", [Deno.execPath(), "task", "dev"], env);
  await dev.waitFor(/listening on/, timeoutMs);
  return {
    output: dev.output,
    async kill() {
      await new Deno.Command("kill", { args: ["-KILL", "--", `-${dev.child.pid}`] }).output();
      await dev.stop();
    },
  };
}
