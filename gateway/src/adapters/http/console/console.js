/* global window, document, navigator, sessionStorage, localStorage, fetch, AbortController, TextDecoderStream, FormData, console, setTimeout, clearTimeout, setInterval -- a browser module */
// The gridwatch console: plain browser JavaScript (an ES module, no build step, nothing from the
// internet). It holds no data of its own; everything comes from /api/v1 with the token the user
// typed, kept in sessionStorage (gone when the tab closes). The CSP forbids inline script, so all
// behaviour is here and the DOM is built with textContent (data is never parsed as HTML).
import { MESSAGES, initialLanguage } from './i18n.js';
import { FINAL_STATES, STATE_ORDER, TRANSITIONS, actionsFor, asRoleField, isOverdue, rolesFor, runningDeadline } from './cases.js';

const API = '/api/v1';
const TOKEN_KEY = 'gridwatch.token';
const LANG_KEY = 'gridwatch.lang';
const RECONNECT_MS = 3000;

const $ = (id) => document.getElementById(id);

const state = {
  token: sessionStorage.getItem(TOKEN_KEY),
  lang: initialLanguage(localStorage.getItem(LANG_KEY), navigator.language),
  alerts: new Map(), // id → alert summary
  devices: new Map(), // id → device
  buildings: new Map(), // id → { id, name }
  kinds: new Map(), // id → { heartbeat }
  cases: null, // null: unavailable (404)
  me: null, // GET /api/v1/me: the token's role and the case roles it may act as
  caseForm: null, // the transition form open on the board: { caseId, action, role, note, until, error }
  kpis: null,
  lastEventId: null,
  stream: null, // AbortController of the open stream
};

// ---------------------------------------------------------------------------------------------
// Text

function t(key) {
  return MESSAGES[state.lang][key] ?? MESSAGES.en[key] ?? key;
}

function applyLanguage() {
  document.documentElement.lang = state.lang === 'zh' ? 'zh-CN' : 'en';
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  renderAll();
}

function when(iso) {
  if (!iso) return t('devices.never');
  return new Date(iso).toLocaleString(state.lang === 'zh' ? 'zh-CN' : 'en-GB', { hour12: false });
}

function toast(text) {
  const box = $('toast');
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (box.hidden = true), 3500);
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else node.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

// ---------------------------------------------------------------------------------------------
// API

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(method, path, body) {
  const headers = { authorization: `Bearer ${state.token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(API + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await res.json().catch(() => null);
  if (!res.ok) {
    if (res.status === 401) logout();
    throw new ApiError(res.status, json?.error?.code ?? 'GW_UNKNOWN', json?.error?.message ?? res.statusText);
  }
  return json;
}

/** Every page of a list (the console's lists are small: one building's or one street's). */
async function all(path) {
  const items = [];
  let cursor = null;
  for (let page = 0; page < 20; page++) {
    const sep = path.includes('?') ? '&' : '?';
    const res = await api('GET', `${path}${sep}limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    items.push(...res.items);
    cursor = res.nextCursor;
    if (!cursor) break;
  }
  return items;
}

/** A resource another part of the API may not have yet: null on 404 (the board says so). */
async function optional(path) {
  try {
    return await api('GET', path);
  } catch (err) {
    if (err instanceof ApiError && (err.status === 404 || err.status === 403)) return null;
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Live events: fetch() + a small SSE parser, because EventSource cannot send Authorization.

async function connectStream() {
  state.stream?.abort();
  const controller = new AbortController();
  state.stream = controller;
  const headers = { authorization: `Bearer ${state.token}`, accept: 'text/event-stream' };
  if (state.lastEventId !== null) headers['last-event-id'] = state.lastEventId;
  try {
    const res = await fetch(`${API}/events`, { headers, signal: controller.signal, cache: 'no-store' });
    if (res.status === 401) return logout();
    if (!res.ok || !res.body) throw new Error(`stream answered ${res.status}`);
    setLive(true);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let cut;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        handleFrame(buffer.slice(0, cut));
        buffer = buffer.slice(cut + 2);
      }
    }
  } catch (err) {
    if (controller.signal.aborted) return;
    console.warn('event stream', err);
  }
  setLive(false);
  if (state.stream === controller && state.token) setTimeout(() => state.stream === controller && connectStream(), RECONNECT_MS);
}

