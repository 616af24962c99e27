/**
 * The rule engine: runs each device's rules (from its kind, with effective settings) over accepted
 * messages and the time, and answers with alert signals. It keeps every rule's state as plain
 * data, knows when it next needs waking, and snapshots all of it so timers and windows resume
 * after a restart without raising anything twice. No timers, no clock: callers pass `now`.
 *
 * Order inside one call: timers due at or before `now` fire first (so a door.closed arriving
 * after the debounce has ended cannot cancel a forced-open that is already due), then the message.
 * An alarm raised by one device is offered, within the same call, to the other devices' rules in
 * the same building (smoke verification by a second detector, heat or CO).
 */
import type { AlertSignal, AlertSource } from '../alerts/types.js';
import type { KindDefinition } from '../kind.js';
import type { Accepted, Placement } from '../message.js';
import type { Device } from '../site.js';
import type { AnyRule, BuildingAlarm, ParentPresence, RuleContext, RuleDevice, RuleParams, SignalInput } from './definition.js';
import { DEFAULT_OCCUPANCY, isOccupied, nextOccupancyChange, type OccupancySchedule } from './occupancy.js';
import { OFFLINE_RULE_ID, isOfflineState } from './offline.js';
import { resolveEffectiveRules } from './settings.js';
import type { EffectiveRules, RuleEngine, RuleSetting } from './types.js';
import { WakeQueue } from './wake-queue.js';

export interface RuleEngineOptions {
  /** The registry's device (building, floor, parent, disabled); read when a device is first seen and at restore. */
  device(id: string): Device | undefined;
  kind(id: string): KindDefinition | undefined;
  /**
   * Effective settings of a device (resolveEffectiveRules with its building's and its own
   * overrides). Called on every message and timer of the device: cache it, and drop the cache
   * entry when overrides change. Undefined = the kind's defaults.
   */
  rulesFor(deviceId: string): EffectiveRules | undefined;
  /** The building's occupied hours; undefined = DEFAULT_OCCUPANCY (07:00–22:00 daily, UTC+8). */
  occupancy(buildingId: string): OccupancySchedule | undefined;
  /** When the gateway started (epoch ms): start of the offline start-up grace. */
  readonly startedAt: number;
  /** What a previous engine's snapshot() returned; anything unreadable is ignored (fresh start). */
  readonly snapshot?: unknown;
  /**
   * Every registered device, read once at construction: devices missing from the snapshot are
   * watched for silence from `startedAt`, so a device that went dark while the gateway was down
   * (or before any snapshot existed) is still found offline after the grace. Disabled devices are skipped.
   */
  knownDevices?(): Iterable<Device>;
  /** A rule threw: its state is kept as before the step and its signals from that step dropped. */
  onRuleError?(error: RuleFault): void;
}

export interface RuleFault {
  readonly deviceId: string;
  readonly ruleId: string;
  readonly phase: 'message' | 'timer' | 'building_alarm' | 'parent_change' | 'init';
  readonly error: unknown;
}

/** The engine's own additions to RuleEngine, for diagnostics and tests. */
export interface RuleEngineExtras {
  /** Devices with rule state. */
  deviceCount(): number;
  /** Pending (device, rule) wake-ups. */
  pendingTimers(): number;
}

interface DeviceRecord {
  id: string;
  kind: string;
  buildingId: string;
  floor: number | null;
  name: string | null;
  parentId: string | null;
  states: Record<string, unknown>;
}

interface SnapshotV1 {
  format: typeof SNAPSHOT_FORMAT;
  devices: DeviceRecord[];
  journal: Record<string, BuildingAlarm[]>;
}

const SNAPSHOT_FORMAT = 'gridwatch.rules/1';
/** How long a raised alarm stays available for corroboration, and how many per building. */
const JOURNAL_KEEP_MS = 3_600_000;
const JOURNAL_MAX = 256;
/** A rule that keeps asking for "now" again inside one tick is broken; stop it rather than spin. */
const MAX_TIMER_STEPS = 32;

