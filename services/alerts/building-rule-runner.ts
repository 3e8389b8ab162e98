/**
 * Runs the building rules (issue #15 item 2, services/rules/building-rules.ts) inside the service:
 * whenever an alert of a building changes (raised, updated, cleared, closed — inside the step that
 * changed it) and whenever a water-pressure point's own flow signal starts or stops (after the
 * processors evaluated its readings), the building's evidence is gathered and each enabled rule
 * judged; AlertService.applyBuildingRule raises, updates or clears the building's alert for it.
 *
 * Evidence: the building's unclosed alerts that are not cleared, not in maintenance and not
 * commissioning, by EVIDENCE_SELECTORS (each since its episode began: raised or last recurred),
 * and the flow signals of its water-pressure points (since the signal came). A building rule's own
 * alert is never evidence, so one rule cannot feed another in a loop.
 *
 * Flow signals are read from the rules' per-device memory (hydraulic.ts), which the rule state
 * store persists: at start every water-pressure point's signal is read from it once.
 */
import type { Building, Device } from '../devices/model.js';
import type { DeviceRegistry } from '../devices/registry.js';
import {
  BUILDING_RULE_IDS,
  buildingRuleMessage,
  buildingRulesFor,
  evaluateBuildingRules,
  evidenceKindOf,
  type Evidence,
} from '../rules/building-rules.js';
import type { RuleStateStore } from '../rules/rule-state-store.js';
import type { AlertService } from './alert-service.js';
import type { Alert } from './model.js';

const BUILDING_RULE_SET: ReadonlySet<string> = new Set(BUILDING_RULE_IDS);

export interface BuildingRuleRunnerDeps {
  alerts: AlertService;
  registry: Pick<DeviceRegistry, 'getBuilding' | 'devices' | 'context'>;
  states: Pick<RuleStateStore, 'getMemory'>;
}

/** when the alert's present episode began: raised, or the last time it recurred */
function episodeStart(a: Alert): number {
  for (let i = a.history.length - 1; i >= 0; i--) {
    const e = a.history[i]!;
    if (e.action === 'raised' || (e.action === 'recurred' && e.info?.code === 'message')) return Date.parse(e.at);
  }
  return Date.parse(a.openedAt);
}

export class BuildingRuleRunner {
  /** water-pressure point → since when its own flow signal says water flows */
  private readonly flows = new Map<string, number>();
  /** buildings being judged now (a rule's own alert changes inside: not judged again) */
  private readonly judging = new Set<string>();

  constructor(private readonly deps: BuildingRuleRunnerDeps) {
    deps.alerts.onChange((a, type) => {
      if (type !== 'alert.clocks' && a.buildingId && !BUILDING_RULE_SET.has(a.rule)) this.judge(a.buildingId);
    });
  }

  /** Read every water-pressure point's flow signal from the rule memory (at start). */
  start(): void {
    for (const d of this.deps.registry.devices()) if (d.kind === 'water_pressure') this.readFlow(d);
  }

  /** After the processors evaluated a device's readings: a flow signal that started or stopped is evidence. */
  afterReadings(device: Device, building: Building | undefined): void {
    if (device.kind !== 'water_pressure' || !building) return;
    if (this.readFlow(device)) this.judge(building.id);
  }

  /** true when the device's signal changed */
  private readFlow(device: Device): boolean {
    const flow = this.deps.states.getMemory(device.id)?.flow;
    const since = flow?.cause === 'signal' ? flow.since : undefined;
    if (since === this.flows.get(device.id)) return false;
    if (since === undefined) this.flows.delete(device.id);
    else this.flows.set(device.id, since);
    return true;
  }

  /** The building's evidence now. */
  evidence(buildingId: string): Evidence[] {
    const out: Evidence[] = [];
    for (const a of this.deps.alerts.unclosed()) {
      if (a.buildingId !== buildingId || a.cleared || a.maintenance || a.commissioning || BUILDING_RULE_SET.has(a.rule)) continue;
      const kind = evidenceKindOf(a.rule, a.kind);
      if (!kind) continue;
      const where = a.location ?? a.deviceId ?? '';
      out.push({ kind, ref: a.id, since: episodeStart(a), deviceId: a.deviceId, text: { zh: `${where}：${a.message.zh}`, en: `${where}: ${a.message.en}` } });
    }
    for (const [deviceId, since] of this.flows) {
      const c = this.deps.registry.context(deviceId);
      if (c?.building?.id !== buildingId) continue;
      const kind = evidenceKindOf('flow_signal', null);
      if (!kind) continue;
      const where = c.device.location ?? deviceId;
      out.push({ kind, ref: `flow:${deviceId}`, since, deviceId, text: { zh: `${where}：水流/消防泵启动信号`, en: `${where}: water flowing / pump running signal` } });
    }
    return out;
  }

  /** Judge the building's rules on its evidence now. */
  judge(buildingId: string): void {
    if (this.judging.has(buildingId)) return;
    let building: Building;
    try {
      building = this.deps.registry.getBuilding(buildingId);
    } catch {
      return; // deleted meanwhile
    }
    this.judging.add(buildingId);
    try {
      const verdicts = evaluateBuildingRules(buildingRulesFor(building.buildingRules), this.evidence(buildingId));
      for (const v of verdicts) {
        this.deps.alerts.applyBuildingRule(building, {
          rule: v.ruleId,
          severity: v.severity,
          holds: v.holds,
          message: buildingRuleMessage(v.ruleId, v.evidence, v.holds ? 'raised' : 'cleared'),
          evidenceIds: v.evidence.map((e) => e.ref),
        });
      }
    } finally {
      this.judging.delete(buildingId);
    }
  }
}
