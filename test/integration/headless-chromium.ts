// One headless Chromium for a browser test file: a new, empty profile per launch (Playwright passes
// it as --user-data-dir), the flags that keep it off the network, and the profile removed on close.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const profiles = new WeakMap<BrowserContext, string>();

export async function launchChromium(): Promise<BrowserContext> {
  const profile = mkdtempSync(join(tmpdir(), "mesh-chromium-"));
  try {
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    profiles.set(browser, profile);
    return browser;
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
}

/** Closes a browser `launchChromium` started (if it did) and removes its profile. */
export async function closeChromium(browser: BrowserContext | undefined): Promise<void> {
  if (browser === undefined) return;
  await browser.close();
  const profile = profiles.get(browser);
  if (profile !== undefined) rmSync(profile, { recursive: true, force: true });
}
