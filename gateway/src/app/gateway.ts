/**
 * The composition root: reads nothing itself (the config is passed in), builds every adapter,
 * wires the pipeline, and starts listeners only in start(). Tests build a whole gateway in-process
 * on port 0 with a temp data dir; main.ts does the same for real.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pino, { type Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import { createEmbeddedBroker, type EmbeddedBroker } from '../../../broker/src/embedded-broker.js';
import { runFleet, type Fleet } from '../../../simulators/src/fleet.js';
import { DeviceStates, presentStatus } from '../domain/device-state.js';
import { Ingest } from '../domain/ingest.js';
import { KINDS, kindById } from '../domain/kinds/index.js';
import { buildHttpApp } from '../adapters/http/app.js';
import type { HealthCheck, HealthReport } from '../adapters/http/deps.js';
import { InfluxSink } from '../adapters/influx/influx-sink.js';
import { EventBus, alertEvent, caseEvent, deviceStatusEvent } from '../adapters/http/event-bus.js';
import { SqliteAuditStore } from '../adapters/sqlite/audit-store.js';
import { alertChangeToLine, caseChangeToLine } from '../adapters/influx/line-protocol.js';
import type { HierarchyPlace } from '../domain/message.js';
import { connectExternalBroker, type ExternalSource } from '../adapters/mqtt/external-source.js';
import { generateSecret, generateToken, hashSecret, hashToken, verifySecret } from '../adapters/secrets.js';
import { openDatabase, type Database } from '../adapters/sqlite/database.js';
import { SqliteDeadLetterStore } from '../adapters/sqlite/dead-letters.js';
import { SqliteSiteStore } from '../adapters/sqlite/site-store.js';
import { SqliteTimeSeries } from '../adapters/sqlite/time-series.js';
import { SqliteAlertStore } from '../adapters/sqlite/alert-store.js';
import { SqliteRuleOverridesStore } from '../adapters/sqlite/rule-overrides-store.js';
import { createChannelSenders, SqliteOutbox } from '../adapters/notify/index.js';
import { DEFAULT_ESCALATION_POLICY } from '../domain/alerts/escalation.js';
import type { OccupancySchedule } from '../domain/rules/occupancy.js';
import { Alerting } from './alerting.js';
import { SqliteCaseStore } from '../adapters/sqlite/case-store.js';
import { Cases } from './cases.js';
import { systemClock, type Clock, type DeviceState, type NewDevice, type TimeSeriesSink } from '../ports.js';
import type { Config } from './config.js';
import { GatewayMetrics } from './metrics.js';
import { Pipeline } from './pipeline.js';
import { applySite, checkSiteConsistency, DEMO_SITE_FILE, readSiteFile, siteAlerting, SiteFileError, type SiteFile } from './site-file.js';

const TOPIC_ROOT = 'gridwatch/v1';
const STATE_FLUSH_MS = 5_000;
const PRUNE_EVERY_MS = 6 * 3600_000;

export interface GatewayOptions {
  readonly config: Config;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Demo fleet speed factor (tests raise it). */
  readonly demoTelemetryEverySeconds?: number;
}

export interface Gateway {
  readonly config: Config;
  readonly log: Logger;
  readonly site: SqliteSiteStore;
  readonly pipeline: Pipeline;
  readonly metrics: GatewayMetrics;
  readonly deviceStates: DeviceStates;
  readonly sinks: readonly TimeSeriesSink[];
  readonly http: FastifyInstance;
  readonly alerting: Alerting;
  readonly cases: Cases;
  readonly outbox: SqliteOutbox;
  /** Set when this start generated the admin token (printed once, never stored in clear). */
  readonly generatedAdminToken: string | null;
  /** Listening addresses, known after start(). */
  httpUrl(): string;
  mqttUrl(): string;
  /** Registers a device and returns its secret (shown once). */
  registerDevice(input: NewDevice): Promise<{ secret: string }>;
  health(): HealthReport;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const { config } = options;
  const clock = options.clock ?? systemClock;
  const log = options.logger ?? createLogger(config);

