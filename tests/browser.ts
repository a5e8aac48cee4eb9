/**
 * Headless Chromium for browser tests: Debian's `chromium` package driven by
 * `puppeteer-core` (no browser download). Where it is missing, browser
 * tests are skipped with a message saying why, except under `CI`, where a
 * missing browser fails them (`.ci/run` installs it).
 *
 * @module
 */
import type { Browser } from "puppeteer-core";

/** The system browsers looked for, in order. */
export const CHROMIUM_PATHS = ["/usr/bin/chromium", "/usr/bin/chromium-browser"];

/** The system Chromium's path, or undefined when none is installed. */
export function findChromium(): string | undefined {
  return CHROMIUM_PATHS.find((path) => {
    try {
      return Deno.statSync(path).isFile;
    } catch {
      return false;
    }
  });
}

/** Why browser tests cannot run here, in words. */
const MISSING = `no Chromium at ${
  CHROMIUM_PATHS.join(" or ")
}: install Debian's chromium package (apt-get install chromium; .ci/run does)`;

/**
 * Whether browser tests run: true when Chromium is there; false (skipped,
 * with a message saying why) when it is not. Under `CI` they always run, so
 * a missing browser fails them (`launchBrowser` says why) instead of
 * passing unnoticed.
 */
export function browserTestsRun(): boolean {
  if (findChromium() || Deno.env.get("CI")) return true;
  console.warn(`Skipping the browser tests: ${MISSING}.`);
  return false;
}

/** Launches the system Chromium headless. */
export async function launchBrowser(): Promise<Browser> {
  const executablePath = findChromium();
  if (!executablePath) throw new Error(`Browser tests cannot run: ${MISSING}.`);
  const { default: puppeteer } = await import("puppeteer-core");
  return await puppeteer.launch({
    executablePath,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
}
