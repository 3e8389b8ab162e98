/**
 * Real Chromium for the console's browser tests: Debian's /usr/bin/chromium driven by
 * playwright-core (never a downloaded browser), headless, no background traffic.
 */
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** screenshots a browser test leaves for a reviewer (tests/artifacts is not committed) */
export const SHOTS = join(import.meta.dirname, '..', 'artifacts', 'screenshots');

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}
