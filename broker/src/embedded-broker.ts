/**
 * The embedded MQTT broker (aedes 1.x, MQTT 3.1.1) with gridwatch's device identity rules:
 * username = deviceId, password = the device secret, ACLs from ./acl.ts, throttled guessing,
 * documented limits, and listeners on TCP, TLS and WebSocket (on the gateway's HTTP server).
 *
 * Refusals follow MQTT 3.1.1:
 *  - CONNECT: CONNACK 4 (bad user name or password) for an unknown device or a wrong secret,
 *    5 (not authorized) for disabled, throttled, anonymous or a forbidden will, 2 (identifier
 *    rejected) for client ids that break the rules, 3 (server unavailable) when the registry
 *    cannot be asked. The connection is closed after the CONNACK [MQTT-3.2.2-5].
 *  - SUBSCRIBE: a refused topic gets 0x80 in the SUBACK while the others in the same packet are
 *    granted [MQTT-3.9.3].
 *  - PUBLISH: 3.1.1 has no negative PUBACK. aedes drops the message and closes the connection when
 *    `authorizePublish` answers with an error; gridwatch keeps that: a device publishing outside
 *    its own topics is misconfigured or spoofing, and a dropped connection plus a counted refusal
 *    is visible where a silent drop is not. The same holds for an oversize payload.
 */
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import type { EventEmitter } from 'node:events';
import { Aedes, type AedesPublishPacket, type Client, type ConnectPacket, type PublishPacket, type Subscription } from 'aedes';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { systemClock, type Clock } from '../../gateway/src/ports.js';
import {
  DEVICE_TOPIC_LEVELS,
  MAX_CLIENT_ID_LENGTH,
  clientIdAllowedForDevice,
  commandTopic,
  emptyClientIdAllowed,
  isCommandName,
  isDeviceId,
  mayAnonymousPublish,
  mayAnonymousReceive,
  mayAnonymousSubscribe,
  mayDevicePublish,
  mayDeviceReceive,
  mayDeviceSubscribe,
  type AclDecision,
} from './acl.js';
import { AuthCache, secretDigest, type AuthCacheOptions } from './auth-cache.js';
import { AuthThrottle, type AuthThrottleOptions } from './auth-throttle.js';
import type {
  AclRefusalReason,
  AuthRefusalReason,
  BrokerObserver,
  DeviceAuthResult,
  DeviceMessage,
  DeviceMessageHandler,
  DeviceMessageIngest,
} from './types.js';

/** Protective limits; each is set on purpose (see broker/README.md for the reasoning). */
export interface BrokerLimits {
  /** Largest PUBLISH payload accepted, bytes (default 64 KiB). Checked in authorizePublish. */
  readonly maxPayloadBytes?: number;
  /** Time a new connection has to send CONNECT, ms (default 10 s; aedes `connectTimeout`). */
  readonly connectTimeoutMs?: number;
  /** Most topic levels in a PUBLISH topic or SUBSCRIBE filter (default 8, at least 5). */
  readonly maxTopicLevels?: number;
  /**
   * Inbound QoS 2 messages a client may leave awaiting PUBREL (default 64; aedes
   * `maxInflightInbound`). Exceeding it closes the connection: 3.1.1 cannot advertise a window.
   */
  readonly maxInflightPerClient?: number;
  /** Packets a client may pipeline before its CONNACK is sent (default 16; aedes `queueLimit`). */
  readonly queueLimit?: number;
  /** Messages the broker routes concurrently, all clients together (default 100; aedes `concurrency`). */
  readonly concurrency?: number;
  /** A subscriber whose socket stays full this long is disconnected, ms (default 30 s; aedes `drainTimeout`). */
  readonly drainTimeoutMs?: number;
  /**
   * Largest keepalive a client may ask for, seconds; 0 accepts any, including 0 = none (default 0).
   * aedes refuses a larger one with return code 6, which MQTT 3.1.1 does not define.
   */
  readonly keepaliveLimitSeconds?: number;
}

