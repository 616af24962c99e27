/**
 * The web console's files as the gateway serves them: the page at `/`, its assets under
 * `/console/`, cache validation, the CSP (no inline script), nothing from the internet, and the
 * Chinese and English text tables in step with each other and with the page.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_CSP, CONSOLE_DIR } from '../../../gateway/src/adapters/http/routes/console.js';
import { createHarness, type Harness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h.close();
});

const servable = () => readdirSync(CONSOLE_DIR).filter((f) => /\.(html|css|js|svg)$/.test(f));

describe('GET /', () => {
  it('serves the console page with a strict CSP and no-cache + ETag', async () => {
    const res = await h.request('GET', '/');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_CSP).not.toContain('unsafe-inline');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.body).toContain('<script type="module" src="/console/console.js"></script>');

    const again = await h.app.inject({ method: 'GET', url: '/', headers: { 'if-none-match': String(res.headers.etag) } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
  });

  it('has no inline script, no inline event handlers and no inline styles (the CSP would block them)', async () => {
    const html = (await h.request('GET', '/')).body;
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    expect(html).not.toMatch(/\sstyle=/i);
  });

  it('serves every file the page references, with its type, and 404 for anything else', async () => {
    const html = (await h.request('GET', '/')).body;
    const refs = [...html.matchAll(/(?:src|href)="(\/console\/[^"]+)"/g)].map((m) => m[1] ?? '');
    expect(refs.sort()).toEqual(['/console/console.css', '/console/console.js', '/console/icon.svg']);
    for (const file of servable().filter((f) => f !== 'index.html')) {
      const res = await h.request('GET', `/console/${file}`);
      expect(res.statusCode, file).toBe(200);
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.headers.etag).toMatch(/^"[A-Za-z0-9_-]{22}"$/);
    }
    expect((await h.request('GET', '/console/console.js')).headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((await h.request('GET', '/console/console.css')).headers['content-type']).toBe('text/css; charset=utf-8');
    for (const bad of ['README.md', 'index.html', '..%2Fapp.ts', '%2e%2e%2fdeps.ts', 'nope.js']) {
      const res = await h.request('GET', `/console/${bad}`);
      expect(res.statusCode, bad).toBe(404);
      expect(res.json().error.code).toBe('GW_NOT_FOUND');
    }
  });
});

describe('console files', () => {
  it('load nothing from the internet', () => {
    for (const file of servable()) {
      const text = readFileSync(path.join(CONSOLE_DIR, file), 'utf8');
      // The SVG namespace is an identifier, not a fetch.
      const urls = [...text.matchAll(/(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}[^\s"')]*/gi)].map((m) => m[0]).filter((u) => u !== 'http://www.w3.org/2000/svg');
      expect(urls, file).toEqual([]);
      expect(text, file).not.toMatch(/@import|fonts\.googleapis|cdn\./i);
    }
  });

  it('never put data into innerHTML (XSS): the DOM is built with textContent', () => {
    const js = readFileSync(path.join(CONSOLE_DIR, 'console.js'), 'utf8');
    expect(js).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/);
  });

  it('have the same keys in Chinese and English, covering every data-i18n key of the page', async () => {
    const { MESSAGES, initialLanguage } = (await import(path.join(CONSOLE_DIR, 'i18n.js'))) as {
      MESSAGES: Record<'en' | 'zh', Record<string, string>>;
      initialLanguage(stored: string | null, browser: string | undefined): string;
    };
    expect(Object.keys(MESSAGES.zh).sort()).toEqual(Object.keys(MESSAGES.en).sort());
    for (const [key, zh] of Object.entries(MESSAGES.zh)) {
      expect(zh.trim(), key).not.toBe('');
      expect(MESSAGES.en[key]?.trim(), key).not.toBe('');
    }
    const html = readFileSync(path.join(CONSOLE_DIR, 'index.html'), 'utf8');
    const js = readFileSync(path.join(CONSOLE_DIR, 'console.js'), 'utf8');
    const used = [...html.matchAll(/data-i18n="([^"]+)"/g), ...js.matchAll(/t\('([a-z]+\.[A-Za-z_]+)'\)/g)].map((m) => m[1] ?? '');
    expect(used.length).toBeGreaterThan(30);
    for (const key of used) expect(MESSAGES.en, key).toHaveProperty([key]);
    // Every alert state, signal class and device health has a label.
    for (const key of ['state.active_unack', 'state.active_ack', 'state.returned_unack', 'state.normal', 'class.alarm', 'class.supervisory', 'class.trouble', 'class.info', 'status.online', 'status.offline', 'status.stale', 'status.never_seen']) {
      expect(MESSAGES.zh, key).toHaveProperty([key]);
    }
    expect(initialLanguage(null, 'zh-CN')).toBe('zh');
    expect(initialLanguage(null, 'en-US')).toBe('en');
    expect(initialLanguage('en', 'zh-CN')).toBe('en');
  });
});

