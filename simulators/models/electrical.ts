/**
 * Electrical-fire detector (电气火灾监控探测器): residual current and 1–4 cable/terminal
 * temperatures. Residual current follows the building's load over the day within the normal
 * 100–200 mA (docs/standards.md fact 30) with a slow drift and rare spikes (a motor start, damp wiring);
 * temperatures follow the load too. An overheating terminal (a loose lug) heats one channel
 * steadily. The detector has its own alarm setpoint and latches its alarm (fact 38): it sends
 * `{ alarm: true }` on the event topic once, and stays latched until reset on site.
 */
import type { Prng} from '../prng.js';
import { round } from '../prng.js';
import { STEP_S, dailyLoad, hourOfDay, type EventFields, type SensorModel, type TelemetryFields } from './model.js';

export interface ElectricalOptions {
  channels: 1 | 2 | 3 | 4;
  baseMa?: number;
  spanMa?: number;
  ambientC?: number;
  startHour?: number;
  /** the detector's own setpoints (latched alarm) */
  alarmC?: number;
  alarmMa?: number;
  /** mean time between residual-current spikes, s */
  spikeEveryS?: number;
}

export class ElectricalModel implements SensorModel {
  readonly kind = 'electrical_fire' as const;
  private t = 0;
  private drift = 0;
  private spike = 0;
  private readonly rise: number[];
  private overheat: { channel: number; since: number; cPerMin: number; maxC: number } | undefined;
  private latched = false;
  private pending: EventFields[] = [];
  private readonly o: Required<ElectricalOptions>;
  private last: { ma: number; temps: number[] } = { ma: 0, temps: [] };

  constructor(
    opts: ElectricalOptions,
    private readonly rng: Prng,
  ) {
    this.o = {
      baseMa: rng.uniform(95, 110),
      spanMa: rng.uniform(60, 80),
      ambientC: rng.uniform(22, 27),
      startHour: 8,
      alarmC: 85,
      alarmMa: 500,
      spikeEveryS: 4 * 3600,
      ...opts,
    };
    this.rise = Array.from({ length: this.o.channels }, () => rng.uniform(8, 20));
  }

  /** a loose terminal on `channel` (0-based) starts heating at `cPerMin` up to `maxC` */
  startOverheat(channel: number, cPerMin: number, maxC = 110): void {
    this.overheat = { channel, since: this.t, cPerMin, maxC };
  }

  stopOverheat(): void {
    this.overheat = undefined;
  }

  private step(): void {
    // bounded random walk: insulation ageing and humidity move the leakage slowly
    this.drift = Math.min(15, Math.max(-10, this.drift + this.rng.normal(0, 0.08)));
    this.spike *= Math.exp(-STEP_S / 60);
    if (this.rng.chance(STEP_S / this.o.spikeEveryS)) this.spike += this.rng.uniform(30, 70);
  }

  sample(t: number): TelemetryFields {
    while (this.t + STEP_S <= t) {
      this.step();
      this.t += STEP_S;
    }
    const load = dailyLoad(hourOfDay(t, this.o.startHour));
    const ma = this.o.baseMa + this.o.spanMa * load + this.drift + this.spike + this.rng.normal(0, 2);
    const temps = this.rise.map((r, i) => {
      let c = this.o.ambientC + r * load * load + this.rng.normal(0, 0.3);
      const oh = this.overheat;
      if (oh && oh.channel === i) c = Math.min(oh.maxC, c + (oh.cPerMin * (t - oh.since)) / 60);
      return round(c, 1);
    });
    this.last = { ma: round(Math.max(0, ma), 0), temps };
    if (!this.latched && (Math.max(...temps) >= this.o.alarmC || this.last.ma >= this.o.alarmMa)) {
      this.latched = true;
      const hot = Math.max(...temps) >= this.o.alarmC;
      this.pending.push({
        alarm: true,
        code: hot ? 'temperature_alarm' : 'residual_current_alarm',
        message: hot ? `channel ${temps.indexOf(Math.max(...temps)) + 1} at ${Math.max(...temps)} °C` : `${this.last.ma} mA`,
      });
    }
    return { residualCurrentMa: this.last.ma, temperaturesC: temps };
  }

  takeEvents(): EventFields[] {
    const out = this.pending;
    this.pending = [];
    return out;
  }

  /** the detector was reset on site */
  reset(): void {
    if (this.latched) this.pending.push({ alarm: false, code: 'reset' });
    this.latched = false;
  }
}
