/**
 * Grid cases, composed: alert changes → case book → case store + notification outbox, an SLA
 * sweep and the report jobs on node-cron. The domain decides (open, link, reopen, who is told,
 * what is overdue); this file does the I/O around it and keeps the alerting promise: a case change
 * and the notices it calls for are committed in one SQLite transaction.
 *
 * Time: node-cron calls tick() every minute (noOverlap) and the report jobs at their times; tests
 * call tick() and runReport() directly with a manual clock. Each job run is recorded, and a run
 * missed while the gateway was down is caught up once at start.
 */
import { randomUUID } from 'node:crypto';
import cron, { type ScheduledTask, type TaskOptions } from 'node-cron';
import type { Logger } from 'pino';
import type { Database } from '../adapters/sqlite/database.js';
import type { SqliteCaseStore } from '../adapters/sqlite/case-store.js';
import type { AlertChange } from '../domain/alerts/types.js';
import { BusinessCalendar, DEFAULT_CALENDAR, validateCalendar, type BusinessCalendarConfig } from '../domain/cases/calendar.js';
import { CaseBook, caseCode } from '../domain/cases/case-book.js';
import { DEFAULT_CASE_POLICY, validateCasePolicy, type CasePolicy } from '../domain/cases/policy.js';
import { buildReport, reportMarkdown, reportWindow, type ReportPeriod } from '../domain/cases/reports.js';
import {
  CaseActionError,
  type CaseActor,
  type CaseChange,
  type CaseNotice,
  type CaseTransitionRequest,
  type GridCase,
  type NewCaseInput,
} from '../domain/cases/types.js';
import type { Person } from '../domain/site.js';
import type { CaseQuery, CaseService, Clock, NotificationOutbox, NotificationRequest, SiteStore } from '../ports.js';
import { placeOf, recipientsFor } from './recipients.js';

export interface CasesConfig {
  readonly policy: CasePolicy;
  readonly calendar: BusinessCalendarConfig;
  /** node-cron expression of the SLA sweep (default every minute). */
  readonly sweepCron: string;
  /** Report jobs: cron expressions in `timezone`; null turns a report off. */
  readonly reports: { readonly daily: string | null; readonly weekly: string | null; readonly monthly: string | null; readonly timezone: string };
  /** Case code prefix: 'GW' → 'GW-20261126-0001'. */
  readonly codePrefix: string;
}

export const DEFAULT_CASES_CONFIG: CasesConfig = {
  policy: DEFAULT_CASE_POLICY,
  calendar: DEFAULT_CALENDAR,
  sweepCron: '* * * * *',
  // Street-office rhythm (domain.md §6): 日调度 08:00, 周会商 Monday 09:00, 月总结 the 1st 09:00.
  reports: { daily: '0 8 * * *', weekly: '0 9 * * 1', monthly: '0 9 1 * *', timezone: 'Asia/Shanghai' },
  codePrefix: 'GW',
};

/** Every problem with a cases configuration, at once. */
export function validateCasesConfig(config: CasesConfig): string[] {
  const problems = [...validateCalendar(config.calendar).map((p) => `calendar: ${p}`), ...validateCasePolicy(config.policy).map((p) => `policy: ${p}`)];
  if (!cron.validate(config.sweepCron)) problems.push(`sweepCron '${config.sweepCron}' is not a cron expression`);
  for (const period of ['daily', 'weekly', 'monthly'] as const) {
    const expr = config.reports[period];
    if (expr !== null && !cron.validate(expr)) problems.push(`reports.${period} '${expr}' is not a cron expression`);
  }
  if (!/^[A-Z]{1,8}$/.test(config.codePrefix)) problems.push('codePrefix must be 1–8 capital letters');
  return problems;
}

export type CronScheduler = (expression: string, run: () => void, options: TaskOptions) => ScheduledTask;

export interface CasesOptions {
  readonly db: Database;
  readonly clock: Clock;
  readonly log: Logger;
  readonly site: SiteStore;
  readonly store: SqliteCaseStore;
  readonly outbox: NotificationOutbox;
  readonly config?: Partial<CasesConfig>;
  /** node-cron's createTask by default; tests record what is scheduled. */
  readonly scheduler?: CronScheduler;
  readonly newId?: () => string;
}

export interface CasesCounts {
  changes: number;
  notificationsQueued: number;
  nobodyToTell: number;
  sweeps: number;
  reportsSent: number;
  failures: number;
}

const REPORT_PERIODS: readonly ReportPeriod[] = ['daily', 'weekly', 'monthly'];
const MINUTE = 60_000;
/** How far back start() looks for a report slot that was missed (a monthly job's period). */
const CATCH_UP_LOOKBACK_MS = 32 * 86_400_000;

