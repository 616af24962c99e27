import { describe, expect, it } from 'vitest';
import { DestinationBudgets } from '../../../gateway/src/adapters/notify/index.js';

describe('destination budgets', () => {
  it('allows 20 a minute per robot by default, then one every 3 s', () => {
    const budgets = new DestinationBudgets();
    const t = 1_000_000;
    for (let i = 0; i < 20; i++) expect(budgets.take('wecom', 'robot-a', t)).toBe(true);
    expect(budgets.take('wecom', 'robot-a', t)).toBe(false);
    expect(budgets.nextTokenAt('wecom', 'robot-a', t)).toBe(t + 3_000);
    expect(budgets.take('wecom', 'robot-a', t + 2_999)).toBe(false);
    expect(budgets.take('wecom', 'robot-a', t + 3_000)).toBe(true);
    expect(budgets.take('wecom', 'robot-b', t)).toBe(true);
  });

  it('lets life-safety through an empty bucket, overdrawing it', () => {
    const budgets = new DestinationBudgets({ dingtalk: { perMinute: 2 } });
    const t = 0;
    expect(budgets.take('dingtalk', 'r', t)).toBe(true);
    expect(budgets.take('dingtalk', 'r', t)).toBe(true);
    expect(budgets.take('dingtalk', 'r', t, true)).toBe(true);
    expect(budgets.nextTokenAt('dingtalk', 'r', t)).toBe(60_000);
  });

  it('leaves unlimited types alone and refuses a nonsensical limit', () => {
    const budgets = new DestinationBudgets({ webhook: null });
    for (let i = 0; i < 1000; i++) expect(budgets.take('webhook', 'h', 0)).toBe(true);
    expect(() => new DestinationBudgets({ sms: { perMinute: 0 } })).toThrow(/positive/);
  });
});
