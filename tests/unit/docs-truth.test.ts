/**
 * The documents stay true to the code and to each other.
 *
 * 1. The generated blocks — the default rules in docs/duty.md, the variables in
 *    docs/configuration.md — are what services/cli/render-docs.ts renders now (`npm run docs`).
 * 2. ENV_HELP documents every variable loadConfig reads, and `firewatch serve --help` prints it all.
 * 3. README.md is a front page (at most 250 lines) from which every document under docs/ is
 *    reachable by relative Markdown links, and every relative link of README.md and docs/ lands on
 *    a file that exists and, with an #anchor, on a heading of that file.
 */
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENV_HELP, ENV_NAMES, loadClientConfig } from '../../services/config/config.js';
import { CONFIG_DOC, RULES_DOC, renderConfigBlock, renderRuleBlock, withConfigTable, withRuleTable } from '../../services/cli/render-docs.js';
import { DEFAULT_RULE_TABLE } from '../../services/rules/defaults.js';
import { help } from '../../server/serve.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const read = (f: string): string => readFileSync(join(ROOT, f), 'utf8');
const RUN = 'the generated block differs from the code: run `npm run docs`';

describe('generated blocks (npm run docs)', () => {
  it(`${RULES_DOC}: the default-rules table is current, every rule with its state and source`, () => {
    const doc = read(RULES_DOC);
    expect(doc, RUN).toContain(renderRuleBlock());
    expect(withRuleTable(doc), RUN).toBe(doc);
    for (const r of DEFAULT_RULE_TABLE) expect(r.source).toMatch(/^(GB|design choice|fault|the detector)/);
  });

  it(`${CONFIG_DOC}: the configuration table is current`, () => {
    const doc = read(CONFIG_DOC);
    expect(doc, RUN).toContain(renderConfigBlock());
    expect(withConfigTable(doc), RUN).toBe(doc);
    for (const [name] of ENV_HELP) expect(renderConfigBlock(), name).toContain(`| \`${name}\` |`);
  });
});

// ---- the environment ----------------------------------------------------------------------

const helpNames = ENV_HELP.map(([name]) => name);
const configSource = read('services/config/config.ts');
/** config.ts without the ENV_HELP array, so that the documentation does not count as a read */
const helpStart = configSource.indexOf('export const ENV_HELP');
const readingSource = configSource.slice(0, helpStart) + configSource.slice(configSource.indexOf('\n];', helpStart));

/** Every variable name config.ts reads: `env.X`, `env['X']`, `raw.X`, `raw['X']`, `has('X')`, schema keys, listed keys. */
function namesReadIn(source: string): Set<string> {
  const name = String.raw`[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*`;
  const patterns = [
    new RegExp(String.raw`\b(?:env|raw)\s*(?:\?\.|\.)\s*(${name})\b`, 'g'),
    new RegExp(String.raw`\b(?:env|raw)\s*\[\s*['"](${name})['"]\s*\]`, 'g'),
    new RegExp(String.raw`\bhas\(\s*['"](${name})['"]\s*\)`, 'g'),
    new RegExp(String.raw`^ {4}(${name}):`, 'gm'), // keys of EnvSchema
    new RegExp(String.raw`['"]([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)['"]`, 'g'), // e.g. for (const key of ['INFLUX_TOKEN', …])
  ];
  return new Set(patterns.flatMap((re) => [...source.matchAll(re)].map((m) => m[1]!)));
}

