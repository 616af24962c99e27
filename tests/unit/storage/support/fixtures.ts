/** Readings, events and temp dirs for the storage tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SinkTimers } from '../../../../gateway/src/adapters/sqlite/time-series.js';
import type { DeviceEvent, Reading } from '../../../../gateway/src/domain/message.js';
import type { Clock } from '../../../../gateway/src/ports.js';

export function reading(
  deviceId: string,
  ts: number,
  values: Record<string, number>,
  extra: Partial<Reading> = {},
): Reading {
  return { deviceId, kind: 'smoke', buildingId: 'b-1', floor: 3, ts, receivedAt: ts, seq: null, values, ...extra };
}

export function event(deviceId: string, ts: number, type: string, extra: Partial<DeviceEvent> = {}): DeviceEvent {
  return {
    deviceId,
    kind: 'smoke',
    buildingId: 'b-1',
    floor: 3,
    ts,
    receivedAt: ts,
    seq: null,
    type,
    signalClass: 'alarm',
    attrs: {},
    ...extra,
  };
}

export interface TempDir {
  readonly path: string;
  file(name: string): string;
  remove(): void;
}

export function tempDir(prefix = 'gridwatch-storage-'): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, file: (name) => join(path, name), remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * Timers driven by the test: callbacks run only inside advance(), in due order, and the clock
 * moves with them. Nothing runs in real time.
 */
export class ManualTimers implements SinkTimers {
  private current: number;
  private nextId = 1;
  private readonly tasks = new Map<number, { due: number; fn: () => void }>();
  readonly clock: Clock = { now: () => this.current };

  constructor(start = 1_700_000_000_000) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.tasks.set(id, { due: this.current + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.tasks.delete(handle as number);
  }

  /** Milliseconds until the next callback, or undefined when none is armed. */
  nextIn(): number | undefined {
    let next: number | undefined;
    for (const t of this.tasks.values()) if (next === undefined || t.due < next) next = t.due;
    return next === undefined ? undefined : next - this.current;
  }

  armed(): number {
    return this.tasks.size;
  }

  /** Moves time forward by `ms`, running every callback that falls due on the way. */
  advance(ms: number): void {
    const end = this.current + ms;
    for (;;) {
      let nextId: number | undefined;
      let nextDue = Infinity;
      for (const [id, t] of this.tasks) {
        if (t.due <= end && t.due < nextDue) {
          nextDue = t.due;
          nextId = id;
        }
      }
      if (nextId === undefined) break;
      const task = this.tasks.get(nextId);
      this.tasks.delete(nextId);
      this.current = Math.max(this.current, nextDue);
      task?.fn();
    }
    this.current = end;
  }
}
