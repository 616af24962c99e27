/**
 * Kind measurement units (domain/kind.ts, "UCUM-ish") → Grafana unit ids (the ids of Grafana's
 * unit picker, e.g. `percent`, `celsius`, `dBm`). A unit Grafana has no id for is shown as a
 * suffix (`suffix: fps`), so a new kind with a new unit still gets labelled axes.
 */
const GRAFANA_UNITS: Readonly<Record<string, string>> = Object.freeze({
  '%': 'percent',
  '°C': 'celsius',
  dBm: 'dBm',
  ppm: 'ppm',
  s: 's',
  ms: 'ms',
  V: 'volt',
  A: 'amp',
  W: 'watt',
  Pa: 'pressurepa',
  hPa: 'pressurehpa',
  'kbit/s': 'Kbits',
  'Mbit/s': 'Mbits',
  GB: 'decgbytes',
  MB: 'decmbytes',
  lx: 'lux',
  'µg/m³': 'conµgm3',
  count: 'short',
});

export function grafanaUnit(unit: string): string {
  if (unit === '') return 'none';
  return GRAFANA_UNITS[unit] ?? `suffix: ${unit}`;
}
