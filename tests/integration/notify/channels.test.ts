/**
 * Every channel against a real server on loopback that plays the provider: it checks what a real
 * provider checks (HMAC signatures, DingTalk's timestamp+sign, Alibaba's RPC signature) and
 * answers the way the provider does, including its refusals.
 */
import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AliyunSmsProvider,
  DingtalkSender,
  dingtalkSign,
  EmailSender,
  LogSmsProvider,
  SIGNATURE_HEADER,
  SmsSender,
  verifyWebhookSignature,
  WebhookSender,
  WecomSender,
  type OutgoingMessage,
  type SendResult,
  type WebhookBody,
} from '../../../gateway/src/adapters/notify/index.js';
import { closedPort, header, HttpReceiver, part, SmtpReceiver } from './support/servers.js';

const NOW = Date.UTC(2024, 4, 1, 6, 3, 0);
const clock = { now: () => NOW };

const message: OutgoingMessage = {
  id: 'n-1',
  alertId: 'alert-1',
  personId: 'p-zhang',
  personName: '张伟',
  title: '【火警】烟感报警 3号楼 5层 / FIRE ALARM: Smoke alarm',
  text: '【火警】烟感报警：3号楼 5层，设备 smoke-501，2024-05-01 14:03（北京时间）\n[FIRE ALARM] Smoke alarm at Building 3, floor 5\n确认 Ack: https://gw.example/ack/abc',
  markdown: '### 【火警】烟感报警\n\n**3号楼 5层**\n\n[确认 Acknowledge](https://gw.example/ack/abc)\n\n###### gridwatch',
  ackUrl: 'https://gw.example/ack/abc',
  lifeSafety: true,
  digestOf: [],
};

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function receiver(handler: ConstructorParameters<typeof HttpReceiver>[0]): Promise<HttpReceiver> {
  const r = new HttpReceiver(handler);
  await r.start();
  cleanups.push(() => r.stop());
  return r;
}

function failure(result: SendResult): { retryable: boolean; code: string | null; error: string } {
  if (result.ok) throw new Error('expected a failure');
  return result;
}

describe('webhook', () => {
  const secret = 'whsec-0123456789abcdef';

  it('posts the message as signed JSON that the receiver verifies', async () => {
    const hook = await receiver((req) => {
      const verdict = verifyWebhookSignature(req.headers[SIGNATURE_HEADER] as string | undefined, req.body, secret, NOW);
      return verdict.ok ? { status: 204 } : { status: 401, json: verdict };
    });
    const sender = new WebhookSender({ secret, clock });
    const result = await sender.send(message, `${hook.baseUrl}/hooks/gridwatch`);
    expect(result).toEqual({ ok: true, code: '204' });
    const req = hook.requests[0];
    expect(req?.headers[SIGNATURE_HEADER]).toMatch(new RegExp(`^t=${NOW / 1000},v1=[0-9a-f]{64}$`));
    expect(req?.headers['content-type']).toContain('application/json');
    const body = JSON.parse(req?.body ?? '') as WebhookBody;
    expect(body).toMatchObject({ version: 1, id: 'n-1', alertId: 'alert-1', title: message.title, ackUrl: message.ackUrl, lifeSafety: true, sentAt: NOW });
  });

  it('signs with a per-target #secret, which never leaves the gateway', async () => {
    const perTarget = 'robot-specific-secret-42';
    const hook = await receiver((req) =>
      verifyWebhookSignature(req.headers[SIGNATURE_HEADER] as string, req.body, perTarget, NOW).ok ? { status: 200 } : { status: 401 },
    );
    const result = await new WebhookSender({ secret: 'the-default-one', clock }).send(message, `${hook.baseUrl}/h#secret=${perTarget}`);
    expect(result.ok).toBe(true);
    expect(hook.requests[0]?.url.href).not.toContain(perTarget);
    expect(hook.requests[0]?.body).not.toContain(perTarget);
  });

  it('is refused permanently when the receiver rejects the signature (wrong secret → 401)', async () => {
    const hook = await receiver((req) =>
      verifyWebhookSignature(req.headers[SIGNATURE_HEADER] as string, req.body, secret, NOW).ok ? { status: 200 } : { status: 401 },
    );
    const result = failure(await new WebhookSender({ secret: 'not-the-secret', clock }).send(message, `${hook.baseUrl}/h`));
    expect(result).toMatchObject({ retryable: false, code: 'http_401' });
  });

  it('classifies 5xx, 429 and a refused connection as retryable, with Retry-After honoured', async () => {
    const answers = [{ status: 503 }, { status: 429, headers: { 'retry-after': '7' } }];
    const hook = await receiver(() => answers.shift() ?? { status: 200 });
    const sender = new WebhookSender({ secret, clock });
    expect(failure(await sender.send(message, `${hook.baseUrl}/h`))).toMatchObject({ retryable: true, code: 'http_503' });
    expect(await sender.send(message, `${hook.baseUrl}/h`)).toMatchObject({ ok: false, retryable: true, code: 'http_429', retryAfterMs: 7000 });
    const port = await closedPort();
    expect(failure(await sender.send(message, `http://127.0.0.1:${port}/h`))).toMatchObject({ retryable: true, code: 'ECONNREFUSED' });
  });

  it('refuses a target that is no URL, or a webhook without any secret, without sending', async () => {
    const sender = new WebhookSender({ clock });
    expect(failure(await sender.send(message, 'not a url'))).toMatchObject({ retryable: false, code: 'bad_target' });
    expect(failure(await sender.send(message, 'https://example.invalid/h'))).toMatchObject({ retryable: false, code: 'no_secret' });
  });
});