const REASON_ZH: Readonly<Record<CaseNotice['reason'], string>> = {
  dispatched: '派遣',
  registered: '待派遣',
  returned: '回退待重派',
  rework: '返工',
  reopened: '重开返工',
  overdue: '超期',
  extension_requested: '延期申请',
  extension_decided: '延期审批结果',
  feedback: '待核查',
};

export class Cases implements CaseService {
  readonly counts: CasesCounts = { changes: 0, notificationsQueued: 0, nobodyToTell: 0, sweeps: 0, reportsSent: 0, failures: 0 };
  readonly calendar: BusinessCalendar;
  readonly config: CasesConfig;
  private readonly book: CaseBook;
  private readonly scheduler: CronScheduler;
  private readonly tasks: Array<{ name: string; task: ScheduledTask }> = [];
  private readonly changeListeners: Array<(change: CaseChange) => void> = [];

  constructor(private readonly o: CasesOptions) {
    this.config = { ...DEFAULT_CASES_CONFIG, ...o.config, reports: { ...DEFAULT_CASES_CONFIG.reports, ...o.config?.reports } };
    const problems = validateCasesConfig(this.config);
    if (problems.length > 0) throw new Error(`cases configuration is invalid: ${problems.join('; ')}`);
    this.calendar = new BusinessCalendar(this.config.calendar);
    this.scheduler = o.scheduler ?? ((expression, run, options) => cron.createTask(expression, run, options));
    const now = o.clock.now();
    this.book = new CaseBook({
      policy: this.config.policy,
      calendar: this.calendar,
      newId: o.newId ?? (() => randomUUID()),
      newCode: (at) => {
        const day = this.calendar.localDate(at);
        return caseCode(day, o.store.nextSequence(day), this.config.codePrefix);
      },
      assigneeFor: (place) => this.gridWorkerOf(place.gridId),
      cases: o.store.resumable(now - this.config.policy.reopenWindowMs),
    });
  }

  /**
   * Tells `listener` of every committed case change (opened, each transition, overdue rungs…), in
   * order, after the transaction that stored it: the live stream and InfluxDB never see a change
   * that was rolled back. A listener that throws is logged and does not stop the others.
   */
  onChange(listener: (change: CaseChange) => void): () => void {
    this.changeListeners.push(listener);
    return () => {
      const i = this.changeListeners.indexOf(listener);
      if (i >= 0) this.changeListeners.splice(i, 1);
    };
  }

  /** From Alerting.onChange: opens, links or reopens cases. Never throws (a listener must not break alerting). */
  onAlertChange(change: AlertChange): void {
    try {
      const now = this.o.clock.now();
      const place = placeOf(this.o.site, change.alert.source.buildingId);
      const changes = this.book.onAlertChange(change, { buildingId: place.buildingId, gridId: place.gridId, communityId: place.communityId, streetId: place.streetId }, now);
      this.commit(changes, now);
    } catch (err) {
      this.counts.failures++;
      this.o.log.error({ err, alertId: change.alert.id, event: change.event }, 'opening a case from an alert failed');
    }
  }

  /** The SLA sweep: overdue steps escalate. Called by cron every minute, or by tests. */
  tick(): CaseChange[] {
    const now = this.o.clock.now();
    const changes = this.book.tick(now);
    this.commit(changes, now);
    this.counts.sweeps++;
    return changes;
  }

  nextWakeAt(): number | null {
    return this.book.nextWakeAt();
  }

  /** Schedules the sweep and the report jobs, and catches up a report run missed while stopped. */
  start(): void {
    if (this.tasks.length > 0) return;
    this.schedule('cases.sweep', this.config.sweepCron, () => this.safely('sweep', () => this.tick()));
    for (const period of REPORT_PERIODS) {
      const expr = this.config.reports[period];
      if (expr === null) continue;
      this.schedule(`cases.report.${period}`, expr, () => this.safely(`report ${period}`, () => this.runReport(period, this.o.clock.now())), this.config.reports.timezone);
    }
    this.catchUp();
    this.tick();
  }

  stop(): void {
    for (const { task } of this.tasks) void task.destroy();
    this.tasks.length = 0;
  }

  /** The cron tasks registered by start(), by name (for health and tests). */
  scheduled(): ReadonlyArray<{ name: string; task: ScheduledTask }> {
    return this.tasks;
  }

  // ---- CaseService ----------------------------------------------------------------------------

  list(query: CaseQuery): GridCase[] {
    return this.o.store.list(query);
  }

  get(id: string): GridCase | undefined {
    return this.book.get(id) ?? this.o.store.get(id);
  }

