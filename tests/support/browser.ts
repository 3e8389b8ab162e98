/**
 * Real Chromium for the console's browser tests: Debian's /usr/bin/chromium driven by
 * playwright-core (never a downloaded browser), headless, no background traffic.
 */
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** screenshots a browser test leaves for a reviewer (tests/artifacts is not committed) */
export const SHOTS = join(import.meta.dirname, '..', 'artifacts', 'screenshots');

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

/**
 * A Chinese-locale page in a timezone other than Shanghai on purpose (what the duty officer reads
 * is in Asia/Shanghai anyway); page errors are collected into `errors`.
 */
export async function openDutyPage(browser: Browser, errors: string[], viewport = { width: 1600, height: 1000 }): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport, locale: 'zh-CN', timezoneId: 'Europe/Berlin' });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (err) => errors.push(`${page.url()}: ${err.message}`));
  return { context, page };
}

/** Log in on the console's form as a user, and wait for the board. */
export async function loginOnConsole(page: Page, baseUrl: string, user: { username: string; password: string }): Promise<void> {
  await page.goto(`${baseUrl}/`);
  await page.fill('.login-form input[name=username]', user.username);
  await page.fill('.login-form input[name=password]', user.password);
  await page.click('.login-submit');
  await page.locator('.lane-hazards').waitFor();
}