describe('WeCom group robot', () => {
  it('sends markdown and reads errcode: 0 sent, 45009 retryable, 93000 permanent', async () => {
    let goodCalls = 0;
    const robot = await receiver((req) => {
      const key = req.url.searchParams.get('key');
      if (key !== 'good-key-123456') return { json: { errcode: 93000, errmsg: 'invalid webhook url, hint: [xyz]' } };
      goodCalls += 1;
      return { json: goodCalls === 1 ? { errcode: 0, errmsg: 'ok' } : { errcode: 45009, errmsg: 'api freq out of limit' } };
    });
    const sender = new WecomSender();
    const url = `${robot.baseUrl}/cgi-bin/webhook/send?key=good-key-123456`;
    expect(await sender.send(message, url)).toEqual({ ok: true, code: '0' });
    const body = JSON.parse(robot.requests[0]?.body ?? '') as { msgtype: string; markdown: { content: string } };
    expect(body).toEqual({ msgtype: 'markdown', markdown: { content: message.markdown } });

    const limited = failure(await sender.send(message, url));
    expect(limited).toMatchObject({ retryable: true, code: '45009' });
    expect(limited.error).not.toContain('good-key-123456');

    const bad = failure(await sender.send(message, `${robot.baseUrl}/cgi-bin/webhook/send?key=revoked-key-999`));
    expect(bad).toMatchObject({ retryable: false, code: '93000' });
    expect(bad.error).toContain('revo…');
    expect(bad.error).not.toContain('revoked-key-999');
  });

  it('treats HTTP 200 with an unreadable body as a failure, and a URL without key as a bad target', async () => {
    const robot = await receiver(() => ({ status: 200 }));
    const sender = new WecomSender();
    expect(failure(await sender.send(message, `${robot.baseUrl}/send?key=abcdefgh`))).toMatchObject({ code: 'bad_answer' });
    expect(failure(await sender.send(message, `${robot.baseUrl}/send`))).toMatchObject({ retryable: false, code: 'bad_target' });
  });

  it('cuts markdown to 4096 bytes', async () => {
    const robot = await receiver(() => ({ json: { errcode: 0 } }));
    await new WecomSender().send({ ...message, markdown: '火'.repeat(3000) }, `${robot.baseUrl}/send?key=abcdefgh`);
    const content = (JSON.parse(robot.requests[0]?.body ?? '') as { markdown: { content: string } }).markdown.content;
    expect(Buffer.byteLength(content, 'utf8')).toBeLessThanOrEqual(4096);
    expect(content.endsWith('…')).toBe(true);
  });
});