function handleFrame(frame) {
  let event = 'message';
  let id = null;
  const data = [];
  for (const line of frame.split('\n')) {
    if (line.startsWith(':')) continue; // heartbeat
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') id = value;
  }
  if (id !== null) state.lastEventId = id;
  if (data.length === 0) return;
  const payload = JSON.parse(data.join('\n'));
  switch (event) {
    case 'alert':
      return onAlert(payload);
    case 'device_status':
      return onDeviceStatus(payload);
    case 'case':
      return onCase(payload);
    case 'reset':
      return loadAll();
    default:
      return undefined;
  }
}

function setLive(on) {
  const live = $('live');
  live.dataset.state = on ? 'on' : 'off';
  live.dataset.i18n = on ? 'live.on' : 'live.off';
  live.textContent = t(live.dataset.i18n);
}

function onAlert({ event, alert }) {
  const known = state.alerts.has(alert.id);
  state.alerts.set(alert.id, alert);
  const fresh = !known && alert.signalClass === 'alarm' && alert.state === 'active_unack';
  renderAlerts(fresh ? alert.id : null);
  renderKpis();
  if (fresh || (event === 'raised' && alert.signalClass === 'alarm')) alarmCue();
}

function onDeviceStatus({ deviceId, status, at }) {
  const device = state.devices.get(deviceId);
  if (!device) return;
  device.status = status;
  device.statusChangedAt = at;
  if (status === 'online') device.lastSeen = at;
  renderDevices();
  renderKpis();
}

function onCase(item) {
  if (state.cases === null) return;
  upsertCase(item.case ?? item);
  renderCases();
}

/** Keeps the newer of two copies of a case: events may arrive after the transition's own answer. */
function upsertCase(c) {
  const i = state.cases.findIndex((x) => x.id === c.id);
  if (i < 0) state.cases.push(c);
  else if (Date.parse(c.updatedAt) >= Date.parse(state.cases[i].updatedAt ?? 0)) state.cases[i] = c;
}

// ---------------------------------------------------------------------------------------------
// The alarm cue: a visual flash and a short two-tone beep made with WebAudio (no audio file).
// Browsers allow sound only after a user gesture; the sign-in click unlocks the AudioContext.

let audio = null;
function unlockAudio() {
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!audio && Ctx) audio = new Ctx();
  audio?.resume?.().catch(() => undefined);
}

function alarmCue() {
  const flash = $('flash');
  flash.classList.remove('on');
  void flash.offsetWidth; // restart the animation
  flash.classList.add('on');
  if (!audio || audio.state !== 'running') return;
  const now = audio.currentTime;
  for (const [i, freq] of [880, 660, 880].entries()) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = 'square';
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, now + i * 0.25);
    gain.gain.exponentialRampToValueAtTime(0.2, now + i * 0.25 + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, now + i * 0.25 + 0.22);
    osc.connect(gain).connect(audio.destination);
    osc.start(now + i * 0.25);
    osc.stop(now + i * 0.25 + 0.24);
  }
  navigator.vibrate?.([200, 100, 200]);
}

// ---------------------------------------------------------------------------------------------
// Alerts

const CLASS_ORDER = { alarm: 0, supervisory: 1, trouble: 2, info: 3 };

function isOpen(a) {
  return a.closedAt === null;
}