  mkdirSync(config.dataDir, { recursive: true });
  const db: Database = openDatabase(path.join(config.dataDir, 'gridwatch.db'));
  const site = new SqliteSiteStore(db);
  const deadLetters = new SqliteDeadLetterStore(db, { capacity: config.ingest.deadLetterCapacity });
  const embeddedSeries = new SqliteTimeSeries(db, { retentionDays: config.retentionDays, clock });
  const sinks: TimeSeriesSink[] = [embeddedSeries];
  if (config.influx) {
    sinks.push(
      new InfluxSink({
        ...config.influx,
        spoolFile: path.join(config.dataDir, 'influx-spool.db'),
        kindById,
        clock,
        onError: (err) => log.warn({ err: err.message }, 'influx write failed; spooled for replay'),
      }),
    );
  }

  const siteFiles: Array<{ file: string; site: SiteFile }> = [];
  for (const file of [config.demo ? DEMO_SITE_FILE : null, config.siteFile].filter((f): f is string => f !== null)) {
    const parsed = await readSiteFile(file);
    const problems = checkSiteConsistency(parsed, kindById);
    if (problems.length > 0) throw new SiteFileError(file, problems);
    siteFiles.push({ file, site: parsed });
  }
  for (const { file, site: parsed } of siteFiles) {
    const counts = await applySite(parsed, site, (s) => hashSecret(s), clock.now());
    log.info({ file, ...counts }, 'site file applied');
  }

  const generatedAdminToken = ensureAdminToken(config, site, clock, log);

  const metrics = new GatewayMetrics();
  const deviceStates = new DeviceStates(site.deviceStates());
  const ingest = new Ingest(
    { device: (id) => site.device(id), kind: kindById, place: (buildingId) => hierarchyOf(site, buildingId) },
    {
      maxPayloadBytes: config.mqtt.maxPayloadBytes,
      maxFutureSkewMs: config.ingest.maxFutureSkewS * 1000,
      maxPastAgeMs: config.ingest.maxPastAgeS * 1000,
      dedupWindow: 64,
    },
    TOPIC_ROOT,
  );
  const pipeline = new Pipeline({ ingest, sinks, deadLetters, deviceStates, metrics, log, durable: embeddedSeries });