describe('case board rules (console/cases.js)', () => {
  type Summary = { state: string; parked: unknown; extension: { approved: boolean | null } | null; overdue?: boolean; deadlines?: Record<string, { dueAt: string; metAt: string | null } | null> };
  interface BoardRules {
    TRANSITIONS: Record<string, { from: string[]; to: string | null; roles: string[]; note?: boolean; until?: boolean }>;
    STATE_ORDER: string[];
    actionsFor(c: Summary, caseRoles: string[]): string[];
    rolesFor(action: string, caseRoles: string[]): string[];
    asRoleField(role: string | undefined): Record<string, string>;
    isOverdue(c: Summary, now: number): boolean;
  }
  const load = async () => (await import(path.join(CONSOLE_DIR, 'cases.js'))) as BoardRules;
  const summary = (state: string, extra: Partial<Summary> = {}): Summary => ({ state, parked: null, extension: null, ...extra });

  it("keep the gateway's lifecycle table: the same actions, states, targets and roles", async () => {
    const { TRANSITIONS: domain } = await import('../../../gateway/src/domain/cases/lifecycle.js');
    const { CASE_STATES } = await import('../../../gateway/src/domain/cases/types.js');
    const board = await load();
    expect(Object.keys(board.TRANSITIONS).sort()).toEqual(Object.keys(domain).sort());
    for (const [action, rule] of Object.entries(domain)) {
      const copy = board.TRANSITIONS[action]!;
      expect({ from: copy.from, to: copy.to, roles: copy.roles }, action).toEqual({ from: [...rule.from], to: rule.to, roles: [...rule.roles] });
    }
    expect([...board.STATE_ORDER].sort()).toEqual([...CASE_STATES].sort());
    // The actions the case book refuses without a note (case-book.ts NOTE_REQUIRED), and the one with a date.
    expect(Object.keys(board.TRANSITIONS).filter((a) => board.TRANSITIONS[a]!.note).sort()).toEqual(['cancel', 'park', 'reject_extension', 'request_extension', 'return', 'rework']);
    expect(Object.keys(board.TRANSITIONS).filter((a) => board.TRANSITIONS[a]!.until)).toEqual(['request_extension']);
  });

  it('offer the transitions the state allows and the token may take', async () => {
    const { actionsFor, rolesFor, asRoleField } = await load();
    const worker = ['grid_worker'];
    const community = ['community_staff', 'grid_worker'];
    const admin = ['admin', 'street_dispatcher', 'community_staff', 'grid_worker'];
    expect(actionsFor(summary('dispatched'), worker)).toEqual(['accept', 'return']);
    expect(actionsFor(summary('dispatched'), community)).toEqual(['accept', 'return', 'park']);
    expect(actionsFor(summary('dispatched'), [])).toEqual([]);
    expect(actionsFor(summary('checking'), worker)).toEqual([]);
    expect(actionsFor(summary('checking'), community)).toEqual(['close', 'rework']);
    expect(actionsFor(summary('closed'), admin)).toEqual(['evaluate']);
    expect(actionsFor(summary('cancelled'), admin)).toEqual([]);
    // A parked case only resumes; one extension at a time, decided by a dispatcher.
    expect(actionsFor(summary('handling', { parked: { at: 'x' } }), admin)).toEqual(['resume']);
    expect(actionsFor(summary('handling'), worker)).toEqual(['feedback', 'request_extension']);
    expect(actionsFor(summary('handling', { extension: { approved: null } }), worker)).toEqual(['feedback']);
    expect(actionsFor(summary('handling', { extension: { approved: null } }), community)).toEqual(['feedback', 'approve_extension', 'reject_extension', 'park']);
    expect(actionsFor(summary('handling', { extension: { approved: false } }), worker)).toEqual(['feedback', 'request_extension']);
    // One role fits: chosen; several: the form asks; admin sends no asRole (the gateway records admin).
    expect(rolesFor('accept', community)).toEqual(['grid_worker']);
    expect(rolesFor('register', ['street_dispatcher', 'community_staff', 'grid_worker'])).toEqual(['street_dispatcher', 'community_staff']);
    expect(rolesFor('accept', admin)).toEqual(['admin', 'grid_worker']);
    expect(asRoleField('admin')).toEqual({});
    expect(asRoleField('grid_worker')).toEqual({ asRole: 'grid_worker' });
  });

  it('mark a case overdue from its running deadline as time passes, never a final one', async () => {
    const { isOverdue } = await load();
    const c = summary('dispatched', { overdue: false, deadlines: { dispatch: { dueAt: '2026-01-01T00:00:00Z', metAt: '2026-01-01T00:00:00Z' }, accept: { dueAt: '2026-01-01T01:00:00Z', metAt: null }, handle: null, check: null } });
    expect(isOverdue(c, Date.parse('2026-01-01T00:59:00Z'))).toBe(false);
    expect(isOverdue(c, Date.parse('2026-01-01T01:01:00Z'))).toBe(true);
    expect(isOverdue({ ...c, state: 'closed' }, Date.parse('2026-01-01T01:01:00Z'))).toBe(false);
  });

  it('label every case state, action, role and urgency in both languages', async () => {
    const { MESSAGES } = (await import(path.join(CONSOLE_DIR, 'i18n.js'))) as { MESSAGES: Record<'en' | 'zh', Record<string, string>> };
    const { TRANSITIONS, STATE_ORDER } = await load();
    const keys = [
      ...STATE_ORDER.map((s) => `caseState.${s}`),
      ...Object.keys(TRANSITIONS).map((a) => `caseAction.${a}`),
      ...['admin', 'street_dispatcher', 'community_staff', 'grid_worker'].map((r) => `caseRole.${r}`),
      'urgency.urgent',
      'urgency.normal',
      ...['dispatch', 'accept', 'handle', 'check'].map((s) => `step.${s}`),
      ...['error.caseTransition', 'error.caseRole', 'error.invalid', 'error.notFound'],
    ];
    for (const key of keys) {
      expect(MESSAGES.en, key).toHaveProperty([key]);
      expect(MESSAGES.zh, key).toHaveProperty([key]);
    }
    expect(MESSAGES.zh['caseAction.accept']).toBe('签收');
  });
});
