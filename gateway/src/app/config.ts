/**
 * One typed configuration, read once at start from the environment (prefix GRIDWATCH_) and the
 * command line, validated as a whole: a bad configuration lists every problem at once and the
 * process exits non-zero, instead of failing on the first and hiding the rest.
 */
import path from 'node:path';

export interface Config {
  readonly mode: 'development' | 'production';
  readonly demo: boolean;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly dataDir: string;
  readonly siteFile: string | null;
  readonly adminToken: string | null;
  readonly http: { readonly host: string; readonly port: number };
  readonly mqtt: {
    readonly host: string;
    /** Embedded broker TCP port; 0 picks a free one. */
    readonly port: number;
    /** External broker URL: when set, no embedded broker runs and the gateway subscribes as a client. */
    readonly url: string | null;
    readonly username: string | null;
    readonly password: string | null;
    /** The gateway's client id on the external broker; stable, since its session holds QoS 1 messages while it is away. */
    readonly clientId: string | null;
    readonly allowAnonymous: boolean;
    readonly webSocket: boolean;
    readonly tls: { readonly port: number; readonly certFile: string; readonly keyFile: string } | null;
    readonly maxPayloadBytes: number;
  };
  readonly influx: { readonly url: string; readonly token: string; readonly org: string; readonly bucket: string } | null;
  readonly ingest: {
    readonly maxFutureSkewS: number;
    readonly maxPastAgeS: number;
    readonly deadLetterCapacity: number;
  };
  readonly retentionDays: number;
  readonly notify: {
    /** Base of the links put in notifications (acknowledge links): how people's phones reach this gateway. */
    readonly publicUrl: string;
    readonly ackLinkTtlS: number;
    readonly webhookSecret: string | null;
    readonly smtp: { readonly host: string; readonly port: number; readonly secure: boolean; readonly auth: { readonly user: string; readonly pass: string } | null; readonly from: string } | null;
    readonly sms:
      | { readonly provider: 'log' }
      | { readonly provider: 'aliyun'; readonly accessKeyId: string; readonly accessKeySecret: string; readonly signName: string; readonly templateCode: string };
  };
}

