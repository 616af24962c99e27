/**
 * Last known state of each device: when it was last heard from, whether it is online, its latest
 * values. Pure bookkeeping; the app persists the dirty entries now and then.
 *
 * Keepalive pings do not prove a sensor works (domain.md §3), so only data (telemetry, events) and
 * the device's own status topic move `lastSeen`; TCP liveness does not.
 */
import type { Accepted } from './message.js';
import type { DeviceState } from '../ports.js';

export type PresentedStatus = DeviceState['status'] | 'stale';

export class DeviceStates {
  private readonly states = new Map<string, DeviceState>();
  private readonly dirty = new Set<string>();

  constructor(initial: readonly DeviceState[] = []) {
    for (const s of initial) this.states.set(s.deviceId, s);
  }

  get(deviceId: string): DeviceState | undefined {
    return this.states.get(deviceId);
  }

  apply(accepted: Accepted): void {
    switch (accepted.channel) {
      case 'telemetry': {
        const r = accepted.reading;
        const prev = this.states.get(r.deviceId);
        const latest = { ...(prev?.latest ?? {}) };
        for (const [name, value] of Object.entries(r.values)) {
          const current = latest[name];
          // Late, buffered readings must not overwrite a newer value.
          if (current === undefined || current.ts <= r.ts) latest[name] = { value, ts: r.ts };
        }
        this.put(seen(prev, r.deviceId, r.receivedAt, latest));
        return;
      }
      case 'event': {
        const e = accepted.event;
        const prev = this.states.get(e.deviceId);
        this.put(seen(prev, e.deviceId, e.receivedAt, prev?.latest ?? {}));
        return;
      }
      case 'status': {
        const s = accepted.status;
        const prev = this.states.get(s.deviceId);
        const changed = prev?.status !== s.status;
        this.put({
          deviceId: s.deviceId,
          lastSeen: s.status === 'online' ? s.receivedAt : (prev?.lastSeen ?? null),
          status: s.status,
          statusChangedAt: changed ? s.receivedAt : (prev?.statusChangedAt ?? s.receivedAt),
          latest: prev?.latest ?? {},
        });
        return;
      }
    }
  }

  /** Entries changed since the last call, for persisting. */
  takeDirty(): DeviceState[] {
    const out: DeviceState[] = [];
    for (const id of this.dirty) {
      const s = this.states.get(id);
      if (s) out.push(s);
    }
    this.dirty.clear();
    return out;
  }

  private put(state: DeviceState): void {
    this.states.set(state.deviceId, state);
    this.dirty.add(state.deviceId);
  }
}

function seen(prev: DeviceState | undefined, deviceId: string, at: number, latest: DeviceState['latest']): DeviceState {
  const wasOnline = prev?.status === 'online';
  return {
    deviceId,
    lastSeen: Math.max(at, prev?.lastSeen ?? 0),
    status: 'online',
    statusChangedAt: wasOnline ? (prev?.statusChangedAt ?? at) : at,
    latest,
  };
}

/**
 * What to show for a device now: an 'online' device silent for longer than its kind's offline
 * threshold is 'stale' until the offline rule (alerts) declares it offline.
 */
export function presentStatus(state: DeviceState | undefined, offlineAfterS: number, now: number): PresentedStatus {
  if (state === undefined || state.lastSeen === null) return state?.status === 'offline' ? 'offline' : 'never_seen';
  if (state.status === 'online' && now - state.lastSeen > offlineAfterS * 1000) return 'stale';
  return state.status;
}
