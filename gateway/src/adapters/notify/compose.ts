/**
 * What a notification says. Chinese first (building captains, 栋长, read Chinese), English
 * second; the plain text fits one long SMS (≤ 300 characters, the acknowledge link kept whole);
 * times are shown in China Standard Time (UTC+8) whatever the server's zone.
 *
 * Only what a captain needs goes in: class, building, floor, device, time, what happened, the
 * link. Alert attributes are not dumped (they can hold vendor raw payloads or person refs).
 */
import type { Alert, NotificationIntent } from '../../domain/alerts/types.js';
import type { SignalClass } from '../../domain/signal.js';

export const SMS_TEXT_MAX = 300;

export interface ComposeInput {
  readonly alert: Alert;
  readonly intent: NotificationIntent;
  readonly buildingName: string;
  readonly personName: string;
  readonly ackUrl: string | null;
  /** Digest: the other alerts summarised in this message. */
  readonly related?: readonly Alert[];
  /** The device's display name when it has one (the id is shown otherwise). */
  readonly deviceName?: string | null;
}

export interface ComposedMessage {
  /** E-mail subject, DingTalk title. */
  readonly title: string;
  /** SMS and e-mail text, ≤ SMS_TEXT_MAX characters. */
  readonly text: string;
  readonly markdown: string;
}

/** Fire-panel vocabulary: 火警 / 监管 / 故障 (GB 4717 signal classes); non-fire alarms are 报警. */
export function classLabel(alert: Pick<Alert, 'signalClass' | 'type' | 'source'>): { zh: string; en: string } {
  const labels: Record<SignalClass, { zh: string; en: string }> = {
    alarm: isFire(alert) ? { zh: '火警', en: 'FIRE ALARM' } : { zh: '报警', en: 'ALARM' },
    supervisory: { zh: '监管', en: 'SUPERVISORY' },
    trouble: { zh: '故障', en: 'TROUBLE' },
    info: { zh: '提示', en: 'INFO' },
  };
  return labels[alert.signalClass];
}

function isFire(alert: Pick<Alert, 'type' | 'source'>): boolean {
  return alert.source.kind === 'smoke' || /^(smoke|heat|fire|flame)\./.test(alert.type);
}

const REASONS: Record<NotificationIntent['reason'], { zh: string; en: string }> = {
  raised: { zh: '', en: '' },
  escalated: { zh: '【升级·未确认】', en: 'ESCALATED, not acknowledged: ' },
  digest: { zh: '', en: '' },
  cleared: { zh: '【已恢复】', en: 'CLEARED: ' },
  confirmed: { zh: '【已证实】', en: 'CONFIRMED: ' },
};

