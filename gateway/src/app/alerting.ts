/**
 * Alerting, composed: accepted messages → rule engine → alert book → alert store + notification
 * outbox. The domain decides (which signal, which alert, who should be told); this file does the
 * I/O around it and keeps one promise: an alert change and the notifications it calls for are
 * committed in one SQLite transaction, so a crash can neither lose a notification nor send one
 * twice for the same change.
 *
 * Time: the engine and the book say when they next need waking; one timer calls tick() then (or
 * every few seconds at the latest, which also saves the rule state). Tests drive tick() with a
 * manual clock instead.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Database } from '../adapters/sqlite/database.js';
import type { SqliteAlertStore } from '../adapters/sqlite/alert-store.js';
import type { SqliteRuleOverridesStore } from '../adapters/sqlite/rule-overrides-store.js';
import { ackLink, composeAlertMessage, signAckToken, verifyAckToken, type SqliteOutbox } from '../adapters/notify/index.js';
import { AlertBook } from '../domain/alerts/alert-book.js';
import type { EscalationPolicy } from '../domain/alerts/escalation.js';
import type { Alert, AlertChange, AlertSignal, NotificationIntent } from '../domain/alerts/types.js';
import type { KindDefinition } from '../domain/kind.js';
import type { Accepted } from '../domain/message.js';
import { createRuleEngine } from '../domain/rules/engine.js';
import type { OccupancySchedule } from '../domain/rules/occupancy.js';
import { resolveEffectiveRules, validateOverrides } from '../domain/rules/settings.js';
import type { EffectiveRules, RuleEngine, RuleOverrides } from '../domain/rules/types.js';
import {
  AckLinkError,
  AlertActionError,
  RuleConfigError,
  type AckLinkPreview,
  type AlertQuery,
  type AlertService,
  type Clock,
  type NotificationReceipt,
  type NotificationRequest,
  type RuleService,
  type SiteStore,
} from '../ports.js';
import { placeOf, recipientsFor } from './recipients.js';

/** Upper bound between two ticks: rule state is saved and clocks re-read at least this often. */
const MAX_SLEEP_MS = 5_000;

export interface AlertingOptions {
  readonly db: Database;
  readonly clock: Clock;
  readonly log: Logger;
  readonly site: SiteStore;
  readonly kind: (id: string) => KindDefinition | undefined;
  readonly store: SqliteAlertStore;
  readonly overrides: SqliteRuleOverridesStore;
  readonly outbox: SqliteOutbox;
  readonly policy: EscalationPolicy;
  readonly occupancy: (buildingId: string) => OccupancySchedule | undefined;
  readonly ackLinks: { readonly key: Buffer; readonly publicBaseUrl: string; readonly ttlMs: number };
}

export type AlertListener = (change: AlertChange) => void;

export interface AlertingCounts {
  signals: number;
  changes: number;
  notificationsQueued: number;
  nobodyToTell: number;
}

export class Alerting implements AlertService, RuleService {
  readonly counts: AlertingCounts = { signals: 0, changes: 0, notificationsQueued: 0, nobodyToTell: 0 };
  private readonly engine: RuleEngine;
  private readonly book: AlertBook;
  private readonly rulesCache = new Map<string, EffectiveRules>();
  private overridesByScope: Map<string, RuleOverrides> | null = null;
  private readonly listeners: AlertListener[] = [];
  private timer: NodeJS.Timeout | null = null;
  private ruleStateDirty = false;
  private savePending = false;
  private running = false;

  constructor(private readonly o: AlertingOptions) {
    const now = o.clock.now();
    this.engine = createRuleEngine({
      device: (id) => o.site.device(id),
      kind: o.kind,
      rulesFor: (id) => this.rulesFor(id),
      occupancy: o.occupancy,
      startedAt: now,
      snapshot: o.store.loadRuleState(),
      knownDevices: () => o.site.devices(),
      onRuleError: (fault) => o.log.error({ deviceId: fault.deviceId, rule: fault.ruleId, phase: fault.phase, err: fault.error }, 'rule failed; its state is kept and the message goes on'),
    });
    this.book = new AlertBook({ policy: o.policy, newId: () => randomUUID(), open: o.store.open() });
  }

  onChange(listener: AlertListener): void {
    this.listeners.push(listener);
  }

  /** From the ingest pipeline, for every accepted message. */
  onAccepted(accepted: Accepted): void {
    const now = this.o.clock.now();
    const signals = this.engine.onAccepted(accepted, now);
    // Telemetry moves exposure and rate windows: saved with the next tick (≤ 5 s). Events and
    // status reports start and stop timers (held open, verification, offline), which a crash
    // must not lose: those are saved as soon as the current burst of messages is handled.
    this.ruleStateDirty = true;
    if (accepted.channel !== 'telemetry') this.saveSoon();
    if (signals.length === 0) return;
    this.counts.signals += signals.length;
    this.commit(signals.flatMap((s) => this.book.apply(s, now)), now);
    this.schedule();
  }