export function createRuleEngine(options: RuleEngineOptions): RuleEngine & RuleEngineExtras {
  const records = new Map<string, DeviceRecord>();
  const byBuilding = new Map<string, Set<string>>();
  const children = new Map<string, Set<string>>();
  const journal = new Map<string, BuildingAlarm[]>();
  const queue = new WakeQueue();

  // --- bookkeeping ------------------------------------------------------------------------------

  function index(rec: DeviceRecord): void {
    let set = byBuilding.get(rec.buildingId);
    if (!set) byBuilding.set(rec.buildingId, (set = new Set()));
    set.add(rec.id);
    if (rec.parentId !== null) {
      let kids = children.get(rec.parentId);
      if (!kids) children.set(rec.parentId, (kids = new Set()));
      kids.add(rec.id);
    }
  }

  function unindex(rec: DeviceRecord): void {
    byBuilding.get(rec.buildingId)?.delete(rec.id);
    if (rec.parentId !== null) children.get(rec.parentId)?.delete(rec.id);
  }

  function keyOf(deviceId: string, ruleId: string): string {
    return `${deviceId}\u0000${ruleId}`;
  }

  /** Rule settings by id, built once per effective rule set (sets are shared between devices). */
  const settingsIndex = new WeakMap<EffectiveRules, Map<string, RuleSetting>>();

  function settingsOf(rec: DeviceRecord, kind: KindDefinition): Map<string, RuleSetting> {
    let effective: EffectiveRules | undefined;
    try {
      effective = options.rulesFor(rec.id);
    } catch {
      effective = undefined;
    }
    const rules = effective ?? resolveEffectiveRules(kind, undefined, undefined, rec.id);
    let index = settingsIndex.get(rules);
    if (index === undefined) {
      index = new Map(rules.rules.map((s) => [s.id, s]));
      settingsIndex.set(rules, index);
    }
    return index;
  }

  function paramsOf(rule: AnyRule, setting: RuleSetting | undefined): RuleParams {
    return (setting?.params ?? rule.defaults) as RuleParams;
  }

  function enabled(rule: AnyRule, setting: RuleSetting | undefined): boolean {
    return setting ? setting.enabled : rule.enabledByDefault;
  }

  function parentOf(rec: DeviceRecord): ParentPresence | null {
    if (rec.parentId === null) return null;
    const parent = records.get(rec.parentId);
    const { offline, changedAt } = isOfflineState(parent?.states[OFFLINE_RULE_ID]);
    return { id: rec.parentId, offline, changedAt };
  }

  function context(rec: DeviceRecord, kind: KindDefinition, rule: AnyRule, params: RuleParams, now: number, out: AlertSignal[]): RuleContext<RuleParams> {
    return new StepContext(rec, kind, rule, params, now, out, engineView);
  }

  /**
   * Runs one step of one rule for one device and keeps its state; signals go to `out` only when
   * the step succeeds. Returns the alarms the step raised (for corroboration).
   */
  /** What a step context reads from the engine; built once, so a step creates no closures. */
  const engineView: EngineView = {
    startedAt: options.startedAt,
    occupancy: (buildingId) => options.occupancy(buildingId) ?? DEFAULT_OCCUPANCY,
    journal: (buildingId) => journal.get(buildingId),
    parentOf: (rec) => parentOf(rec),
  };

  function step(
    rec: DeviceRecord,
    kind: KindDefinition,
    rule: AnyRule,
    setting: RuleSetting | undefined,
    now: number,
    phase: RuleFault['phase'],
    out: AlertSignal[],
    fn: (ctx: RuleContext<RuleParams>, state: unknown) => unknown,
  ): AlertSignal[] {
    const produced: AlertSignal[] = [];
    const ctx = context(rec, kind, rule, paramsOf(rule, setting), now, produced);
    try {
      const state = rule.id in rec.states ? rec.states[rule.id] : rule.initial(ctx);
      rec.states[rule.id] = fn(ctx, state);
    } catch (error) {
      options.onRuleError?.({ deviceId: rec.id, ruleId: rule.id, phase, error });
      return [];
    }
    out.push(...produced);
    schedule(rec, kind, rule, setting, now);
    return produced;
  }

  function schedule(rec: DeviceRecord, kind: KindDefinition, rule: AnyRule, setting: RuleSetting | undefined, now: number): void {
    if (!rule.wakeAt || !enabled(rule, setting) || !(rule.id in rec.states)) return;
    const ctx = context(rec, kind, rule, paramsOf(rule, setting), now, []);
    let at: number | null;
    try {
      at = rule.wakeAt(ctx, rec.states[rule.id]);
    } catch (error) {
      options.onRuleError?.({ deviceId: rec.id, ruleId: rule.id, phase: 'timer', error });
      return;
    }
    if (at !== null && Number.isFinite(at)) queue.request(keyOf(rec.id, rule.id), at);
  }

  function scheduleAll(rec: DeviceRecord, now: number): void {
    const kind = options.kind(rec.kind);
    if (!kind) return;
    const settings = settingsOf(rec, kind);
    for (const rule of kind.rules ?? []) schedule(rec, kind, rule, settings.get(rule.id), now);
  }

  /** Gives a record a state for every rule of its kind (first sight, start-up, restore). */
  function initialise(rec: DeviceRecord, now: number): void {
    const kind = options.kind(rec.kind);
    if (!kind) return;
    const settings = settingsOf(rec, kind);
    for (const rule of kind.rules ?? []) {
      if (rule.id in rec.states) continue;
      const ctx = context(rec, kind, rule, paramsOf(rule, settings.get(rule.id)), now, []);
      try {
        rec.states[rule.id] = rule.initial(ctx);
      } catch (error) {
        options.onRuleError?.({ deviceId: rec.id, ruleId: rule.id, phase: 'init', error });
      }
    }
    scheduleAll(rec, now);
  }

  function recordFor(placement: Placement, now: number): DeviceRecord {
    const existing = records.get(placement.deviceId);
    if (existing) {
      // The registry may have moved the device; the message carries its current placement.
      if (existing.buildingId !== placement.buildingId || existing.floor !== placement.floor || existing.kind !== placement.kind) {
        unindex(existing);
        existing.buildingId = placement.buildingId;
        existing.floor = placement.floor;
        if (existing.kind !== placement.kind) {
          existing.kind = placement.kind;
          existing.states = {};
        }
        index(existing);
      }
      return existing;
    }
    const device = options.device(placement.deviceId);
    const rec: DeviceRecord = {
      id: placement.deviceId,
      kind: placement.kind,
      buildingId: placement.buildingId,
      floor: placement.floor,
      name: device?.name ?? null,
      parentId: device?.parentId ?? null,
      states: {},
    };
    records.set(rec.id, rec);
    index(rec);
    initialise(rec, now);
    return rec;
  }

  // --- corroboration and parents ----------------------------------------------------------------

  function remember(buildingId: string, alarm: BuildingAlarm, now: number): void {
    const list = (journal.get(buildingId) ?? []).filter((a) => a.at >= now - JOURNAL_KEEP_MS);
    list.push(alarm);
    while (list.length > JOURNAL_MAX) list.shift();
    journal.set(buildingId, list);
  }

  /** Offers the alarms a step raised to the rest of the building. */
  function corroborate(rec: DeviceRecord, ruleId: string, raised: readonly AlertSignal[], now: number, out: AlertSignal[]): void {
    for (const s of raised) {
      if (s.action !== 'raise' || s.signalClass !== 'alarm') continue;
      const alarm: BuildingAlarm = { deviceId: rec.id, kind: rec.kind, floor: rec.floor, type: s.type, ruleId, at: now };
      remember(rec.buildingId, alarm, now);
      for (const peerId of byBuilding.get(rec.buildingId) ?? []) {
        const peer = records.get(peerId);
        const kind = peer ? options.kind(peer.kind) : undefined;
        if (!peer || !kind) continue;
        const rules = (kind.rules ?? []).filter((r) => r.onBuildingAlarm && !(peer.id === rec.id && r.id === ruleId));
        if (rules.length === 0) continue;
        const settings = settingsOf(peer, kind);
        for (const rule of rules) {
          const setting = settings.get(rule.id);
          if (!enabled(rule, setting)) continue;
          // Confirmations are not new evidence: they are not offered on (no cascades).
          step(peer, kind, rule, setting, now, 'building_alarm', out, (ctx, state) => rule.onBuildingAlarm!(ctx, state, alarm));
        }
      }
    }
  }

  function parentChanged(rec: DeviceRecord, now: number, out: AlertSignal[]): void {
    const presence = parentPresenceOf(rec);
    for (const childId of children.get(rec.id) ?? []) {
      const child = records.get(childId);
      const kind = child ? options.kind(child.kind) : undefined;
      if (!child || !kind) continue;
      const settings = settingsOf(child, kind);
      for (const rule of kind.rules ?? []) {
        const setting = settings.get(rule.id);
        if (!rule.onParentChange || !enabled(rule, setting)) continue;
        step(child, kind, rule, setting, now, 'parent_change', out, (ctx, state) => rule.onParentChange!(ctx, state, presence));
      }
    }
  }

  function parentPresenceOf(rec: DeviceRecord): ParentPresence {
    const { offline, changedAt } = isOfflineState(rec.states[OFFLINE_RULE_ID]);
    return { id: rec.id, offline, changedAt };
  }

  /** Runs a step and everything it sets off: corroboration, and the children when presence changed. */
  function run(
    rec: DeviceRecord,
    kind: KindDefinition,
    rule: AnyRule,
    setting: RuleSetting | undefined,
    now: number,
    phase: RuleFault['phase'],
    out: AlertSignal[],
    fn: (ctx: RuleContext<RuleParams>, state: unknown) => unknown,
  ): void {
    const wasOffline = rule.id === OFFLINE_RULE_ID ? isOfflineState(rec.states[rule.id]).offline : null;
    const raised = step(rec, kind, rule, setting, now, phase, out, fn);
    corroborate(rec, rule.id, raised, now, out);
    if (wasOffline !== null && isOfflineState(rec.states[rule.id]).offline !== wasOffline) parentChanged(rec, now, out);
  }

  // --- restore ----------------------------------------------------------------------------------

  function restore(snapshot: unknown): void {
    if (!isSnapshot(snapshot)) return;
    for (const saved of snapshot.devices) {
      const device = options.device(saved.id);
      // A device removed from the registry while the gateway was down takes its state with it.
      if (!device || device.disabled) continue;
      const rec: DeviceRecord = {
        id: saved.id,
        kind: device.kind,
        buildingId: device.buildingId,
        floor: device.floor,
        name: device.name,
        parentId: device.parentId,
        states: device.kind === saved.kind ? { ...saved.states } : {},
      };
      const kind = options.kind(rec.kind);
      const known = new Set((kind?.rules ?? []).map((r) => r.id));
      for (const id of Object.keys(rec.states)) if (!known.has(id)) delete rec.states[id];
      records.set(rec.id, rec);
      index(rec);
    }
    for (const [buildingId, alarms] of Object.entries(snapshot.journal)) {
      if (Array.isArray(alarms)) journal.set(buildingId, alarms.filter(isBuildingAlarm).slice(-JOURNAL_MAX));
    }
  }

  restore(options.snapshot);
  for (const device of safeIterate(options.knownDevices)) {
    if (device.disabled || records.has(device.id)) continue;
    const rec: DeviceRecord = {
      id: device.id,
      kind: device.kind,
      buildingId: device.buildingId,
      floor: device.floor,
      name: device.name,
      parentId: device.parentId,
      states: {},
    };
    records.set(rec.id, rec);
    index(rec);
  }
  for (const rec of records.values()) initialise(rec, options.startedAt);

  // --- the RuleEngine -----------------------------------------------------------------------------

  function tick(now: number): AlertSignal[] {
    const out: AlertSignal[] = [];
    const steps = new Map<string, number>();
    for (let key = queue.popDue(now); key !== null; key = queue.popDue(now)) {
      const [deviceId, ruleId] = key.split('\u0000') as [string, string];
      const rec = records.get(deviceId);
      const kind = rec ? options.kind(rec.kind) : undefined;
      const rule = kind?.rules?.find((r) => r.id === ruleId);
      if (!rec || !kind || !rule || !rule.wakeAt) continue;
      const setting = settingsOf(rec, kind).get(ruleId);
      if (!enabled(rule, setting) || !(ruleId in rec.states)) continue;
      const n = (steps.get(key) ?? 0) + 1;
      steps.set(key, n);
      if (n > MAX_TIMER_STEPS) {
        options.onRuleError?.({ deviceId, ruleId, phase: 'timer', error: new Error('rule keeps asking to be woken now') });
        continue;
      }
      let due: number | null;
      try {
        due = rule.wakeAt(context(rec, kind, rule, paramsOf(rule, setting), now, []), rec.states[ruleId]);
      } catch (error) {
        options.onRuleError?.({ deviceId, ruleId, phase: 'timer', error });
        continue;
      }
      if (due === null) continue;
      if (due > now) {
        queue.request(key, due);
        continue;
      }
      run(rec, kind, rule, setting, now, 'timer', out, (ctx, state) => (rule.onTimer ? rule.onTimer(ctx, state) : state));
    }
    return out;
  }

  return {
    onAccepted(accepted: Accepted, now: number): AlertSignal[] {
      const out = tick(now);
      const placement = placementOf(accepted);
      const rec = recordFor(placement, now);
      const kind = options.kind(rec.kind);
      if (!kind) return out;
      const settings = settingsOf(rec, kind);
      for (const rule of kind.rules ?? []) {
        const setting = settings.get(rule.id);
        if (!enabled(rule, setting)) continue;
        run(rec, kind, rule, setting, now, 'message', out, (ctx, state) => rule.onMessage(ctx, state, accepted));
      }
      return out;
    },
    tick,
    nextWakeAt: () => queue.peek(),
    snapshot(): unknown {
      const snap: SnapshotV1 = {
        format: SNAPSHOT_FORMAT,
        devices: [...records.values()],
        journal: Object.fromEntries(journal),
      };
      // A deep copy: the caller may hold it while the engine goes on.
      return JSON.parse(JSON.stringify(snap)) as unknown;
    },
    deviceCount: () => records.size,
    pendingTimers: () => queue.size,
  };
}