  const alertStore = new SqliteAlertStore(db);
  const ruleOverrides = new SqliteRuleOverridesStore(db);
  const occupancy = new Map<string, OccupancySchedule>();
  for (const { site: parsed } of siteFiles) {
    const alerting = siteAlerting(parsed);
    for (const [buildingId, schedule] of alerting.occupancy) occupancy.set(buildingId, schedule);
    // The site file is declarative: at start, the rules it states win over earlier API edits.
    for (const o of alerting.ruleOverrides) ruleOverrides.set(o.level, o.id, o.overrides, 'site-file', clock.now());
  }
  const notifyLog = {
    info: (obj: object, msg: string) => log.info(obj, msg),
    warn: (obj: object, msg: string) => log.warn(obj, msg),
    error: (obj: object, msg: string) => log.error(obj, msg),
  };
  const outbox = new SqliteOutbox(db, {
    senders: createChannelSenders(
      {
        webhook: { secret: config.notify.webhookSecret },
        smtp: config.notify.smtp ? { ...config.notify.smtp, auth: config.notify.smtp.auth } : null,
        sms: config.notify.sms,
      },
      { clock, log: notifyLog },
    ),
    clock,
    log: notifyLog,
  });
  if (config.notify.sms.provider === 'log' && site.people().some((p) => p.channels.some((c) => c.type === 'sms'))) {
    // The log provider records the SMS as handled; say loudly that no phone will ring.
    log.warn('people have SMS channels but no SMS provider is configured (GRIDWATCH_SMS_PROVIDER): SMS are only logged');
  }
  const alerting = new Alerting({
    db,
    clock,
    log,
    site,
    kind: kindById,
    store: alertStore,
    overrides: ruleOverrides,
    outbox,
    policy: DEFAULT_ESCALATION_POLICY,
    occupancy: (buildingId) => occupancy.get(buildingId),
    ackLinks: { key: ackLinkKey(config.dataDir), publicBaseUrl: config.notify.publicUrl, ttlMs: config.notify.ackLinkTtlS * 1000 },
  });
  pipeline.onAccepted((accepted) => alerting.onAccepted(accepted));
  // Live events for the console (SSE): alert changes and device status, filtered by scope in the route.
  const events = new EventBus({ clock, onListenerError: (err) => log.error({ err }, 'live event stream failed') });
  alerting.onChange((change) => events.publish(alertEvent(change)));
  pipeline.onAccepted((accepted) => {
    if (accepted.channel === 'status') events.publish(deviceStatusEvent(accepted.status));
  });
  const audit = new SqliteAuditStore(db);
  // Grid cases open from alert changes (fire and forced door at once, others when a case is due).
  const cases = new Cases({ db, clock, log, site, store: new SqliteCaseStore(db), outbox });
  alerting.onChange((change) => cases.onAlertChange(change));
  cases.onChange((change) => events.publish(caseEvent(change)));
  // Alert state changes go to InfluxDB too, through the same spool, so Grafana can chart them.
  const influxSink = sinks.find((s): s is InfluxSink => s instanceof InfluxSink);
  if (influxSink) alerting.onChange((change) => influxSink.writeLines([alertChangeToLine(change, ingest.place(change.alert.source.buildingId))]));
  if (influxSink) cases.onChange((change) => influxSink.writeLines([caseChangeToLine(change, ingest.place(change.case.buildingId))]));

  // Comparing against a real hash even for unknown devices keeps response time from telling
  // an attacker which device ids exist.
  const decoyHash = await hashSecret(generateSecret());
  const authenticate = async (deviceId: string, secret: Buffer): Promise<'ok' | 'unknown_device' | 'bad_secret' | 'disabled'> => {
    const device = site.device(deviceId);
    const stored = device ? site.deviceSecretHash(deviceId) : undefined;
    const match = await verifySecret(secret.toString('utf8'), stored ?? decoyHash);
    if (device === undefined) return 'unknown_device';
    if (stored === undefined || !match) return 'bad_secret';
    return device.disabled ? 'disabled' : 'ok';
  };

  let broker: EmbeddedBroker | null = null;
  let external: ExternalSource | null = null;
  let externalState: 'connecting' | 'connected' | 'disconnected' | 'error' = 'connecting';
  let fleet: Fleet | null = null;
  const timers: NodeJS.Timeout[] = [];
  let started = false;

  const registerDevice = async (input: NewDevice): Promise<{ secret: string }> => {
    const secret = generateSecret();
    site.createDevice(input, await hashSecret(secret), clock.now());
    return { secret };
  };

  const health = (): HealthReport => {
    const checks: Record<string, HealthCheck> = {};
    if (config.mqtt.url === null) {
      checks.broker = { ok: broker !== null, detail: broker ? `embedded, ${broker.connectedDevices()} devices connected` : 'not started' };
    } else {
      checks.broker = { ok: externalState === 'connected', detail: `external ${redactUrl(config.mqtt.url)}: ${externalState}` };
    }
    for (const sink of sinks) {
      const h = sink.health();
      checks[`sink:${sink.name}`] = { ok: h.ok, detail: h.detail, pending: h.pending, lagSeconds: Math.round(h.lagMs / 1000) };
    }
    const n = outbox.counts();
    checks.notifications = { ok: n.failedSinceStart === 0, detail: `${n.pending} pending, ${n.failedSinceStart} failed on every channel since start`, pending: n.pending, failed: n.failed };
    const storageOk = embeddedSeries.health().ok;
    const allOk = Object.values(checks).every((c) => c.ok);
    return { status: !storageOk || !checks.broker?.ok ? 'down' : allOk ? 'ok' : 'degraded', checks };
  };

