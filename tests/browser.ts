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

/**
 * Whether browser tests run: true when Chromium is there; false (skip, with
 * a message) when it is not; throws under `CI`, where it must be.
 */
export function browserTestsRun(): boolean {
  if (findChromium()) return true;
  const why = `no Chromium at ${
    CHROMIUM_PATHS.join(" or ")
  }: install Debian's chromium package (apt-get install chromium)`;
  if (Deno.env.get("CI")) throw new Error(`Browser tests cannot run under CI: ${why}.`);
  console.warn(`Skipping the browser tests: ${why}.`);
  return false;
}

/** Launches the system Chromium headless. */
export async function launchBrowser(): Promise<Browser> {
  const executablePath = findChromium();
  if (!executablePath) throw new Error(`No Chromium at ${CHROMIUM_PATHS.join(" or ")}`);
  const { default: puppeteer } = await import("puppeteer-core");
  return await puppeteer.launch({
    executablePath,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
}
