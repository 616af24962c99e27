/**
 * The web console in Debian's Chromium (playwright-core, executablePath /usr/bin/chromium), on
 * a phone-sized screen, against a whole gateway in-process: sign in with the admin token, a smoke
 * alarm published over MQTT appears in the inbox without a reload, acknowledging it changes its
 * state; the urgent fire case it opens appears on the case board live, a grid worker's desk
 * accepts it there and sees the state change, and a change made elsewhere arrives without a
 * reload; a captain of another building sees no alert and can act on no case. Screenshots go to
 * test-artifacts/ (and one to docs/console.png for the README).
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, publishAcked, startHarness, until, type Harness } from '../support/gateway-harness.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.resolve('test-artifacts');
const DOCS_SHOT = path.resolve('docs/console.png');
const PHONE = { width: 390, height: 844 };

describe('web console in Chromium', () => {
  let h: Harness;
  let context: BrowserContext;
  let profile: string;
  let device: MqttClient;
  let deviceB2: MqttClient;
  let captainOfB2: string;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing (install Debian's chromium; .ci/run does)`);
    h = await startHarness();
    const secret = await h.register('smoke-b1-01', 'smoke', 'b1');
    device = await h.connect('smoke-b1-01', secret);
    deviceB2 = await h.connect('smoke-b2-01', await h.register('smoke-b2-01', 'smoke', 'b2'));
    await publishAcked(device, 'gridwatch/v1/smoke-b1-01/telemetry', { temperature: 23.5, battery: 87, obscuration: 0.01 });
    const created = await h.api('POST', '/api/v1/tokens', { name: 'captain of building 2', role: 'captain', scope: ['b2'] });
    expect(created.status).toBe(201);
    captainOfB2 = created.body.token as string;

    mkdirSync(ARTIFACTS, { recursive: true });
    // A fresh profile per run: no cache, no stored token, no first-run state from another run.
    profile = mkdtempSync(path.join(tmpdir(), 'gridwatch-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: PHONE,
      deviceScaleFactor: 2,
      locale: 'zh-CN',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await h?.close();
  });

  async function signIn(page: Page, token: string): Promise<void> {
    await page.goto(`${h.gateway.httpUrl()}/`);
    await page.fill('#token', token);
    await page.click('#login-form button[type="submit"]');
    await page.waitForSelector('#live[data-state="on"]');
    await page.waitForSelector('#panel-alerts.active');
  }

  it('shows a smoke alarm live, acknowledges it, and the state changes', async () => {
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(err.message));
    // The page must not try to reach anything but the gateway (no CDN, no fonts from the internet).
    page.on('request', (req) => {
      if (!req.url().startsWith(h.gateway.httpUrl())) problems.push(`outside request: ${req.url()}`);
    });
    await signIn(page, ADMIN_TOKEN);
    expect(await page.textContent('#alert-empty')).toBe('暂无未关闭的告警。');
    expect(await page.isVisible('#alert-empty')).toBe(true);

    await publishAcked(device, 'gridwatch/v1/smoke-b1-01/event', { type: 'smoke.alarm', seq: 10 });
    const card = page.locator('#alert-list li.alert.cls-alarm');
    await card.waitFor({ timeout: 10_000 });
    expect(await card.getAttribute('data-state')).toBe('active_unack');
    const raised = (await h.api('GET', '/api/v1/alerts?deviceId=smoke-b1-01')).body.items[0];
    expect(await card.getAttribute('data-id')).toBe(raised.id);
    expect(await card.locator('[data-field="title"]').textContent()).toBe(raised.titleZh);
    expect(await card.locator('[data-field="class"]').textContent()).toBe('火警');
    expect(await card.locator('[data-field="where"]').textContent()).toContain('Building 1');
    expect(await card.evaluate((el) => el.classList.contains('fresh'))).toBe(true);
    expect(await page.textContent('#alert-badge')).toBe('1');
    await page.screenshot({ path: path.join(ARTIFACTS, 'console.png') });
    // English for the README's picture (CI images may lack CJK fonts; the test above checks the Chinese).
    await page.click('#lang');
    expect(await card.locator('[data-field="state"]').textContent()).toBe('Unacknowledged');
    await page.screenshot({ path: path.join(ARTIFACTS, 'console-en.png') });
    mkdirSync(path.dirname(DOCS_SHOT), { recursive: true });
    copyFileSync(path.join(ARTIFACTS, 'console-en.png'), DOCS_SHOT);
    await page.click('#lang');

    await card.locator('button[data-action="ack"]').click();
    await page.waitForSelector('#alert-list li.alert[data-state="active_ack"]');
    expect(await card.locator('[data-field="state"]').textContent()).toBe('已确认');
    expect(await card.locator('button[data-action="ack"]').isHidden()).toBe(true);
    const stored = await h.api('GET', '/api/v1/alerts?deviceId=smoke-b1-01');
    expect(stored.body.items[0]).toMatchObject({ state: 'active_ack', acknowledgedBy: expect.stringMatching(/^admin-env-/) });

    // The other panels: device health with battery, the hierarchy tree, the live counts.
    await page.click('.tabs button[data-tab="devices"]');
    const smoke = page.locator('.device[data-device="smoke-b1-01"]');
    expect(await smoke.getAttribute('data-health')).toBe('online');
    expect(await smoke.textContent()).toContain('87%');
    await page.click('.tabs button[data-tab="sites"]');
    expect(await page.textContent('#tree')).toContain('Test Grid');
    // The case board: a fire alarm opens an urgent case at once, dispatched to the grid worker.
    await page.click('.tabs button[data-tab="cases"]');
    const caseCard = page.locator('#case-board .card.case[data-state="dispatched"]');
    await caseCard.waitFor({ timeout: 10_000 });
    const [opened] = (await h.api('GET', '/api/v1/cases')).body.items;
    expect(opened).toMatchObject({ state: 'dispatched', urgency: 'urgent', category: 'fire', buildingId: 'b1' });
    expect(await caseCard.getAttribute('data-case')).toBe(opened.id);
    expect(await caseCard.locator('[data-field="code"]').textContent()).toBe(opened.code);
    expect(await caseCard.locator('[data-field="urgency"]').textContent()).toBe('紧急');
    expect(await caseCard.locator('[data-field="deadline"]').textContent()).toMatch(/^签收 期限 /);
    expect(await page.textContent('#case-board .column[data-state="dispatched"] h3')).toBe('已派遣 (1)');
    // The admin may act as any role: accepting offers administrator or grid worker.
    expect(await caseCard.locator('button[data-case-action]').allTextContents()).toEqual(['签收', '回退', '挂账']);
    await caseCard.locator('button[data-case-action="accept"]').click();
    expect(await caseCard.locator('.case-form select[name="role"] option').allTextContents()).toEqual(['管理员', '网格员']);
    await caseCard.locator('.case-form button[data-case-cancel]').click();
    expect(await caseCard.locator('.case-form').count()).toBe(0);
    await page.screenshot({ path: path.join(ARTIFACTS, 'console-cases.png') });
    expect(problems).toEqual([]);

    // English, and fits a 390 px screen without sideways scrolling.
    await page.click('.tabs button[data-tab="alerts"]');
    await page.click('#lang');
    expect(await card.locator('[data-field="state"]').textContent()).toBe('Acknowledged');
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(PHONE.width);
    await page.screenshot({ path: path.join(ARTIFACTS, 'console-acknowledged.png') });
    // The safety staff's wall screen: every panel at once.
    await page.setViewportSize({ width: 1280, height: 800 });
    expect(await page.isVisible('#panel-devices')).toBe(true);
    await page.screenshot({ path: path.join(ARTIFACTS, 'console-wall.png') });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('a grid worker accepts the case on the board, sees the state change, and a change made elsewhere arrives live', async () => {
    const created = await h.api('POST', '/api/v1/tokens', { name: 'grid worker desk', role: 'staff', scope: ['g1'] });
    expect(created.status).toBe(201);
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(err.message));
    await signIn(page, created.body.token as string);
    // The language choice is kept per browser profile; this test reads the Chinese labels.
    if ((await page.getAttribute('html', 'lang')) !== 'zh-CN') await page.click('#lang');
    await page.click('.tabs button[data-tab="cases"]');
    const caseCard = page.locator('#case-board .card.case[data-state="dispatched"]');
    await caseCard.waitFor({ timeout: 10_000 });
    const id = await caseCard.getAttribute('data-case');
    // A grid worker's desk: accept and return only, and no role to choose.
    expect(await caseCard.locator('button[data-case-action]').allTextContents()).toEqual(['签收', '回退']);
    await caseCard.locator('button[data-case-action="return"]').click();
    expect(await caseCard.locator('.case-form select').count()).toBe(0);
    // Return needs a note: the browser refuses the empty form, nothing is sent.
    await caseCard.locator('.case-form button[type="submit"]').click();
    expect(await caseCard.locator('.case-form input[name="note"]').evaluate((el) => (el as unknown as { validity: { valueMissing: boolean } }).validity.valueMissing)).toBe(true);
    expect((await h.api('GET', `/api/v1/cases/${id}`)).body.state).toBe('dispatched');

    await caseCard.locator('button[data-case-action="accept"]').click();
    await caseCard.locator('.case-form input[name="note"]').fill('on my way');
    await caseCard.locator('.case-form button[type="submit"]').click();
    const accepted = page.locator(`#case-board .card.case[data-case="${id}"][data-state="accepted"]`);
    await accepted.waitFor({ timeout: 10_000 });
    expect(await page.textContent('#case-board .column[data-state="accepted"] h3')).toBe('已签收 (1)');
    expect(await accepted.locator('button[data-case-action]').allTextContents()).toEqual(['开始处置', '申请延期']);
    const stored = (await h.api('GET', `/api/v1/cases/${id}`)).body;
    expect(stored.state).toBe('accepted');
    expect(stored.history.at(-1)).toMatchObject({ action: 'accept', role: 'grid_worker', note: 'on my way', actor: created.body.id });

    // A refusal shows in the user's language: an extension must end after the current deadline.
    await accepted.locator('button[data-case-action="request_extension"]').click();
    await accepted.locator('.case-form input[name="note"]').fill('parts on order');
    await accepted.locator('.case-form input[name="until"]').fill('2020-01-01T09:00');
    await accepted.locator('.case-form button[type="submit"]').click();
    await accepted.locator('.case-form [data-field="error"]:not([hidden])').waitFor({ timeout: 10_000 });
    expect(await accepted.locator('.case-form [data-field="error"]').textContent()).toBe('请检查备注和日期。');
    expect(await accepted.locator('.case-form input[name="note"]').inputValue()).toBe('parts on order');
    await accepted.locator('.case-form button[data-case-cancel]').click();

    // Other desks move the case on: the board follows without a reload (`case` events).
    expect((await h.api('POST', `/api/v1/cases/${id}/transitions`, { action: 'start' })).status).toBe(200);
    await page.locator(`#case-board .card.case[data-case="${id}"][data-state="handling"]`).waitFor({ timeout: 10_000 });
    expect((await h.api('POST', `/api/v1/cases/${id}/transitions`, { action: 'feedback' })).status).toBe(200);
    await page.locator(`#case-board .card.case[data-case="${id}"][data-state="feedback"]`).waitFor({ timeout: 10_000 });
    // Checking is the dispatchers' work: nothing left for the grid worker's desk.
    expect(await page.locator(`#case-board .card.case[data-case="${id}"] button[data-case-action]`).count()).toBe(0);

    await page.click('#lang');
    expect(await page.textContent('#case-board .column[data-state="feedback"] h3')).toBe('Fed back (1)');
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(PHONE.width);
    await page.screenshot({ path: path.join(ARTIFACTS, 'console-cases-worker.png') });
    await page.click('#lang');
    expect(problems).toEqual([]);
    await page.close();
  });

  it("a captain of another building does not see building 1's alert", async () => {
    const page = await context.newPage();
    await signIn(page, captainOfB2);
    expect(await page.locator('#alert-list li').count()).toBe(0);
    await publishAcked(device, 'gridwatch/v1/smoke-b1-01/event', { type: 'heat.alarm', seq: 11 });
    await until(async () => (await h.api('GET', '/api/v1/alerts?deviceId=smoke-b1-01')).body.items.length >= 2, 'the heat alarm in building 1');
    // Building 2's alarm, published after building 1's, arrives live; building 1's never does.
    await publishAcked(deviceB2, 'gridwatch/v1/smoke-b2-01/event', { type: 'smoke.alarm', seq: 1 });
    await page.locator('#alert-list li.alert.cls-alarm').waitFor({ timeout: 10_000 });
    expect(await page.locator('#alert-list li').count()).toBe(1);
    expect(await page.locator('#alert-list li [data-field="where"]').textContent()).toContain('Building 2');
    expect(await page.textContent('#alert-list')).not.toContain('smoke-b1-01');
    expect(await page.textContent('#device-health')).not.toContain('smoke-b1-01');
    // Building 2's fire case is on the captain's board, with no transition to take; building 1's is not.
    await page.click('.tabs button[data-tab="cases"]');
    await page.locator('#case-board .card.case').first().waitFor({ timeout: 10_000 });
    const b2Case = (await h.api('GET', '/api/v1/cases?buildingId=b2')).body.items[0];
    expect(await page.locator('#case-board .card.case').evaluateAll((cards) => cards.map((c) => c.getAttribute('data-case')))).toEqual([b2Case.id]);
    expect(await page.locator('#case-board button[data-case-action]').count()).toBe(0);
    await page.screenshot({ path: path.join(ARTIFACTS, 'console-captain-b2.png') });
    await page.close();
  });
});