  const http = await buildHttpApp(
    {
      clock,
      site,
      tokens: site,
      timeSeries: embeddedSeries,
      deadLetters,
      kinds: KINDS,
      deviceState: (id) => presentable(deviceStates.get(id), id),
      registerDevice: async (input) => {
        const { secret } = await registerDevice(input);
        const device = site.device(input.id);
        if (device === undefined) throw new Error(`device '${input.id}' vanished after registration`);
        return { device, secret };
      },
      alerts: alerting,
      rules: alerting,
      events,
      audit,
      cases,
      health,
      metricsText: async () => {
        metrics.observeSinks(sinks);
        metrics.connectedDevices.set(broker?.connectedDevices() ?? 0);
        metrics.deadLetters.set(deadLetters.count());
        metrics.alertsOpen.reset();
        for (const a of alertStore.open()) metrics.alertsOpen.labels(a.signalClass, a.state).inc();
        const n = outbox.counts();
        for (const status of ['pending', 'sent', 'failed'] as const) metrics.notifications.labels(status).set(n[status]);
        return metrics.registry.metrics();
      },
      mqtt: {
        topicRoot: TOPIC_ROOT,
        tcpUrl: config.mqtt.url === null ? `mqtt://{host}:${config.mqtt.port}` : null,
        webSocketPath: config.mqtt.url === null && config.mqtt.webSocket ? '/mqtt' : null,
      },
    },
    { logger: false },
  );

  /** Shows 'offline' for a device silent past its kind's threshold (the alert rules refine this). */
  function presentable(state: DeviceState | undefined, deviceId: string): DeviceState | undefined {
    if (state === undefined) return undefined;
    const device = site.device(deviceId);
    const kind = device ? kindById(device.kind) : undefined;
    if (kind === undefined) return state;
    return presentStatus(state, kind.heartbeat.offlineAfterS, clock.now()) === 'stale' ? { ...state, status: 'offline' } : state;
  }

  async function start(): Promise<void> {
    if (started) return;
    started = true;
    await http.listen({ port: config.http.port, host: config.http.host });
    if (config.mqtt.url === null) {
      broker = await createEmbeddedBroker({
        authenticate,
        allowAnonymous: config.mqtt.allowAnonymous,
        maxPayloadBytes: config.mqtt.maxPayloadBytes,
        tcp: { port: config.mqtt.port, host: config.mqtt.host },
        ...(config.mqtt.tls ? { tls: { port: config.mqtt.tls.port, host: config.mqtt.host, certFile: config.mqtt.tls.certFile, keyFile: config.mqtt.tls.keyFile } } : {}),
        clock,
        onDeviceMessage: (m) => pipeline.handle({ topic: m.topic, payload: m.payload, publisher: m.deviceId, receivedAt: clock.now() }),
        // Acknowledged means stored: a QoS 1 message the device saw acknowledged survives a crash.
        ingestBeforeAck: (m, done) => pipeline.handleThenAck({ topic: m.topic, payload: m.payload, publisher: m.deviceId, receivedAt: clock.now() }, m.qos, done),
        observer: {
          authRefused: (e) => {
            metrics.authRefused.labels(e.reason).inc();
            log.warn({ reason: e.reason, clientId: e.clientId, remote: e.remoteAddress }, 'mqtt connection refused');
            if (e.reason === 'throttled' && e.deviceId !== null) credentialGuessing(e.deviceId, e.remoteAddress);
          },
          aclRefused: (e) => {
            metrics.aclRefused.labels(e.action).inc();
            log.warn({ action: e.action, deviceId: e.deviceId, topic: e.topic }, 'mqtt acl refused');
          },
        },
      });
      if (config.mqtt.webSocket) broker.attachWebSocket(http.server, '/mqtt');
    } else {
      external = await connectExternalBroker({
        url: config.mqtt.url,
        ...(config.mqtt.username ? { username: config.mqtt.username } : {}),
        ...(config.mqtt.password ? { password: config.mqtt.password } : {}),
        ...(config.mqtt.clientId ? { clientId: config.mqtt.clientId } : {}),
        topicRoot: TOPIC_ROOT,
        onDeviceMessage: (m) => pipeline.handle({ topic: m.topic, payload: m.payload, publisher: null, receivedAt: clock.now() }),
        onStatus: (state, detail) => {
          externalState = state;
          log.info({ state, detail }, 'external broker');
        },
      });
      if (external.connected()) externalState = 'connected';
    }
    outbox.start();
    alerting.start();
    cases.start();
    timers.push(setInterval(() => persistStates(), STATE_FLUSH_MS).unref());
    timers.push(setInterval(() => prune(), PRUNE_EVERY_MS).unref());
    if (config.demo) fleet = await startDemoFleet();
    log.info({ http: httpUrl(), mqtt: mqttUrl() }, 'gridwatch started');
  }