describe('DingTalk robot', () => {
  const secret = 'SEC0123456789abcdef0123456789abcdef';

  /** Checks what DingTalk checks: timestamp within an hour, sign = HMAC-SHA256("ts\nsecret"). */
  async function dingtalk(answers: Record<string, () => object>): Promise<HttpReceiver> {
    return receiver((req) => {
      const timestamp = req.url.searchParams.get('timestamp');
      const sign = req.url.searchParams.get('sign');
      const expected = createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest('base64');
      if (!timestamp || Math.abs(Number(timestamp) - NOW) > 3_600_000 || sign !== expected) {
        return { json: { errcode: 310000, errmsg: 'sign not match' } };
      }
      const answer = answers[req.url.searchParams.get('access_token') ?? ''];
      return { json: answer ? answer() : { errcode: 300001, errmsg: 'token is not exist' } };
    });
  }

  it('signs the URL with timestamp and sign, and sends markdown with a title', async () => {
    const robot = await dingtalk({ tok_good_0001: () => ({ errcode: 0, errmsg: 'ok' }) });
    const target = `${robot.baseUrl}/robot/send?access_token=tok_good_0001#secret=${secret}`;
    expect(await new DingtalkSender({ clock }).send(message, target)).toEqual({ ok: true, code: '0' });
    const req = robot.requests[0];
    expect(req?.url.searchParams.get('timestamp')).toBe(String(NOW));
    expect(req?.url.searchParams.get('sign')).toBe(dingtalkSign(NOW, secret));
    // The raw query carries the signature percent-encoded, as DingTalk requires.
    expect(req?.url.search).toContain(`sign=${encodeURIComponent(dingtalkSign(NOW, secret))}`);
    expect(req?.url.href).not.toContain(secret);
    expect(JSON.parse(req?.body ?? '')).toEqual({ msgtype: 'markdown', markdown: { title: message.title, text: message.markdown } });
  });

  it('130101 (too fast) is retryable; 310000 (bad sign) and unknown tokens are permanent', async () => {
    const robot = await dingtalk({ tok_busy_0001: () => ({ errcode: 130101, errmsg: 'send too fast' }) });
    const sender = new DingtalkSender({ clock });
    expect(failure(await sender.send(message, `${robot.baseUrl}/robot/send?access_token=tok_busy_0001#secret=${secret}`))).toMatchObject({
      retryable: true,
      code: '130101',
    });
    const wrongSecret = failure(await sender.send(message, `${robot.baseUrl}/robot/send?access_token=tok_busy_0001#secret=SECwrong0000000`));
    expect(wrongSecret).toMatchObject({ retryable: false, code: '310000' });
    expect(wrongSecret.error).not.toContain('tok_busy_0001');
    expect(failure(await sender.send(message, `${robot.baseUrl}/robot/send?access_token=nobody_00001#secret=${secret}`))).toMatchObject({
      retryable: false,
      code: '300001',
    });
  });
});

describe('e-mail over SMTP', () => {
  async function smtp(rcptReply?: (address: string) => number | null): Promise<SmtpReceiver> {
    const server = new SmtpReceiver(rcptReply);
    await server.start();
    cleanups.push(() => server.stop());
    return server;
  }

  function sender(port: number): EmailSender {
    const s = new EmailSender({ host: '127.0.0.1', port, secure: false, from: '"gridwatch" <alerts@gridwatch.test>', timeoutMs: 5_000 });
    cleanups.push(async () => s.close());
    return s;
  }

  it('delivers a text and an HTML part with the subject and the acknowledge link', async () => {
    const server = await smtp();
    const result = await sender(server.port).send(message, 'zhang.wei@example.org');
    expect(result).toEqual({ ok: true, code: '250' });
    const mail = server.mails[0];
    expect(mail?.to).toEqual(['zhang.wei@example.org']);
    expect(mail?.from).toBe('alerts@gridwatch.test');
    expect(header(mail?.raw ?? '', 'Subject')).toBe(message.title);
    expect(header(mail?.raw ?? '', 'Importance')).toBe('high');
    expect(part(mail?.raw ?? '', 'text/plain')).toContain('烟感报警');
    const html = part(mail?.raw ?? '', 'text/html') ?? '';
    expect(html).toContain('href="https://gw.example/ack/abc"');
    expect(html).toContain('确认 Acknowledge');
  });

  it('a 550 refusal is permanent, a 451 is retryable, an unreachable server is retryable', async () => {
    const server = await smtp((address) => (address.startsWith('gone') ? 550 : address.startsWith('later') ? 451 : null));
    const s = sender(server.port);
    const gone = failure(await s.send(message, 'gone@example.org'));
    expect(gone).toMatchObject({ retryable: false, code: '550' });
    expect(gone.error).not.toContain('gone@example.org');
    expect(failure(await s.send(message, 'later@example.org'))).toMatchObject({ retryable: true, code: '451' });
    const unreachable = failure(await sender(await closedPort()).send(message, 'a@example.org'));
    expect(unreachable.retryable).toBe(true);
    expect(['ECONNECTION', 'ESOCKET']).toContain(unreachable.code);
  });

  it('refuses what is not an address without connecting', async () => {
    const server = await smtp();
    expect(failure(await sender(server.port).send(message, 'zhang <x@y.z>'))).toMatchObject({ retryable: false, code: 'bad_target' });
    expect(server.mails).toHaveLength(0);
  });
});

