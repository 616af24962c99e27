/**
 * What the HTTP adapter needs from the rest of the gateway. The composition root builds this from
 * the real stores and the pipeline; tests build it from the same stores on an in-memory database.
 */
import type { KindDefinition } from '../../domain/kind.js';
import type { Device } from '../../domain/site.js';
import type {
  AlertService,
  AuditLog,
  Clock,
  DeadLetterStore,
  DeviceState,
  NewDevice,
  RuleService,
  SiteStore,
  TimeSeriesReader,
  TokenStore,
} from '../../ports.js';

export interface HealthCheck {
  ok: boolean;
  detail: string;
  [extra: string]: unknown;
}

export interface HealthReport {
  status: 'ok' | 'degraded' | 'down';
  checks: Record<string, HealthCheck>;
}

/** What the live stream carries (GET /api/v1/events); every event belongs to one building. */
export const LIVE_EVENT_TYPES = ['alert', 'device_status', 'case'] as const;
export type LiveEventType = (typeof LIVE_EVENT_TYPES)[number];

export interface LiveEvent {
  /** Increasing within a run; the SSE `id:` a client sends back as Last-Event-ID. */
  readonly id: number;
  readonly type: LiveEventType;
  /** Scope filter: a caller sees the event only when it sees this building. */
  readonly buildingId: string;
  readonly at: number;
  /** JSON the console renders (an alert summary, a device status, a case). */
  readonly data: unknown;
}

/** Live events for the SSE stream: the composition root publishes, each open stream subscribes. */
export interface LiveEventFeed {
  publish(event: { type: LiveEventType; buildingId: string; data: unknown }): LiveEvent;
  /** Returns the unsubscribe function. */
  subscribe(listener: (event: LiveEvent) => void): () => void;
  /**
   * Events after `sinceId`, oldest first, for a reconnecting client; null when `sinceId` is older
   * than what is kept (or from an earlier run): the client must reload instead of replaying.
   */
  recent(sinceId: number): LiveEvent[] | null;
}

export interface HttpDeps {
  clock: Clock;
  /** Hierarchy and devices (synchronous reads). */
  site: SiteStore;
  tokens: TokenStore;
  timeSeries: TimeSeriesReader;
  deadLetters: DeadLetterStore;
  kinds: readonly KindDefinition[];
  deviceState(deviceId: string): DeviceState | undefined;
  /** Creates the device and returns its secret (shown once); the app hashes it. Throws DeviceExistsError. */
  registerDevice(input: NewDevice): Promise<{ device: Device; secret: string }>;
  health(): HealthReport;
  /** Prometheus exposition text. */
  metricsText(): Promise<string>;
  /** Alert list, history and operator actions (the alert lifecycle behind them is the app's). */
  alerts: AlertService;
  /** Effective rules per device and the building/device overrides. */
  rules: RuleService;
  /** Live alerts, device status changes and cases for GET /api/v1/events. */
  events: LiveEventFeed;
  /** Mutating requests and refused authentications (GET /api/v1/audit). */
  audit: AuditLog;
  /** Shown in device registration answers. */
  mqtt: { topicRoot: string; tcpUrl: string | null; webSocketPath: string | null };
  /** Grid cases: list, detail, transitions, and the cases behind KPIs and reports (app/cases.ts). */
  cases: import('../../ports.js').CaseService;
}