  /**
   * Signals that come from outside the rule engine: the gateway's own security observations
   * (e.g. a device's secret being guessed at the broker). They take the same path as rule
   * signals: one alert per (device, type), the same notifications and escalation.
   */
  raise(signals: readonly AlertSignal[]): void {
    if (signals.length === 0) return;
    const now = this.o.clock.now();
    this.counts.signals += signals.length;
    this.commit(signals.flatMap((s) => this.book.apply(s, now)), now);
    this.schedule();
  }

  /** Runs due timers of the engine and the book. Called by the timer, or by tests after moving a manual clock. */
  tick(): void {
    const now = this.o.clock.now();
    const signals = this.engine.tick(now);
    this.counts.signals += signals.length;
    const changes = signals.flatMap((s) => this.book.apply(s, now));
    changes.push(...this.book.tick(now));
    this.commit(changes, now);
    if (this.ruleStateDirty || signals.length > 0) this.saveRuleState();
    this.schedule();
  }

  start(): void {
    this.running = true;
    this.tick();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.saveRuleState();
  }

  // ---- AlertService -------------------------------------------------------------------------

  list(query: AlertQuery): Alert[] {
    return this.o.store.list(query);
  }

  get(id: string): Alert | undefined {
    return this.book.get(id) ?? this.o.store.get(id);
  }

  acknowledge(id: string, actor: string, note: string | null): Alert {
    return this.act(id, (now) => this.book.acknowledge(id, actor, note, now));
  }

  shelve(id: string, actor: string, durationS: number, reason: string): Alert {
    return this.act(id, (now) => this.book.shelve(id, actor, durationS, reason, now));
  }

  unshelve(id: string, actor: string): Alert {
    return this.act(id, (now) => this.book.unshelve(id, actor, now));
  }

  disable(id: string, actor: string, reason: string, until: number): Alert {
    return this.act(id, (now) => this.book.disable(id, actor, reason, until, now));
  }

  enable(id: string, actor: string): Alert {
    return this.act(id, (now) => this.book.enable(id, actor, now));
  }

  reset(id: string, actor: string, note: string | null): Alert {
    return this.act(id, (now) => this.book.reset(id, actor, note, now));
  }

  acknowledgeByLink(token: string): Alert {
    const link = this.verifyLink(token);
    return this.acknowledge(link.alertId, `person:${link.personId}`, 'acknowledged from the notification link');
  }

  previewAckLink(token: string): AckLinkPreview {
    const link = this.verifyLink(token);
    const alert = this.get(link.alertId);
    if (alert === undefined) throw new AlertActionError('not_found', `alert '${link.alertId}' does not exist`);
    return { alert, personId: link.personId, expiresAt: link.expiresAt };
  }

  receipts(alertId: string): NotificationReceipt[] {
    return this.o.outbox.receipts({ alertId, limit: 200 });
  }

  // ---- RuleService --------------------------------------------------------------------------

  effectiveRules(deviceId: string): EffectiveRules | undefined {
    const rules = this.o.site.device(deviceId) ? this.rulesFor(deviceId) : undefined;
    return rules && { ...rules, deviceId };
  }

  setOverrides(scope: { level: 'building' | 'device'; id: string }, overrides: RuleOverrides, actor: string): void {
    const kind = scope.level === 'device' ? this.kindOfDevice(scope.id) : undefined;
    if (scope.level === 'device' && kind === undefined) throw new RuleConfigError([`device '${scope.id}' has no registered kind`]);
    const problems = validateOverrides(kind, overrides);
    if (problems.length > 0) throw new RuleConfigError(problems);
    this.o.overrides.set(scope.level, scope.id, overrides, actor, this.o.clock.now());
    // Overrides change rarely: start the caches afresh rather than track what depended on what.
    this.overridesByScope = null;
    this.rulesCache.clear();
  }

  overrides(scope: { level: 'building' | 'device'; id: string }): RuleOverrides {
    return this.o.overrides.get(scope.level, scope.id);
  }

  // ---- internals ----------------------------------------------------------------------------

  /**
   * Effective rules of a device. Devices without overrides of their own share one resolved set
   * per (kind, building): at 100,000 devices a set per device cost 184 MiB. Overrides are read
   * from the store once and kept in memory; setOverrides keeps both in step.
   */
  private rulesFor(deviceId: string): EffectiveRules | undefined {
    const device = this.o.site.device(deviceId);
    const kind = device ? this.o.kind(device.kind) : undefined;
    if (device === undefined || kind === undefined) return undefined;
    const own = this.overrideMap().get(`device:${deviceId}`);
    const key = own === undefined ? `shared:${kind.id}:${device.buildingId}` : `device:${deviceId}`;
    const cached = this.rulesCache.get(key);
    if (cached) return cached;
    const rules = resolveEffectiveRules(kind, this.overrideMap().get(`building:${device.buildingId}`), own, own === undefined ? '' : deviceId);
    this.rulesCache.set(key, rules);
    return rules;
  }