describe('SMS', () => {
  it('the log provider logs a masked number and counts the message as sent', async () => {
    const lines: { obj: object; msg: string }[] = [];
    const log = { info: (obj: object, msg: string) => lines.push({ obj, msg }), warn: () => {}, error: () => {} };
    const provider = new LogSmsProvider(log);
    const result = await new SmsSender(provider).send(message, '138 1234 5678');
    expect(result).toEqual({ ok: true, code: 'logged' });
    expect(provider.sentCount()).toBe(1);
    expect(JSON.stringify(lines)).toContain('138****5678');
    expect(JSON.stringify(lines)).not.toContain('13812345678');
    expect(JSON.stringify(lines)).not.toContain('ack/abc');
  });

  it('refuses what is not a phone number', async () => {
    const result = failure(await new SmsSender(new LogSmsProvider({ info: () => {}, warn: () => {}, error: () => {} })).send(message, '12345'));
    expect(result).toMatchObject({ retryable: false, code: 'bad_target' });
  });

  describe('Alibaba Cloud SendSms', () => {
    const accessKeySecret = 'testSecret0123456789';

    /**
     * The RPC v1 signature computed independently of the code under test, the way Alibaba's own
     * SDKs do it: form-encode, then turn '+' into %20, '*' into %2A and %7E back into '~'.
     */
    function referenceSignature(params: Record<string, string>, secret: string): string {
      const encode = (v: string): string =>
        new URLSearchParams([['', v]]).toString().slice(1).replace(/\+/g, '%20').replace(/\*/g, '%2A').replace(/%7E/g, '~');
      const canonical = Object.keys(params)
        .sort()
        .map((k) => `${encode(k)}=${encode(params[k] ?? '')}`)
        .join('&');
      return createHmac('sha1', `${secret}&`).update(`POST&${encode('/')}&${encode(canonical)}`).digest('base64');
    }

    /** Plays dysmsapi: verifies the RPC v1 signature, then answers by phone number. */
    async function dysmsapi(): Promise<HttpReceiver> {
      return receiver((req) => {
        const params = Object.fromEntries(new URLSearchParams(req.body));
        const { Signature: signature, ...rest } = params;
        if (signature !== referenceSignature(rest, accessKeySecret)) {
          return { status: 400, json: { Code: 'SignatureDoesNotMatch', Message: 'Specified signature is not matched with our calculation.' } };
        }
        if (rest['SignatureMethod'] !== 'HMAC-SHA1' || rest['Action'] !== 'SendSms' || rest['Version'] !== '2017-05-25') {
          return { status: 400, json: { Code: 'InvalidParameter', Message: 'bad' } };
        }
        const answers: Record<string, object> = {
          '13800000001': { Code: 'OK', Message: 'OK', BizId: '900619746936498440^0', RequestId: 'r1' },
          '13800000002': { Code: 'isv.BUSINESS_LIMIT_CONTROL', Message: '触发分钟级流控Permits:1', RequestId: 'r2' },
          '13800000003': { Code: 'isv.MOBILE_NUMBER_ILLEGAL', Message: '非法手机号 13800000003', RequestId: 'r3' },
        };
        return { json: answers[rest['PhoneNumbers'] ?? ''] ?? { Code: 'isp.SYSTEM_ERROR', Message: 'system error' } };
      });
    }

    function provider(endpoint: string, secret = accessKeySecret): SmsSender {
      return new SmsSender(
        new AliyunSmsProvider(
          { accessKeyId: 'LTAI-test-id', accessKeySecret: secret, signName: '网格通', templateCode: 'SMS_123456789', endpoint },
          clock,
        ),
      );
    }

    it('signs the request so the server accepts it, and sends the text in the template parameter', async () => {
      const api = await dysmsapi();
      expect(await provider(`${api.baseUrl}/`).send(message, '+86 138 0000 0001')).toEqual({ ok: true, code: 'OK' });
      const params = Object.fromEntries(new URLSearchParams(api.requests[0]?.body ?? ''));
      expect(params).toMatchObject({
        AccessKeyId: 'LTAI-test-id',
        PhoneNumbers: '13800000001',
        SignName: '网格通',
        TemplateCode: 'SMS_123456789',
        Timestamp: '2024-05-01T06:03:00Z',
        Format: 'JSON',
        SignatureVersion: '1.0',
      });
      expect(JSON.parse(params['TemplateParam'] ?? '')).toEqual({ content: message.text });
      expect(api.requests[0]?.body).not.toContain(accessKeySecret);
    });

    it('classifies BUSINESS_LIMIT_CONTROL as retryable, other isv.* and signature errors as permanent', async () => {
      const api = await dysmsapi();
      const sms = provider(`${api.baseUrl}/`);
      expect(failure(await sms.send(message, '13800000002'))).toMatchObject({ retryable: true, code: 'isv.BUSINESS_LIMIT_CONTROL' });
      const illegal = failure(await sms.send(message, '13800000003'));
      expect(illegal).toMatchObject({ retryable: false, code: 'isv.MOBILE_NUMBER_ILLEGAL' });
      expect(illegal.error).not.toContain('13800000003');
      expect(failure(await sms.send(message, '13800000009'))).toMatchObject({ retryable: true, code: 'isp.SYSTEM_ERROR' });
      expect(failure(await provider(`${api.baseUrl}/`, 'wrong-secret').send(message, '13800000001'))).toMatchObject({
        retryable: false,
        code: 'SignatureDoesNotMatch',
      });
    });
  });
});