  open(input: NewCaseInput, actor: CaseActor): GridCase {
    const now = this.o.clock.now();
    if (this.o.site.building(input.place.buildingId) === undefined) throw new CaseActionError('invalid_argument', `building '${input.place.buildingId}' does not exist`);
    const place = placeOf(this.o.site, input.place.buildingId);
    const changes = this.book.open({ ...input, place: { buildingId: place.buildingId, gridId: place.gridId, communityId: place.communityId, streetId: place.streetId } }, actor, now);
    this.commit(changes, now);
    return (changes[changes.length - 1] as CaseChange).case;
  }

  act(id: string, request: CaseTransitionRequest, actor: CaseActor): GridCase {
    if (this.book.get(id) === undefined) {
      const stored = this.o.store.get(id);
      if (stored === undefined) throw new CaseActionError('not_found', `case '${id}' does not exist`);
      throw new CaseActionError('invalid_transition', `case ${stored.code} is ${stored.state} and takes no more actions`);
    }
    const now = this.o.clock.now();
    const changes = this.book.act(id, request, actor, now);
    this.commit(changes, now);
    return (changes[changes.length - 1] as CaseChange).case;
  }

  casesFor(from: number, to: number): GridCase[] {
    return this.o.store.touching(from, to);
  }

  // ---- reports ----------------------------------------------------------------------------------

  /**
   * Builds the report of the last complete period before `at` for every street dispatcher and
   * community staff member (each about the cases of their own scope) and queues it through the
   * outbox; records the run. Returns how many reports were queued. Idempotent per period and person.
   */
  runReport(period: ReportPeriod, at: number): number {
    const { from, to } = reportWindow(period, at, this.calendar);
    const cases = this.casesFor(from, to);
    const requests: NotificationRequest[] = [];
    for (const person of this.o.site.people()) {
      if ((person.role !== 'street_dispatcher' && person.role !== 'community_staff') || person.channels.length === 0) continue;
      const scope = new Set(person.scope);
      const theirs = cases.filter((c) => [c.streetId, c.communityId, c.gridId].some((id) => id !== null && scope.has(id)));
      const report = buildReport(period, at, theirs, this.calendar, person.role === 'street_dispatcher' ? 'community' : 'grid');
      const markdown = reportMarkdown(report);
      requests.push({
        alertId: null,
        personId: person.id,
        personName: person.name,
        channels: person.channels,
        title: `${report.titleZh} ${report.title} ${report.label}`,
        text: markdown,
        markdown,
        ackUrl: null,
        lifeSafety: false,
        dedupKey: `report:${period}:${from}:${person.id}`,
      });
    }
    this.o.db.transaction(() => {
      if (requests.length > 0) this.o.outbox.enqueue(requests);
      this.o.store.recordJobRun({ name: `cases.report.${period}`, slot: at, ranAt: this.o.clock.now(), status: 'ok', detail: `${requests.length} reports for ${new Date(from).toISOString()}–${new Date(to).toISOString()}` });
    })();
    this.counts.reportsSent += requests.length;
    return requests.length;
  }

  /**
   * Runs once each report whose latest scheduled slot passed since its last recorded run (the
   * gateway was down at the time). A job never run before only records its baseline: a fresh
   * install does not send last month's summary at first start.
   */
  catchUp(): ReportPeriod[] {
    const now = this.o.clock.now();
    const ran: ReportPeriod[] = [];
    for (const period of REPORT_PERIODS) {
      const expr = this.config.reports[period];
      if (expr === null) continue;
      const name = `cases.report.${period}`;
      const slot = previousSlot(expr, this.config.reports.timezone, now);
      if (slot === null) continue;
      const last = this.o.store.jobRun(name);
      if (last === undefined) {
        this.o.store.recordJobRun({ name, slot, ranAt: now, status: 'ok', detail: 'baseline at first start: nothing to catch up' });
        continue;
      }
      if (last.slot >= slot) continue;
      this.safely(`catch-up report ${period}`, () => this.runReport(period, slot));
      ran.push(period);
    }
    return ran;
  }

  // ---- internals ----------------------------------------------------------------------------

  private schedule(name: string, expression: string, run: () => void, timezone?: string): void {
    const task = this.scheduler(expression, run, { name, noOverlap: true, ...(timezone === undefined ? {} : { timezone }) });
    void task.start();
    this.tasks.push({ name, task });
  }

  private safely(what: string, run: () => unknown): void {
    try {
      run();
    } catch (err) {
      this.counts.failures++;
      this.o.log.error({ err }, `case ${what} failed`);
      if (what.includes('report')) {
        const period = REPORT_PERIODS.find((p) => what.endsWith(p));
        if (period !== undefined) {
          try {
            this.o.store.recordJobRun({ name: `cases.report.${period}`, slot: this.o.clock.now(), ranAt: this.o.clock.now(), status: 'failed', detail: (err as Error).message });
          } catch {
            /* the failure is logged above */
          }
        }
      }
    }
  }

