import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Alert, NotificationIntent } from '../../../gateway/src/domain/alerts/types.js';
import { ackLink, beijingTime, composeAlertMessage, composeQueuedDigest, signAckToken, SMS_TEXT_MAX } from '../../../gateway/src/adapters/notify/index.js';
import { alertFixture } from '../../support/alert-fixture.js';

const RAISED = Date.UTC(2024, 4, 1, 6, 3, 0); // 14:03 in Beijing

function alert(overrides: Partial<Alert> = {}): Alert {
  return alertFixture({
    id: 'alert-1',
    source: { deviceId: 'smoke-b3-501', kind: 'smoke', buildingId: 'b3', floor: 5 },
    detail: 'Smoke 0.15 dB/m in room 501',
    attrs: { raw: '{"vendorSecret":"do-not-show"}', personRef: 'face-8812' },
    latched: true,
    verification: 'verifying',
    raisedAt: RAISED,
    history: [],
    ...overrides,
  });
}

const intent: NotificationIntent = { alertId: 'alert-1', audience: 'captain', reason: 'raised', lifeSafety: true };
const key = randomBytes(32);
const ackUrl = ackLink(
  'https://gridwatch.example.gov.cn',
  signAckToken({ alertId: 'alert-1', personId: 'captain-b3', expiresAt: RAISED + 86_400_000 }, key),
);