function renderAlerts(freshId = null) {
  const list = $('alert-list');
  const template = $('alert-template');
  const open = [...state.alerts.values()].filter(isOpen);
  open.sort((a, b) => (CLASS_ORDER[a.signalClass] ?? 9) - (CLASS_ORDER[b.signalClass] ?? 9) || b.raisedAt.localeCompare(a.raisedAt));
  list.replaceChildren(
    ...open.map((a) => {
      const li = template.content.firstElementChild.cloneNode(true);
      li.dataset.id = a.id;
      li.dataset.state = a.state;
      li.classList.add(`cls-${a.signalClass}`);
      if (a.state.endsWith('_unack')) li.classList.add('unacked');
      if (a.id === freshId) li.classList.add('fresh');
      const field = (name) => li.querySelector(`[data-field="${name}"]`);
      field('class').textContent = t(`class.${a.signalClass}`);
      field('title').textContent = state.lang === 'zh' ? a.titleZh : a.title;
      const building = state.buildings.get(a.source.buildingId)?.name ?? a.source.buildingId;
      const device = state.devices.get(a.source.deviceId)?.name ?? a.source.deviceId;
      field('where').textContent = [building, a.source.floor === null ? null : `${a.source.floor}F`, device].filter(Boolean).join(' · ');
      field('state').textContent = t(`state.${a.state}`) + (a.shelvedUntil ? ` · ${t('alerts.shelvedUntil')} ${when(a.shelvedUntil)}` : '');
      field('time').textContent = when(a.raisedAt);
      field('time').setAttribute('datetime', a.raisedAt);
      field('count').textContent = a.count > 1 ? `×${a.count} ${t('alerts.count')}` : '';
      for (const node of li.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
      li.querySelector('[data-action="ack"]').hidden = !a.state.endsWith('_unack');
      li.querySelector('[data-action="shelve"]').hidden = a.shelvedUntil !== null;
      li.querySelector('[data-action="unshelve"]').hidden = a.shelvedUntil === null;
      return li;
    }),
  );
  $('alert-empty').hidden = open.length > 0;
  const unacked = open.filter((a) => a.state.endsWith('_unack')).length;
  $('alert-badge').textContent = String(unacked);
  $('alert-badge').hidden = unacked === 0;
}

async function alertAction(id, action, body) {
  try {
    const alert = await api('POST', `/alerts/${encodeURIComponent(id)}/${action}`, body);
    state.alerts.set(alert.id, alert);
    renderAlerts();
    renderKpis();
    toast(t('action.done'));
  } catch (err) {
    toast(err instanceof ApiError && err.status === 403 ? t('error.forbidden') : `${t('error.generic')}: ${err.message}`);
  }
}

function onAlertClick(event) {
  const button = event.target.closest('button[data-action]');
  if (!button) return;
  const card = button.closest('li[data-id]');
  const form = card.querySelector('.shelve-form');
  switch (button.dataset.action) {
    case 'ack':
      button.disabled = true;
      return alertAction(card.dataset.id, 'ack');
    case 'unshelve':
      return alertAction(card.dataset.id, 'unshelve');
    case 'shelve':
      form.hidden = false;
      return form.querySelector('input[name="reason"]').focus();
    case 'cancel':
      form.hidden = true;
      return undefined;
    default:
      return undefined;
  }
}

function onShelveSubmit(event) {
  const form = event.target.closest('.shelve-form');
  if (!form) return;
  event.preventDefault();
  const id = form.closest('li[data-id]').dataset.id;
  const data = new FormData(form);
  void alertAction(id, 'shelve', { durationS: Number(data.get('durationS')), reason: String(data.get('reason')).trim() });
}

// ---------------------------------------------------------------------------------------------
// Case board (GET /api/v1/cases): one column per state in lifecycle order, each case with its
// deadlines and the transitions this token may take (GET /api/v1/me + the lifecycle table in
// cases.js). A transition opens a small form (acting role when more than one fits, note, new
// deadline for an extension) so a tap on a phone never changes a case by accident.

/** Cases kept per final column: the board is for work in hand; the rest is in the API. */
const FINAL_COLUMN_LIMIT = 20;

function caseRoles() {
  return state.me?.caseRoles ?? [];
}

function caseLabel(prefix, value) {
  const key = `${prefix}.${value}`;
  return MESSAGES.en[key] === undefined ? value : t(key);
}

function renderCases() {
  const board = $('case-board');
  $('cases-unavailable').hidden = state.cases !== null;
  if (state.cases === null) return board.replaceChildren();
  if (state.cases.length === 0) return board.replaceChildren(el('p', { class: 'note' }, t('cases.empty')));
  const focused = document.activeElement?.closest?.('.case-form') ? document.activeElement.name : null;
  const now = Date.now();
  const byState = new Map();
  for (const c of state.cases) {
    if (!byState.has(c.state)) byState.set(c.state, []);
    byState.get(c.state).push(c);
  }
  const order = [...STATE_ORDER, ...[...byState.keys()].filter((k) => !STATE_ORDER.includes(k))];
  const columns = [];
  for (const name of order) {
    let items = byState.get(name);
    if (!items) continue;
    const total = items.length;
    if (FINAL_STATES.includes(name)) {
      items = [...items].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt)).slice(0, FINAL_COLUMN_LIMIT);
    } else {
      // Overdue first, then the nearest deadline, urgent before normal.
      const due = (c) => Date.parse(runningDeadline(c)?.dueAt ?? c.dueAt ?? '9999-12-31T00:00:00Z');
      items = [...items].sort((a, b) => Number(isOverdue(b, now)) - Number(isOverdue(a, now)) || (a.urgency === 'urgent' ? -1 : 0) - (b.urgency === 'urgent' ? -1 : 0) || due(a) - due(b));
    }
    columns.push(
      el(
        'div',
        { class: 'column', dataset: { state: name } },
        el('h3', {}, `${caseLabel('caseState', name)} (${total})`),
        ...items.map((c) => caseCard(c, now)),
        total > items.length ? el('p', { class: 'note' }, `+${total - items.length} ${t('cases.more')}`) : null,
      ),
    );
  }
  board.replaceChildren(...columns);
  if (focused) board.querySelector(`.case-form [name="${focused}"]`)?.focus();
  return undefined;
}