  private overrideMap(): Map<string, RuleOverrides> {
    if (this.overridesByScope === null) {
      this.overridesByScope = new Map(this.o.overrides.all().map((o) => [`${o.level}:${o.id}`, o.overrides]));
    }
    return this.overridesByScope;
  }

  private kindOfDevice(deviceId: string): KindDefinition | undefined {
    const device = this.o.site.device(deviceId);
    return device ? this.o.kind(device.kind) : undefined;
  }

  private act(id: string, action: (now: number) => AlertChange): Alert {
    if (this.book.get(id) === undefined) {
      if (this.o.store.get(id) === undefined) throw new AlertActionError('not_found', `alert '${id}' does not exist`);
      throw new AlertActionError('invalid_transition', `alert '${id}' is closed`);
    }
    const now = this.o.clock.now();
    const change = action(now);
    this.commit([change], now);
    this.schedule();
    return change.alert;
  }

  private verifyLink(token: string): { alertId: string; personId: string; expiresAt: number } {
    const result = verifyAckToken(token, this.o.ackLinks.key, this.o.clock.now());
    if ('error' in result) {
      throw new AckLinkError(result.error === 'expired' ? 'expired' : 'invalid', result.error === 'expired' ? 'the link has expired' : 'the link was not issued by this gateway');
    }
    return result as { alertId: string; personId: string; expiresAt: number };
  }

  /** Saves the changed alerts and queues their notifications in one transaction, then tells listeners. */
  private commit(changes: readonly AlertChange[], now: number): void {
    if (changes.length === 0) return;
    this.counts.changes += changes.length;
    const latest = new Map<string, Alert>();
    for (const c of changes) latest.set(c.alert.id, c.alert);
    const requests = changes.flatMap((c) => c.notify.flatMap((intent) => this.requestsFor(c.alert, intent, now)));
    this.o.db.transaction(() => {
      this.o.store.save([...latest.values()]);
      if (requests.length > 0) this.o.outbox.enqueue(requests);
    })();
    this.counts.notificationsQueued += requests.length;
    for (const change of changes) {
      for (const listener of this.listeners) {
        try {
          listener(change);
        } catch (err) {
          this.o.log.error({ err, alertId: change.alert.id }, 'alert listener failed');
        }
      }
    }
  }

  private requestsFor(alert: Alert, intent: NotificationIntent, now: number): NotificationRequest[] {
    const place = placeOf(this.o.site, alert.source.buildingId);
    const { audience, people } = recipientsFor(this.o.site.people(), place, intent.audience);
    if (people.length === 0) {
      this.counts.nobodyToTell++;
      this.o.log.error({ alertId: alert.id, buildingId: alert.source.buildingId, audience: intent.audience }, 'nobody with a notification channel answers for this building');
      return [];
    }
    const related = (intent.relatedAlertIds ?? []).map((id) => this.get(id)).filter((a): a is Alert => a !== undefined);
    const deviceName = this.o.site.device(alert.source.deviceId)?.name ?? undefined;
    return people.map((person) => {
      const token = signAckToken({ alertId: alert.id, personId: person.id, expiresAt: now + this.o.ackLinks.ttlMs }, this.o.ackLinks.key);
      const ackUrl = ackLink(this.o.ackLinks.publicBaseUrl, token);
      const message = composeAlertMessage({ alert, intent, buildingName: place.buildingName, personName: person.name, ackUrl, related, ...(deviceName ? { deviceName } : {}) });
      return {
        alertId: alert.id,
        personId: person.id,
        personName: person.name,
        channels: person.channels,
        title: message.title,
        text: message.text,
        markdown: message.markdown,
        ackUrl,
        lifeSafety: intent.lifeSafety,
        // One notice per change and person: the commit is atomic, so `now` identifies the change.
        dedupKey: `${alert.id}:${intent.reason}:${audience}:${person.id}:${now}`,
      };
    });
  }

  private saveSoon(): void {
    if (this.savePending) return;
    this.savePending = true;
    setImmediate(() => {
      this.savePending = false;
      if (this.ruleStateDirty) this.saveRuleState();
    });
  }

  private saveRuleState(): void {
    try {
      this.o.store.saveRuleState(this.engine.snapshot());
      this.ruleStateDirty = false;
    } catch (err) {
      this.o.log.error({ err }, 'saving rule state failed; it stays in memory and is retried');
    }
  }

  private schedule(): void {
    if (!this.running) return;
    const now = this.o.clock.now();
    const wakes = [this.engine.nextWakeAt(), this.book.nextWakeAt()].filter((t): t is number => t !== null);
    const at = Math.min(now + MAX_SLEEP_MS, ...wakes);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.safeTick(), Math.max(0, at - now));
    this.timer.unref();
  }

  private safeTick(): void {
    try {
      this.tick();
    } catch (err) {
      this.o.log.error({ err }, 'alerting tick failed; retrying shortly');
      this.timer = setTimeout(() => this.safeTick(), 1000);
      this.timer.unref();
    }
  }
}
