/**
 * What the HTTP adapter needs from the rest of the gateway. The composition root builds this from
 * the real stores and the pipeline; tests build it from the same stores on an in-memory database.
 */
import type { KindDefinition } from '../../domain/kind.js';
import type { Device } from '../../domain/site.js';
import type {
  AlertService,
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
  /** Shown in device registration answers. */
  mqtt: { topicRoot: string; tcpUrl: string | null; webSocketPath: string | null };
}
