import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BrokerHarness, rawConnect } from './broker-harness.js';

let h: BrokerHarness;

afterEach(async () => {
  await h.close();
});

describe('device authentication', () => {
  beforeEach(async () => {
    h = await new BrokerHarness().start();
    h.devices.set('smoke-101', { secret: 's3cret-101' });
    h.devices.set('door-7', { secret: 's3cret-7' });
    h.devices.set('cam-9', { secret: 's3cret-9', disabled: true });
  });

  it('lets a registered device in and hands its publish to the gateway once, under its own id', async () => {
    const device = await h.connectDevice('smoke-101');
    await device.publishAsync('gridwatch/v1/smoke-101/telemetry', '{"obscuration":0.02}', { qos: 1 });
    await h.until(() => h.messages.length === 1);
    // A second message as a barrier: had the first been delivered twice, it would show by now.
    await device.publishAsync('gridwatch/v1/smoke-101/event', '{"type":"self_test"}', { qos: 1 });
    await h.until(() => h.messages.length === 2);

    expect(h.messages).toEqual([
      { deviceId: 'smoke-101', topic: 'gridwatch/v1/smoke-101/telemetry', payload: Buffer.from('{"obscuration":0.02}'), qos: 1, retain: false },
      { deviceId: 'smoke-101', topic: 'gridwatch/v1/smoke-101/event', payload: Buffer.from('{"type":"self_test"}'), qos: 1, retain: false },
    ]);
    expect(h.connected.map((e) => e.deviceId)).toEqual(['smoke-101']);
    expect(h.broker.connectedDevices()).toBe(1);
  });

  it('answers CONNACK 4 to a wrong secret and counts it', async () => {
    expect(await h.refusalCode({ clientId: 'smoke-101', username: 'smoke-101', password: 'guess' })).toBe(4);
    expect(h.authRefused).toMatchObject([{ reason: 'bad_secret', clientId: 'smoke-101', deviceId: 'smoke-101', remoteAddress: '127.0.0.1' }]);
    expect(h.broker.connectedDevices()).toBe(0);
  });

  it('answers CONNACK 4 to an unknown device, the same answer as a wrong secret', async () => {
    expect(await h.refusalCode({ clientId: 'ghost-1', username: 'ghost-1', password: 'x' })).toBe(4);
    // A username that cannot be a device id never reaches the registry.
    expect(await h.refusalCode({ clientId: 'a b', username: 'a b', password: 'x' })).toBe(4);
    expect(h.authRefused.map((e) => e.reason)).toEqual(['unknown_device', 'unknown_device']);
    expect(h.authCalls).toEqual(['ghost-1']);
  });

  it('answers CONNACK 4 to a device that sends no password', async () => {
    expect(await h.refusalCode({ clientId: 'smoke-101', username: 'smoke-101' })).toBe(4);
    expect(h.authRefused.map((e) => e.reason)).toEqual(['bad_secret']);
    expect(h.authCalls).toEqual([]);
  });

  it('answers CONNACK 5 to a disabled device', async () => {
    expect(await h.refusalCode({ clientId: 'cam-9', username: 'cam-9', password: 's3cret-9' })).toBe(5);
    expect(h.authRefused.map((e) => e.reason)).toEqual(['disabled']);
  });

  it('answers CONNACK 3 when the registry cannot be asked', async () => {
    await h.broker.close();
    h = await new BrokerHarness().start({ authenticate: () => Promise.reject(new Error('database is locked')) });
    expect(await h.refusalCode({ clientId: 'smoke-101', username: 'smoke-101', password: 'x' })).toBe(3);
    expect(h.authRefused.map((e) => e.reason)).toEqual(['auth_unavailable']);
    expect(h.clientErrors.map((e) => e.error.message)).toContain('database is locked');
  });

  it('throttles repeated failures: the 6th attempt is refused without asking the registry, with growing blocks', async () => {
    for (let i = 0; i < 5; i++) {
      expect(await h.refusalCode({ clientId: 'door-7', username: 'door-7', password: `guess-${i}` })).toBe(4);
      h.clock.advance(1_000);
    }
    expect(h.authCalls).toHaveLength(5);

    // Even the right secret is refused while blocked, and the registry is not asked.
    expect(await h.refusalCode({ clientId: 'door-7', username: 'door-7', password: 's3cret-7' })).toBe(5);
    expect(h.authCalls).toHaveLength(5);
    expect(h.authRefused.at(-1)).toMatchObject({ reason: 'throttled', deviceId: 'door-7' });

    // The address is blocked too, so guessing another device's secret from it is refused at once.
    expect(await h.refusalCode({ clientId: 'smoke-101', username: 'smoke-101', password: 'guess' })).toBe(5);
    expect(h.authCalls).toHaveLength(5);

    // First block: 30 s.
    h.clock.advance(30_000);
    const device = await h.connectDevice('door-7');
    await device.endAsync();
    expect(h.authCalls).toHaveLength(6);

    // Five more failures trip the limit again and the block doubles (60 s).
    for (let i = 0; i < 5; i++) {
      expect(await h.refusalCode({ clientId: 'smoke-101', username: 'smoke-101', password: `again-${i}` })).toBe(4);
    }
    h.clock.advance(30_000);
    expect(await h.refusalCode({ clientId: 'door-7', username: 'door-7', password: 's3cret-7' })).toBe(5);
    h.clock.advance(30_000);
    await h.connectDevice('door-7');
  });

  it('forgets failures that fall outside the window', async () => {
    for (let i = 0; i < 4; i++) await h.refusalCode({ clientId: 'door-7', username: 'door-7', password: `guess-${i}` });
    h.clock.advance(60_000);
    for (let i = 0; i < 4; i++) await h.refusalCode({ clientId: 'door-7', username: 'door-7', password: `guess-${i}` });
    expect(h.authRefused.map((e) => e.reason)).not.toContain('throttled');
    await h.connectDevice('door-7');
  });

  it('remembers a successful login briefly, and forgets it on a failure', async () => {
    (await h.connectDevice('smoke-101')).end(true);
    (await h.connectDevice('smoke-101')).end(true);
    expect(h.authCalls).toEqual(['smoke-101']);

    expect(await h.refusalCode({ clientId: 'smoke-101', username: 'smoke-101', password: 'stale' })).toBe(4);
    (await h.connectDevice('smoke-101')).end(true);
    expect(h.authCalls).toEqual(['smoke-101', 'smoke-101', 'smoke-101']);

    // After the cache's lifetime (60 s) the registry is asked again.
    h.clock.advance(60_000);
    (await h.connectDevice('smoke-101')).end(true);
    expect(h.authCalls).toHaveLength(4);
  });

  it('forgetDevice drops the cached login and closes the device connections (disable, secret change)', async () => {
    const device = await h.connectDevice('smoke-101');
    await h.until(() => h.connected.length === 1);
    const closed = h.closed(device);
    h.devices.set('smoke-101', { secret: 's3cret-101', disabled: true });
    h.broker.forgetDevice('smoke-101');
    await closed;
    await h.until(() => h.disconnected.length === 1);
    expect(h.broker.connectedDevices()).toBe(0);
    expect(await h.refusalCode({ clientId: 'smoke-101', username: 'smoke-101', password: 's3cret-101' })).toBe(5);
  });
});

