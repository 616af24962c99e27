/**
 * Prometheus metrics. One registry per gateway (not prom-client's global one), so several gateways
 * can live in one test process. Names follow Prometheus conventions: `_total` for counters, base
 * units, labels with bounded values only (reasons and channels, never device ids).
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { CHANNELS, type Channel } from '../domain/message.js';
import { REJECTION_REASONS, type RejectionReason } from '../domain/rejection.js';
import type { TimeSeriesSink } from '../ports.js';

/**
 * A counter the ingest path bumps once per message: a plain number per label value, handed to
 * prom-client only when /metrics is scraped. prom-client's own inc() validates and hashes the
 * labels on every call, which showed in the ingest profile (bench/README.md).
 */
class Tally {
  private readonly counts = new Map<string, number>();
  private readonly exported = new Map<string, number>();

  add(label: string): void {
    this.counts.set(label, (this.counts.get(label) ?? 0) + 1);
  }

  /** Moves what was counted since the last scrape into the prom-client counter. */
  exportTo(counter: Counter<string>): void {
    for (const [label, count] of this.counts) {
      const delta = count - (this.exported.get(label) ?? 0);
      if (delta > 0) counter.labels(label).inc(delta);
      this.exported.set(label, count);
    }
  }
}

export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly tallies = { received: new Tally(), accepted: new Tally(), rejected: new Tally(), stored: new Tally() };
  readonly received: Counter<'channel'>;
  readonly accepted: Counter<'channel'>;
  readonly rejected: Counter<'reason'>;
  readonly stored: Counter<'sink'>;
  readonly authRefused: Counter<'reason'>;
  readonly aclRefused: Counter<'action'>;
  readonly connectedDevices: Gauge;
  readonly sinkPending: Gauge<'sink'>;
  readonly sinkLag: Gauge<'sink'>;
  readonly deadLetters: Gauge;
  readonly alertsOpen: Gauge<'class' | 'state'>;
  readonly notifications: Gauge<'status'>;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'gridwatch_process_' });
    const tallies = this.tallies;
    this.received = new Counter({ name: 'gridwatch_messages_received_total', help: 'MQTT messages received from devices', labelNames: ['channel'], registers, collect() { tallies.received.exportTo(this); } });
    this.accepted = new Counter({ name: 'gridwatch_messages_accepted_total', help: 'Messages accepted by the ingest pipeline', labelNames: ['channel'], registers, collect() { tallies.accepted.exportTo(this); } });
    this.rejected = new Counter({ name: 'gridwatch_messages_rejected_total', help: 'Messages rejected, by reason', labelNames: ['reason'], registers, collect() { tallies.rejected.exportTo(this); } });
    this.stored = new Counter({ name: 'gridwatch_readings_handed_to_sink_total', help: 'Readings and events handed to each time-series sink', labelNames: ['sink'], registers, collect() { tallies.stored.exportTo(this); } });
    this.authRefused = new Counter({ name: 'gridwatch_mqtt_auth_refused_total', help: 'MQTT connections refused, by reason', labelNames: ['reason'], registers });
    this.aclRefused = new Counter({ name: 'gridwatch_mqtt_acl_refused_total', help: 'Publishes and subscriptions refused by the ACL', labelNames: ['action'], registers });
    this.connectedDevices = new Gauge({ name: 'gridwatch_mqtt_connected_devices', help: 'Devices connected to the embedded broker', registers });
    this.sinkPending = new Gauge({ name: 'gridwatch_sink_pending', help: 'Messages not yet durably written (spooled or buffered), per sink', labelNames: ['sink'], registers });
    this.sinkLag = new Gauge({ name: 'gridwatch_sink_lag_seconds', help: 'Age of the oldest pending message, per sink', labelNames: ['sink'], registers });
    this.deadLetters = new Gauge({ name: 'gridwatch_dead_letters', help: 'Rejected messages kept for inspection', registers });
    this.alertsOpen = new Gauge({ name: 'gridwatch_alerts_open', help: 'Open alerts by signal class and state', labelNames: ['class', 'state'], registers });
    this.notifications = new Gauge({ name: 'gridwatch_notifications', help: 'Notifications in the outbox by status (failed = every channel of the person failed)', labelNames: ['status'], registers });
    // Export every label value from the start, so a zero is a zero and not a missing series.
    for (const channel of CHANNELS) {
      this.received.labels(channel).inc(0);
      this.accepted.labels(channel).inc(0);
    }
    for (const reason of Object.keys(REJECTION_REASONS)) this.rejected.labels(reason).inc(0);
  }

  /** Refreshes gauges that are read from other components, right before a scrape. */
  observeSinks(sinks: readonly TimeSeriesSink[]): void {
    for (const sink of sinks) {
      const h = sink.health();
      this.sinkPending.labels(sink.name).set(h.pending);
      this.sinkLag.labels(sink.name).set(h.lagMs / 1000);
    }
  }

  countReceived(channel: Channel | null): void {
    this.tallies.received.add(channel ?? 'unknown');
  }

  countAccepted(channel: Channel): void {
    this.tallies.accepted.add(channel);
  }

  countRejected(reason: RejectionReason): void {
    this.tallies.rejected.add(reason);
  }

  countStored(sink: string): void {
    this.tallies.stored.add(sink);
  }
}
