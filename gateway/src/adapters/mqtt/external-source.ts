/**
 * Device messages from an external MQTT broker (Mosquitto, EMQX) instead of the embedded one.
 * The gateway is then an ordinary client: the external broker authenticates the devices and
 * enforces their ACLs (a device may publish only under its own id: configure that there, e.g.
 * Mosquitto's `pattern write gridwatch/v1/%u/#`). The device id therefore comes from the topic.
 *
 * Delivery: QoS 1 subscriptions on a persistent session (clean=false, a stable client id), so
 * QoS 1 messages published while the gateway is away are queued by the broker and delivered on
 * reconnect [MQTT-3.1.2-4]. Reconnects back off exponentially (with jitter, so many gateways do
 * not reconnect in step) up to a cap.
 */
import { hostname } from 'node:os';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { CHANNELS } from '../../domain/message.js';
import { DEVICE_ID_PATTERN } from '../../domain/site.js';
import type { DeviceMessageHandler } from '../../../../broker/src/types.js';

export type ExternalSourceState = 'connected' | 'disconnected' | 'error';

export interface ExternalSourceOptions {
  /** mqtt://, mqtts://, ws:// or wss:// URL of the broker. */
  readonly url: string;
  readonly username?: string;
  readonly password?: string;
  /**
   * Must stay the same across restarts: the broker keeps the session (and the messages queued
   * while the gateway was away) under this id. Default `gridwatch-gateway-{hostname}`.
   */
  readonly clientId?: string;
  /** Default 'gridwatch/v1'. */
  readonly topicRoot?: string;
  /**
   * Every message on `{root}/+/{telemetry|event|status}`. `deviceId` is the topic's id level, or
   * '' when the topic is not exactly `{root}/{deviceId}/{channel}` with a valid id (the gateway
   * rejects those as topic_invalid). Must not throw; a throw is caught and reported as 'error'.
   */
  readonly onDeviceMessage: DeviceMessageHandler;
  readonly onStatus?: (state: ExternalSourceState, detail: string) => void;
  /** First reconnect delay (default 1 s), doubled per failed attempt up to `reconnectMaxMs` (default 60 s). */
  readonly reconnectInitialMs?: number;
  readonly reconnectMaxMs?: number;
  /** Time to wait for CONNACK, ms (default 10 s). */
  readonly connectTimeoutMs?: number;
  /** MQTT keepalive, seconds (default 30). */
  readonly keepaliveSeconds?: number;
}

export interface ExternalSource {
  connected(): boolean;
  /** Publishes to `{root}/{deviceId}/command/{name}` (QoS 1 by default); rejects while disconnected. */
  publishCommand(deviceId: string, name: string, payload: Buffer | string, options?: { qos?: 0 | 1 | 2; retain?: boolean }): Promise<void>;
  /** Disconnects cleanly. The broker keeps the session, so messages keep queueing for the next start. */
  close(): Promise<void>;
}

const COMMAND_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

/** The subscriptions: one per channel, so nothing else under the root is received. */
export function deviceSubscriptions(topicRoot: string): string[] {
  return CHANNELS.map((channel) => `${topicRoot}/+/${channel}`);
}

/**
 * The device id a topic names: `{root}/{deviceId}/{channel}` with a valid id and a known channel,
 * or '' for anything else (an empty level, extra levels, an id with characters devices never get).
 */
export function deviceIdFromTopic(topic: string, topicRoot: string): string {
  const prefix = `${topicRoot}/`;
  if (!topic.startsWith(prefix)) return '';
  const rest = topic.slice(prefix.length).split('/');
  if (rest.length !== 2) return '';
  const [deviceId, channel] = rest as [string, string];
  if (!(CHANNELS as readonly string[]).includes(channel)) return '';
  return DEVICE_ID_PATTERN.test(deviceId) ? deviceId : '';
}

/**
 * Connects and subscribes. Resolves after the first attempt either way (start-up is not held
 * hostage by a broker outage; `connected()` and `onStatus` tell the state); rejects only on
 * options that can never work.
 */
