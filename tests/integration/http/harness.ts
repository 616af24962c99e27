/**
 * Builds the HTTP app over the real SQLite stores (an in-memory database) and a small site: one street with two communities, three
 * buildings, a few devices and one token per role. Time is a fake clock the test moves.
 */
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildHttpApp, type HttpAppOptions } from '../../../gateway/src/adapters/http/app.js';
import type { HealthReport, HttpDeps } from '../../../gateway/src/adapters/http/deps.js';
import { generateSecret, generateToken, hashSecret, hashToken } from '../../../gateway/src/adapters/secrets.js';
import { KINDS } from '../../../gateway/src/domain/kinds/index.js';
import type { ApiRole, ApiToken, Clock, DeviceState } from '../../../gateway/src/ports.js';
import { openDatabase, type Database } from '../../../gateway/src/adapters/sqlite/database.js';
import { SqliteAlertStore } from '../../../gateway/src/adapters/sqlite/alert-store.js';
import { SqliteCaseStore } from '../../../gateway/src/adapters/sqlite/case-store.js';
import { SqliteOutbox } from '../../../gateway/src/adapters/notify/index.js';
import { Cases } from '../../../gateway/src/app/cases.js';
import pino from 'pino';
import { SqliteAuditStore } from '../../../gateway/src/adapters/sqlite/audit-store.js';
import { EventBus } from '../../../gateway/src/adapters/http/event-bus.js';
import { SqliteDeadLetterStore } from '../../../gateway/src/adapters/sqlite/dead-letters.js';
import { SqliteRuleOverridesStore } from '../../../gateway/src/adapters/sqlite/rule-overrides-store.js';
import { SqliteSiteStore } from '../../../gateway/src/adapters/sqlite/site-store.js';
import { SqliteTimeSeries } from '../../../gateway/src/adapters/sqlite/time-series.js';
import { StoreAlertService } from './support/alerts.js';
import { StoreRuleService } from './support/rules.js';

export const T0 = Date.UTC(2025, 5, 1, 12, 0, 0);

