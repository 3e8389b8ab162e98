/** The README's tables stay true to the code: every default rule row and every variable appears. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ENV_HELP } from '../../services/config/config.js';
import { withRuleTable } from '../../services/cli/render-readme.js';
import { DEFAULT_RULE_TABLE, renderDefaultRuleTable } from '../../services/rules/defaults.js';

const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');

it('lists every default rule with its state and source: the generated table is current (npm run docs:rules)', () => {
  expect(readme).toContain(renderDefaultRuleTable());
  expect(withRuleTable(readme)).toBe(readme);
  for (const r of DEFAULT_RULE_TABLE) expect(r.source).toMatch(/^(GB|design choice|fault|the detector)/);
});

it('documents every environment variable', () => {
  for (const [names] of ENV_HELP) for (const name of names.split(' / ')) expect(readme, name).toContain(`\`${name}\``);
});
