/**
 * The audible alarm: a two-tone WebAudio beep loop while any open hazard is sounding.
 * Browsers allow audio only after a user gesture, hence the "开启声音 / enable sound" button.
 * Silencing is per alert and per escalation level: an alert silenced at level 0 sounds again
 * when it escalates. Acknowledging stops it (only open hazards sound).
 */
const SILENCED_KEY = 'fw.silenced';

export class Alarm {
  constructor() {
    this.ctx = null;
    this.loop = null;
    this.sounding = new Set();
    this.silenced = new Set(JSON.parse(sessionStorage.getItem(SILENCED_KEY) ?? '[]'));
    this.beeps = 0; // for tests
  }

  get enabled() {
    return this.ctx !== null && this.ctx.state !== 'closed';
  }

  /** must run inside a click handler */
  async enable() {
    const Ctx = window.AudioContext ?? window.webkitAudioContext;
    if (!Ctx) return false;
    this.ctx ??= new Ctx();
    await this.ctx.resume().catch(() => undefined);
    this.update();
    return true;
  }

  key(alert) {
    return `${alert.id}:${alert.escalationLevel}`;
  }

  isSilenced(alert) {
    return this.silenced.has(this.key(alert));
  }

  silence(alert) {
    this.silenced.add(this.key(alert));
    sessionStorage.setItem(SILENCED_KEY, JSON.stringify([...this.silenced].slice(-500)));
    this.sounding.delete(alert.id);
    this.update();
  }

  /** recompute from the board's alerts: open, non-maintenance hazards that are not silenced */
  sync(alerts) {
    this.sounding = new Set(
      alerts.filter((a) => a.class === 'hazard' && !a.maintenance && a.status === 'open' && !this.isSilenced(a)).map((a) => a.id),
    );
    this.update();
  }

  update() {
    const on = this.sounding.size > 0 && this.enabled;
    if (on && !this.loop) {
      this.beep();
      this.loop = setInterval(() => this.beep(), 1400);
    } else if (!on && this.loop) {
      clearInterval(this.loop);
      this.loop = null;
    }
  }

  beep() {
    if (!this.ctx) return;
    this.beeps++;
    const t0 = this.ctx.currentTime;
    for (const [i, freq] of [880, 660].entries()) {
      const osc = this.ctx.createOscillator();
      const gain = this.ctx.createGain();
      osc.type = 'square';
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, t0 + i * 0.3);
      gain.gain.exponentialRampToValueAtTime(0.25, t0 + i * 0.3 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t0 + i * 0.3 + 0.28);
      osc.connect(gain).connect(this.ctx.destination);
      osc.start(t0 + i * 0.3);
      osc.stop(t0 + i * 0.3 + 0.3);
    }
  }
}
