/**
 * The gateway as a separate process, started the way operators start it (`node --import tsx
 * gateway/src/app/main.ts`), with its settings in the environment, on fixed free ports so a
 * restart comes back where devices look for it. Used where a test must kill it for real.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const MAIN = path.resolve('gateway/src/app/main.ts');

export class ChildGateway {
  private child: ChildProcess | null = null;
  output = '';

  constructor(
    readonly env: Record<string, string>,
    readonly httpPort: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  async start(): Promise<void> {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const keep = (c: Buffer) => (this.output = (this.output + c.toString()).slice(-20_000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.once('exit', () => {
      if (this.child === child) this.child = null;
    });
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (this.child === null) throw new Error(`gateway exited during start-up:\n${this.output}`);
      const ok = await fetch(`${this.url}/health`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`gateway not healthy after 30 s:\n${this.output}`);
  }

  running(): boolean {
    return this.child !== null;
  }

  /** Sends the signal and resolves when the process has exited. */
  async kill(signal: NodeJS.Signals): Promise<number | null> {
    const child = this.child;
    if (child === null) return null;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill(signal);
    const code = await exited;
    this.child = null;
    return code;
  }
}
