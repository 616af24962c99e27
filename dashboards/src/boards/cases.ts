/**
 * Grid case KPIs (网格案件). Cases are not written to InfluxDB yet: this dashboard is the place
 * for them, reads the measurement they will use (`case_event`) and says what will appear, so it
 * is valid and provisioned today and fills in when cases land.
 */
import { dashboard } from '../dashboard.js';
import { CASE_MEASUREMENT, fromRange, pipeline, scopeFilter } from '../flux.js';
import type { Dashboard } from '../model.js';
import { PanelBuilder } from '../panels.js';
import { hierarchyVariables } from '../variables.js';

export const CASES_UID = 'gridwatch-case-kpis';

const PLACEHOLDER = [
  '### Grid case KPIs 网格案件指标',
  '',
  'Grid cases are not written to InfluxDB yet. When they are, this dashboard shows, per street,',
  'community and grid:',
  '',
  '- registration rate 立案率 and dispatch accuracy (1 − returned / dispatched)',
  '- on-time disposal rate 按期处置率, closure rate 结案率 and on-time closure rate 按期结案率',
  '- rework rate 返工率, first-time fix rate, extension rate',
  '- overdue open cases',
  '',
  'Expected schema (one point per case transition):',
  '',
  '```',
  `${CASE_MEASUREMENT},street=…,community=…,grid=…,building=…,state=… count=1i`,
  '```',
  '',
  'The panel below already counts those points by `state` and stays empty until then.',
].join('\n');

export function casesDashboard(): Dashboard {
  const p = new PanelBuilder();
  p.row('Cases (coming)');
  p.text('What will appear here', PLACEHOLDER, { w: 24, h: 10 });
  p.timeseries(
    {
      title: 'Case transitions by state',
      description: `Points of measurement ${CASE_MEASUREMENT} per interval, by state.`,
      query: pipeline(
        fromRange(),
        `filter(fn: (r) => r._measurement == "${CASE_MEASUREMENT}" and r._field == "count")`,
        scopeFilter({ devices: false }),
        'group(columns: ["state"])',
        'aggregateWindow(every: v.windowPeriod, fn: sum, createEmpty: false)',
      ),
      bars: true,
      stacked: true,
      defaults: { unit: 'short', displayName: '${__field.labels.state}', noValue: 'No cases yet' },
    },
    { w: 24, h: 8 },
  );
  return dashboard({
    uid: CASES_UID,
    title: 'gridwatch · Case KPIs 案件指标',
    description: 'Grid case KPIs; a placeholder until cases are written to InfluxDB as case_event.',
    tags: ['cases'],
    variables: hierarchyVariables(),
    panels: p.panels,
    time: { from: 'now-7d', to: 'now' },
  });
}
