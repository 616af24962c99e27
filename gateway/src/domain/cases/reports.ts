/**
 * The street office's report rhythm (domain.md §6): daily dispatch (日调度), weekly review
 * (周会商) and monthly summary (月总结), built from the KPIs and the cases worth talking about.
 * A report covers the last complete local period before `at`: the daily report at 08:00 is about
 * yesterday, the weekly one on Monday about last Monday–Sunday, the monthly one about last month.
 */
import type { BusinessCalendar } from './calendar.js';
import { computeKpis, type CaseKpis, type KpiGroup, type KpiLevel } from './kpis.js';
import { CASE_STEPS, FINAL_STATES, type GridCase } from './types.js';

export const REPORT_PERIODS = ['daily', 'weekly', 'monthly'] as const;
export type ReportPeriod = (typeof REPORT_PERIODS)[number];

const TITLES: Readonly<Record<ReportPeriod, { en: string; zh: string }>> = {
  daily: { en: 'Daily dispatch', zh: '日调度' },
  weekly: { en: 'Weekly review', zh: '周会商' },
  monthly: { en: 'Monthly summary', zh: '月总结' },
};

const DAY = 86_400_000;
const NOTABLE_MAX = 10;

export interface NotableCase {
  readonly id: string;
  readonly code: string;
  readonly title: string;
  readonly buildingId: string;
  readonly state: string;
  readonly urgency: string;
  readonly category: string;
  readonly why: string;
}

export interface CaseReport {
  readonly period: ReportPeriod;
  readonly title: string;
  readonly titleZh: string;
  readonly from: number;
  readonly to: number;
  /** Local dates the period covers, for people: '2026-11-25' or '2026-11-16 – 2026-11-22'. */
  readonly label: string;
  readonly total: CaseKpis;
  readonly level: KpiLevel;
  readonly groups: readonly KpiGroup[];
  readonly notable: readonly NotableCase[];
}

/** [from, to) of the last complete period before `at`, in the calendar's local time. */
export function reportWindow(period: ReportPeriod, at: number, calendar: BusinessCalendar): { from: number; to: number } {
  const today = calendar.startOfLocalDay(at);
  if (period === 'daily') return { from: today - DAY, to: today };
  if (period === 'weekly') {
    const weekday = new Date(today + calendar.config.utcOffsetMinutes * 60_000).getUTCDay() || 7;
    const monday = today - (weekday - 1) * DAY;
    return { from: monday - 7 * DAY, to: monday };
  }
  const [y, m] = calendar.localDate(at).split('-').map(Number) as [number, number];
  const offset = calendar.config.utcOffsetMinutes * 60_000;
  const to = Date.UTC(y, m - 1, 1) - offset;
  const from = Date.UTC(y, m - 2, 1) - offset;
  return { from, to };
}

export function buildReport(period: ReportPeriod, at: number, cases: readonly GridCase[], calendar: BusinessCalendar, level: KpiLevel = 'community'): CaseReport {
  const { from, to } = reportWindow(period, at, calendar);
  const kpis = computeKpis(cases, { from, to }, level);
  const first = calendar.localDate(from);
  const last = calendar.localDate(to - 1);
  return {
    period,
    title: TITLES[period].en,
    titleZh: TITLES[period].zh,
    from,
    to,
    label: first === last ? first : `${first} – ${last}`,
    total: kpis.total,
    level,
    groups: kpis.groups,
    notable: notableCases(cases, from, to),
  };
}

/** Overdue open cases first (oldest due first), then urgent, reopened and reworked cases of the period. */
function notableCases(cases: readonly GridCase[], from: number, to: number): NotableCase[] {
  const out: NotableCase[] = [];
  const seen = new Set<string>();
  const add = (c: GridCase, why: string) => {
    if (seen.has(c.id) || out.length >= NOTABLE_MAX) return;
    seen.add(c.id);
    out.push({ id: c.id, code: c.code, title: c.title, buildingId: c.buildingId, state: c.state, urgency: c.urgency, category: c.category, why });
  };
  const overdue = cases
    .filter((c) => !FINAL_STATES.has(c.state) && c.openedAt < to)
    .map((c) => ({ c, late: CASE_STEPS.map((s) => ({ s, d: c.deadlines[s] })).filter(({ d }) => d !== null && d.metAt === null && d.dueAt < to) }))
    .filter((x) => x.late.length > 0)
    .sort((a, b) => (a.late[0]?.d?.dueAt ?? 0) - (b.late[0]?.d?.dueAt ?? 0));
  for (const { c, late } of overdue) add(c, `overdue: ${late.map((l) => l.s).join(', ')}${c.parked ? ' (parked 挂账)' : ''}`);
  const inP = (t: number | undefined) => t !== undefined && t >= from && t < to;
  for (const c of cases) if (c.urgency === 'urgent' && inP(c.openedAt)) add(c, 'urgent');
  for (const c of cases) if (c.history.some((h) => h.action === 'reopened' && inP(h.at))) add(c, 'reopened');
  for (const c of cases) if (c.history.some((h) => h.action === 'rework' && inP(h.at))) add(c, 'rework');
  return out;
}

function pct(x: number | null): string {
  return x === null ? '—' : `${(x * 100).toFixed(1)}%`;
}

function minutes(x: number | null): string {
  return x === null ? '—' : `${x.toFixed(1)} min`;
}

/** The report as Markdown (WeCom / DingTalk robots render it; e-mail shows it as text). */
export function reportMarkdown(report: CaseReport): string {
  const t = report.total;
  const lines = [
    `# ${report.titleZh} ${report.title}: ${report.label}`,
    '',
    `- Opened 上报: ${t.opened}; registered 立案: ${t.registered} (${pct(t.registrationRate)})`,
    `- Dispatches 派遣: ${t.dispatches}; returns 回退: ${t.returns}; dispatch accuracy: ${pct(t.dispatchAccuracy)}`,
    `- On-time disposal 按期处置率: ${pct(t.onTimeDisposalRate)} (${t.onTimeDisposals}/${t.disposals})`,
    `- Closure 结案率: ${pct(t.closureRate)}; on-time closure 按期结案率: ${pct(t.onTimeClosureRate)} (of ${t.due} due)`,
    `- Rework 返工率: ${pct(t.reworkRate)}; first-time fix: ${pct(t.firstTimeFixRate)}; extension 延期率: ${pct(t.extensionRate)}`,
    `- Overdue open cases 超期未结: ${t.overdueOpen}`,
    `- Mean time to dispatch / accept / close: ${minutes(t.meanMinutesToDispatch)} / ${minutes(t.meanMinutesToAccept)} / ${minutes(t.meanMinutesToClose)}`,
    '',
  ];
  if (report.groups.length > 0) {
    lines.push(`| ${report.level} | opened | closed | on-time disposal | closure | overdue open |`, '|---|---|---|---|---|---|');
    for (const g of report.groups) {
      const k = g.kpis;
      lines.push(`| ${g.id} | ${k.opened} | ${k.closed} | ${pct(k.onTimeDisposalRate)} | ${pct(k.closureRate)} | ${k.overdueOpen} |`);
    }
    lines.push('');
  }
  if (report.notable.length > 0) {
    lines.push('## Notable cases 重点案件', '');
    for (const n of report.notable) lines.push(`- ${n.code} ${n.title} — building ${n.buildingId}, ${n.state}: ${n.why}`);
    lines.push('');
  }
  return lines.join('\n');
}
