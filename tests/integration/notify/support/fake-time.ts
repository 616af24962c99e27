/**
 * Fake time for the outbox: one object is both the Clock and the timer functions the worker
 * waits with. `advance` moves time forward timer by timer and lets the outbox settle (its sends
 * go to real loopback servers) after each, so timing is exact and no test sleeps.
 */
import type { Clock } from '../../../../gateway/src/ports.js';
import type { OutboxTimers } from '../../../../gateway/src/adapters/notify/outbox.js';

interface Pending {
  readonly id: number;
  readonly at: number;
  readonly callback: () => void;
}

export class FakeTime implements Clock, OutboxTimers {
  private current: number;
  private nextId = 1;
  private pending: Pending[] = [];

  constructor(start = Date.UTC(2024, 4, 1, 6, 0, 0)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const timer = { id: this.nextId++, at: this.current + Math.max(0, ms), callback };
    this.pending.push(timer);
    return timer.id;
  }

  clearTimeout(handle: unknown): void {
    this.pending = this.pending.filter((t) => t.id !== handle);
  }

  /** When the earliest timer fires, or null. */
  nextTimerAt(): number | null {
    return this.pending.length === 0 ? null : Math.min(...this.pending.map((t) => t.at));
  }

  /** Moves time forward by `ms`, firing due timers in order and settling after each. */
  async advance(ms: number, settle: () => Promise<void>): Promise<void> {
    const end = this.current + ms;
    await settle();
    for (;;) {
      const due = this.pending.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.pending = this.pending.filter((t) => t !== due);
      this.current = Math.max(this.current, due.at);
      due.callback();
      await settle();
    }
    this.current = end;
  }
}
