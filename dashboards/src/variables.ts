/**
 * Template variables: street → community → grid → building (chained tag-value queries), then
 * kind (from the registry) and device. Every variable is multi-value with "All" sent as `.*`, so
 * queries always compare with a regex (`${building:regex}`).
 */
import type { KindDefinition } from '../../gateway/src/domain/kind.js';
import { DATASOURCE, conditionsAbove, tagValuesQuery, type HierarchyVariable } from './flux.js';
import type { CustomVariable, QueryVariable, Variable } from './model.js';

const ALL = { text: ['All'], value: ['$__all'], selected: true } as const;

const LABELS: Readonly<Record<HierarchyVariable | 'device', { label: string; description: string }>> = {
  street: { label: 'Street 街道', description: 'Street office (tag `street`; points without it pass while All is selected)' },
  community: { label: 'Community 社区', description: 'Community (tag `community`; points without it pass while All is selected)' },
  grid: { label: 'Grid 网格', description: 'Grid (tag `grid`; points without it pass while All is selected)' },
  building: { label: 'Building 楼栋', description: 'Building (tag `building`)' },
  device: { label: 'Device 设备', description: 'Device (tag `device`), narrowed by the building and kind chosen' },
};

function tagVariable(name: HierarchyVariable | 'device'): QueryVariable {
  const query = tagValuesQuery(name, conditionsAbove(name));
  return {
    type: 'query',
    name,
    label: LABELS[name].label,
    description: LABELS[name].description,
    datasource: DATASOURCE,
    query,
    definition: query,
    refresh: 2,
    regex: '',
    sort: 1,
    hide: 0,
    multi: true,
    includeAll: true,
    allValue: '.*',
    current: ALL,
    options: [],
    skipUrlSync: false,
  };
}

/** The kind ids, straight from the registry: a new kind is selectable before it sends anything. */
function kindVariable(kinds: readonly KindDefinition[]): CustomVariable {
  return {
    type: 'custom',
    name: 'kind',
    label: 'Kind 类型',
    description: 'Sensor kind (tag `kind`), from the kind registry',
    query: kinds.map((k) => k.id).join(','),
    hide: 0,
    multi: true,
    includeAll: true,
    allValue: '.*',
    current: ALL,
    options: [
      { text: 'All', value: '$__all', selected: true },
      ...kinds.map((k) => ({ text: k.id, value: k.id, selected: false })),
    ],
    skipUrlSync: false,
  };
}

/** Placement variables only (dashboards about places, not devices). */
export function hierarchyVariables(): Variable[] {
  return (['street', 'community', 'grid', 'building'] as const).map(tagVariable);
}

/** Placement, kind and device. */
export function deviceVariables(kinds: readonly KindDefinition[]): Variable[] {
  return [...hierarchyVariables(), kindVariable(kinds), tagVariable('device')];
}