export interface EmbeddedBrokerOptions extends BrokerLimits {
  /**
   * The gateway's device-secret check (scrypt, ~60 ms). Called at most once per CONNECT, never
   * for throttled attempts or cached logins; a rejection answers CONNACK 3.
   */
  readonly authenticate: (deviceId: string, secret: Buffer) => Promise<DeviceAuthResult>;
  /** Every publish by an authenticated device that passed the ACL. Must be cheap; must not block. */
  readonly onDeviceMessage: DeviceMessageHandler;
  /**
   * When set, device publishes are handed here from `authorizePublish` instead of to
   * `onDeviceMessage`, and the broker acknowledges them (aedes writes PUBACK right after
   * authorizePublish answers, before it publishes) only when `done` is called: acknowledged
   * means stored. Wills, published by the broker itself, still go to `onDeviceMessage`.
   */
  readonly ingestBeforeAck?: DeviceMessageIngest;
  /** Development only (GRIDWATCH_MQTT_ALLOW_ANONYMOUS): clients without username may use topics outside gridwatch/. */
  readonly allowAnonymous?: boolean;
  readonly observer?: BrokerObserver;
  readonly clock?: Clock;
  readonly throttle?: AuthThrottleOptions;
  readonly authCache?: AuthCacheOptions;
  /** Plain MQTT listener; port 0 picks a free port (see `tcpPort`). */
  readonly tcp?: { readonly port: number; readonly host?: string };
  /** MQTT over TLS listener with PEM files. */
  readonly tls?: { readonly port: number; readonly host?: string; readonly certFile: string; readonly keyFile: string };
}

export interface PublishCommandOptions {
  readonly qos?: 0 | 1 | 2;
  readonly retain?: boolean;
}

export interface EmbeddedBroker {
  readonly aedes: Aedes;
  /** Bound port of the TCP listener, or null when there is none. */
  readonly tcpPort: number | null;
  readonly tlsPort: number | null;
  /** Serve MQTT over WebSocket on `server` at `path`; other upgrade paths are left alone. Returns a detach function. */
  attachWebSocket(server: HttpServer, path?: string): () => void;
  /** Distinct devices with at least one open connection. */
  connectedDevices(): number;
  /** Publishes to `gridwatch/v1/{deviceId}/command/{name}` (QoS 1 by default). */
  publishCommand(deviceId: string, name: string, payload: Buffer | string, options?: PublishCommandOptions): Promise<void>;
  /** Drops a device's cached login and closes its connections (call on disable or secret change). */
  forgetDevice(deviceId: string): void;
  close(): Promise<void>;
}

type Identity = { readonly kind: 'device'; readonly deviceId: string } | { readonly kind: 'anonymous' };

interface ConnectFacts {
  readonly clientId: string;
  readonly clean: boolean;
  readonly will: ConnectPacket['will'];
}

const RETURN_CODE = { identifierRejected: 2, serverUnavailable: 3, badCredentials: 4, notAuthorized: 5 } as const;

const AUTH_RETURN_CODES: Record<AuthRefusalReason, number> = {
  unknown_device: RETURN_CODE.badCredentials,
  bad_secret: RETURN_CODE.badCredentials,
  disabled: RETURN_CODE.notAuthorized,
  throttled: RETURN_CODE.notAuthorized,
  anonymous_refused: RETURN_CODE.notAuthorized,
  bad_client_id: RETURN_CODE.identifierRejected,
  will_refused: RETURN_CODE.notAuthorized,
  auth_unavailable: RETURN_CODE.serverUnavailable,
};

/** Raised for refused publishes; marks errors the observer has already been told about. */
class RefusedPublishError extends Error {
  constructor(readonly reason: AclRefusalReason) {
    super(`publish refused: ${reason}`);
    this.name = 'RefusedPublishError';
  }
}

