/**
 * Door access controller (门禁控制器): one controller, its doors and their readers. Access
 * decisions are audit events; forced and held-open doors, duress and tailgating are the ones
 * that matter. Credentials arrive as salted hashes only: the raw card number never leaves the
 * controller (China PIPL art. 51 data minimisation).
 */
import { Type } from '@sinclair/typebox';
import { defineKind } from '../kind.js';
import {
  alarm,
  battery,
  between,
  code,
  drift,
  hashRef,
  heartbeat,
  info,
  integerBetween,
  mainsPowered,
  numeric,
  oneOf,
  pick,
  ref,
  remember,
  sampleDigest,
  sampleEvent,
  stamp,
  supervisory,
  temperature,
  trouble,
} from './factories.js';
import type { SampleContext } from '../kind.js';
import { batteryLow, eventAlarm, eventAlarms, eventSpec, forcedOpen, heldOpen, offline, repeatedDenials } from '../rules/factories.js';

const events = [
  info('access.granted', 'Access granted', '通行'),
  info('access.denied', 'Access denied', '拒绝通行'),
  info('door.opened', 'Door opened', '开门'),
  info('door.closed', 'Door closed', '关门'),
  // Controllers debounce the door contact (0.5–1 s) before reporting a forced door.
  alarm('door.forced_open', 'Door forced open', '强行开门'),
  // Supervisory by default; the rule engine raises it to alarm outside occupied hours.
  supervisory('door.held_open', 'Door held open', '门长时间未关'),
  alarm('anti_passback', 'Anti-passback violation', '反潜回违规'),
  alarm('duress', 'Duress code used', '胁迫开门'),
  alarm('tailgating', 'Tailgating', '尾随通行'),
  trouble('reader.tamper', 'Reader tamper', '读卡器防拆'),
  trouble('reader.offline', 'Reader offline', '读卡器离线'),
  trouble('controller.tamper', 'Controller tamper', '控制器防拆'),
  trouble('lock.fault', 'Lock fault', '门锁故障'),
  trouble('mains.lost', 'Mains power lost', '交流电断电'),
  trouble('battery.low', 'Backup battery low', '备用电池欠压'),
  heartbeat(),
] as const;

const contract = mainsPowered(60);

const CREDENTIAL_TYPES = ['card', 'pin', 'face', 'fingerprint', 'qr', 'mobile', 'remote'] as const;

export const doorKind = defineKind({
  id: 'door',
  title: 'Door access controller',
  titleZh: '门禁控制器',
  description:
    'Mains-powered access controller with a backup battery. Reports access decisions, door contact changes, forced and ' +
    'held-open doors, duress and tailgating. Credentials are salted hashes and people are registry references.',
  measurements: [
    // Lock power supplies are 12 V or 24 V DC; 0 V means the supply is gone.
    numeric('supply_voltage', 'Supply voltage', '供电电压', 'V', 0, 60),
    battery(),
    temperature(),
  ],
  events,
  eventAttributes: {
    doorId: ref('Door (as numbered on the controller or in the site registry)'),
    readerId: ref('Reader that saw the credential'),
    direction: oneOf(['in', 'out'], 'Direction of passage'),
    credentialType: oneOf(CREDENTIAL_TYPES, 'What was presented'),
    credentialRef: hashRef('Salted hash of the credential; never the raw card number or PIN'),
    personRef: ref('Person in the site registry or the vendor system'),
    result: oneOf(['granted', 'denied'], 'Access decision'),
    reasonCode: code('Why access was denied (unknown_credential, expired, out_of_schedule, anti_passback…)'),
    openDurationS: Type.Number({ minimum: 0, maximum: 86_400, description: 'How long the door has been or was open, s' }),
  },
  heartbeat: contract,
  rules: [
    // Security alarms.
    forcedOpen(),
    heldOpen(),
    repeatedDenials(),
    eventAlarm(eventSpec(events, 'anti_passback')),
    // Someone is being forced to open the door: it stays until an operator resets it.
    eventAlarm(eventSpec(events, 'duress'), { latched: true }),
    eventAlarm(eventSpec(events, 'tailgating')),
    // Trouble: the controller repeats an active fault with its minute heartbeat.
    ...eventAlarms(events, ['reader.tamper', 'reader.offline', 'controller.tamper', 'lock.fault', 'mains.lost'], { clearAfterS: 600 }),
    batteryLow({ lowPct: 20 }),
    offline(contract),
  ],
  sample: {
    telemetry: (ctx) =>
      stamp(ctx, {
        supply_voltage: drift(ctx, 'supply_voltage', { start: 12.6, step: 0.05, min: 12.2, max: 13.8, decimals: 2 }),
        // Float-charged by mains, so it stays near full.
        battery: drift(ctx, 'battery', { start: 98, step: 1, min: 90, max: 100, decimals: 0 }),
        temperature: drift(ctx, 'temperature', { start: 28, step: 0.3, min: 15, max: 45, decimals: 1 }),
      }),
    event: (ctx) =>
      sampleEvent(ctx, events, (type) => {
        const door = pick(ctx, remember(ctx, 'doors', () => doorsOf(ctx)));
        const person = personOf(ctx);
        const presented = { ...person, readerId: door.readerId, direction: pick(ctx, ['in', 'out'] as const) };
        switch (type) {
          case 'access.granted':
            return { doorId: door.doorId, ...presented, result: 'granted' };
          case 'access.denied':
            return {
              doorId: door.doorId,
              ...presented,
              result: 'denied',
              reasonCode: pick(ctx, ['unknown_credential', 'expired', 'out_of_schedule', 'wrong_door'] as const),
            };
          case 'anti_passback':
            return { doorId: door.doorId, ...presented, result: 'denied', reasonCode: 'anti_passback' };
          case 'duress':
            // A duress PIN opens the door as usual and raises a silent alarm.
            return {
              doorId: door.doorId,
              ...presented,
              credentialType: 'pin',
              credentialRef: sampleDigest(`${ctx.deviceId}/pin/${person.personRef}`),
              result: 'granted',
            };
          case 'door.closed':
            return { doorId: door.doorId, openDurationS: between(ctx, 2, 20, 1) };
          case 'door.held_open':
            return { doorId: door.doorId, openDurationS: between(ctx, 30, 300, 0) };
          case 'door.opened':
          case 'door.forced_open':
          case 'lock.fault':
            return { doorId: door.doorId };
          case 'tailgating':
            return { doorId: door.doorId, readerId: door.readerId, direction: presented.direction };
          case 'reader.tamper':
          case 'reader.offline':
            return { readerId: door.readerId };
          default:
            return {};
        }
      }),
  },
});

/** A controller drives one to four doors, one reader each. */
function doorsOf(ctx: SampleContext): [{ doorId: string; readerId: string }, ...{ doorId: string; readerId: string }[]] {
  const count = integerBetween(ctx, 1, 4);
  const doors = Array.from({ length: count }, (_, i) => ({ doorId: `D${i + 1}`, readerId: `R${i + 1}` }));
  return doors as [{ doorId: string; readerId: string }, ...{ doorId: string; readerId: string }[]];
}

/** One of the building's residents, with the credential they usually present. */
function personOf(ctx: SampleContext): { personRef: string; credentialType: string; credentialRef: string } {
  const n = integerBetween(ctx, 1, 200);
  const credentialType = pick(ctx, CREDENTIAL_TYPES);
  return {
    personRef: `P${String(n).padStart(4, '0')}`,
    credentialType,
    credentialRef: sampleDigest(`${ctx.deviceId}/${credentialType}/${n}`),
  };
}