  /**
   * Someone keeps trying a registered device's secret: the broker has throttled them. Raised on
   * the device (its building's captain and security chain are told) as a one-off security alarm,
   * like a camera's illegal login; repeats count on the same alert.
   */
  function credentialGuessing(deviceId: string, remoteAddress: string): void {
    const device = site.device(deviceId);
    if (device === undefined) return;
    const at = clock.now();
    const signal = {
      source: { deviceId, kind: device.kind, buildingId: device.buildingId, floor: device.floor },
      type: 'mqtt.credential_guessing',
      signalClass: 'alarm' as const,
      at,
      title: 'Device secret being guessed',
      titleZh: '设备密钥被反复猜测',
      detail: `Repeated wrong secrets for ${device.name ?? deviceId} from ${remoteAddress}; further attempts are throttled`,
      attrs: { remoteAddress },
    };
    alerting.raise([
      { action: 'raise', ...signal },
      { action: 'clear', ...signal },
    ]);
  }

  /** Retention: readings per config, delivered notifications after 30 days, the audit log after a year. */
  function prune(): void {
    const now = clock.now();
    void embeddedSeries.prune(now);
    try {
      outbox.prune(now - 30 * 86_400_000);
      audit.prune(now - 365 * 86_400_000);
    } catch (err) {
      log.error({ err }, 'pruning old notifications or audit entries failed');
    }
  }

  function persistStates(): void {
    try {
      const dirty = deviceStates.takeDirty();
      if (dirty.length > 0) site.saveDeviceStates(dirty);
    } catch (err) {
      log.error({ err }, 'saving device states failed');
    }
  }

  async function startDemoFleet(): Promise<Fleet> {
    const demo = siteFiles.find((f) => f.file === DEMO_SITE_FILE)?.site;
    const devices: Array<{ id: string; kind: string; secret: string }> = [];
    const ids: Array<{ id: string; kind: string }> = [];
    for (const street of demo?.streets ?? [])
      for (const c of street.communities ?? [])
        for (const g of c.grids ?? []) for (const b of g.buildings ?? []) for (const d of b.devices ?? []) ids.push({ id: d.id, kind: d.kind });
    await Promise.all(
      ids.map(async ({ id, kind }) => {
        const secret = generateSecret();
        const existing = site.device(id);
        if (existing) site.upsertDevice({ id, kind, buildingId: existing.buildingId, floor: existing.floor, name: existing.name, parentId: existing.parentId }, await hashSecret(secret), clock.now());
        devices.push({ id, kind, secret });
      }),
    );
    log.info({ devices: devices.length }, 'demo fleet starting');
    return runFleet({
      mqttUrl: `mqtt://127.0.0.1:${broker?.tcpPort ?? config.mqtt.port}`,
      devices,
      telemetryEverySeconds: options.demoTelemetryEverySeconds ?? 5,
      seed: 2026,
      logger: (line) => log.debug({ fleet: line }, 'demo fleet'),
    });
  }