/**
 * Largest MQTT packet read at all: the payload limit plus the most a PUBLISH can add around it
 * (2-byte topic length + a topic of up to 65 535 bytes + packet id). Anything larger cannot pass
 * `authorizePublish`, so the connection is cut as soon as its fixed header announces the size,
 * before the body is buffered (MQTT allows 256 MB, and the parser has no limit of its own).
 */
function packetLimit(maxPayloadBytes: number): number {
  return maxPayloadBytes + 2 + 65_535 + 2;
}

/** Client ids claimed by devices: bounds what a long-running broker remembers. */
const MAX_OWNED_CLIENT_IDS = 100_000;

export async function createEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const clock = options.clock ?? systemClock;
  const observer = options.observer ?? {};
  const limits: BrokerLimits = options;
  const maxPayloadBytes = limits.maxPayloadBytes ?? 64 * 1024;
  const maxTopicLevels = limits.maxTopicLevels ?? 8;
  if (maxTopicLevels < DEVICE_TOPIC_LEVELS) {
    throw new RangeError(`limits.maxTopicLevels must be at least ${DEVICE_TOPIC_LEVELS} (gridwatch/v1/{id}/command/{name})`);
  }
  const allowAnonymous = options.allowAnonymous ?? false;
  const throttle = new AuthThrottle(clock, options.throttle);
  const cache = new AuthCache(clock, options.authCache);

  const identities = new WeakMap<Client, Identity>();
  const connectFacts = new WeakMap<Client, ConnectFacts>();
  /** Client id → the device that last used it (so no one else can take the session over). */
  const clientIdOwners = new Map<string, string>();
  /** deviceId → open connections (a device may hold several sessions). */
  const deviceConnections = new Map<string, Set<Client>>();
  /** deviceId → authenticated connections, ready or not yet (what `forgetDevice` must close). */
  const deviceSessions = new Map<string, Set<Client>>();
  const inflightVerifies = new Map<string, Promise<DeviceAuthResult>>();

  function notify<K extends keyof BrokerObserver>(name: K, event: Parameters<NonNullable<BrokerObserver[K]>>[0]): void {
    const hook = observer[name] as ((e: typeof event) => void) | undefined;
    if (!hook) return;
    try {
      hook.call(observer, event);
    } catch {
      // An observer is metrics and logging; it never gets to break the broker.
    }
  }

  function remoteAddressOf(client: Client): string {
    const socket = client.conn as Partial<Socket>;
    return socket.remoteAddress ?? client.req?.socket.remoteAddress ?? 'unknown';
  }

  function verify(deviceId: string, secret: Buffer, digest: Buffer): Promise<DeviceAuthResult> {
    const key = `${deviceId}\0${digest.toString('hex')}`;
    let pending = inflightVerifies.get(key);
    if (!pending) {
      pending = Promise.resolve()
        .then(() => options.authenticate(deviceId, secret))
        .finally(() => inflightVerifies.delete(key));
      inflightVerifies.set(key, pending);
    }
    return pending;
  }

  function rememberOwner(clientId: string, deviceId: string): void {
    clientIdOwners.delete(clientId);
    clientIdOwners.set(clientId, deviceId);
    while (clientIdOwners.size > MAX_OWNED_CLIENT_IDS) {
      const oldest = clientIdOwners.keys().next();
      if (oldest.done) break;
      clientIdOwners.delete(oldest.value);
    }
  }

  function willDecision(identity: Identity, will: ConnectFacts['will']): boolean {
    if (!will) return true;
    const size = will.payload ? Buffer.byteLength(will.payload) : 0;
    if (size > maxPayloadBytes) return false;
    const decision =
      identity.kind === 'device'
        ? mayDevicePublish(identity.deviceId, will.topic, maxTopicLevels)
        : mayAnonymousPublish(will.topic, maxTopicLevels);
    return decision.ok;
  }

  async function decideConnect(client: Client, username: string | undefined, password: Buffer | undefined): Promise<Identity | AuthRefusalReason> {
    const facts = connectFacts.get(client) ?? { clientId: client.id, clean: client.clean, will: undefined };
    connectFacts.delete(client);
    const address = remoteAddressOf(client);
    const addressKey = `addr:${address}`;

    if (facts.clientId.length > MAX_CLIENT_ID_LENGTH) return 'bad_client_id';
    if (facts.clientId === '' && !emptyClientIdAllowed(facts.clean)) return 'bad_client_id'; // [MQTT-3.1.3-8]

    if (username === undefined || username === '') {
      if (!allowAnonymous) return 'anonymous_refused';
      // A client id a device has used belongs to that device's session.
      if (clientIdOwners.has(facts.clientId)) return 'bad_client_id';
      const identity: Identity = { kind: 'anonymous' };
      return willDecision(identity, facts.will) ? identity : 'will_refused';
    }

    const deviceId = username;
    const deviceKey = `device:${deviceId}`;
    if (throttle.isBlocked(addressKey) || throttle.isBlocked(deviceKey)) return 'throttled';

    const fail = (reason: 'unknown_device' | 'bad_secret'): AuthRefusalReason => {
      throttle.recordFailure(addressKey);
      throttle.recordFailure(deviceKey);
      cache.forget(deviceId);
      return reason;
    };
    if (!isDeviceId(deviceId)) return fail('unknown_device');

    // A server-assigned id (empty, clean=true) is random and cannot collide with another session.
    if (facts.clientId !== '') {
      if (!clientIdAllowedForDevice(deviceId, facts.clientId)) return 'bad_client_id';
      const owner = clientIdOwners.get(facts.clientId);
      // The device whose id *is* the client id always wins it back.
      if (owner !== undefined && owner !== deviceId && facts.clientId !== deviceId) return 'bad_client_id';
    }
    const identity: Identity = { kind: 'device', deviceId };
    if (!willDecision(identity, facts.will)) return 'will_refused';
    if (!password || password.length === 0) return fail('bad_secret');

    const digest = secretDigest(password);
    if (!cache.has(deviceId, digest)) {
      const result = await verify(deviceId, password, digest);
      if (result === 'unknown_device' || result === 'bad_secret') return fail(result);
      if (result === 'disabled') {
        cache.forget(deviceId);
        return 'disabled';
      }
      if (result !== 'ok') return 'auth_unavailable';
      cache.remember(deviceId, digest);
    }
    throttle.recordSuccess(deviceKey);
    if (facts.clientId !== '') rememberOwner(facts.clientId, deviceId);
    return identity;
  }

  function trackSession(deviceId: string, client: Client): void {
    let sessions = deviceSessions.get(deviceId);
    if (!sessions) deviceSessions.set(deviceId, (sessions = new Set()));
    sessions.add(client);
    client.conn.once('close', () => {
      sessions.delete(client);
      if (sessions.size === 0 && deviceSessions.get(deviceId) === sessions) deviceSessions.delete(deviceId);
    });
  }

  function authError(reason: AuthRefusalReason): Error & { returnCode: number } {
    return Object.assign(new Error(`connection refused: ${reason}`), { returnCode: AUTH_RETURN_CODES[reason] });
  }

  function aclRefused(
    client: Client,
    identity: Identity | undefined,
    action: 'publish' | 'subscribe',
    reason: AclRefusalReason,
    topic: string,
    size?: number,
  ): void {
    notify('aclRefused', {
      action,
      reason,
      deviceId: identity?.kind === 'device' ? identity.deviceId : null,
      clientId: client.id,
      topic,
      ...(size === undefined ? {} : { size }),
    });
  }

  /** Packets handed to ingestBeforeAck, so `published` does not ingest them a second time. */

  const ingestedBeforeAck = new WeakSet<object>();

  const deviceMessage = (deviceId: string, packet: { topic: string; payload: Buffer | string; qos: 0 | 1 | 2; retain?: boolean }): DeviceMessage => ({

    deviceId,

    topic: packet.topic,

    payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),

    qos: packet.qos,

    retain: packet.retain === true,

  });

  const aedes = await Aedes.createBroker({
    connectTimeout: limits.connectTimeoutMs ?? 10_000,
    maxInflightInbound: limits.maxInflightPerClient ?? 64,
    queueLimit: limits.queueLimit ?? 16,
    concurrency: limits.concurrency ?? 100,
    drainTimeout: limits.drainTimeoutMs ?? 30_000,
    keepaliveLimit: limits.keepaliveLimitSeconds ?? 0,
    // Our own, lower limit is checked in the authorize hooks so refusals are counted; aedes's
    // ceiling (100) stays as the guard for its topic matcher.

    preConnect(client, packet, callback) {
      // authenticate() sees neither the raw client id (aedes has already replaced an empty one)
      // nor the will, so keep them for it.
      connectFacts.set(client, { clientId: packet.clientId ?? '', clean: packet.clean !== false, will: packet.will });
      callback(null, true);
    },

    authenticate(client, username, password, callback) {
      decideConnect(client, username, password).then(
        (outcome) => {
          if (typeof outcome === 'string') {
            notify('authRefused', {
              reason: outcome,
              clientId: client.id,
              deviceId: username === undefined || username === '' ? null : username,
              remoteAddress: remoteAddressOf(client),
            });
            callback(authError(outcome), false);
            return;
          }
          identities.set(client, outcome);
          if (outcome.kind === 'device') trackSession(outcome.deviceId, client);
          callback(null, true);
        },
        (error: unknown) => {
          notify('clientError', { clientId: client.id, deviceId: null, error: asError(error) });
          notify('authRefused', {
            reason: 'auth_unavailable',
            clientId: client.id,
            deviceId: username ?? null,
            remoteAddress: remoteAddressOf(client),
          });
          callback(authError('auth_unavailable'), false);
        },
      );
    },

    authorizePublish(client, packet, callback) {
      if (client === null) {
        // Only a will left by an earlier connection reaches here; wills are checked at CONNECT.
        return callback(packet.topic.startsWith('$') ? new Error('$ topics are reserved') : null);
      }
      const identity = identities.get(client);
      const size = packetSize(packet.payload);
      let decision: AclDecision;
      if (!identity) decision = { ok: false, reason: 'topic_not_permitted' };
      else if (identity.kind === 'device') decision = mayDevicePublish(identity.deviceId, packet.topic, maxTopicLevels);
      else decision = mayAnonymousPublish(packet.topic, maxTopicLevels);
      if (!decision.ok) {
        aclRefused(client, identity, 'publish', decision.reason, packet.topic, size);
        return callback(new RefusedPublishError(decision.reason));
      }
      if (size > maxPayloadBytes) {
        aclRefused(client, identity, 'publish', 'oversize_payload', packet.topic, size);
        return callback(new RefusedPublishError('oversize_payload'));
      }
      if (identity?.kind === 'device' && options.ingestBeforeAck) {
        ingestedBeforeAck.add(packet);
        const message = deviceMessage(identity.deviceId, packet);
        try {
          options.ingestBeforeAck(message, () => callback(null));
        } catch (error) {
          notify('clientError', { clientId: client.id, deviceId: identity.deviceId, error: asError(error) });
          callback(null);
        }
        return;
      }
      callback(null);
    },

    authorizeSubscribe(client, subscription: Subscription, callback) {
      const identity = identities.get(client);
      let decision: AclDecision;
      if (!identity) decision = { ok: false, reason: 'topic_not_permitted' };
      else if (identity.kind === 'device') decision = mayDeviceSubscribe(identity.deviceId, subscription.topic, maxTopicLevels);
      else decision = mayAnonymousSubscribe(subscription.topic, maxTopicLevels);
      if (!decision.ok) {
        aclRefused(client, identity, 'subscribe', decision.reason, subscription.topic);
        // (null, null) is aedes's "refuse this topic": SUBACK 0x80 for it, the others granted
        // [MQTT-3.9.3]. An error instead would drop the connection, and on a session restore
        // would fail the CONNECT.
        return callback(null, null);
      }
      callback(null, subscription);
    },

    authorizeForward(client, packet: AedesPublishPacket) {
      // Behind the subscribe ACL, so that nothing queued in a persistent session can reach a
      // client that may not see it.
      const identity = identities.get(client);
      if (!identity) return null;
      if (identity.kind === 'device') return mayDeviceReceive(identity.deviceId, packet.topic) ? packet : null;
      return mayAnonymousReceive(packet.topic) ? packet : null;
    },

    published(packet, client, callback) {
      const identity = client ? identities.get(client) : undefined;
      // Already ingested before it was acknowledged (see ingestBeforeAck).
      if (ingestedBeforeAck.delete(packet)) return callback(null);
      if (identity?.kind === 'device') {
        try {
          options.onDeviceMessage(deviceMessage(identity.deviceId, packet));
        } catch (error) {
          notify('clientError', { clientId: client.id, deviceId: identity.deviceId, error: asError(error) });
        }
      }
      callback(null);
    },
  });

  aedes.on('clientReady', (client) => {
    const identity = identities.get(client);
    // A client closed between its CONNACK and this event (takeover, forgetDevice) is not counted.
    if (identity?.kind !== 'device' || client.closed) return;
    let open = deviceConnections.get(identity.deviceId);
    if (!open) deviceConnections.set(identity.deviceId, (open = new Set()));
    open.add(client);
    notify('deviceConnected', { deviceId: identity.deviceId, clientId: client.id, remoteAddress: remoteAddressOf(client) });
  });

  aedes.on('clientDisconnect', (client) => {
    const identity = identities.get(client);
    if (identity?.kind !== 'device') return;
    const open = deviceConnections.get(identity.deviceId);
    if (!open?.delete(client)) return;
    if (open.size === 0) deviceConnections.delete(identity.deviceId);
    notify('deviceDisconnected', { deviceId: identity.deviceId, clientId: client.id, remoteAddress: remoteAddressOf(client) });
  });

  const reportClientError = (client: Client | null, error: Error): void => {
    // Refused CONNECTs (errorCode set by aedes) and refused publishes were reported already.
    if (error instanceof RefusedPublishError || 'errorCode' in error) return;
    const identity = client ? identities.get(client) : undefined;
    notify('clientError', {
      clientId: client?.id ?? null,
      deviceId: identity?.kind === 'device' ? identity.deviceId : null,
      error,
    });
  };
  aedes.on('clientError', reportClientError);
  aedes.on('connectionError', reportClientError);
  // aedes emits 'error' for persistence failures; unhandled, an EventEmitter 'error' would crash.
  (aedes as EventEmitter).on('error', (error: Error) => reportClientError(null, error));

  const maxPacketBytes = packetLimit(maxPayloadBytes);

  /**
   * Every transport goes through here. The size check wraps the client's packet parser
   * (aedes `client._parser`, an mqtt-packet Parser, whose `packet.length` is the announced
   * remaining length of the packet in progress). Should those internals change, the check
   * switches itself off and `authorizePublish` still enforces the payload limit.
   */
  function handleConnection(conn: Duplex, req?: IncomingMessage): void {
    const client = aedes.handle(conn, req);
    const parser = (client as unknown as { _parser?: ParserInternals })._parser;
    if (!parser || typeof parser.parse !== 'function') return;
    const parse = parser.parse.bind(parser);
    parser.parse = (buffer: Buffer) => {
      const left = parse(buffer);
      const announced = parser.packet?.length ?? -1;
      if (announced > maxPacketBytes && !conn.destroyed) {
        const identity = identities.get(client);
        if (parser.packet?.cmd === 'publish' && identity) {
          aclRefused(client, identity, 'publish', 'oversize_payload', '', announced);
        } else {
          notify('clientError', {
            clientId: client.id ?? null,
            deviceId: identity?.kind === 'device' ? identity.deviceId : null,
            error: new Error(`${parser.packet?.cmd ?? 'packet'} of ${announced} bytes exceeds the ${maxPacketBytes}-byte limit`),
          });
        }
        conn.destroy();
      }
      return left;
    };
  }

  const servers: (NetServer | TlsServer)[] = [];
  const detachers = new Set<() => void>();
  let closed = false;

  async function listen(server: NetServer | TlsServer, port: number, host: string | undefined): Promise<number> {
    servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // A listener error after start-up (e.g. EMFILE) is reported, not thrown.
    server.on('error', (error) => reportClientError(null, error));
    return (server.address() as AddressInfo).port;
  }

  let tcpPort: number | null = null;
  let tlsPort: number | null = null;
  try {
    if (options.tcp) {
      // TCP_NODELAY: Nagle's algorithm holds a small packet (a PUBACK, a command) until the
      // previous segment is acknowledged, and with the peer's delayed ACK that is up to 40 ms on
      // Linux per message. MQTT packets are small and latency matters (alarms): send at once.
      tcpPort = await listen(createNetServer({ noDelay: true }, (socket) => handleConnection(socket)), options.tcp.port, options.tcp.host);
    }
    if (options.tls) {
      const tlsServer = createTlsServer(
        { cert: readFileSync(options.tls.certFile), key: readFileSync(options.tls.keyFile), noDelay: true },
        (socket) => handleConnection(socket),
      );
      tlsPort = await listen(tlsServer, options.tls.port, options.tls.host);
    }
  } catch (error) {
    await closeAll();
    throw error;
  }

  async function closeAll(): Promise<void> {
    for (const detach of detachers) detach();
    const serversClosed = servers.map(
      (server) => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve())),
    );
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await Promise.all(serversClosed);
  }

  return {
    aedes,
    tcpPort,
    tlsPort,

    attachWebSocket(server: HttpServer, path = '/mqtt'): () => void {
      const wss = new WebSocketServer({ noServer: true });
      const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
        if (pathOf(req.url) !== path) return;
        wss.handleUpgrade(req, socket, head, (ws) => {
          handleConnection(createWebSocketStream(ws), req);
        });
      };
      server.on('upgrade', onUpgrade);
      const detach = (): void => {
        server.off('upgrade', onUpgrade);
        for (const ws of wss.clients) ws.terminate();
        wss.close();
        detachers.delete(detach);
      };
      detachers.add(detach);
      return detach;
    },

    connectedDevices: () => deviceConnections.size,

    publishCommand(deviceId, name, payload, publishOptions = {}) {
      if (!isDeviceId(deviceId)) return Promise.reject(new TypeError(`not a device id: '${deviceId}'`));
      if (!isCommandName(name)) return Promise.reject(new TypeError(`not a command name: '${name}'`));
      const packet: PublishPacket = {
        cmd: 'publish',
        topic: commandTopic(deviceId, name),
        payload: typeof payload === 'string' ? Buffer.from(payload) : payload,
        qos: publishOptions.qos ?? 1,
        retain: publishOptions.retain ?? false,
        dup: false,
      };
      return new Promise<void>((resolve, reject) => aedes.publish(packet, (error) => (error ? reject(error) : resolve())));
    },

    forgetDevice(deviceId) {
      cache.forget(deviceId);
      for (const client of deviceSessions.get(deviceId) ?? []) client.close();
    },

    async close() {
      if (closed) return;
      closed = true;
      await closeAll();
    },
  };
}

interface ParserInternals {
  parse(buffer: Buffer): number;
  packet?: { length?: number; cmd?: string };
}

function packetSize(payload: PublishPacket['payload']): number {
  return typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
}

function pathOf(url: string | undefined): string {
  if (!url) return '';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