describe('composeAlertMessage', () => {
  it('says class, building, floor, device, Beijing time and the link, Chinese first then English', () => {
    const m = composeAlertMessage({ alert: alert(), intent, buildingName: '3号楼', personName: '张伟', ackUrl });
    expect(m.text.length).toBeLessThanOrEqual(SMS_TEXT_MAX);
    const [zh = '', en = '', link = ''] = m.text.split('\n');
    expect(zh).toContain('【火警】烟感报警');
    expect(zh).toContain('3号楼 5层');
    expect(zh).toContain('smoke-b3-501');
    expect(zh).toContain('2024-05-01 14:03');
    expect(en).toContain('[FIRE ALARM] Smoke alarm at 3号楼, floor 5');
    expect(en).toContain('14:03 UTC+8');
    expect(link).toBe(`确认 Ack: ${ackUrl}`);
    expect(m.title).toMatch(/^【火警】烟感报警 3号楼 5层 \/ FIRE ALARM: Smoke alarm$/);
    expect(m.markdown.indexOf('烟感报警')).toBeLessThan(m.markdown.indexOf('Smoke alarm'));
    expect(m.markdown).toContain(`[确认 Acknowledge](${ackUrl})`);
    expect(m.markdown).toContain('gridwatch');
  });

  it('labels supervisory and trouble as 监管 and 故障, and non-fire alarms as 报警', () => {
    const sup = composeAlertMessage({ alert: alert({ signalClass: 'supervisory', type: 'door.held_open', source: { deviceId: 'door-1', kind: 'door', buildingId: 'b3', floor: 1 } }), intent, buildingName: '3号楼', personName: '张伟', ackUrl: null });
    expect(sup.text).toContain('【监管】');
    const trouble = composeAlertMessage({ alert: alert({ signalClass: 'trouble', type: 'device.offline' }), intent, buildingName: '3号楼', personName: '张伟', ackUrl: null });
    expect(trouble.text).toContain('【故障】');
    expect(trouble.text).toContain('[TROUBLE]');
    const forced = composeAlertMessage({ alert: alert({ type: 'door.forced', source: { deviceId: 'door-1', kind: 'door', buildingId: 'b3', floor: 1 } }), intent, buildingName: '3号楼', personName: '张伟', ackUrl: null });
    expect(forced.text).toContain('【报警】');
    expect(forced.text).not.toContain('火警');
  });

  it('marks escalations and clears, and shows the clear time for a clear', () => {
    const esc = composeAlertMessage({ alert: alert(), intent: { ...intent, reason: 'escalated' }, buildingName: '3号楼', personName: '李娜', ackUrl });
    expect(esc.text.startsWith('【升级·未确认】')).toBe(true);
    expect(esc.text).toContain('ESCALATED');
    const cleared = composeAlertMessage({ alert: alert({ clearedAt: RAISED + 3_600_000 }), intent: { ...intent, reason: 'cleared' }, buildingName: '3号楼', personName: '李娜', ackUrl: null });
    expect(cleared.text).toContain('【已恢复】');
    expect(cleared.text).toContain('15:03');
  });

  it('stays within 300 characters with long names and details, keeping the link whole', () => {
    const long = alert({ titleZh: '烟感报警'.repeat(20), title: 'Smoke alarm '.repeat(20), detail: 'x'.repeat(500) });
    const m = composeAlertMessage({ alert: long, intent, buildingName: '幸福里社区第三网格七号楼东单元'.repeat(3), personName: '张伟', ackUrl });
    expect(Array.from(m.text).length).toBeLessThanOrEqual(SMS_TEXT_MAX);
    expect(m.text.endsWith(`确认 Ack: ${ackUrl}`)).toBe(true);
    expect(m.text).toMatch(/\[FIRE ALARM\]/);
    expect(m.title.length).toBeLessThanOrEqual(120);
  });

  it('puts no alert attributes, vendor payloads or keys into the text', () => {
    const m = composeAlertMessage({ alert: alert(), intent, buildingName: '3号楼', personName: '张伟', ackUrl });
    for (const out of [m.text, m.markdown, m.title]) {
      expect(out).not.toContain('do-not-show');
      expect(out).not.toContain('face-8812');
      expect(out).not.toContain(key.toString('base64url'));
      expect(out).not.toContain(key.toString('hex'));
    }
  });

  it('escapes markdown control characters from names', () => {
    const m = composeAlertMessage({ alert: alert(), intent, buildingName: '3号楼 [test](http://evil)', personName: '*张伟*', ackUrl: null });
    expect(m.markdown).not.toContain('[test](http://evil)');
    expect(m.markdown).toContain('\\*张伟\\*');
  });

  it('lists the alerts of a digest briefly within the same limits', () => {
    const related = Array.from({ length: 12 }, (_, i) =>
      alert({ id: `a${i}`, signalClass: 'trouble', type: 'device.offline', title: `Device offline ${i}`, titleZh: `设备离线${i}`, raisedAt: RAISED + i * 60_000 }),
    );
    const m = composeAlertMessage({ alert: alert(), intent: { ...intent, reason: 'digest' }, buildingName: '3号楼', personName: '张伟', ackUrl, related });
    expect(m.title).toBe('【汇总】3号楼 13 条告警 / 13 alerts');
    expect(m.text.length).toBeLessThanOrEqual(SMS_TEXT_MAX);
    expect(m.text).toContain('【汇总·火警】3号楼 13 条告警');
    expect(m.text).toContain('[DIGEST] 13 alerts');
    expect(m.markdown.split('\n').filter((l) => l.startsWith('- '))).toHaveLength(13);
    expect(m.markdown).toContain('设备离线11');
  });

  it('composes the outbox digest of queued notifications', () => {
    const d = composeQueuedDigest([
      { title: '【故障】设备离线 3号楼 / TROUBLE: Device offline', ackUrl: 'https://g/ack/1' },
      { title: '【监管】门长时间未关 / SUPERVISORY: Door held open', ackUrl: null },
    ]);
    expect(d.title).toBe('【汇总】2 条通知 / 2 notifications');
    expect(d.text).toContain('【故障】设备离线 3号楼；【监管】门长时间未关');
    expect(d.text.length).toBeLessThanOrEqual(SMS_TEXT_MAX);
    expect(d.markdown).toContain('[确认 Ack](https://g/ack/1)');
  });
});

describe('beijingTime', () => {
  it('shows UTC+8 across the date line', () => {
    expect(beijingTime(Date.UTC(2024, 11, 31, 16, 30))).toBe('2025-01-01 00:30');
  });
});