/** Every variable the gateway reads, with its meaning and default: the README table is checked against it. */
export const ENV_VARIABLES = {
  GRIDWATCH_MODE: 'development | production. Production refuses unsafe settings (anonymous MQTT, demo, no admin token).',
  GRIDWATCH_DEMO: 'true loads the demo site and runs simulated sensors in-process (also `--demo`).',
  GRIDWATCH_LOG_LEVEL: 'fatal, error, warn, info (default), debug, trace, silent.',
  GRIDWATCH_DATA_DIR: 'Where the SQLite database, spool and generated secrets live (default ./data).',
  GRIDWATCH_SITE_FILE: 'YAML or JSON site file (hierarchy, people, devices) applied at start.',
  GRIDWATCH_ADMIN_TOKEN: 'Admin API token (at least 24 characters). Unset: one is generated on first start, stored hashed and printed once.',
  GRIDWATCH_HTTP_HOST: 'HTTP bind address (default 0.0.0.0).',
  GRIDWATCH_HTTP_PORT: 'HTTP port for the API, console, /health, /metrics and MQTT over WebSocket (default 8080).',
  GRIDWATCH_MQTT_HOST: 'Embedded broker bind address (default 0.0.0.0).',
  GRIDWATCH_MQTT_PORT: 'Embedded broker TCP port (default 1883).',
  GRIDWATCH_MQTT_URL: 'Use this external broker (mqtt://, mqtts://) instead of the embedded one.',
  GRIDWATCH_MQTT_USERNAME: "The gateway's own username on the external broker.",
  GRIDWATCH_MQTT_PASSWORD: "The gateway's own password on the external broker.",
  GRIDWATCH_MQTT_CLIENT_ID: "The gateway's client id on the external broker (default gridwatch-gateway-{hostname}); keep it stable.",
  GRIDWATCH_MQTT_ALLOW_ANONYMOUS: 'Development only: clients without credentials may use topics outside gridwatch/ (default false).',
  GRIDWATCH_MQTT_WEBSOCKET: 'Serve MQTT over WebSocket at /mqtt on the HTTP port (default true).',
  GRIDWATCH_MQTT_TLS_PORT: 'Port of an additional MQTT-over-TLS listener (needs the cert and key files).',
  GRIDWATCH_MQTT_TLS_CERT: 'PEM certificate file for the TLS listener.',
  GRIDWATCH_MQTT_TLS_KEY: 'PEM private key file for the TLS listener.',
  GRIDWATCH_MQTT_MAX_PAYLOAD_BYTES: 'Largest accepted MQTT payload (default 65536).',
  GRIDWATCH_INFLUX_URL: 'InfluxDB 2 URL; when set, readings also go to InfluxDB through a durable spool.',
  GRIDWATCH_INFLUX_TOKEN: 'InfluxDB API token (required with the URL).',
  GRIDWATCH_INFLUX_ORG: 'InfluxDB organisation (required with the URL).',
  GRIDWATCH_INFLUX_BUCKET: 'InfluxDB bucket (required with the URL).',
  GRIDWATCH_MAX_FUTURE_SKEW_S: 'Device timestamps further ahead than this are rejected (default 300).',
  GRIDWATCH_MAX_PAST_AGE_S: 'Device timestamps older than this are rejected (default 2592000, 30 days).',
  GRIDWATCH_DEAD_LETTER_CAPACITY: 'How many rejected messages are kept for inspection (default 10000).',
  GRIDWATCH_RETENTION_DAYS: 'Embedded time-series retention in days (default 30).',
  GRIDWATCH_PUBLIC_URL: 'Base URL people reach the gateway at, used in acknowledge links (default http://localhost:{HTTP port}).',
  GRIDWATCH_ACK_LINK_TTL_S: 'How long an acknowledge link in a notification stays valid (default 86400).',
  GRIDWATCH_WEBHOOK_SECRET: 'HMAC secret signing webhook notifications (a target may carry its own #secret=).',
  GRIDWATCH_SMTP_URL: 'SMTP server for e-mail notifications: smtp://user:pass@host:587 or smtps://…:465.',
  GRIDWATCH_SMTP_FROM: 'Sender of e-mail notifications (required with GRIDWATCH_SMTP_URL).',
  GRIDWATCH_SMS_PROVIDER: 'log (default: SMS are logged, phone masked) or aliyun.',
  GRIDWATCH_ALIYUN_ACCESS_KEY_ID: 'Alibaba Cloud SMS access key id (with GRIDWATCH_SMS_PROVIDER=aliyun).',
  GRIDWATCH_ALIYUN_ACCESS_KEY_SECRET: 'Alibaba Cloud SMS access key secret.',
  GRIDWATCH_ALIYUN_SMS_SIGN_NAME: 'Approved SMS signature name (签名名称).',
  GRIDWATCH_ALIYUN_SMS_TEMPLATE_CODE: 'Approved SMS template code with one variable for the text.',
} as const;

export type ConfigResult = { ok: true; config: Config } | { ok: false; problems: string[] };

type Env = Readonly<Record<string, string | undefined>>;