export async function connectExternalBroker(options: ExternalSourceOptions): Promise<ExternalSource> {
  const topicRoot = options.topicRoot ?? 'gridwatch/v1';
  if (topicRoot === '' || /[+#]/.test(topicRoot) || topicRoot.endsWith('/')) {
    throw new TypeError(`topicRoot must be a plain topic prefix without wildcards or trailing '/', got '${topicRoot}'`);
  }
  const initialDelay = Math.max(10, options.reconnectInitialMs ?? 1_000);
  const maxDelay = Math.max(initialDelay, options.reconnectMaxMs ?? 60_000);
  const filters = deviceSubscriptions(topicRoot);

  const status = (state: ExternalSourceState, detail: string): void => {
    try {
      options.onStatus?.(state, detail);
    } catch {
      // Status reporting is logging; it never gets to stop the source.
    }
  };

  const clientOptions: IClientOptions = {
    protocolVersion: 4,
    clientId: options.clientId ?? `gridwatch-gateway-${hostname()}`,
    clean: false,
    // Reconnects are scheduled here, with backoff; MQTT.js only retries at a fixed period.
    reconnectPeriod: 0,
    connectTimeout: options.connectTimeoutMs ?? 10_000,
    keepalive: options.keepaliveSeconds ?? 30,
    // Subscriptions live in the broker's session; they are renewed only when it has none.
    resubscribe: false,
    ...(options.username !== undefined ? { username: options.username } : {}),
    ...(options.password !== undefined ? { password: options.password } : {}),
  };

  const client: MqttClient = mqtt.connect(options.url, clientOptions);
  let closing = false;
  let attempt = 0;
  let reconnectTimer: NodeJS.Timeout | null = null;
  let lastError = '';
  let settleFirst: (() => void) | null = null;
  const firstAttempt = new Promise<void>((resolve) => (settleFirst = resolve));
  const settle = (): void => {
    settleFirst?.();
    settleFirst = null;
  };

  client.on('message', (topic, payload, packet) => {
    try {
      options.onDeviceMessage({
        deviceId: deviceIdFromTopic(topic, topicRoot),
        topic,
        payload,
        qos: packet.qos,
        retain: packet.retain,
      });
    } catch (error) {
      status('error', `message handler failed on ${topic}: ${describe(error)}`);
    }
  });

  client.on('connect', (connack) => {
    attempt = 0;
    if (connack.sessionPresent) {
      status('connected', `session resumed as ${clientOptions.clientId}`);
      settle();
      return;
    }
    client.subscribe(
      filters,
      { qos: 1 },
      (error, _granted, suback) => {
        // MQTT.js reports a SUBACK with any 0x80 code as an error; the codes tell which topic.
        const codes = suback && 'granted' in suback ? suback.granted.map(Number) : null;
        if (codes) {
          const refused = filters.filter((_, i) => (codes[i] ?? 0x80) >= 0x80);
          if (refused.length > 0) status('error', `broker refused subscriptions: ${refused.join(', ')}`);
          else status('connected', `subscribed to ${filters.join(', ')}`);
        } else {
          status('error', `subscribe failed: ${describe(error)}`);
        }
        settle();
      },
    );
  });

  client.on('error', (error) => {
    lastError = describe(error);
    status('error', lastError);
  });

  client.on('close', () => {
    if (closing) return;
    status('disconnected', lastError || 'connection closed');
    lastError = '';
    settle();
    scheduleReconnect();
  });

  function scheduleReconnect(): void {
    if (closing || reconnectTimer) return;
    const ceiling = Math.min(maxDelay, initialDelay * 2 ** Math.min(attempt, 20));
    attempt++;
    // "Equal jitter": half fixed, half random, so a fleet of gateways spreads out.
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    reconnectTimer = setTimeout(() => {
      reconnectTimer = null;
      if (closing) return;
      // Keep the stores: QoS 1/2 packets in flight survive the reconnect.
      client.reconnect({ incomingStore: client.incomingStore, outgoingStore: client.outgoingStore });
    }, delay);
    reconnectTimer.unref();
  }

  await firstAttempt;

  return {
    connected: () => client.connected,

    async publishCommand(deviceId, name, payload, publishOptions = {}) {
      if (!DEVICE_ID_PATTERN.test(deviceId)) throw new TypeError(`not a device id: '${deviceId}'`);
      if (!COMMAND_NAME_PATTERN.test(name)) throw new TypeError(`not a command name: '${name}'`);
      if (!client.connected) throw new Error('external broker is not connected');
      await client.publishAsync(`${topicRoot}/${deviceId}/command/${name}`, payload, {
        qos: publishOptions.qos ?? 1,
        retain: publishOptions.retain ?? false,
      });
    },

    async close() {
      if (closing) return;
      closing = true;
      if (reconnectTimer) clearTimeout(reconnectTimer);
      reconnectTimer = null;
      await client.endAsync();
    },
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
