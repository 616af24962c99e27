/**
 * A real embedded broker on port 0 with an in-memory device registry, a fake clock, and MQTT.js
 * clients that are closed after each test. Waiting is event-driven (no sleeps): every observer
 * call and every device message wakes the waiters.
 */
import { connect as netConnect } from 'node:net';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { createEmbeddedBroker, type EmbeddedBroker, type EmbeddedBrokerOptions } from '../../../broker/src/embedded-broker.js';
import type {
  AclRefusedEvent,
  AuthRefusedEvent,
  ClientErrorEvent,
  DeviceAuthResult,
  DeviceConnectionEvent,
  DeviceMessage,
} from '../../../broker/src/types.js';

export class FakeClock {
  constructor(public t = Date.UTC(2025, 5, 1, 8, 0, 0)) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

export interface RegisteredDevice {
  secret: string;
  disabled?: boolean;
}

export class BrokerHarness {
  readonly clock = new FakeClock();
  readonly devices = new Map<string, RegisteredDevice>();
  readonly messages: DeviceMessage[] = [];
  readonly authRefused: AuthRefusedEvent[] = [];
  readonly aclRefused: AclRefusedEvent[] = [];
  readonly clientErrors: ClientErrorEvent[] = [];
  readonly connected: DeviceConnectionEvent[] = [];
  readonly disconnected: DeviceConnectionEvent[] = [];
  /** Device ids the registry was asked about, in order. */
  readonly authCalls: string[] = [];
  /** Replace to make the ingest handler misbehave. */
  onMessage: (message: DeviceMessage) => void = () => {};
  broker!: EmbeddedBroker;
  private readonly clients = new Set<MqttClient>();
  private waiters: Array<{ check: () => boolean; resolve: () => void }> = [];

  async start(options: Partial<EmbeddedBrokerOptions> = {}): Promise<this> {
    this.broker = await createEmbeddedBroker({
      tcp: { port: 0, host: '127.0.0.1' },
      clock: this.clock,
      authenticate: async (deviceId, secret): Promise<DeviceAuthResult> => {
        this.authCalls.push(deviceId);
        this.wake();
        const device = this.devices.get(deviceId);
        if (!device) return 'unknown_device';
        if (device.secret !== secret.toString('utf8')) return 'bad_secret';
        return device.disabled ? 'disabled' : 'ok';
      },
      onDeviceMessage: (message) => {
        this.messages.push(message);
        this.wake();
        this.onMessage(message);
      },
      observer: {
        authRefused: (e) => this.record(this.authRefused, e),
        aclRefused: (e) => this.record(this.aclRefused, e),
        clientError: (e) => this.record(this.clientErrors, e),
        deviceConnected: (e) => this.record(this.connected, e),
        deviceDisconnected: (e) => this.record(this.disconnected, e),
      },
      ...options,
    });
    return this;
  }

  get port(): number {
    const port = this.broker.tcpPort;
    if (port === null) throw new Error('no TCP listener');
    return port;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** Resolves once `check` holds (re-checked after every broker event). */
  until(check: () => boolean): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ check, resolve }));
  }

  /** Connects and resolves on CONNACK 0; rejects with the refusal otherwise. */
  connect(options: IClientOptions = {}, url = this.url): Promise<MqttClient> {
    const client = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5_000, ...options });
    this.clients.add(client);
    return new Promise((resolve, reject) => {
      client.once('connect', () => resolve(client));
      client.once('error', reject);
      client.once('close', () => reject(new Error('closed before CONNACK')));
    });
  }

  connectDevice(deviceId: string, options: IClientOptions = {}): Promise<MqttClient> {
    const device = this.devices.get(deviceId);
    return this.connect({ clientId: deviceId, username: deviceId, password: device?.secret ?? '', ...options });
  }

  /** The CONNACK return code of a refused CONNECT. */
  async refusalCode(options: IClientOptions): Promise<number> {
    try {
      await this.connect(options);
    } catch (error) {
      return (error as { code?: number }).code ?? -1;
    }
    throw new Error('connection was accepted');
  }

  /** SUBACK return codes (0x80 = refused), which MQTT.js reports as granted qos 128. */
  suback(client: MqttClient, filters: string[], qos: 0 | 1 | 2 = 1): Promise<number[]> {
    return new Promise((resolve, reject) => {
      client.subscribe(filters, { qos }, (error, _subs, packet) => {
        if (packet && 'granted' in packet) resolve(packet.granted.map(Number));
        else reject(error ?? new Error('no SUBACK'));
      });
    });
  }

  /** Resolves when the broker closes the client's connection. */
  closed(client: MqttClient): Promise<void> {
    if (!client.connected) return Promise.resolve();
    return new Promise((resolve) => client.once('close', () => resolve()));
  }

  async close(): Promise<void> {
    await Promise.all([...this.clients].map((c) => c.endAsync(true).catch(() => undefined)));
    await this.broker?.close();
  }

  private record<T>(list: T[], event: T): void {
    list.push(event);
    this.wake();
  }

  private wake(): void {
    const pending = this.waiters;
    this.waiters = [];
    for (const waiter of pending) {
      if (waiter.check()) waiter.resolve();
      else this.waiters.push(waiter);
    }
  }
}

/**
 * Sends a hand-built MQTT 3.1.1 CONNECT (for cases MQTT.js will not produce, such as an empty
 * client id with clean=false) and resolves with the CONNACK return code.
 */
export function rawConnect(port: number, fields: { clientId: string; clean: boolean; username?: string; password?: string }): Promise<number> {
  const str = (s: string): Buffer => {
    const body = Buffer.from(s, 'utf8');
    const len = Buffer.alloc(2);
    len.writeUInt16BE(body.length);
    return Buffer.concat([len, body]);
  };
  let flags = fields.clean ? 0x02 : 0x00;
  const payload = [str(fields.clientId)];
  if (fields.username !== undefined) {
    flags |= 0x80;
    payload.push(str(fields.username));
  }
  if (fields.password !== undefined) {
    flags |= 0x40;
    payload.push(str(fields.password));
  }
  const variable = Buffer.concat([str('MQTT'), Buffer.from([0x04, flags, 0x00, 0x3c])]);
  const body = Buffer.concat([variable, ...payload]);
  if (body.length > 127) throw new Error('rawConnect builds single-byte remaining lengths only');
  const packet = Buffer.concat([Buffer.from([0x10, body.length]), body]);
  return new Promise((resolve, reject) => {
    const socket = netConnect(port, '127.0.0.1', () => socket.write(packet));
    let received = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 4) {
        socket.destroy();
        if (received[0] !== 0x20) reject(new Error(`expected CONNACK, got 0x${received[0]?.toString(16)}`));
        else resolve(received[3] ?? -1);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error('closed without CONNACK')));
  });
}
