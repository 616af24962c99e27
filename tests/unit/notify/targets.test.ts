import { describe, expect, it } from 'vitest';
import { maskEmail, maskPhone, maskTarget, maskUrl, normalisePhone, parseUrlTarget } from '../../../gateway/src/adapters/notify/index.js';

describe('targets', () => {
  it('splits a #secret off the URL', () => {
    const parsed = parseUrlTarget('https://oapi.dingtalk.com/robot/send?access_token=abc123#secret=SECxyz');
    expect('error' in parsed).toBe(false);
    if ('error' in parsed) return;
    expect(parsed.secret).toBe('SECxyz');
    expect(parsed.url.href).toBe('https://oapi.dingtalk.com/robot/send?access_token=abc123');
    expect(parseUrlTarget('ftp://x/y')).toEqual({ error: "target scheme 'ftp:' is not http(s)" });
    expect(parseUrlTarget('nope')).toEqual({ error: 'target is not a URL' });
  });

  it('masks robot keys, tokens and secrets in URLs', () => {
    const masked = maskUrl('https://oapi.dingtalk.com/robot/send?access_token=1234567890abcdef&x=1#secret=SECtopsecret');
    expect(masked).toBe('https://oapi.dingtalk.com/robot/send?access_token=1234…&x=1');
    expect(maskUrl('https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa')).not.toContain('7xxx');
    expect(maskUrl('https://user:pass@hooks.example/h')).toBe('https://hooks.example/h');
  });

  it('masks mailboxes and phone numbers', () => {
    expect(maskEmail('zhang.wei@example.org')).toBe('z***@example.org');
    expect(maskPhone('13812345678')).toBe('138****5678');
    expect(maskPhone('+8613812345678')).toBe('+86138****5678');
    expect(maskTarget('sms', '13812345678')).toBe('138****5678');
    expect(maskTarget('email', 'a@b.cn')).toBe('a***@b.cn');
  });

  it('normalises phone numbers people type and refuses others', () => {
    expect(normalisePhone('138 1234-5678')).toBe('13812345678');
    expect(normalisePhone('0086 13812345678')).toBe('+8613812345678');
    expect(normalisePhone('+44 20 7946 0958')).toBe('+442079460958');
    expect(normalisePhone('12345')).toBeNull();
    expect(normalisePhone('call me')).toBeNull();
  });
});
