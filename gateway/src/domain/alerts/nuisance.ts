/**
 * Nuisance control (ISA-18.2 / IEC 62682, domain.md §4): chattering detection per alert source and
 * flood grouping per building. Plain bookkeeping on times the caller passes in.
 */

/** Chattering: N or more activations of one (device, type) within a window (default 3 in 60 s). */
export class ChatterWatch {
  private readonly activations = new Map<string, number[]>();
  private prunedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly threshold: number,
    private readonly windowMs: number,
  ) {}

  /** Records an activation and answers whether the source is chattering now. */
  activate(key: string, now: number): boolean {
    const times = this.recent(key, now);
    times.push(now);
    this.activations.set(key, times);
    return times.length >= this.threshold;
  }

  /** Activation times recovered from an alert's history after a restart. */
  seed(key: string, times: readonly number[]): void {
    const merged = [...(this.activations.get(key) ?? []), ...times].sort((a, b) => a - b);
    this.activations.set(key, merged);
  }

  /** Forgets sources with no activation inside the window; at most once per window, it is only housekeeping. */
  prune(now: number): void {
    if (now < this.prunedAt + this.windowMs) return;
    this.prunedAt = now;
    const since = now - this.windowMs;
    for (const [key, times] of this.activations) {
      if (times.length === 0 || times[times.length - 1]! < since) this.activations.delete(key);
    }
  }

  private recent(key: string, now: number): number[] {
    const since = now - this.windowMs;
    return (this.activations.get(key) ?? []).filter((t) => t >= since);
  }
}

export interface PendingDigest {
  readonly buildingId: string;
  readonly dueAt: number;
  /** Alerts held back from individual notification, in the order they were raised. */
  readonly alertIds: readonly string[];
}

/**
 * Flood: more than `maxAlerts` new alerts for one building in one window. ISA-18.2 measures alarm
 * rates in fixed 10-minute intervals, so windows are fixed intervals of the clock (aligned to the
 * epoch), which also lets a restarted gateway tell which window a held alert belongs to.
 */
export class FloodGate {
  private readonly counts = new Map<string, { window: number; count: number }>();
  private readonly pending = new Map<string, { buildingId: string; window: number; alertIds: string[] }>();

  constructor(
    private readonly maxAlerts: number,
    private readonly windowMs: number,
  ) {}

  /**
   * A new alert is about to be notified. The first `maxAlerts` of a building's window notify
   * individually; later ones are held for the window's digest, except life-safety alerts, which
   * count towards the flood but always notify individually.
   */
  admit(buildingId: string, alertId: string, now: number, lifeSafety: boolean): 'notify' | 'hold' {
    const window = this.windowOf(now);
    const c = this.counts.get(buildingId);
    const count = (c !== undefined && c.window === window ? c.count : 0) + 1;
    this.counts.set(buildingId, { window, count });
    if (count <= this.maxAlerts || lifeSafety) return 'notify';
    this.hold(buildingId, alertId, window);
    return 'hold';
  }

  /** Restores a window's count after a restart. */
  seedCount(buildingId: string, at: number): void {
    const window = this.windowOf(at);
    const c = this.counts.get(buildingId);
    if (c !== undefined && c.window > window) return;
    this.counts.set(buildingId, { window, count: (c !== undefined && c.window === window ? c.count : 0) + 1 });
  }

  /** Restores an alert still waiting for its digest after a restart. */
  seedHeld(buildingId: string, alertId: string, heldAt: number): void {
    this.hold(buildingId, alertId, this.windowOf(heldAt));
  }

  nextDueAt(): number | null {
    let next: number | null = null;
    for (const p of this.pending.values()) {
      const due = this.endOf(p.window);
      if (next === null || due < next) next = due;
    }
    return next;
  }

  /** Takes the digests whose window has ended, earliest first. */
  takeDue(now: number): PendingDigest[] {
    const due: PendingDigest[] = [];
    for (const [key, p] of this.pending) {
      const dueAt = this.endOf(p.window);
      if (dueAt <= now) {
        due.push({ buildingId: p.buildingId, dueAt, alertIds: p.alertIds });
        this.pending.delete(key);
      }
    }
    for (const [building, c] of this.counts) if (this.endOf(c.window) <= now) this.counts.delete(building);
    return due.sort((a, b) => a.dueAt - b.dueAt);
  }

  private hold(buildingId: string, alertId: string, window: number): void {
    const key = `${buildingId}\u0000${window}`;
    const p = this.pending.get(key) ?? { buildingId, window, alertIds: [] };
    if (!p.alertIds.includes(alertId)) p.alertIds.push(alertId);
    this.pending.set(key, p);
  }

  private windowOf(t: number): number {
    return Math.floor(t / this.windowMs);
  }

  private endOf(window: number): number {
    return (window + 1) * this.windowMs;
  }
}
