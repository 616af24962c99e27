/**
 * The broker's contract with the gateway: what it hands over (device messages), what it asks
 * (is this device and secret good?), and what it reports (refusals, connections, errors) so the
 * gateway can count and log them. Shared by the embedded broker and the external-broker source.
 */

/** A publish by a device, as the gateway's ingest receives it. */
export interface DeviceMessage {
  /**
   * The authenticated publisher (embedded broker), or the id named in the topic (external
   * broker; '' when the topic does not name one the way the contract says).
   */
  readonly deviceId: string;
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: 0 | 1 | 2;
  readonly retain: boolean;
}

export type DeviceMessageHandler = (message: DeviceMessage) => void;

/**
 * Ingest a device's publish before the broker acknowledges it: call `done` once the message is
 * durably stored (or durably rejected). The broker sends PUBACK / PUBREC only then, so a QoS ≥ 1
 * message a device saw acknowledged survives a crash of the gateway.
 */
export type DeviceMessageIngest = (message: DeviceMessage, done: () => void) => void;

/** Answer of the gateway's device-secret check. */
export type DeviceAuthResult = 'ok' | 'unknown_device' | 'bad_secret' | 'disabled';

/**
 * Why a CONNECT was refused. Stable codes: they label metrics
 * (`gridwatch_mqtt_auth_refused_total{reason}`) and log lines.
 */
export const AUTH_REFUSAL_REASONS = {
  unknown_device: 'No registered device has this id (CONNACK 4)',
  bad_secret: 'Wrong or missing password for a registered device (CONNACK 4)',
  disabled: 'The device is registered but disabled (CONNACK 5)',
  throttled: 'Too many recent authentication failures from this address or for this device (CONNACK 5)',
  anonymous_refused: 'No username and anonymous clients are not allowed (CONNACK 5)',
  bad_client_id: "Client id is empty with clean=false, too long, or not the device's own (CONNACK 2)",
  will_refused: 'The Last Will topic is one the client may not publish to (CONNACK 5)',
  auth_unavailable: 'The device registry could not be asked (CONNACK 3)',
} as const;
export type AuthRefusalReason = keyof typeof AUTH_REFUSAL_REASONS;

/** Why a PUBLISH or a SUBSCRIBE topic was refused. */
export const ACL_REFUSAL_REASONS = {
  topic_not_permitted: 'The client may not use this topic',
  too_many_topic_levels: 'The topic has more levels than the broker allows',
  oversize_payload: 'The payload exceeds the broker limit',
} as const;
export type AclRefusalReason = keyof typeof ACL_REFUSAL_REASONS;

export interface AuthRefusedEvent {
  readonly reason: AuthRefusalReason;
  /** The client id as sent (may be ''). */
  readonly clientId: string;
  /** The username as sent (the claimed device id), or null when none was sent. */
  readonly deviceId: string | null;
  readonly remoteAddress: string;
}

export interface AclRefusedEvent {
  readonly action: 'publish' | 'subscribe';
  readonly reason: AclRefusalReason;
  /** The authenticated device, or null for an anonymous client. */
  readonly deviceId: string | null;
  readonly clientId: string;
  readonly topic: string;
  /** Payload size in bytes (publish only). */
  readonly size?: number;
}

export interface DeviceConnectionEvent {
  readonly deviceId: string;
  readonly clientId: string;
  readonly remoteAddress: string;
}

export interface ClientErrorEvent {
  readonly clientId: string | null;
  readonly deviceId: string | null;
  readonly error: Error;
}

/**
 * Metrics and logging hooks. All optional, all called synchronously on the broker's path: keep
 * them cheap. A throwing observer is caught and ignored.
 */
export interface BrokerObserver {
  authRefused?(event: AuthRefusedEvent): void;
  aclRefused?(event: AclRefusedEvent): void;
  deviceConnected?(event: DeviceConnectionEvent): void;
  deviceDisconnected?(event: DeviceConnectionEvent): void;
  /** Transport and protocol errors, and a throwing `onDeviceMessage`. Refusals are not repeated here. */
  clientError?(event: ClientErrorEvent): void;
}