describe('client id rules', () => {
  beforeEach(async () => {
    h = await new BrokerHarness().start({ allowAnonymous: true });
    h.devices.set('door-7', { secret: 's3cret-7' });
    h.devices.set('door-8', { secret: 's3cret-8' });
  });

  it("refuses a device that uses another device's client id (CONNACK 2)", async () => {
    const victim = await h.connectDevice('door-8');
    expect(await h.refusalCode({ clientId: 'door-8', username: 'door-7', password: 's3cret-7' })).toBe(2);
    expect(h.authRefused).toMatchObject([{ reason: 'bad_client_id', clientId: 'door-8', deviceId: 'door-7' }]);
    expect(victim.connected).toBe(true);
  });

  it('accepts the device id itself and the {id}-… / {id}:… forms', async () => {
    await h.connectDevice('door-7', { clientId: 'door-7' });
    await h.connectDevice('door-7', { clientId: 'door-7-reader1' });
    await h.connectDevice('door-7', { clientId: 'door-7:lock' });
    expect(h.broker.connectedDevices()).toBe(1);
    expect(await h.refusalCode({ clientId: 'door-7x', username: 'door-7', password: 's3cret-7' })).toBe(2);
  });

  it("refuses an anonymous client that claims a device's client id", async () => {
    const device = await h.connectDevice('door-7');
    expect(await h.refusalCode({ clientId: 'door-7' })).toBe(2);
    expect(device.connected).toBe(true);
  });

  it('refuses an empty client id with clean=false [MQTT-3.1.3-8] and assigns one with clean=true', async () => {
    expect(await rawConnect(h.port, { clientId: '', clean: false, username: 'door-7', password: 's3cret-7' })).toBe(2);
    expect(await rawConnect(h.port, { clientId: '', clean: true, username: 'door-7', password: 's3cret-7' })).toBe(0);
    expect(h.authRefused.map((e) => e.reason)).toEqual(['bad_client_id']);
  });
});

describe('anonymous clients', () => {
  it('are refused with CONNACK 5 unless allowed', async () => {
    h = await new BrokerHarness().start();
    expect(await h.refusalCode({ clientId: 'bench-1' })).toBe(5);
    expect(h.authRefused).toMatchObject([{ reason: 'anonymous_refused', deviceId: null }]);
  });

  it('when allowed, use topics outside gridwatch/ only, and never reach the gateway', async () => {
    h = await new BrokerHarness().start({ allowAnonymous: true });
    const listener = await h.connect({ clientId: 'bench-listener' });
    const granted = await h.suback(listener, ['bench/x', 'gridwatch/#', '#', '+/v1/+/telemetry', '$SYS/#']);
    expect(granted).toEqual([1, 128, 128, 128, 128]);

    const sender = await h.connect({ clientId: 'bench-sender' });
    const received = new Promise<string>((resolve) => listener.once('message', (topic, payload) => resolve(`${topic} ${payload.toString()}`)));
    await sender.publishAsync('bench/x', 'hello', { qos: 1 });
    expect(await received).toBe('bench/x hello');

    const closed = h.closed(sender);
    sender.publish('gridwatch/v1/x/telemetry', '{"obscuration":9}', { qos: 0 });
    await closed;
    expect(h.aclRefused).toContainEqual(
      expect.objectContaining({ action: 'publish', reason: 'topic_not_permitted', deviceId: null, topic: 'gridwatch/v1/x/telemetry' }),
    );
    expect(h.messages).toEqual([]);
  });

  it('may not leave a will inside gridwatch/ (CONNACK 5)', async () => {
    h = await new BrokerHarness().start({ allowAnonymous: true });
    const code = await h.refusalCode({ clientId: 'bench-2', will: { topic: 'gridwatch/v1/x/status', payload: Buffer.from('offline'), qos: 1, retain: true } });
    expect(code).toBe(5);
    expect(h.authRefused.map((e) => e.reason)).toEqual(['will_refused']);
  });
});
