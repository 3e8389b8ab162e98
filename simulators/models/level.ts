/**
 * Fire-water tank level (消防水箱/水池水位). The tank sits near full; the float valve (浮球阀)
 * refills it when the level falls below its refill point. A drawdown (fire pump running, a test,
 * a leak) lowers it at a given rate; a stuck float never refills.
 */
import type { Prng} from '../prng.js';
import { round } from '../prng.js';
import { STEP_S, type SensorModel, type TelemetryFields } from './model.js';

export interface LevelOptions {
  fullM: number;
  /** the float valve opens this far below full */
  refillBandM?: number;
  refillMPerMin?: number;
  /** small everyday losses (evaporation, seepage), m per hour */
  lossMPerH?: number;
  noiseM?: number;
}

export class LevelModel implements SensorModel {
  readonly kind = 'water_level' as const;
  private level: number;
  private t = 0;
  private refilling = false;
  private drawMPerMin = 0;
  private floatStuck = false;
  private readonly o: Required<LevelOptions>;

  constructor(
    opts: LevelOptions,
    private readonly rng: Prng,
  ) {
    this.o = { refillBandM: 0.15, refillMPerMin: 0.05, lossMPerH: 0.01, noiseM: 0.003, ...opts };
    this.level = this.o.fullM - rng.uniform(0, this.o.refillBandM);
  }

  /** start (rate > 0) or stop (0) a drawdown, in m per minute */
  drawdown(mPerMin: number): void {
    this.drawMPerMin = mPerMin;
  }

  setFloatStuck(stuck: boolean): void {
    this.floatStuck = stuck;
  }

  private step(): void {
    const o = this.o;
    this.level -= ((o.lossMPerH / 3600) + this.drawMPerMin / 60) * STEP_S;
    if (!this.refilling && !this.floatStuck && this.level <= o.fullM - o.refillBandM) this.refilling = true;
    if (this.refilling && !this.floatStuck) {
      this.level += (o.refillMPerMin / 60) * STEP_S;
      if (this.level >= o.fullM) {
        this.level = o.fullM;
        this.refilling = false;
      }
    }
    this.level = Math.max(0, this.level);
  }

  sample(t: number): TelemetryFields {
    while (this.t + STEP_S <= t) {
      this.step();
      this.t += STEP_S;
    }
    return { levelM: round(Math.max(0, this.level + this.rng.normal(0, this.o.noiseM)), 3) };
  }
}
