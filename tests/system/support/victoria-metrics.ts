/**
 * Runs Debian's `victoria-metrics` binary as a child process for system tests: a real
 * time-series database that ingests InfluxDB line protocol on /api/v2/write.
 *
 * Flags, and why:
 * - `-dedup.minScrapeInterval=1ms`: keep one sample per series and millisecond. InfluxDB
 *   overwrites a point with the same series and timestamp; VictoriaMetrics keeps both unless told
 *   to deduplicate, and 1 ms (its timestamp resolution) is exactly "same timestamp".
 * - `-search.disableCache`, `-search.latencyOffset=0s`: what was written is visible to queries at
 *   once (after /internal/force_flush), instead of after the default 30 s.
 * Installed by .ci/install-system-deps.sh.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

export interface ExportedSeries {
  readonly metric: Record<string, string>;
  readonly values: number[];
  readonly timestamps: number[];
}

const BINARY = process.env.VICTORIA_METRICS_BIN ?? 'victoria-metrics';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export class VictoriaMetrics {
  private child: ChildProcess | null = null;
  private output = '';

  private constructor(
    readonly port: number,
    readonly storageDir: string,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(storageDir: string, port?: number): Promise<VictoriaMetrics> {
    const vm = new VictoriaMetrics(port ?? (await freePort()), storageDir);
    await vm.restart();
    return vm;
  }

  running(): boolean {
    return this.child !== null;
  }

  /** Starts (again) on the same port and storage directory. */
  async restart(): Promise<void> {
    if (this.child) throw new Error('victoria-metrics is already running');
    const child = spawn(
      BINARY,
      [
        `-httpListenAddr=127.0.0.1:${this.port}`,
        `-storageDataPath=${this.storageDir}`,
        '-dedup.minScrapeInterval=1ms',
        '-search.disableCache',
        '-search.latencyOffset=0s',
        '-loggerLevel=WARN',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-8000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const spawnError = new Promise<never>((_, reject) =>
      child.once('error', (err) =>
        reject(new Error(`cannot run '${BINARY}' (install it with .ci/install-system-deps.sh): ${err.message}`)),
      ),
    );
    child.once('exit', () => {
      if (this.child === child) this.child = null;
    });
    await Promise.race([this.waitHealthy(30_000), spawnError]);
  }

  /**
   * Stops the process as an outage would (SIGTERM: VictoriaMetrics flushes what it acknowledged;
   * SIGKILL would also lose its own in-memory buffer of acknowledged rows, which no client can
   * prevent). Resolves once the process has exited and the port is closed.
   */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
    this.child = null;
  }

  /** Makes recently ingested rows searchable now. */
  async forceFlush(): Promise<void> {
    const res = await fetch(`${this.url}/internal/force_flush`);
    if (!res.ok) throw new Error(`force_flush: HTTP ${res.status}`);
  }

  /** Raw samples of every series matching the selector (after deduplication). */
  async export(selector: string): Promise<ExportedSeries[]> {
    const body = new URLSearchParams({ 'match[]': selector, start: '0' });
    const res = await fetch(`${this.url}/api/v1/export`, { method: 'POST', body });
    if (!res.ok) throw new Error(`export ${selector}: HTTP ${res.status} ${await res.text()}`);
    const text = await res.text();
    return text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as ExportedSeries);
  }

  /** Rows received over line protocol since this process started, duplicates included. */
  async influxRowsInserted(): Promise<number> {
    const res = await fetch(`${this.url}/metrics`);
    const text = await res.text();
    const match = /^vm_rows_inserted_total\{type="influx"\} (\d+)/m.exec(text);
    return match ? Number(match[1]) : 0;
  }

  recentOutput(): string {
    return this.output;
  }

  private async waitHealthy(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.child) throw new Error(`victoria-metrics exited during start-up:\n${this.output}`);
      try {
        const res = await fetch(`${this.url}/health`);
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`victoria-metrics not healthy on ${this.url} after ${timeoutMs} ms:\n${this.output}`);
  }
}