  private gridWorkerOf(gridId: string | null): string | null {
    if (gridId === null) return null;
    const worker = this.o.site.people().find((p) => p.role === 'grid_worker' && p.scope.includes(gridId));
    return worker?.id ?? null;
  }

  private commit(changes: readonly CaseChange[], now: number): void {
    if (changes.length === 0) return;
    this.counts.changes += changes.length;
    const latest = new Map<string, GridCase>();
    for (const c of changes) latest.set(c.case.id, c.case);
    const requests = changes.flatMap((c) => c.notify.flatMap((n) => this.requestsFor(c.case, n)));
    this.o.db.transaction(() => {
      this.o.store.save([...latest.values()]);
      if (requests.length > 0) this.o.outbox.enqueue(requests);
    })();
    this.counts.notificationsQueued += requests.length;
    void now;
    for (const change of changes) {
      for (const listener of [...this.changeListeners]) {
        try {
          listener(change);
        } catch (err) {
          this.o.log.error({ err, caseId: change.case.id, action: change.action }, 'a case change listener failed');
        }
      }
    }
  }

  /** The assignee when they can be told; otherwise the notice's audience, falling back up the hierarchy. */
  private requestsFor(c: GridCase, notice: CaseNotice): NotificationRequest[] {
    const people = this.o.site.people();
    const place = placeOf(this.o.site, c.buildingId);
    let to: Person[] = [];
    const assignee = notice.personId === null ? undefined : people.find((p) => p.id === notice.personId && p.channels.length > 0);
    if (assignee !== undefined) to = [assignee];
    else to = recipientsFor(people, place, notice.audience).people;
    if (to.length === 0) {
      this.counts.nobodyToTell++;
      this.o.log.error({ caseId: c.id, code: c.code, audience: notice.audience }, 'nobody with a notification channel answers for this case');
      return [];
    }
    const urgency = c.urgency === 'urgent' ? '紧急' : '一般';
    const title = `[${urgency}] 案件 ${c.code} ${REASON_ZH[notice.reason]}${notice.step ? ` (${notice.step})` : ''}`;
    const due = (['accept', 'handle', 'check'] as const)
      .map((s) => ({ s, d: c.deadlines[s] }))
      .filter(({ d }) => d !== null && d.metAt === null)
      .map(({ s, d }) => `${s} due ${new Date(d!.dueAt).toISOString()}`);
    const text = [`${title}`, `${c.title} — ${place.buildingName}`, c.description, `state: ${c.state}`, ...due].filter((l) => l !== '').join('\n');
    return to.map((person) => ({
      alertId: null,
      personId: person.id,
      personName: person.name,
      channels: person.channels,
      title,
      text,
      markdown: `**${title}**\n\n${c.title} — ${place.buildingName}\n\n${due.map((d) => `- ${d}`).join('\n')}`,
      ackUrl: null,
      lifeSafety: notice.lifeSafety,
      // The history length identifies the change: a retried commit enqueues the same key.
      dedupKey: `case:${c.id}:${c.history.length}:${notice.reason}:${person.id}`,
    }));
  }
}

/** The latest minute at or before `now` matching a cron expression in `timezone`, within the lookback. */
export function previousSlot(expression: string, timezone: string, now: number): number | null {
  const matcher = cron.createTask(expression, () => undefined, { timezone });
  try {
    const fields = cron.parse(expression);
    const minutes = new Set(fields.minute);
    const hours = new Set(fields.hour);
    const start = Math.floor(now / MINUTE) * MINUTE;
    const oldest = now - CATCH_UP_LOOKBACK_MS;
    // With one UTC offset over the whole lookback (no daylight-saving change), most minutes are
    // ruled out by hour and minute alone; match() has the last word either way.
    const offset = offsetMinutes(timezone, start);
    const steady = offset !== null && offset === offsetMinutes(timezone, oldest);
    for (let t = start; t > oldest; t -= MINUTE) {
      if (steady) {
        const local = Math.floor((t + (offset as number) * MINUTE) / MINUTE);
        if (!minutes.has(local % 60) || !hours.has(Math.floor(local / 60) % 24)) continue;
      }
      if (matcher.match(new Date(t))) return t;
    }
    return null;
  } finally {
    void matcher.destroy();
  }
}

function offsetMinutes(timezone: string, at: number): number | null {
  try {
    const name = new Intl.DateTimeFormat('en-US', { timeZone: timezone, timeZoneName: 'longOffset' }).formatToParts(new Date(at)).find((p) => p.type === 'timeZoneName')?.value ?? '';
    if (name === 'GMT') return 0;
    const m = /^GMT([+-])(\d{2}):(\d{2})$/.exec(name);
    if (m === null) return null;
    return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
  } catch {
    return null;
  }
}
