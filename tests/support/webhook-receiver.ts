/**
 * A real webhook receiver on loopback for end-to-end tests: records every notification posted
 * to it by path, with its signature header, and answers 200.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedNotice {
  readonly path: string;
  readonly body: Record<string, unknown>;
  readonly signature: string | undefined;
}

export class WebhookReceiver {
  readonly received: ReceivedNotice[] = [];
  private server: Server | null = null;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        this.received.push({ path: req.url ?? '', body: JSON.parse(text) as Record<string, unknown>, signature: req.headers['x-gridwatch-signature'] as string | undefined });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Every notice posted to `path`. */
  to(path: string): Array<Record<string, unknown>> {
    return this.received.filter((r) => r.path === path).map((r) => r.body);
  }

  /** Alert notices to `path` (grid-case notices carry no alertId). */
  alertsTo(path: string): Array<Record<string, unknown>> {
    return this.to(path).filter((b) => b.alertId != null);
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => this.server?.close(() => r()));
  }
}
