/**
 * `npm run docs:rules`: writes the default-rules table (services/rules/defaults.ts) into README.md
 * between its markers. tests/unit/readme-truth.test.ts fails when the README and the code differ.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_RULE_TABLE_END, DEFAULT_RULE_TABLE_START, renderDefaultRuleTable } from '../rules/defaults.js';

export function withRuleTable(readme: string): string {
  const start = readme.indexOf(DEFAULT_RULE_TABLE_START);
  const end = readme.indexOf(DEFAULT_RULE_TABLE_END);
  if (start < 0 || end < start) throw new Error(`README.md has no ${DEFAULT_RULE_TABLE_START} … ${DEFAULT_RULE_TABLE_END} markers`);
  return readme.slice(0, start) + renderDefaultRuleTable() + readme.slice(end + DEFAULT_RULE_TABLE_END.length);
}

if (process.argv[1]?.endsWith('render-readme.ts')) {
  const file = join(import.meta.dirname, '..', '..', 'README.md');
  const before = readFileSync(file, 'utf8');
  const after = withRuleTable(before);
  if (after !== before) writeFileSync(file, after);
  process.stdout.write(after === before ? 'README.md: default-rules table already current\n' : 'README.md: default-rules table written\n');
}