function caseCard(c, now) {
  const overdue = isOverdue(c, now);
  const running = runningDeadline(c);
  const building = state.buildings.get(c.buildingId)?.name ?? c.buildingId;
  const card = el(
    'div',
    { class: `card case${overdue ? ' is-overdue' : ''}${c.urgency === 'urgent' ? ' urgent' : ''}`, dataset: { case: c.id, state: c.state, overdue: String(overdue) } },
    el('div', { class: 'row' }, el('span', { class: `badge ${c.urgency}`, dataset: { field: 'urgency' } }, caseLabel('urgency', c.urgency)), el('strong', { dataset: { field: 'code' } }, c.code)),
    el('div', { class: 'title', dataset: { field: 'title' } }, c.title),
    el('div', { class: 'meta' }, `${building} · ${caseLabel('category', c.category)}`),
  );
  if (!FINAL_STATES.includes(c.state)) {
    if (running !== null) {
      const late = Date.parse(running.dueAt) < now;
      card.append(el('div', { class: late ? 'meta overdue' : 'meta', dataset: { field: 'deadline' } }, `${caseLabel('step', running.step)} ${t(late ? 'cases.overdue' : 'cases.due')} ${when(running.dueAt)}`));
    }
    if (c.dueAt) card.append(el('div', { class: overdue && running === null ? 'meta overdue' : 'meta', dataset: { field: 'due' } }, `${t('cases.closeBy')} ${when(c.dueAt)}`));
  }
  if (c.parked) card.append(el('div', { class: 'meta flag' }, `${t('cases.parked')}: ${c.parked.reason}`));
  if (c.extension && c.extension.approved === null) card.append(el('div', { class: 'meta flag' }, `${t('cases.extensionPending')} ${when(c.extension.until)}`));
  const actions = actionsFor(c, caseRoles());
  if (actions.length > 0) {
    card.append(
      el(
        'div',
        { class: 'actions' },
        ...actions.map((a) => el('button', { type: 'button', class: TRANSITIONS[a].to === null || a === 'cancel' || a === 'return' ? 'ghost' : '', dataset: { caseAction: a } }, caseLabel('caseAction', a))),
      ),
    );
  }
  const form = state.caseForm;
  if (form && form.caseId === c.id && actions.includes(form.action)) card.append(caseForm(c, form));
  return card;
}

