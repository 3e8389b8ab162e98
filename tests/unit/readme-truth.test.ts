/** The README's tables stay true to the code: every default rule row and every variable appears. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ENV_HELP } from '../../services/config/config.js';
import { DEFAULT_RULE_TABLE } from '../../services/rules/defaults.js';

const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');

it('lists every default rule with its source', () => {
  for (const r of DEFAULT_RULE_TABLE) {
    expect(readme).toContain(`| \`${r.ruleId}\` | ${r.appliesTo} | ${r.condition} | ${r.defaultValue} | ${r.forClear} | ${r.source} |`);
  }
});

it('documents every environment variable', () => {
  for (const [names] of ENV_HELP) for (const name of names.split(' / ')) expect(readme, name).toContain(`\`${name}\``);
});