/** `2024-05-01 14:03` in UTC+8 (China has no daylight saving time). */
export function beijingTime(ms: number): string {
  const d = new Date(ms + 8 * 3_600_000);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

/** Cuts to `max` characters (code points) with an ellipsis. */
export function clip(value: string, max: number): string {
  const chars = Array.from(value);
  if (chars.length <= max) return value;
  if (max <= 0) return '';
  return `${chars.slice(0, max - 1).join('')}…`;
}

function length(value: string): number {
  return Array.from(value).length;
}

/**
 * One line per language, then the link. When too long, the English line gives way first, but
 * Chinese keeps at most 60% of the room so the English reader still gets the start of a line.
 * The link is never cut (a cut link acknowledges nothing).
 */
function fitText(zh: string, en: string, ackLine: string | null, max = SMS_TEXT_MAX): string {
  const tail = ackLine ? `\n${ackLine}` : '';
  const budget = max - length(tail) - 1; // 1 for the newline between the languages
  if (length(zh) + length(en) <= budget) return `${zh}\n${en}${tail}`;
  const zhFitted = clip(zh, Math.min(length(zh), Math.max(budget - length(en), Math.ceil(budget * 0.6))));
  const enFitted = clip(en, budget - length(zhFitted));
  return `${zhFitted}${enFitted ? `\n${enFitted}` : ''}${tail}`;
}

function timeOf(alert: Alert, intent: NotificationIntent): number {
  return intent.reason === 'cleared' && alert.clearedAt !== null ? alert.clearedAt : alert.raisedAt;
}

function escapeMarkdown(value: string): string {
  return value.replace(/([\\`*_[\]<>#|])/g, '\\$1');
}

export function composeAlertMessage(input: ComposeInput): ComposedMessage {
  const related = input.related ?? [];
  if (input.intent.reason === 'digest' || related.length > 0) return composeDigest(input, related);
  const { alert, intent } = input;
  const cls = classLabel(alert);
  const reason = REASONS[intent.reason];
  const device = input.deviceName ?? alert.source.deviceId;
  const floorZh = alert.source.floor !== null ? ` ${alert.source.floor}层` : '';
  const floorEn = alert.source.floor !== null ? `, floor ${alert.source.floor}` : '';
  const time = beijingTime(timeOf(alert, intent));
  const ackLine = input.ackUrl ? `确认 Ack: ${input.ackUrl}` : null;

  // Names are cut before the lines are, so a long name cannot push out where and when.
  const titleZh = clip(alert.titleZh, 40);
  const building = clip(input.buildingName, 30);
  const zh = `${reason.zh}【${cls.zh}】${titleZh}：${building}${floorZh}，设备 ${clip(device, 40)}，${time}（北京时间）`;
  // The date is in the Chinese line already; the English line keeps the clock time only.
  const en = `[${cls.en}] ${reason.en}${clip(alert.title, 80)} at ${building}${floorEn}, device ${clip(device, 40)}, ${time.slice(11)} UTC+8. ${alert.detail}`.trim();
  const title = clip(`${reason.zh}【${cls.zh}】${alert.titleZh} ${input.buildingName}${floorZh} / ${reason.en}${cls.en}: ${alert.title}`, 120);

  const md = [
    `### ${reason.zh}【${cls.zh}】${escapeMarkdown(alert.titleZh)}`,
    `**${escapeMarkdown(input.buildingName)}${floorZh}** · 设备 ${escapeMarkdown(device)}`,
    `时间：${time}（北京时间）`,
    `致 ${escapeMarkdown(input.personName)}`,
    input.ackUrl ? `[确认 Acknowledge](${input.ackUrl})` : '',
    '',
    '---',
    `**${cls.en}** ${escapeMarkdown(reason.en)}${escapeMarkdown(alert.title)} — ${escapeMarkdown(input.buildingName)}${floorEn}, device ${escapeMarkdown(device)}, ${time} UTC+8`,
    escapeMarkdown(alert.detail),
    '',
    '###### gridwatch',
  ];
  return { title, text: fitText(zh, en, ackLine), markdown: md.filter((line) => line !== '').join('\n\n') };
}

function composeDigest(input: ComposeInput, related: readonly Alert[]): ComposedMessage {
  const all = [input.alert, ...related];
  const n = all.length;
  const worst = all.reduce((a, b) => (classRank(b) < classRank(a) ? b : a));
  const cls = classLabel(worst);
  const ackLine = input.ackUrl ? `确认 Ack: ${input.ackUrl}` : null;
  const brief = (a: Alert): string =>
    `${beijingTime(a.raisedAt).slice(11)} ${a.source.floor !== null ? `${a.source.floor}层 ` : ''}${a.titleZh}`;
  const zh = `【汇总·${cls.zh}】${input.buildingName} ${n} 条告警：${all.map(brief).join('；')}`;
  const en = `[DIGEST] ${n} alerts at ${input.buildingName}, latest ${beijingTime(Math.max(...all.map((a) => a.raisedAt)))} UTC+8: ${all
    .map((a) => a.title)
    .join('; ')}`;
  const title = clip(`【汇总】${input.buildingName} ${n} 条告警 / ${n} alerts`, 120);
  const lines = all.map(
    (a) =>
      `- ${beijingTime(a.raisedAt).slice(11)} 【${classLabel(a).zh}】${escapeMarkdown(a.titleZh)}${a.source.floor !== null ? ` ${a.source.floor}层` : ''} · ${escapeMarkdown(a.title)}`,
  );
  const markdown = [
    `### 【汇总】${escapeMarkdown(input.buildingName)} ${n} 条告警 / ${n} alerts`,
    lines.join('\n'),
    input.ackUrl ? `[确认 Acknowledge](${input.ackUrl})` : '',
    '###### gridwatch',
  ]
    .filter((part) => part !== '')
    .join('\n\n');
  return { title, text: fitText(zh, en, ackLine), markdown };
}

function classRank(alert: Alert): number {
  return ['alarm', 'supervisory', 'trouble', 'info'].indexOf(alert.signalClass);
}

/** One message for several queued notifications to the same destination (the outbox's digest). */
export function composeQueuedDigest(items: readonly { readonly title: string; readonly ackUrl: string | null }[]): ComposedMessage {
  const n = items.length;
  const title = `【汇总】${n} 条通知 / ${n} notifications`;
  const text = fitText(`【汇总】${n} 条通知：${items.map((i) => i.title.split(' / ')[0]).join('；')}`, `[DIGEST] ${n} notifications`, null);
  const markdown = [
    `### 【汇总】${n} 条通知 / ${n} notifications`,
    items.map((i) => `- ${escapeMarkdown(i.title)}${i.ackUrl ? ` [确认 Ack](${i.ackUrl})` : ''}`).join('\n'),
    '###### gridwatch',
  ].join('\n\n');
  return { title, text, markdown };
}