function caseForm(c, form) {
  const rule = TRANSITIONS[form.action];
  const roles = rolesFor(form.action, caseRoles());
  const fields = [el('strong', {}, caseLabel('caseAction', form.action))];
  if (roles.length > 1) {
    const select = el('select', { name: 'role' }, ...roles.map((r) => el('option', { value: r }, caseLabel('caseRole', r))));
    select.value = roles.includes(form.role) ? form.role : roles[0];
    fields.push(el('label', {}, el('span', {}, t('cases.actAs')), select));
  }
  const note = el('input', { name: 'note', maxlength: '1000', autocomplete: 'off' });
  if (rule.note) note.required = true;
  note.value = form.note ?? '';
  fields.push(el('label', {}, el('span', {}, t(rule.note ? 'cases.noteRequired' : 'cases.note')), note));
  if (rule.until) {
    const until = el('input', { name: 'until', type: 'datetime-local', required: 'required' });
    until.value = form.until ?? defaultExtension(c);
    fields.push(el('label', {}, el('span', {}, t('cases.extendUntil')), until));
  }
  fields.push(el('p', { class: 'error', role: 'alert', dataset: { field: 'error' }, ...(form.error ? {} : { hidden: 'hidden' }) }, form.error ?? ''));
  fields.push(el('div', { class: 'actions' }, el('button', { type: 'submit' }, t('cases.confirm')), el('button', { type: 'button', class: 'ghost', dataset: { caseCancel: '1' } }, t('cases.cancel'))));
  return el('form', { class: 'case-form', dataset: { action: form.action } }, ...fields);
}