/** Parses and validates; never throws. `argv` understands `--demo`. */
export function loadConfig(env: Env, argv: readonly string[] = []): ConfigResult {
  const problems: string[] = [];
  const read = new Reader(env, problems);

  const mode = read.oneOf('GRIDWATCH_MODE', ['development', 'production'] as const, 'development');
  const demo = argv.includes('--demo') || read.bool('GRIDWATCH_DEMO', false);
  const logLevel = read.oneOf('GRIDWATCH_LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info');
  const dataDir = path.resolve(read.string('GRIDWATCH_DATA_DIR') ?? './data');
  const siteFile = read.string('GRIDWATCH_SITE_FILE');
  const adminToken = read.string('GRIDWATCH_ADMIN_TOKEN');
  if (adminToken !== null && adminToken.length < 24) problems.push('GRIDWATCH_ADMIN_TOKEN must be at least 24 characters');

  const mqttUrl = read.url('GRIDWATCH_MQTT_URL', ['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'ws:', 'wss:']);
  const allowAnonymous = read.bool('GRIDWATCH_MQTT_ALLOW_ANONYMOUS', false);
  const tlsPort = read.int('GRIDWATCH_MQTT_TLS_PORT', null, 0, 65535);
  const tlsCert = read.string('GRIDWATCH_MQTT_TLS_CERT');
  const tlsKey = read.string('GRIDWATCH_MQTT_TLS_KEY');
  if (tlsPort !== null && (tlsCert === null || tlsKey === null)) {
    problems.push('GRIDWATCH_MQTT_TLS_PORT needs GRIDWATCH_MQTT_TLS_CERT and GRIDWATCH_MQTT_TLS_KEY');
  }
  if (tlsPort === null && (tlsCert !== null || tlsKey !== null)) {
    problems.push('GRIDWATCH_MQTT_TLS_CERT/KEY are set but GRIDWATCH_MQTT_TLS_PORT is not');
  }

  const influxUrl = read.url('GRIDWATCH_INFLUX_URL', ['http:', 'https:']);
  const influxToken = read.string('GRIDWATCH_INFLUX_TOKEN');
  const influxOrg = read.string('GRIDWATCH_INFLUX_ORG');
  const influxBucket = read.string('GRIDWATCH_INFLUX_BUCKET');
  if (influxUrl !== null) {
    for (const [name, value] of [
      ['GRIDWATCH_INFLUX_TOKEN', influxToken],
      ['GRIDWATCH_INFLUX_ORG', influxOrg],
      ['GRIDWATCH_INFLUX_BUCKET', influxBucket],
    ] as const) {
      if (value === null) problems.push(`${name} is required when GRIDWATCH_INFLUX_URL is set`);
    }
  }

  const httpPort = read.int('GRIDWATCH_HTTP_PORT', 8080, 0, 65535) ?? 8080;
  const publicUrl = read.url('GRIDWATCH_PUBLIC_URL', ['http:', 'https:']) ?? `http://localhost:${httpPort}`;
  const smtpUrl = read.url('GRIDWATCH_SMTP_URL', ['smtp:', 'smtps:']);
  const smtpFrom = read.string('GRIDWATCH_SMTP_FROM');
  if (smtpUrl !== null && smtpFrom === null) problems.push('GRIDWATCH_SMTP_FROM is required when GRIDWATCH_SMTP_URL is set');
  const smsProvider = read.oneOf('GRIDWATCH_SMS_PROVIDER', ['log', 'aliyun'] as const, 'log');
  const aliyun = {
    accessKeyId: read.string('GRIDWATCH_ALIYUN_ACCESS_KEY_ID'),
    accessKeySecret: read.string('GRIDWATCH_ALIYUN_ACCESS_KEY_SECRET'),
    signName: read.string('GRIDWATCH_ALIYUN_SMS_SIGN_NAME'),
    templateCode: read.string('GRIDWATCH_ALIYUN_SMS_TEMPLATE_CODE'),
  };
  if (smsProvider === 'aliyun') {
    for (const [name, value] of Object.entries({
      GRIDWATCH_ALIYUN_ACCESS_KEY_ID: aliyun.accessKeyId,
      GRIDWATCH_ALIYUN_ACCESS_KEY_SECRET: aliyun.accessKeySecret,
      GRIDWATCH_ALIYUN_SMS_SIGN_NAME: aliyun.signName,
      GRIDWATCH_ALIYUN_SMS_TEMPLATE_CODE: aliyun.templateCode,
    })) {
      if (value === null) problems.push(`${name} is required when GRIDWATCH_SMS_PROVIDER=aliyun`);
    }
  }

  const config: Config = {
    mode,
    demo,
    logLevel,
    dataDir,
    siteFile: siteFile === null ? null : path.resolve(siteFile),
    adminToken,
    http: { host: read.string('GRIDWATCH_HTTP_HOST') ?? '0.0.0.0', port: httpPort },
    mqtt: {
      host: read.string('GRIDWATCH_MQTT_HOST') ?? '0.0.0.0',
      port: read.int('GRIDWATCH_MQTT_PORT', 1883, 0, 65535) ?? 1883,
      url: mqttUrl,
      username: read.string('GRIDWATCH_MQTT_USERNAME'),
      password: read.string('GRIDWATCH_MQTT_PASSWORD'),
      clientId: read.string('GRIDWATCH_MQTT_CLIENT_ID'),
      allowAnonymous,
      webSocket: read.bool('GRIDWATCH_MQTT_WEBSOCKET', true),
      tls: tlsPort !== null && tlsCert !== null && tlsKey !== null ? { port: tlsPort, certFile: path.resolve(tlsCert), keyFile: path.resolve(tlsKey) } : null,
      maxPayloadBytes: read.int('GRIDWATCH_MQTT_MAX_PAYLOAD_BYTES', 65536, 256, 256 * 1024 * 1024) ?? 65536,
    },
    influx:
      influxUrl !== null && influxToken !== null && influxOrg !== null && influxBucket !== null
        ? { url: influxUrl, token: influxToken, org: influxOrg, bucket: influxBucket }
        : null,
    ingest: {
      maxFutureSkewS: read.int('GRIDWATCH_MAX_FUTURE_SKEW_S', 300, 0, 365 * 86400) ?? 300,
      maxPastAgeS: read.int('GRIDWATCH_MAX_PAST_AGE_S', 30 * 86400, 60, 10 * 365 * 86400) ?? 30 * 86400,
      deadLetterCapacity: read.int('GRIDWATCH_DEAD_LETTER_CAPACITY', 10000, 10, 10_000_000) ?? 10000,
    },
    retentionDays: read.int('GRIDWATCH_RETENTION_DAYS', 30, 1, 3650) ?? 30,
    notify: {
      publicUrl: publicUrl.replace(/\/+$/, ''),
      ackLinkTtlS: read.int('GRIDWATCH_ACK_LINK_TTL_S', 86400, 60, 30 * 86400) ?? 86400,
      webhookSecret: read.string('GRIDWATCH_WEBHOOK_SECRET'),
      smtp: smtpUrl !== null && smtpFrom !== null ? parseSmtpUrl(smtpUrl, smtpFrom) : null,
      sms:
        smsProvider === 'aliyun' && aliyun.accessKeyId && aliyun.accessKeySecret && aliyun.signName && aliyun.templateCode
          ? { provider: 'aliyun', accessKeyId: aliyun.accessKeyId, accessKeySecret: aliyun.accessKeySecret, signName: aliyun.signName, templateCode: aliyun.templateCode }
          : { provider: 'log' },
    },
  };

  if (mode === 'production') {
    if (allowAnonymous) problems.push('GRIDWATCH_MQTT_ALLOW_ANONYMOUS=true is refused in production mode');
    if (demo) problems.push('demo mode is refused in production mode');
    if (adminToken === null) problems.push('production mode needs GRIDWATCH_ADMIN_TOKEN');
  }
  for (const name of Object.keys(env)) {
    if (name.startsWith('GRIDWATCH_') && !(name in ENV_VARIABLES)) problems.push(`${name} is not a gridwatch setting (typo?)`);
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, config };
}

function parseSmtpUrl(url: string, from: string): NonNullable<Config['notify']['smtp']> {
  const u = new URL(url);
  const secure = u.protocol === 'smtps:';
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : secure ? 465 : 587,
    secure,
    auth: u.username ? { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) } : null,
    from,
  };
}

