/**
 * `npm run docs`: writes the generated blocks of the guides from the code, each between its markers:
 *
 *   docs/duty.md           the default-rules table   ← DEFAULT_RULE_TABLE (services/rules/defaults.ts)
 *   docs/configuration.md  the configuration table   ← ENV_HELP (services/config/config.ts), which
 *                                                       `firewatch serve --help` prints as well
 *
 * tests/unit/docs-truth.test.ts fails when a guide and the code differ. Everything outside the
 * markers is written by hand and left as it is.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENV_HELP } from '../config/config.js';
import { DEFAULT_RULE_TABLE_END, DEFAULT_RULE_TABLE_START, renderDefaultRuleTable } from '../rules/defaults.js';

/** The guides with generated blocks, relative to the repository root. */
export const RULES_DOC = 'docs/duty.md';
export const CONFIG_DOC = 'docs/configuration.md';

/** A block is found by the start marker's opening (its comment may name another command) up to its end marker. */
const RULES_START_PREFIX = '<!-- default-rules:start';
export const RULES_START = '<!-- default-rules:start (generated from services/rules/defaults.ts: npm run docs) -->';
export const RULES_END = DEFAULT_RULE_TABLE_END;
const CONFIG_START_PREFIX = '<!-- configuration:start';
export const CONFIG_START = '<!-- configuration:start (generated from ENV_HELP in services/config/config.ts: npm run docs) -->';
export const CONFIG_END = '<!-- configuration:end -->';

/** The default-rules table with its markers, as it stands in docs/duty.md. */
export function renderRuleBlock(): string {
  const table = renderDefaultRuleTable();
  const body = table.slice(table.indexOf(DEFAULT_RULE_TABLE_START) + DEFAULT_RULE_TABLE_START.length, table.lastIndexOf(DEFAULT_RULE_TABLE_END));
  return `${RULES_START}${body}${RULES_END}`;
}

/** Markdown of one ENV_HELP text: table pipes and HTML escaped, variable names as code, docs/ paths as links. */
function cell(text: string, names: ReadonlySet<string>): string {
  return text
    .replace(/\|/g, '\\|')
    .replace(/</g, '&lt;')
    .replace(/\*/g, '\\*')
    .replace(/\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/g, (name) => (names.has(name) ? `\`${name}\`` : name))
    .replace(/\bdocs\/([\w-]+\.md)(#[\w-]+)?/g, (_, file: string, anchor = '') => `[${file}${anchor}](${file}${anchor})`);
}

/** A default: empty stays empty, "(a description)" is plain text, a value is code. */
function defaultCell(def: string, names: ReadonlySet<string>): string {
  if (def === '') return '';
  if (def.startsWith('(') && def.endsWith(')')) return cell(def.slice(1, -1), names);
  return `\`${def}\``;
}

/** The configuration table with its markers, as it stands in docs/configuration.md. */
export function renderConfigBlock(): string {
  const names = new Set(ENV_HELP.map(([name]) => name));
  const rows = ENV_HELP.map(([name, def, text]) => `| \`${name}\` | ${defaultCell(def, names)} | ${cell(text, names)} |`);
  return [CONFIG_START, '| variable | default | meaning |', '|---|---|---|', ...rows, CONFIG_END].join('\n');
}

function withBlock(text: string, file: string, startPrefix: string, end: string, block: string): string {
  const start = text.indexOf(startPrefix);
  const stop = start < 0 ? -1 : text.indexOf(end, start);
  if (start < 0 || stop < 0) throw new Error(`${file} has no ${startPrefix} … ${end} markers`);
  return text.slice(0, start) + block + text.slice(stop + end.length);
}

/** docs/duty.md with its default-rules block as the code renders it. */
export function withRuleTable(text: string): string {
  return withBlock(text, RULES_DOC, RULES_START_PREFIX, RULES_END, renderRuleBlock());
}

/** docs/configuration.md with its configuration block as the code renders it. */
export function withConfigTable(text: string): string {
  return withBlock(text, CONFIG_DOC, CONFIG_START_PREFIX, CONFIG_END, renderConfigBlock());
}

/** Rewrite both guides under `root`; returns what changed. */
export function renderDocs(root: string): Array<{ file: string; changed: boolean }> {
  return [
    { file: RULES_DOC, render: withRuleTable },
    { file: CONFIG_DOC, render: withConfigTable },
  ].map(({ file, render }) => {
    const path = join(root, file);
    const before = readFileSync(path, 'utf8');
    const after = render(before);
    if (after !== before) writeFileSync(path, after);
    return { file, changed: after !== before };
  });
}

if (process.argv[1]?.endsWith('render-docs.ts')) {
  for (const { file, changed } of renderDocs(join(import.meta.dirname, '..', '..'))) {
    process.stdout.write(`${file}: ${changed ? 'generated block written' : 'generated block already current'}\n`);
  }
}