export class FakeClock implements Clock {
  constructor(public t: number = T0) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

export interface Harness {
  app: FastifyInstance;
  clock: FakeClock;
  db: Database;
  site: SqliteSiteStore;
  /** Buffers writes: call `flush()` before reading back. */
  series: SqliteTimeSeries;
  deadLetters: SqliteDeadLetterStore;
  states: Map<string, DeviceState>;
  /** Alerts over the real SqliteAlertStore (save alerts with `alerts.add(...)`). */
  alerts: StoreAlertService;
  /** Rule settings over the real SqliteRuleOverridesStore. */
  rules: StoreRuleService;
  /** The live event bus behind GET /api/v1/events (publish to it to feed open streams). */
  events: EventBus;
  /** The audit log over the real SqliteAuditStore. */
  audit: SqliteAuditStore;
  /** Grid cases: the real Cases service over SqliteCaseStore, with an outbox that is never started (notices stay queued). */
  cases: Cases;
  outbox: SqliteOutbox;
  /** Bearer tokens by name: admin, staff (community c1), staffStreet (street s1), captain (building b1), integrator. */
  tokens: Record<'admin' | 'staff' | 'staffStreet' | 'captain' | 'integrator', string>;
  health: { report: HealthReport };
  /** Secrets handed out by registerDevice, to prove the answer carries the real one. */
  issuedSecrets: string[];
  request(method: InjectOptions['method'], url: string, token?: string, body?: unknown): Promise<LightMyRequestResponse>;
  addToken(role: ApiRole, scope?: string[], extra?: Partial<ApiToken>): string;
  close(): Promise<void>;
}

export async function createHarness(options: HttpAppOptions = {}, overrides: Partial<HttpDeps> = {}): Promise<Harness> {
  const clock = new FakeClock();
  const db = openDatabase(':memory:');
  const site = new SqliteSiteStore(db);
  const series = new SqliteTimeSeries(db, { clock });
  const deadLetters = new SqliteDeadLetterStore(db);
  const states = new Map<string, DeviceState>();
  const alerts = new StoreAlertService(new SqliteAlertStore(db), clock);
  const rules = new StoreRuleService(new SqliteRuleOverridesStore(db), site, clock);
  const events = new EventBus({ clock, capacity: 50 });
  const audit = new SqliteAuditStore(db);
  const outbox = new SqliteOutbox(db, { senders: [], clock });
  const issuedSecrets: string[] = [];
  const health = { report: { status: 'ok', checks: { sink: { ok: true, detail: 'embedded store', pending: 0 } } } as HealthReport };

  seedSite(site, clock);
  const cases = new Cases({ db, clock, log: pino({ level: 'silent' }), site, store: new SqliteCaseStore(db), outbox, newId: caseIds() });

  const deps: HttpDeps = {
    clock,
    site,
    tokens: site,
    timeSeries: series,
    deadLetters,
    kinds: KINDS,
    deviceState: (id) => states.get(id),
    async registerDevice(input) {
      const secret = generateSecret();
      issuedSecrets.push(secret);
      // Cheap scrypt parameters: the test is about the API, not the KDF's cost.
      const device = site.createDevice(input, await hashSecret(secret, { N: 1024, r: 8, p: 1 }), clock.now());
      return { device, secret };
    },
    health: () => health.report,
    metricsText: async () => '# HELP gridwatch_up 1 when up\n# TYPE gridwatch_up gauge\ngridwatch_up 1\n',
    mqtt: { topicRoot: 'gridwatch/v1', tcpUrl: 'mqtt://127.0.0.1:1883', webSocketPath: '/mqtt' },
    alerts,
    rules,
    events,
    audit,
    cases,
    ...overrides,
  };

  let n = 0;
  const addToken = (role: ApiRole, scope: string[] = [], extra: Partial<ApiToken> = {}): string => {
    const token = generateToken();
    site.createToken(
      { id: `t-${role}-${++n}`, name: `${role} ${n}`, role, scope, createdAt: clock.now(), expiresAt: null, revoked: false, ...extra },
      hashToken(token),
    );
    return token;
  };
  const tokens = {
    admin: addToken('admin'),
    staff: addToken('staff', ['c1']),
    staffStreet: addToken('staff', ['s1']),
    captain: addToken('captain', ['b1']),
    integrator: addToken('integrator'),
  };

  const app = await buildHttpApp(deps, options);
  await app.ready();
  return {
    app,
    clock,
    db,
    site,
    series,
    deadLetters,
    states,
    alerts,
    rules,
    events,
    audit,
    cases,
    outbox,
    tokens,
    health,
    issuedSecrets,
    addToken,
    request(method, url, token, body) {
      const headers: Record<string, string> = {};
      if (token !== undefined) headers.authorization = `Bearer ${token}`;
      return app.inject({ method, url, headers, ...(body === undefined ? {} : { payload: body as object }) });
    },
    async close() {
      await app.close();
      await series.close();
      db.close();
    },
  };
}

/**
 * s1 (street) ─ c1 (community) ─ g1 ─ b1, b2
 *             └ c2 (community) ─ g2 ─ b3
 * s2 (street) ─ c3 ─ g3 (no buildings)
 */
function seedSite(site: SqliteSiteStore, clock: Clock): void {
  site.upsertStreet({ id: 's1', code: '110105001', name: 'Jianguomen Street' });
  site.upsertStreet({ id: 's2', code: '110105002', name: 'Chaowai Street' });
  site.upsertCommunity({ id: 'c1', streetId: 's1', code: '110105001001', name: 'East Community' });
  site.upsertCommunity({ id: 'c2', streetId: 's1', code: '110105001002', name: 'West Community' });
  site.upsertCommunity({ id: 'c3', streetId: 's2', code: '110105002001', name: 'North Community' });
  site.upsertGrid({ id: 'g1', communityId: 'c1', code: '11010500100101', name: 'Grid 1' });
  site.upsertGrid({ id: 'g2', communityId: 'c2', code: '11010500100201', name: 'Grid 2' });
  site.upsertGrid({ id: 'g3', communityId: 'c3', code: '11010500200101', name: 'Grid 3' });
  site.upsertBuilding({ id: 'b1', gridId: 'g1', name: 'Building 1', address: '1 East Road', floors: 18 });
  site.upsertBuilding({ id: 'b2', gridId: 'g1', name: 'Building 2', address: null, floors: 6 });
  site.upsertBuilding({ id: 'b3', gridId: 'g2', name: 'Building 3', address: '3 West Road', floors: null });
  site.upsertPerson({ id: 'p1', name: 'Captain Li', role: 'captain', scope: ['b1'], channels: [{ type: 'sms', target: '+8613800000001' }] });
  site.upsertPerson({ id: 'p2', name: 'Worker Wang', role: 'grid_worker', scope: ['g2'], channels: [{ type: 'wecom', target: 'wang' }] });
  site.upsertPerson({ id: 'p3', name: 'Dispatcher Zhao', role: 'street_dispatcher', scope: ['s2'], channels: [] });
  const at = clock.now() - 86_400_000;
  site.upsertDevice({ id: 'smoke-b1-01', kind: 'smoke', buildingId: 'b1', floor: 3, name: 'Stairwell 3F', parentId: null }, 'x', at);
  site.upsertDevice({ id: 'door-b1-01', kind: 'door', buildingId: 'b1', floor: 1, name: 'Main door', parentId: null }, 'x', at);
  site.upsertDevice({ id: 'smoke-b2-01', kind: 'smoke', buildingId: 'b2', floor: 2, name: null, parentId: null }, 'x', at);
  site.upsertDevice({ id: 'camera-b3-01', kind: 'camera', buildingId: 'b3', floor: null, name: 'Gate camera', parentId: null }, 'x', at);
}

/** Readable, ordered case ids for the HTTP tests. */
function caseIds(): () => string {
  let n = 0;
  return () => `case-${String(++n).padStart(4, '0')}`;
}
