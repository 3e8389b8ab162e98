/** All scenarios by name. */
import type { Scenario } from '../scenario.js';
import { INCIDENTS } from './incidents.js';
import { yuzhong } from './yuzhong.js';

export const SCENARIO_NAMES = ['yuzhong', ...Object.keys(INCIDENTS)] as const;

export function scenarioByName(name: string, seed: number): Scenario | undefined {
  if (name === 'yuzhong') return yuzhong(seed);
  const make = (INCIDENTS as Record<string, (() => Scenario) | undefined>)[name];
  return make?.();
}
