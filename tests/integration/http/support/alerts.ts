/**
 * A store-backed AlertService for the HTTP tests: the real SqliteAlertStore underneath, the
 * ISA-18.2 transitions the API exposes kept minimal (ack: active_unack → active_ack,
 * returned_unack → normal and closed; reset: latched and cleared → normal and closed; shelve,
 * disable with their side-state fields), and acknowledge links issued on the test's clock.
 */
import { randomBytes } from 'node:crypto';
import type { SqliteAlertStore } from '../../../../gateway/src/adapters/sqlite/alert-store.js';
import type { Alert, AlertHistoryEntry } from '../../../../gateway/src/domain/alerts/types.js';
import {
  AckLinkError,
  AlertActionError,
  type AckLinkPreview,
  type AlertQuery,
  type AlertService,
  type Clock,
  type NotificationReceipt,
} from '../../../../gateway/src/ports.js';
import { alertFixture } from '../../../support/alert-fixture.js';

let alertSeq = 0;

/** An active, unacknowledged smoke alarm in b1 unless told otherwise. */
export function makeAlert(overrides: Partial<Alert> = {}): Alert {
  alertSeq += 1;
  return alertFixture({ id: `al-${String(alertSeq).padStart(5, '0')}`, ...overrides });
}

export interface StoreAlertServiceOptions {
  /** Longest shelve accepted (ISA-18.2 timed shelving; the product default is 24 h). */
  maxShelveS?: number;
}

export class StoreAlertService implements AlertService {
  private readonly links = new Map<string, { alertId: string; personId: string; expiresAt: number }>();
  private readonly receiptsByAlert = new Map<string, NotificationReceipt[]>();
  private readonly maxShelveS: number;

  constructor(
    readonly store: SqliteAlertStore,
    private readonly clock: Clock,
    options: StoreAlertServiceOptions = {},
  ) {
    this.maxShelveS = options.maxShelveS ?? 24 * 3600;
  }

  /** Saves alerts as the lifecycle would. */
  add(...alerts: Alert[]): Alert[] {
    this.store.save(alerts);
    return alerts;
  }

  /** A link as a notification would carry it: random, known to this service only, expiring. */
  issueLink(alertId: string, personId: string, ttlMs: number): string {
    const token = randomBytes(24).toString('base64url');
    this.links.set(token, { alertId, personId, expiresAt: this.clock.now() + ttlMs });
    return token;
  }

  setReceipts(alertId: string, receipts: NotificationReceipt[]): void {
    this.receiptsByAlert.set(alertId, receipts);
  }

  list(query: AlertQuery): Alert[] {
    return this.store.list(query);
  }

  get(id: string): Alert | undefined {
    return this.store.get(id);
  }

  acknowledge(id: string, actor: string, note: string | null): Alert {
    const alert = this.require(id);
    const now = this.clock.now();
    if (alert.state === 'active_unack') {
      return this.update(alert, { state: 'active_ack', acknowledgedAt: now, acknowledgedBy: actor }, 'acknowledged', actor, note);
    }
    if (alert.state === 'returned_unack') {
      return this.update(alert, { state: 'normal', acknowledgedAt: now, acknowledgedBy: actor, closedAt: now }, 'acknowledged', actor, note);
    }
    throw new AlertActionError('invalid_transition', `alert '${id}' is ${alert.state}: nothing to acknowledge`);
  }

  shelve(id: string, actor: string, durationS: number, reason: string): Alert {
    const alert = this.require(id);
    if (durationS > this.maxShelveS) {
      throw new AlertActionError('invalid_argument', `shelve for at most ${this.maxShelveS} s (asked ${durationS} s)`);
    }
    if (alert.closedAt !== null) throw new AlertActionError('invalid_transition', `alert '${id}' is closed`);
    if (alert.shelvedUntil !== null) throw new AlertActionError('invalid_transition', `alert '${id}' is already shelved`);
    return this.update(alert, { shelvedUntil: this.clock.now() + durationS * 1000 }, 'shelved', actor, reason);
  }

  unshelve(id: string, actor: string): Alert {
    const alert = this.require(id);
    if (alert.shelvedUntil === null) throw new AlertActionError('invalid_transition', `alert '${id}' is not shelved`);
    return this.update(alert, { shelvedUntil: null }, 'unshelved', actor, null);
  }

  disable(id: string, actor: string, reason: string, until: number): Alert {
    const alert = this.require(id);
    if (until <= this.clock.now()) throw new AlertActionError('invalid_argument', 'until must be in the future');
    if (alert.disabled !== null) throw new AlertActionError('invalid_transition', `alert '${id}' is already disabled`);
    return this.update(alert, { disabled: { reason, until, by: actor } }, 'disabled', actor, reason);
  }

  enable(id: string, actor: string): Alert {
    const alert = this.require(id);
    if (alert.disabled === null) throw new AlertActionError('invalid_transition', `alert '${id}' is not disabled`);
    return this.update(alert, { disabled: null }, 'enabled', actor, null);
  }

  reset(id: string, actor: string, note: string | null): Alert {
    const alert = this.require(id);
    if (!alert.latched || alert.closedAt !== null) throw new AlertActionError('invalid_transition', `alert '${id}' is not latched`);
    if (alert.clearedAt === null) throw new AlertActionError('invalid_transition', `alert '${id}': the condition is still active`);
    const now = this.clock.now();
    return this.update(alert, { state: 'normal', closedAt: now }, 'reset', actor, note);
  }

  acknowledgeByLink(token: string): Alert {
    const link = this.verify(token);
    return this.acknowledge(link.alertId, link.personId, 'acknowledged by link');
  }

  previewAckLink(token: string): AckLinkPreview {
    const link = this.verify(token);
    return { alert: this.require(link.alertId), personId: link.personId, expiresAt: link.expiresAt };
  }

  receipts(alertId: string): NotificationReceipt[] {
    return this.receiptsByAlert.get(alertId) ?? [];
  }

  private verify(token: string): { alertId: string; personId: string; expiresAt: number } {
    const link = this.links.get(token);
    if (link === undefined) throw new AckLinkError('invalid', 'the link was not issued by this gateway');
    if (this.clock.now() >= link.expiresAt) throw new AckLinkError('expired', 'the link has expired');
    return link;
  }

  private require(id: string): Alert {
    const alert = this.store.get(id);
    if (alert === undefined) throw new AlertActionError('not_found', `no alert '${id}'`);
    return alert;
  }

  private update(alert: Alert, change: Partial<Alert>, event: string, actor: string, note: string | null): Alert {
    const entry: AlertHistoryEntry = { at: this.clock.now(), event, actor, note };
    const next: Alert = { ...alert, ...change, history: [...alert.history, entry] };
    this.store.save([next]);
    return next;
  }
}
