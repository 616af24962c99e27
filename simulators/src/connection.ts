/**
 * One simulated device's MQTT connection, as the device contract asks (gridwatch/v1/{id}/…):
 * MQTT 3.1.1, client id and username = device id, password = its secret, a retained Last Will
 * `offline` on its status topic, and a retained `online` once connected. Used by the scenario
 * runner and the load generator; the fleet keeps its own reconnecting clients (fleet.ts).
 */
import mqtt, { type MqttClient } from 'mqtt';
import type { FleetDevice } from './fleet.js';
import { statusTopic } from './fleet.js';

export interface DeviceConnection {
  readonly device: FleetDevice;
  readonly client: MqttClient;
}

/** Connects without reconnecting: a scenario or a load run is short, and a refusal is an answer. */
export async function connectDevice(mqttUrl: string, device: FleetDevice, options: { timeoutMs?: number } = {}): Promise<DeviceConnection> {
  const client = mqtt.connect(mqttUrl, {
    clientId: device.id,
    username: device.id,
    password: device.secret,
    protocolVersion: 4,
    clean: true,
    keepalive: 60,
    reconnectPeriod: 0,
    connectTimeout: options.timeoutMs ?? 10_000,
    will: { topic: statusTopic(device.id), payload: Buffer.from('offline'), qos: 1, retain: true },
  });
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', (err) => reject(err));
      client.once('close', () => reject(new Error('connection closed before CONNACK')));
    });
    await client.publishAsync(statusTopic(device.id), 'online', { qos: 1, retain: true });
  } catch (err) {
    await client.endAsync(true).catch(() => undefined);
    throw new Error(`${device.id}: cannot connect to ${mqttUrl}: ${(err as Error).message}`, { cause: err });
  }
  // Later socket errors surface as failed publishes; an 'error' event without a listener would throw.
  client.on('error', () => {});
  return { device, client };
}

/**
 * Breaks the connection the way a power cut does: the socket goes away without a DISCONNECT, so
 * the broker publishes the Last Will ([MQTT-3.1.2-8]; a DISCONNECT would discard it, [MQTT-3.14.4-3]).
 */
export function dropConnection(connection: DeviceConnection): void {
  connection.client.stream.destroy();
}

/** Ends the session cleanly (DISCONNECT: no Last Will); waits at most `timeoutMs`. */
export async function disconnect(connection: DeviceConnection, timeoutMs = 5_000): Promise<void> {
  const { client } = connection;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const done = client.connected ? client.endAsync().then(() => 'done' as const) : client.endAsync(true).then(() => 'done' as const);
  const outcome = await Promise.race([done.catch(() => 'done' as const), timeout]);
  clearTimeout(timer);
  if (outcome === 'timeout') await client.endAsync(true).catch(() => undefined);
}