function placementOf(accepted: Accepted): Placement {
  switch (accepted.channel) {
    case 'telemetry':
      return accepted.reading;
    case 'event':
      return accepted.event;
    case 'status':
      return accepted.status;
  }
}

function safeIterate(source: (() => Iterable<Device>) | undefined): Device[] {
  if (!source) return [];
  try {
    return [...source()];
  } catch {
    return [];
  }
}

function isSnapshot(value: unknown): value is SnapshotV1 {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<SnapshotV1>;
  return (
    v.format === SNAPSHOT_FORMAT &&
    Array.isArray(v.devices) &&
    v.devices.every((d) => typeof d === 'object' && d !== null && typeof d.id === 'string' && typeof d.kind === 'string' && typeof d.states === 'object' && d.states !== null) &&
    typeof v.journal === 'object' &&
    v.journal !== null
  );
}

function isBuildingAlarm(a: unknown): a is BuildingAlarm {
  if (typeof a !== 'object' || a === null) return false;
  const x = a as Partial<BuildingAlarm>;
  return typeof x.deviceId === 'string' && typeof x.type === 'string' && typeof x.at === 'number' && typeof x.ruleId === 'string';
}

interface EngineView {
  readonly startedAt: number;
  occupancy(buildingId: string): OccupancySchedule;
  journal(buildingId: string): readonly BuildingAlarm[] | undefined;
  parentOf(rec: DeviceRecord): ParentPresence | null;
}

