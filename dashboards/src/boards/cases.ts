/**
 * Grid case KPIs (网格案件) over `case_event`, the point the gateway writes for every committed
 * case change (gateway/src/adapters/influx/line-protocol.ts `caseChangeToLine`): tags building,
 * grid, community, street, category, urgency, event (the history entry's action); fields count,
 * overdue (0/1) and state (CASE_STATE_CODES).
 *
 * What counts as what: opened = `event == "opened"`, closed = `event == "close"` (结案), reopened
 * = `event == "reopened"`, an overdue rung = `event == "overdue"` or `"overdue_escalated"`. Rates
 * that need a case's whole life (按期结案率…) come from GET /api/v1/kpis and the reports; this
 * dashboard charts the flows per period, place and category.
 */
import { CASE_STATE_CODES } from '../../../gateway/src/adapters/influx/line-protocol.js';
import { dashboard } from '../dashboard.js';
import { CASE_MEASUREMENT, fromRange, pipeline, scopeFilter } from '../flux.js';
import type { Dashboard, ValueMapping } from '../model.js';
import { PanelBuilder, colorOverride, columnOverride } from '../panels.js';
import { hierarchyVariables } from '../variables.js';

export const CASES_UID = 'gridwatch-case-kpis';

const STATE_TITLES: Readonly<Record<keyof typeof CASE_STATE_CODES, string>> = {
  reported: 'reported 上报',
  verifying: 'verifying 核实',
  registered: 'registered 立案',
  dispatched: 'dispatched 派遣',
  returned: 'returned 回退',
  accepted: 'accepted 签收',
  handling: 'handling 处置',
  feedback: 'feedback 反馈',
  checking: 'checking 核查',
  rework: 'rework 返工',
  closed: 'closed 结案',
  evaluated: 'evaluated 评价',
  cancelled: 'cancelled 作废',
};

/** The numeric `state` field back to the state's name. */
export function caseStateMapping(): ValueMapping {
  const options: Record<string, { text: string; index: number }> = {};
  let index = 0;
  for (const [state, code] of Object.entries(CASE_STATE_CODES)) options[String(code)] = { text: STATE_TITLES[state as keyof typeof CASE_STATE_CODES], index: index++ };
  return { type: 'value', options };
}

const OPENED = 'r.event == "opened"';
const CLOSED = 'r.event == "close"';
const OVERDUE = '(r.event == "overdue" or r.event == "overdue_escalated")';