/** A day after the running disposal deadline (or after now), as a datetime-local value in local time. */
function defaultExtension(c) {
  const base = Math.max(Date.now(), Date.parse(c.deadlines?.handle?.dueAt ?? '') || 0);
  const d = new Date(base + 86_400_000);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function caseErrorText(err) {
  if (!(err instanceof ApiError)) return `${t('error.generic')}: ${err.message}`;
  switch (err.code) {
    case 'GW_CASE_TRANSITION':
      return t('error.caseTransition');
    case 'GW_CASE_ROLE':
      return t('error.caseRole');
    case 'GW_VALIDATION':
      return t('error.invalid');
    case 'GW_NOT_FOUND':
      return t('error.notFound');
    default:
      return err.status === 403 ? t('error.forbidden') : `${t('error.generic')}: ${err.message}`;
  }
}

function onCaseClick(event) {
  const button = event.target.closest('button');
  if (!button) return;
  const card = button.closest('[data-case]');
  if (button.dataset.caseAction) {
    state.caseForm = { caseId: card.dataset.case, action: button.dataset.caseAction, role: null, note: '', until: null, error: null };
    renderCases();
    $('case-board').querySelector('.case-form select, .case-form input')?.focus();
  } else if (button.dataset.caseCancel) {
    state.caseForm = null;
    renderCases();
  }
}

/** Typing survives a live re-render of the board: the form's values live in state.caseForm. */
function onCaseInput(event) {
  const form = state.caseForm;
  const name = event.target.name;
  if (!form || !event.target.closest('.case-form') || !['role', 'note', 'until'].includes(name)) return;
  form[name] = event.target.value;
}

async function onCaseSubmit(event) {
  const formEl = event.target.closest('.case-form');
  if (!formEl || !state.caseForm) return;
  event.preventDefault();
  const form = state.caseForm;
  const data = new FormData(formEl);
  const roles = rolesFor(form.action, caseRoles());
  const role = roles.length > 1 ? String(data.get('role')) : roles[0];
  const note = String(data.get('note') ?? '').trim();
  const body = { action: form.action, ...asRoleField(role), ...(note ? { note } : {}) };
  if (TRANSITIONS[form.action].until) {
    const until = new Date(String(data.get('until') ?? ''));
    if (Number.isNaN(until.getTime())) {
      form.error = t('error.invalid');
      return renderCases();
    }
    body.extendUntil = until.toISOString();
  }
  for (const b of formEl.querySelectorAll('button')) b.disabled = true;
  try {
    const c = await api('POST', `/cases/${encodeURIComponent(form.caseId)}/transitions`, body);
    const { history: _history, alerts: _alerts, ...summary } = c;
    upsertCase(summary);
    state.caseForm = null;
    toast(t('action.done'));
  } catch (err) {
    form.error = caseErrorText(err);
    toast(form.error);
    // The case may have moved on (another desk acted first): show its state now.
    if (err instanceof ApiError && (err.code === 'GW_CASE_TRANSITION' || err.code === 'GW_NOT_FOUND')) await reloadCases();
  }
  renderCases();
  return undefined;
}

async function reloadCases() {
  const cases = await optional('/cases?limit=1000').catch(() => null);
  if (cases !== null) state.cases = cases.items ?? [];
}

// ---------------------------------------------------------------------------------------------
// Devices by building: online / offline / stale, battery, last seen

function healthOf(d) {
  if (d.status !== 'online') return d.status;
  const hb = state.kinds.get(d.kind)?.heartbeat;
  const last = d.lastSeen ? Date.parse(d.lastSeen) : null;
  // Late but not yet offline: more than one and a half heartbeat intervals without data.
  if (hb && last !== null && Date.now() - last > hb.intervalS * 1500) return 'stale';
  return 'online';
}

function renderDevices() {
  const box = $('device-health');
  const byBuilding = new Map();
  for (const d of state.devices.values()) {
    if (!byBuilding.has(d.buildingId)) byBuilding.set(d.buildingId, []);
    byBuilding.get(d.buildingId).push(d);
  }
  if (byBuilding.size === 0) return box.replaceChildren(el('p', { class: 'note' }, t('devices.empty')));
  box.replaceChildren(
    ...[...byBuilding.entries()].sort().map(([buildingId, devices]) =>
      el(
        'div',
        { class: 'building', dataset: { building: buildingId } },
        el('h3', {}, state.buildings.get(buildingId)?.name ?? buildingId),
        ...devices.sort((a, b) => a.id.localeCompare(b.id)).map((d) => {
          const health = healthOf(d);
          const battery = d.latest?.battery?.value;
          return el(
            'div',
            { class: 'device', dataset: { device: d.id, health } },
            el('span', {}, d.name ?? d.id),
            el('span', { class: `pill ${health}` }, t(`status.${health}`)),
            el(
              'span',
              { class: 'meta' },
              `${d.kind} · ${d.floor === null ? '' : `${d.floor}F · `}${t('devices.lastSeen')} ${when(d.lastSeen)}`,
              battery === undefined ? null : el('span', { class: battery < 20 ? 'low' : '' }, ` · ${t('devices.battery')} ${Math.round(battery)}%`),
            ),
          );
        }),
      ),
    ),
  );
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Hierarchy tree

function renderTree(tree) {
  const box = $('tree');
  if (!tree) return box.replaceChildren();
  const node = (kind, label, children) => el('li', {}, el('span', { class: 'kind' }, kind), label, children.length ? el('ul', {}, ...children) : null);
  const zh = state.lang === 'zh';
  const building = (b) => node(zh ? '楼栋' : 'building', `${b.name} (${b.deviceCount} ${t('sites.devices')})`, []);
  const grid = (g) => node(zh ? '网格' : 'grid', g.name, g.buildings.map(building));
  const community = (c) => node(zh ? '社区' : 'community', c.name, c.grids.map(grid));
  const street = (s) => node(zh ? '街道' : 'street', s.name, s.communities.map(community));
  box.replaceChildren(el('ul', {}, ...tree.streets.map(street)));
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// KPIs: live counts always; the report from GET /api/v1/kpis when the gateway has it

function renderKpis() {
  const open = [...state.alerts.values()].filter(isOpen);
  const devices = [...state.devices.values()];
  const tiles = [
    ['kpis.openAlerts', open.length],
    ['kpis.unacked', open.filter((a) => a.state.endsWith('_unack')).length],
    ['kpis.alarms', open.filter((a) => a.signalClass === 'alarm').length],
    ['kpis.online', devices.filter((d) => healthOf(d) === 'online').length],
    ['kpis.offline', devices.filter((d) => d.status === 'offline').length],
    ['kpis.lowBattery', devices.filter((d) => (d.latest?.battery?.value ?? 100) < 20).length],
  ];
  $('kpi-tiles').replaceChildren(...tiles.map(([key, n]) => el('div', { class: 'tile', dataset: { kpi: key } }, el('b', {}, String(n)), el('span', {}, t(key)))));
  $('kpi-note').hidden = state.kpis !== null;
  const report = $('kpi-report');
  report.hidden = state.kpis === null;
  if (state.kpis !== null) {
    const rows = Object.entries(flatten(state.kpis)).slice(0, 40);
    report.replaceChildren(...rows.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, typeof v === 'number' && v > 0 && v < 1 ? `${(v * 100).toFixed(1)}%` : String(v))]));
  }
}