/**
 * One rule's view of one step. A class rather than an object of arrow functions: steps run for
 * every message and every rule, and per-step closures showed up as the engine's main cost.
 */
class StepContext implements RuleContext<RuleParams> {
  readonly device: RuleDevice;
  readonly source: AlertSource;
  readonly startedAt: number;
  readonly where: string;

  constructor(
    private readonly rec: DeviceRecord,
    readonly kind: KindDefinition,
    private readonly rule: AnyRule,
    readonly params: RuleParams,
    readonly now: number,
    private readonly out: AlertSignal[],
    private readonly engine: EngineView,
  ) {
    this.device = { id: rec.id, kind: rec.kind, buildingId: rec.buildingId, floor: rec.floor, name: rec.name, parentId: rec.parentId };
    this.source = { deviceId: rec.id, kind: rec.kind, buildingId: rec.buildingId, floor: rec.floor };
    this.startedAt = engine.startedAt;
    const name = rec.name ? `${rec.name}, ` : '';
    this.where = `${name}${rec.floor !== null ? `floor ${rec.floor}` : `building ${rec.buildingId}`}`;
  }

  occupied(at: number): boolean {
    return isOccupied(this.engine.occupancy(this.rec.buildingId), at);
  }

  nextOccupancyChange(at: number): number | null {
    return nextOccupancyChange(this.engine.occupancy(this.rec.buildingId), at);
  }

  buildingAlarms(since: number): readonly BuildingAlarm[] {
    return (this.engine.journal(this.rec.buildingId) ?? []).filter((a) => a.at >= since);
  }

  parent(): ParentPresence | null {
    return this.engine.parentOf(this.rec);
  }

  raise(s: SignalInput): void {
    this.signal('raise', s);
  }

  clear(s: SignalInput): void {
    this.signal('clear', s);
  }

  private signal(action: 'raise' | 'clear', s: SignalInput): void {
    const rule = this.rule;
    this.out.push({
      action,
      source: this.source,
      type: s.type ?? rule.id,
      signalClass: s.signalClass ?? rule.signalClass,
      at: s.at,
      title: s.title ?? rule.title,
      titleZh: s.titleZh ?? rule.titleZh,
      detail: s.detail,
      ...(s.attrs ? { attrs: s.attrs } : {}),
      latched: s.latched ?? rule.latched,
      ...(s.verification ? { verification: s.verification } : {}),
      ...(s.suppressedBy ? { suppressedBy: s.suppressedBy } : {}),
    });
  }
}