describe('every variable is documented', () => {
  const readNames = namesReadIn(readingSource);
  const client = new Set([...namesReadIn(loadClientConfig.toString())]);

  it('the source scan finds what config.ts reads (the scan works)', () => {
    expect(readNames.size).toBeGreaterThan(50);
    for (const n of ['MQTT_PORT', 'TLS_CERT', 'TLS_KEY', 'INFLUX_TOKEN', 'GB26875_ALLOW', 'FIREWATCH_API']) expect(readNames, n).toContain(n);
    expect([...client].sort()).toEqual(['FIREWATCH_API', 'FIREWATCH_TOKEN']);
  });

  it('ENV_HELP has one row for every variable of the schema loadConfig parses, and no other', () => {
    expect(new Set(helpNames).size, 'a name listed twice').toBe(helpNames.length);
    expect(ENV_NAMES.filter((n) => !helpNames.includes(n)), 'read by loadConfig, missing from ENV_HELP').toEqual([]);
    expect(helpNames.filter((n) => !ENV_NAMES.includes(n)), 'in ENV_HELP, not read by loadConfig').toEqual([]);
  });

  it('every variable name read anywhere in config.ts is in ENV_HELP, or a client variable documented in docs/configuration.md', () => {
    const doc = read(CONFIG_DOC);
    const missing = [...readNames].filter((n) => (client.has(n) ? !doc.includes(`\`${n}\``) : !helpNames.includes(n)));
    expect(missing).toEqual([]);
  });

  it('each ENV_HELP text is one line, and a default is a value or "(a description)"', () => {
    for (const [name, def, text] of ENV_HELP) {
      expect(text, name).not.toMatch(/[\r\n]/);
      expect(text.length, name).toBeGreaterThan(5);
      expect(def, name).not.toMatch(/[\r\n|]/);
    }
  });

  it('firewatch serve --help lists every variable of ENV_HELP with its text (TLS_CERT and TLS_KEY too)', () => {
    const out = help();
    for (const [name, , text] of ENV_HELP) {
      const line = out.split('\n').find((l) => l.trimStart().startsWith(`${name} `));
      expect(line, name).toBeDefined();
      expect(line, name).toContain(text);
    }
    expect(out).toMatch(/^\s+TLS_CERT\s/m);
    expect(out).toMatch(/^\s+TLS_KEY\s/m);
  });
});

// ---- README as a front page, and the links between documents -----------------------------

/** Markdown without fenced code blocks and inline code, where links are not links. */
function prose(md: string): string {
  return md.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** The relative link targets of a Markdown file: [text](target), without URLs, mail and pure #anchors. */
function links(md: string): string[] {
  return [...prose(md).matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!).filter((l) => !/^[a-z][a-z0-9+.-]*:/i.test(l));
}

/** GitHub's heading anchors: lower case, punctuation and symbols dropped, spaces to hyphens, repeats numbered. */
function anchors(md: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of md.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const text = m[1]!.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/`/g, '');
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

function walk(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const f = join(dir, name);
    return statSync(join(ROOT, f)).isDirectory() ? walk(f) : [f];
  });
}

/** Every file reachable from README.md by relative links, through the Markdown files on the way. */
function reachable(): Set<string> {
  const seen = new Set<string>(['README.md']);
  const queue = ['README.md'];
  while (queue.length > 0) {
    const f = queue.shift()!;
    for (const l of links(read(f))) {
      const path = decodeURIComponent(l.split('#')[0]!);
      if (path === '') continue;
      const target = relative(ROOT, resolve(ROOT, dirname(f), path));
      if (target.startsWith('..') || !existsSync(join(ROOT, target)) || statSync(join(ROOT, target)).isDirectory() || seen.has(target)) continue;
      seen.add(target);
      if (target.endsWith('.md')) queue.push(target);
    }
  }
  return seen;
}

describe('README.md is a front page; the guides hang from it', () => {
  const docs = walk('docs');

  it('README.md has at most 250 lines', () => {
    expect(read('README.md').split('\n').length).toBeLessThanOrEqual(250);
  });

  it('every file under docs/ (docs/adr/ too) is reachable from README.md by relative links', () => {
    expect(docs.length).toBeGreaterThan(10);
    const seen = reachable();
    expect(docs.filter((f) => !seen.has(f))).toEqual([]);
  });

  it('every relative link in README.md and docs/ lands on a file of the repository, and an #anchor on a heading there', () => {
    const broken: string[] = [];
    for (const f of ['README.md', ...docs.filter((d) => d.endsWith('.md'))]) {
      const own = read(f);
      for (const l of links(own)) {
        const [rawPath, anchor] = l.split('#') as [string, string | undefined];
        const path = decodeURIComponent(rawPath);
        const target = path === '' ? f : relative(ROOT, resolve(ROOT, dirname(f), path));
        if (target.startsWith('..') || !existsSync(join(ROOT, target))) {
          broken.push(`${f}: ${l} (no such file)`);
          continue;
        }
        if (anchor !== undefined && target.endsWith('.md') && !anchors(read(target)).has(decodeURIComponent(anchor))) {
          broken.push(`${f}: ${l} (no such heading in ${target})`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it('the anchor rule matches GitHub on the headings the guides use', () => {
    const a = anchors('## 消防安全码 / Building fire-safety code\n## GB/T 26875.3 gateway\n## Examples with `mosquitto_pub`\n## Platform uplink (市级消防物联网平台)\n## Security\n## Security\n');
    expect([...a]).toEqual(['消防安全码--building-fire-safety-code', 'gbt-268753-gateway', 'examples-with-mosquitto_pub', 'platform-uplink-市级消防物联网平台', 'security', 'security-1']);
  });
});