  function httpUrl(): string {
    const address = http.server.address();
    if (address === null || typeof address === 'string') return `http://${config.http.host}:${config.http.port}`;
    const host = address.address === '0.0.0.0' || address.address === '::' ? '127.0.0.1' : address.address;
    return `http://${host}:${address.port}`;
  }

  function mqttUrl(): string {
    if (config.mqtt.url !== null) return redactUrl(config.mqtt.url);
    return `mqtt://127.0.0.1:${broker?.tcpPort ?? config.mqtt.port}`;
  }

  async function stop(): Promise<void> {
    for (const t of timers) clearInterval(t);
    timers.length = 0;
    await fleet?.stop();
    fleet = null;
    await external?.close();
    external = null;
    await broker?.close();
    broker = null;
    await http.close();
    cases.stop();
    alerting.stop();
    await outbox.stop();
    for (const sink of sinks) {
      await sink.flush().catch((err: unknown) => log.error({ err, sink: sink.name }, 'final flush failed'));
      await sink.close();
    }
    persistStates();
    db.close();
    started = false;
  }

  return {
    config,
    log,
    site,
    pipeline,
    metrics,
    deviceStates,
    sinks,
    http,
    alerting,
    cases,
    outbox,
    generatedAdminToken,
    httpUrl,
    mqttUrl,
    registerDevice,
    health,
    start,
    stop,
  };
}

/**
 * The admin token: GRIDWATCH_ADMIN_TOKEN when set; otherwise one generated on first start, stored
 * hashed and returned so main.ts can print it once.
 */
function ensureAdminToken(config: Config, store: SqliteSiteStore, clock: Clock, log: Logger): string | null {
  if (config.adminToken !== null) {
    const hash = hashToken(config.adminToken);
    const id = `admin-env-${hash.slice(0, 8)}`;
    // A changed GRIDWATCH_ADMIN_TOKEN retires the previous one.
    for (const t of store.tokens()) if (t.id.startsWith('admin-env-') && t.id !== id && !t.revoked) store.revokeToken(t.id);
    if (store.tokenByHash(hash) === undefined) {
      store.createToken({ id, name: 'admin (GRIDWATCH_ADMIN_TOKEN)', role: 'admin', scope: [], createdAt: clock.now(), expiresAt: null, revoked: false }, hash);
    }
    return null;
  }
  if (store.tokens().some((t) => t.role === 'admin' && !t.revoked)) return null;
  const token = generateToken();
  const hash = hashToken(token);
  store.createToken({ id: `admin-${hash.slice(0, 8)}`, name: 'admin (generated on first start)', role: 'admin', scope: [], createdAt: clock.now(), expiresAt: null, revoked: false }, hash);
  log.info('generated an admin API token on first start; it is printed once on standard output');
  return token;
}

export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({
    level: config.logLevel,
    redact: { paths: ['secret', '*.secret', 'password', '*.password', 'token', '*.token', 'req.headers.authorization'], censor: '[redacted]' },
  });
}

/** The grid, community and street above a building, for the time series' hierarchy tags. */
function hierarchyOf(site: SqliteSiteStore, buildingId: string): HierarchyPlace | undefined {
  const building = site.building(buildingId);
  if (building === undefined) return undefined;
  const grid = site.grids().find((g) => g.id === building.gridId);
  const community = grid ? site.communities().find((c) => c.id === grid.communityId) : undefined;
  return { gridId: building.gridId, ...(grid ? { communityId: grid.communityId } : {}), ...(community ? { streetId: community.streetId } : {}) };
}

/**
 * The key that signs acknowledge links: 32 random bytes made on first start and kept in the data
 * dir (mode 0600), so links stay valid across restarts and are never derivable from anything else.
 */
function ackLinkKey(dataDir: string): Buffer {
  const file = path.join(dataDir, 'ack-link.key');
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' });
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length < 16) throw new Error(`${file} holds no usable key; delete it to make a new one (outstanding links stop working)`);
  return key;
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '[invalid url]';
  }
}

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../../package.json', import.meta.url)), 'utf8')) as { version: string };
  return pkg.version;
}