function flatten(obj, prefix = '', out = {}) {
  for (const [k, v] of Object.entries(obj ?? {})) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) flatten(v, key, out);
    else if (typeof v === 'number' || typeof v === 'string') out[key] = v;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Loading, sign-in, tabs

let tree = null;

function renderAll() {
  if (!state.token) return;
  renderAlerts();
  renderCases();
  renderDevices();
  renderTree(tree);
  renderKpis();
}

async function loadAll() {
  const [alerts, devices, hierarchy, kinds, cases, kpis, me] = await Promise.all([
    all('/alerts?state=open'),
    all('/devices'),
    api('GET', '/hierarchy'),
    all('/kinds').catch(() => []),
    optional('/cases?limit=1000'),
    optional('/kpis'),
    optional('/me'),
  ]);
  state.me = me;
  state.alerts = new Map(alerts.map((a) => [a.id, a]));
  state.devices = new Map(devices.map((d) => [d.id, d]));
  state.kinds = new Map(kinds.map((k) => [k.id, k]));
  state.buildings = new Map();
  for (const s of hierarchy.streets) for (const c of s.communities) for (const g of c.grids) for (const b of g.buildings) state.buildings.set(b.id, b);
  tree = hierarchy;
  state.cases = cases === null ? null : Array.isArray(cases) ? cases : (cases.items ?? []);
  state.kpis = kpis;
  renderAll();
}

async function signIn(token) {
  state.token = token;
  sessionStorage.setItem(TOKEN_KEY, token);
  $('login').hidden = true;
  $('app').hidden = false;
  $('logout').hidden = false;
  // Subscribe first, then load: an alert raised in between arrives on the stream, not lost.
  void connectStream();
  await loadAll();
}

function logout() {
  state.token = null;
  state.stream?.abort();
  state.stream = null;
  state.lastEventId = null;
  state.me = null;
  state.caseForm = null;
  sessionStorage.removeItem(TOKEN_KEY);
  $('app').hidden = true;
  $('logout').hidden = true;
  $('login').hidden = false;
  setLive(false);
}

async function onLogin(event) {
  event.preventDefault();
  unlockAudio();
  const token = $('token').value.trim();
  const error = $('login-error');
  error.hidden = true;
  try {
    const res = await fetch(`${API}/hierarchy`, { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) {
      error.textContent = t('login.invalid');
      error.hidden = false;
      return;
    }
  } catch {
    error.textContent = t('login.failed');
    error.hidden = false;
    return;
  }
  $('token').value = '';
  await signIn(token);
}

function showTab(name) {
  for (const b of document.querySelectorAll('.tabs button')) b.classList.toggle('active', b.dataset.tab === name);
  for (const p of document.querySelectorAll('.panel')) p.classList.toggle('active', p.dataset.panel === name);
}

function start() {
  $('login-form').addEventListener('submit', onLogin);
  $('logout').addEventListener('click', logout);
  $('lang').addEventListener('click', () => {
    state.lang = state.lang === 'zh' ? 'en' : 'zh';
    localStorage.setItem(LANG_KEY, state.lang);
    applyLanguage();
  });
  $('alert-list').addEventListener('click', onAlertClick);
  $('alert-list').addEventListener('submit', onShelveSubmit);
  $('case-board').addEventListener('click', onCaseClick);
  $('case-board').addEventListener('input', onCaseInput);
  $('case-board').addEventListener('change', onCaseInput);
  $('case-board').addEventListener('submit', (event) => void onCaseSubmit(event));
  for (const b of document.querySelectorAll('.tabs button')) b.addEventListener('click', () => showTab(b.dataset.tab));
  document.addEventListener('click', unlockAudio, { once: true });
  // "stale" and "overdue" depend on the time passing, not only on events.
  setInterval(() => {
    if (!state.token) return;
    renderDevices();
    if (!state.caseForm) renderCases();
  }, 30_000);
  applyLanguage();
  if (state.token) signIn(state.token).catch(() => logout());
}

start();