export function casesDashboard(): Dashboard {
  const p = new PanelBuilder();
  /** case_event points of one field, narrowed by the hierarchy variables. */
  const cases = (field: string, ...steps: string[]) =>
    pipeline(fromRange(), `filter(fn: (r) => r._measurement == "${CASE_MEASUREMENT}" and r._field == "${field}")`, scopeFilter({ devices: false }), ...steps);
  const total = (predicate: string) => cases('count', `filter(fn: (r) => ${predicate})`, 'group()', 'sum()');
  const openedClosedColors = [colorOverride('opened', 'blue'), colorOverride('close', 'green')];

  p.row('Cases in the time range');
  const tiles: Array<[string, string, string, string]> = [
    ['Opened 上报', 'Cases opened (from alarms, or reported by staff).', OPENED, 'blue'],
    ['Closed 结案', 'Cases closed after the on-site check.', CLOSED, 'green'],
    ['Reopened 重开', 'Closed cases reopened by a new alert within the reopen window.', 'r.event == "reopened"', 'orange'],
    ['Overdue rungs 超期', 'Step deadlines passed unmet (each escalation rung counts once).', OVERDUE, 'red'],
  ];
  for (const [title, description, predicate, color] of tiles) {
    p.stat({ title, description, query: total(predicate), defaults: { unit: 'short', color: { mode: 'fixed', fixedColor: color } } }, { w: 6, h: 4 });
  }

  p.row('Opened and closed per period');
  p.timeseries(
    {
      title: 'Opened and closed 上报与结案',
      description: 'Cases opened and closed per interval.',
      query: cases('count', `filter(fn: (r) => ${OPENED} or ${CLOSED})`, 'group(columns: ["event"])', 'aggregateWindow(every: v.windowPeriod, fn: sum, createEmpty: false)'),
      bars: true,
      defaults: { unit: 'short', displayName: '${__field.labels.event}', noValue: 'No cases' },
      overrides: openedClosedColors,
    },
    { w: 16, h: 8 },
  );
  p.bargauge(
    {
      title: 'Opened by urgency',
      query: cases('count', `filter(fn: (r) => ${OPENED})`, 'group(columns: ["urgency"])', 'sum()'),
      defaults: { unit: 'short', displayName: '${__field.labels.urgency}' },
      overrides: [colorOverride('urgent', 'red'), colorOverride('normal', 'blue')],
    },
    { w: 8, h: 8 },
  );

  p.row('Overdue');
  p.timeseries(
    {
      title: 'Overdue rungs per period 超期',
      description: 'Step deadlines passed unmet per interval, by urgency (first rung and each escalation).',
      query: cases('count', `filter(fn: (r) => ${OVERDUE})`, 'group(columns: ["urgency"])', 'aggregateWindow(every: v.windowPeriod, fn: sum, createEmpty: false)'),
      bars: true,
      stacked: true,
      defaults: { unit: 'short', displayName: '${__field.labels.urgency}', noValue: 'Nothing overdue' },
      overrides: [colorOverride('urgent', 'red'), colorOverride('normal', 'orange')],
    },
    { w: 12, h: 8 },
  );
  p.bargauge(
    {
      title: 'Overdue rungs by community',
      description: 'Where deadlines slip: overdue rungs per community (cases of unplaced buildings under "unplaced").',
      query: cases('count', `filter(fn: (r) => ${OVERDUE})`, 'map(fn: (r) => ({r with community: if exists r.community then r.community else "unplaced"}))', 'group(columns: ["community"])', 'sum()'),
      defaults: { unit: 'short', displayName: '${__field.labels.community}', color: { mode: 'fixed', fixedColor: 'red' } },
    },
    { w: 12, h: 8 },
  );

  p.row('By category');
  p.bargauge(
    {
      title: 'Opened by category',
      description: 'fire, security, equipment_fault, camera_offline, battery, device_offline, or a manual category.',
      query: cases('count', `filter(fn: (r) => ${OPENED})`, 'group(columns: ["category"])', 'sum()'),
      defaults: { unit: 'short', displayName: '${__field.labels.category}' },
    },
    { w: 8, h: 8 },
  );
  p.bargauge(
    {
      title: 'Closed by category',
      query: cases('count', `filter(fn: (r) => ${CLOSED})`, 'group(columns: ["category"])', 'sum()'),
      defaults: { unit: 'short', displayName: '${__field.labels.category}', color: { mode: 'fixed', fixedColor: 'green' } },
    },
    { w: 8, h: 8 },
  );
  p.bargauge(
    {
      title: 'Overdue rungs by category',
      query: cases('count', `filter(fn: (r) => ${OVERDUE})`, 'group(columns: ["category"])', 'sum()'),
      defaults: { unit: 'short', displayName: '${__field.labels.category}', color: { mode: 'fixed', fixedColor: 'red' } },
    },
    { w: 8, h: 8 },
  );

  p.row('Case changes');
  p.table(
    {
      title: 'Latest case changes',
      description: 'The 200 most recent case changes, with the state after each (the case itself is in the console and the API).',
      query: cases(
        'state',
        'keep(columns: ["_time", "_value", "building", "grid", "category", "urgency", "event"])',
        'rename(columns: {_value: "state"})',
        'group()',
        'sort(columns: ["_time"], desc: true)',
        'limit(n: 200)',
      ),
      overrides: [columnOverride('state', [{ id: 'mappings', value: [caseStateMapping()] }])],
    },
    { w: 24, h: 10 },
  );

  return dashboard({
    uid: CASES_UID,
    title: 'gridwatch · Case KPIs 案件指标',
    description: 'Grid cases from case_event: opened and closed per period, overdue rungs, by category and place.',
    tags: ['cases'],
    variables: hierarchyVariables(),
    panels: p.panels,
    time: { from: 'now-7d', to: 'now' },
  });
}