class Reader {
  constructor(
    private readonly env: Env,
    private readonly problems: string[],
  ) {}

  string(name: string): string | null {
    const v = this.env[name];
    return v === undefined || v.trim() === '' ? null : v.trim();
  }

  bool(name: string, fallback: boolean): boolean {
    const v = this.string(name);
    if (v === null) return fallback;
    if (['true', '1', 'yes', 'on'].includes(v.toLowerCase())) return true;
    if (['false', '0', 'no', 'off'].includes(v.toLowerCase())) return false;
    this.problems.push(`${name} must be true or false, got '${v}'`);
    return fallback;
  }

  int(name: string, fallback: number | null, min: number, max: number): number | null {
    const v = this.string(name);
    if (v === null) return fallback;
    const n = Number(v);
    if (!/^-?\d+$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) {
      this.problems.push(`${name} must be an integer from ${min} to ${max}, got '${v}'`);
      return fallback;
    }
    return n;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const v = this.string(name);
    if (v === null) return fallback;
    if ((allowed as readonly string[]).includes(v)) return v as T;
    this.problems.push(`${name} must be one of ${allowed.join(', ')}, got '${v}'`);
    return fallback;
  }

  url(name: string, protocols: readonly string[]): string | null {
    const v = this.string(name);
    if (v === null) return null;
    try {
      const u = new URL(v);
      if (!protocols.includes(u.protocol)) {
        this.problems.push(`${name} must use ${protocols.join(' or ')}, got '${u.protocol}'`);
        return null;
      }
      return v;
    } catch {
      this.problems.push(`${name} is not a valid URL`);
      return null;
    }
  }
}
