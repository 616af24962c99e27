import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import selfsigned from 'selfsigned';
import { WebSocket, WebSocketServer } from 'ws';
import { BrokerHarness } from './broker-harness.js';

let h: BrokerHarness;

beforeEach(() => {
  h = new BrokerHarness();
  h.devices.set('cam-3', { secret: 's3cret-3' });
});

afterEach(async () => {
  await h.close();
});

/** A throwaway self-signed certificate for 127.0.0.1, made in-process (no openssl needed). */
async function selfSignedCertificate(): Promise<{ cert: string; key: string }> {
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], {
    notAfterDate: new Date(Date.now() + 86_400_000),
    keySize: 2048,
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }],
  });
  return { cert: pems.cert, key: pems.private };
}

describe('MQTT over WebSocket', () => {
  let http: Server;
  let port: number;

  beforeEach(async () => {
    http = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    port = (http.address() as AddressInfo).port;
  });

  afterEach(async () => {
    // The broker first: upgraded sockets keep the HTTP server open until MQTT lets them go.
    await h.close();
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  });

  it('serves devices at /mqtt on the HTTP server, with the same authentication', async () => {
    await h.start({ tcp: undefined });
    h.broker.attachWebSocket(http, '/mqtt');
    expect(h.broker.tcpPort).toBeNull();

    const url = `ws://127.0.0.1:${port}/mqtt`;
    const device = await h.connect({ clientId: 'cam-3', username: 'cam-3', password: 's3cret-3' }, url);
    await device.publishAsync('gridwatch/v1/cam-3/telemetry', '{"fps":25}', { qos: 1 });
    await h.until(() => h.messages.length === 1);
    expect(h.messages[0]).toMatchObject({ deviceId: 'cam-3', topic: 'gridwatch/v1/cam-3/telemetry' });
    await h.until(() => h.connected.length === 1);
    expect(h.connected[0]?.remoteAddress).toBe('127.0.0.1');

    await expect(h.connect({ clientId: 'cam-3', username: 'cam-3', password: 'nope' }, url)).rejects.toMatchObject({ code: 4 });
  });

  it('leaves other upgrade paths to their own handlers', async () => {
    await h.start({ tcp: undefined });
    h.broker.attachWebSocket(http);
    const other = new WebSocketServer({ noServer: true });
    http.on('upgrade', (req, socket, head) => {
      if (req.url === '/events') other.handleUpgrade(req, socket, head, (ws) => ws.send('hello'));
    });

    const ws = new WebSocket(`ws://127.0.0.1:${port}/events`);
    const first = await new Promise<string>((resolve, reject) => {
      ws.once('message', (data) => resolve(String(data)));
      ws.once('error', reject);
    });
    expect(first).toBe('hello');
    ws.close();
    other.close();
  });

  it('stops serving after detach', async () => {
    await h.start({ tcp: undefined });
    const detach = h.broker.attachWebSocket(http);
    detach();
    expect(http.listenerCount('upgrade')).toBe(0);
  });
});

describe('MQTT over TLS', () => {
  let dir: string;

  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('accepts devices on the TLS listener with a self-signed certificate', async () => {
    dir = mkdtempSync(join(tmpdir(), 'gridwatch-tls-'));
    const certFile = join(dir, 'cert.pem');
    const keyFile = join(dir, 'key.pem');
    const { cert, key } = await selfSignedCertificate();
    writeFileSync(certFile, cert);
    writeFileSync(keyFile, key);
    await h.start({ tcp: undefined, tls: { port: 0, host: '127.0.0.1', certFile, keyFile } });
    const tlsPort = h.broker.tlsPort;
    expect(tlsPort).toBeGreaterThan(0);

    const url = `mqtts://127.0.0.1:${tlsPort}`;
    const device = await h.connect({ clientId: 'cam-3', username: 'cam-3', password: 's3cret-3', ca: readFileSync(certFile), rejectUnauthorized: true }, url);
    await device.publishAsync('gridwatch/v1/cam-3/status', 'online', { qos: 1, retain: true });
    await h.until(() => h.messages.length === 1);
    expect(h.messages[0]).toMatchObject({ deviceId: 'cam-3', topic: 'gridwatch/v1/cam-3/status', retain: true });

    // A client that does not trust the certificate never gets as far as MQTT.
    await expect(h.connect({ clientId: 'cam-3', username: 'cam-3', password: 's3cret-3', rejectUnauthorized: true }, url)).rejects.toThrow(/self[- ]signed/i);
  });
});
