/**
 * A private Mosquitto for the benchmark: its own port and a temp config, so the machine's own
 * Mosquitto (if any) is never touched. Started fresh for each measurement: a gateway's persistent
 * session left behind would otherwise keep queueing messages during the next baseline.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort, sleep } from './common.js';

const BINARY = process.env.MOSQUITTO_BIN ?? (spawnSync('sh', ['-c', 'command -v mosquitto || ls /usr/sbin/mosquitto'], { encoding: 'utf8' }).stdout.trim().split('\n')[0] || 'mosquitto');

export function mosquittoAvailable(): boolean {
  return spawnSync(BINARY, ['-h'], { stdio: 'ignore' }).error === undefined;
}

export class Mosquitto {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<Mosquitto> {
    const port = await freePort();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gridwatch-bench-mosquitto-'));
    const conf = path.join(dir, 'mosquitto.conf');
    // max_queued_messages: the default (1000) makes Mosquitto drop QoS 1 messages for a subscriber
    // that falls behind for a moment; the benchmark wants to see the subscriber's rate, not drops.
    writeFileSync(conf, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'max_queued_messages 1000000', 'log_dest none', ''].join('\n'));
    const child = spawn(BINARY, ['-c', conf], { stdio: 'ignore' });
    const m = new Mosquitto(child, dir, port);
    const deadline = Date.now() + 10_000;
    while (!(await listening(port))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await m.stop();
        throw new Error(`mosquitto did not start on port ${port}`);
      }
      await sleep(50);
    }
    return m;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      this.child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
