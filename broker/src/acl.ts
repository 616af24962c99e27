/**
 * Who may use which topic. Pure functions over strings: no broker, no I/O.
 *
 * Devices (authenticated; username = deviceId) may
 *  - publish to `gridwatch/v1/{own id}/{telemetry|event|status}` only (no wildcards, no extra
 *    levels), and
 *  - subscribe to `gridwatch/v1/{own id}/command/#`, `…/command/+` or `…/command/{name}` only.
 * Everything else, `$SYS/#` included, is refused for devices.
 *
 * Anonymous clients (development only) may publish and subscribe outside the `gridwatch`
 * namespace, never inside it, and never to `$` topics (`$SYS` names every connected client id,
 * and client ids are device ids).
 */
import { CHANNELS, type Channel } from '../../gateway/src/domain/message.js';
import { DEVICE_ID_PATTERN } from '../../gateway/src/domain/site.js';

export const TOPIC_ROOT = 'gridwatch/v1';
const NAMESPACE = 'gridwatch';

/** Levels a gridwatch topic needs at most: gridwatch/v1/{id}/command/{name}. */
export const DEVICE_TOPIC_LEVELS = 5;

/** MQTT.js and aedes agree: client ids longer than this are refused (MQTT 3.1.1 lets a server choose). */
export const MAX_CLIENT_ID_LENGTH = 128;

/** Command names are one topic level of the same safe alphabet as device ids. */
export const COMMAND_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

export type AclDecision = { readonly ok: true } | { readonly ok: false; readonly reason: 'topic_not_permitted' | 'too_many_topic_levels' };

const OK: AclDecision = { ok: true };
const NOT_PERMITTED: AclDecision = { ok: false, reason: 'topic_not_permitted' };
const TOO_DEEP: AclDecision = { ok: false, reason: 'too_many_topic_levels' };

export function isDeviceId(value: string): boolean {
  return DEVICE_ID_PATTERN.test(value);
}

/** Number of topic levels ('a/b' has 2; the empty levels of 'a//b' count, as in [MQTT-4.7.1-3]). */
export function topicLevels(topic: string): number {
  let levels = 1;
  for (let i = 0; i < topic.length; i++) if (topic.charCodeAt(i) === 47) levels++;
  return levels;
}

function hasWildcard(topic: string): boolean {
  return topic.includes('+') || topic.includes('#');
}

/** `gridwatch/v1/{deviceId}/{channel}` for a device's own publishes. */
export function deviceTopic(deviceId: string, channel: Channel): string {
  return `${TOPIC_ROOT}/${deviceId}/${channel}`;
}

/** `gridwatch/v1/{deviceId}/command/{name}`: what the gateway publishes to a device. */
export function commandTopic(deviceId: string, name: string): string {
  return `${TOPIC_ROOT}/${deviceId}/command/${name}`;
}

export function mayDevicePublish(deviceId: string, topic: string, maxTopicLevels: number): AclDecision {
  if (topicLevels(topic) > maxTopicLevels) return TOO_DEEP;
  const prefix = `${TOPIC_ROOT}/${deviceId}/`;
  if (!topic.startsWith(prefix)) return NOT_PERMITTED;
  const channel = topic.slice(prefix.length);
  return (CHANNELS as readonly string[]).includes(channel) ? OK : NOT_PERMITTED;
}

export function mayDeviceSubscribe(deviceId: string, filter: string, maxTopicLevels: number): AclDecision {
  if (topicLevels(filter) > maxTopicLevels) return TOO_DEEP;
  const prefix = `${TOPIC_ROOT}/${deviceId}/command/`;
  if (!filter.startsWith(prefix)) return NOT_PERMITTED;
  const rest = filter.slice(prefix.length);
  // `…/command/#` and `…/command/+` cover every command; a name narrows to one. A bare
  // `…/command` matches nothing the gateway sends, so it is refused rather than granted uselessly.
  return rest === '#' || rest === '+' || COMMAND_NAME_PATTERN.test(rest) ? OK : NOT_PERMITTED;
}

/** The first level of a topic or filter. */
function firstLevel(topic: string): string {
  const slash = topic.indexOf('/');
  return slash === -1 ? topic : topic.slice(0, slash);
}

export function mayAnonymousPublish(topic: string, maxTopicLevels: number): AclDecision {
  if (topicLevels(topic) > maxTopicLevels) return TOO_DEEP;
  const first = firstLevel(topic);
  if (first === NAMESPACE || first.startsWith('$') || hasWildcard(topic)) return NOT_PERMITTED;
  return OK;
}

/**
 * A wildcard in the first level (`#`, `+/…`) would match gridwatch topics, so the first level
 * must be literal and outside the namespace.
 */
export function mayAnonymousSubscribe(filter: string, maxTopicLevels: number): AclDecision {
  if (topicLevels(filter) > maxTopicLevels) return TOO_DEEP;
  const first = firstLevel(filter);
  if (first === NAMESPACE || first.startsWith('$') || hasWildcard(first) || first === '') return NOT_PERMITTED;
  return OK;
}

/** May a message on `topic` be delivered to this device? (Defence in depth behind subscribe.) */
export function mayDeviceReceive(deviceId: string, topic: string): boolean {
  const prefix = `${TOPIC_ROOT}/${deviceId}/command/`;
  return topic.startsWith(prefix) && COMMAND_NAME_PATTERN.test(topic.slice(prefix.length));
}

export function mayAnonymousReceive(topic: string): boolean {
  const first = firstLevel(topic);
  return first !== NAMESPACE && !first.startsWith('$');
}

/**
 * A device's client id must be its device id, or start with `{deviceId}-` or `{deviceId}:` (a
 * device running several sessions). So one device cannot take over another's session
 * ([MQTT-3.1.4-2] closes the older connection with the same client id).
 */
export function clientIdAllowedForDevice(deviceId: string, clientId: string): boolean {
  if (clientId.length === 0 || clientId.length > MAX_CLIENT_ID_LENGTH) return false;
  if (clientId === deviceId) return true;
  return clientId.startsWith(`${deviceId}-`) || clientId.startsWith(`${deviceId}:`);
}

/**
 * A zero-length client id is allowed only with clean=true: the server assigns one
 * [MQTT-3.1.3-6]; with clean=false it must answer CONNACK 2 [MQTT-3.1.3-8].
 */
export function emptyClientIdAllowed(clean: boolean): boolean {
  return clean;
}

/** Is this a well-formed command name (one level, no wildcards)? */
export function isCommandName(name: string): boolean {
  return COMMAND_NAME_PATTERN.test(name);
}
