// Tangerine's status page: one hand-written script, no framework, no build step. It reads only the API's routes
// and its event stream (GET /v1/events, read with fetch so a token can go in the Authorization header, which
// EventSource cannot send). Views are chosen by the path: /ui/, /ui/tasks, /ui/tasks/<name>, /ui/graph/<name>,
// /ui/hosts, /ui/cron.
'use strict';
(() => {
  const TOKEN_KEY = 'tangerine.token';
  const FINISHED = new Set(['success', 'failed', 'blocked', 'cancelled']);
  const STATES = ['waiting', 'scheduled', 'ready', 'placed', 'running', 'success', 'failed', 'blocked', 'cancelled'];
  const PAGE = 50;
  const app = document.getElementById('app');
  const $ = (sel, root = document) => root.querySelector(sel);

  // ---- small helpers -------------------------------------------------------------------------------------------
  const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
  const enc = encodeURIComponent;
  const badge = (state) => `<span class="badge s-${esc(state ?? 'unknown')}" data-state="${esc(state ?? 'unknown')}">${esc(state ?? 'not submitted')}</span>`;
  const when = (iso) => (iso ? new Date(iso).toLocaleString() : '');
  const ago = (iso) => {
    if (!iso) return '';
    const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
    const a = Math.abs(s);
    const t = a < 60 ? `${a} s` : a < 3600 ? `${Math.round(a / 60)} min` : a < 86400 ? `${Math.round(a / 3600)} h` : `${Math.round(a / 86400)} d`;
    return s >= 0 ? `${t} ago` : `in ${t}`;
  };
  const duration = (r) => {
    if (!r.started_at) return '';
    const ms = Date.parse(r.finished_at ?? new Date().toISOString()) - Date.parse(r.started_at);
    return ms < 1000 ? `${ms} ms` : ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 60_000)} min`;
  };
  function toast(text, error = false) {
    const t = $('#toast');
    t.textContent = text;
    t.className = error ? 'err' : '';
    t.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { t.hidden = true; }, 4000);
  }
  /** Calls `fn` at most every `ms`, the last call always made: a burst of events gives one refresh, not hundreds. */
  function throttle(fn, ms) {
    let timer = null;
    let again = false;
    const run = () => { timer = null; if (again) { again = false; fn(); timer = setTimeout(run, ms); } };
    return () => { if (timer) { again = true; return; } fn(); timer = setTimeout(run, ms); };
  }

  // ---- the token and the API -----------------------------------------------------------------------------------
  const token = () => sessionStorage.getItem(TOKEN_KEY);
  const headers = () => (token() ? { authorization: `Bearer ${token()}` } : {});
  function updateTokenButton() { $('#token-button').textContent = token() ? 'Token ✓' : 'Token'; }

  /** Asks for the token in a dialog; resolves true when one was given. */
  function askToken(why) {
    const dialog = $('#token-dialog');
    $('#token-why').textContent = why;
    $('#token-input').value = '';
    return new Promise((resolve) => {
      const done = (ok) => {
        $('#token-form').onsubmit = null;
        $('#token-cancel').onclick = null;
        $('#token-forget').onclick = null;
        dialog.close();
        updateTokenButton();
        resolve(ok);
      };
      $('#token-form').onsubmit = (e) => {
        e.preventDefault();
        sessionStorage.setItem(TOKEN_KEY, $('#token-input').value.trim());
        done(true);
      };
      $('#token-cancel').onclick = () => done(false);
      $('#token-forget').onclick = () => { sessionStorage.removeItem(TOKEN_KEY); done(false); };
      dialog.showModal();
    });
  }

  class ApiError extends Error {
    constructor(status, body) {
      super(body?.error?.message ?? `HTTP ${status}`);
      this.status = status;
      this.code = body?.error?.code;
    }
  }

  /** A call to the API; a 401 (or a 403 on an action) asks for the token once and tries again. */
  async function api(path, { method = 'GET', text = false, signal } = {}) {
    for (let tries = 0; ; tries++) {
      const res = await fetch(path, { method, headers: headers(), signal });
      if ((res.status === 401 || (res.status === 403 && method !== 'GET')) && tries === 0) {
        const why = res.status === 401 ? 'This needs an API token.' : 'This token may only read: give a write token.';
        if (await askToken(why)) continue;
      }
      if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => null));
      return text ? res.text() : res.json();
    }
  }

  /** An action: asks for the token first when none is kept (reading may be open, acting never is). */
  async function act(method, path, done) {
    if (!token() && !(await askToken('Acting needs a write token.'))) return;
    try {
      const body = await api(path, { method });
      toast(done(body));
    } catch (err) {
      toast(err.message, true);
    }
  }

  // ---- the event stream ----------------------------------------------------------------------------------------
  /**
   * One stream for the page's life, resumed with Last-Event-ID after a break (none missed, none twice). `ready`
   * resolves when the stream is open: a view reads after that, so no change falls between its read and the stream.
   */
  const live = {
    listeners: new Set(),
    lastId: null,
    open: false,
    // Aborted when the page goes: chromium kept a streaming fetch's connection after a reload, and with six per host
    // the seventh reload's reads waited for one (51 s in the page bench).
    stop: new AbortController(),
    ready: null,
    on(fn) { this.listeners.add(fn); return () => this.listeners.delete(fn); },
    start() {
      let opened;
      this.ready = new Promise((r) => { opened = r; });
      const mark = (on) => { this.open = on; const el = $('#live'); el.className = `live ${on ? 'on' : 'off'}`; el.textContent = on ? 'live' : 'reconnecting'; };
      const loop = async () => {
        for (;;) {
          try {
            const h = headers();
            if (this.lastId !== null) h['last-event-id'] = this.lastId;
            const res = await fetch('/v1/events?kinds=task,host', { headers: h, cache: 'no-store', signal: this.stop.signal });
            if (res.status === 401) { opened(); mark(false); await askToken('Reading needs an API token.'); continue; }
            if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
            mark(true);
            opened();
            const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
            let buf = '';
            for (;;) {
              const { value, done } = await reader.read();
              if (done) break;
              buf += value;
              let cut;
              while ((cut = buf.indexOf('\n\n')) >= 0) {
                this.frame(buf.slice(0, cut));
                buf = buf.slice(cut + 2);
              }
            }
          } catch {
            // the stream broke: come back below
          }
          if (this.stop.signal.aborted) return;
          mark(false);
          opened();
          await new Promise((r) => setTimeout(r, 2000));
        }
      };
      void loop();
    },
    frame(text) {
      let id = null; let kind = 'message'; let data = '';
      for (const line of text.split('\n')) {
        if (line.startsWith('id: ')) id = line.slice(4);
        else if (line.startsWith('event: ')) kind = line.slice(7);
        else if (line.startsWith('data: ')) data += line.slice(6);
      }
      if (id !== null) this.lastId = id;
      if (!data) return;
      let event;
      try { event = JSON.parse(data); } catch { return; }
      for (const fn of this.listeners) fn(kind, event);
    },
  };

  // ---- the router ----------------------------------------------------------------------------------------------
  let leave = [];
  const onLeave = (fn) => leave.push(fn);
  const VIEWS = [
    [/^\/(ui\/?)?$/, 'overview', () => overview()],
    [/^\/ui\/tasks\/?$/, 'tasks', () => tasks()],
    [/^\/ui\/tasks\/([^/]+)\/runs\/(\d+)$/, 'tasks', (m) => fullOutput(decodeURIComponent(m[1]), Number(m[2]))],
    [/^\/ui\/tasks\/([^/]+)$/, 'tasks', (m) => task(decodeURIComponent(m[1]))],
    [/^\/ui\/graph\/([^/]+)$/, 'tasks', (m) => graph(decodeURIComponent(m[1]))],
    [/^\/ui\/hosts\/?$/, 'hosts', () => hosts()],
    [/^\/ui\/cron\/?$/, 'cron', () => cron()],
  ];
  async function route() {
    for (const fn of leave) fn();
    leave = [];
    const path = location.pathname;
    const hit = VIEWS.map(([re, nav, fn]) => [re.exec(path), nav, fn]).find(([m]) => m);
    for (const a of document.querySelectorAll('nav a')) a.classList.toggle('on', hit !== undefined && a.dataset.view === hit[1]);
    if (!hit) { app.innerHTML = '<h1>Not found</h1><p><a href="/ui/">Overview</a></p>'; return; }
    await live.ready;
    try {
      await hit[2](hit[0]);
    } catch (err) {
      app.innerHTML = `<h1>${err.status === 404 ? 'Not found' : 'Could not read'}</h1><p class="error">${esc(err.message)}</p>`;
    }
  }
  const go = (url) => { history.pushState(null, '', url); void route(); };
  document.addEventListener('click', (e) => {
    const a = e.target.closest?.('a');
    if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || a.target || a.hasAttribute('download')) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || !(url.pathname === '/' || url.pathname.startsWith('/ui'))) return;
    e.preventDefault();
    go(url.pathname + url.search);
  });
  addEventListener('popstate', () => void route());

  // ---- overview ------------------------------------------------------------------------------------------------
  function bars(minutes, key, cls) {
    const max = Math.max(1, ...minutes.map((m) => m[key]));
    const w = 600 / minutes.length;
    const rects = minutes.map((m, i) => {
      const h = (m[key] / max) * 80;
      return `<rect class="${cls}" x="${(i * w).toFixed(1)}" y="${(85 - h).toFixed(1)}" width="${(w - 1).toFixed(1)}" height="${h.toFixed(1)}"><title>${esc(new Date(m.minute).toLocaleTimeString())}: ${m[key]}</title></rect>`;
    }).join('');
    return `<svg class="chart" viewBox="0 0 600 90" preserveAspectRatio="none" role="img" aria-label="${esc(key)} per minute"><line class="axis" x1="0" y1="85.5" x2="600" y2="85.5"/>${rects}</svg>`;
  }
  async function allHosts() {
    const out = [];
    let after = null;
    do {
      const page = await api(`/v1/hosts?limit=1000${after ? `&after=${enc(after)}` : ''}`);
      out.push(...page.hosts);
      after = page.next;
    } while (after && out.length < 10_000);
    return out;
  }
  async function overview() {
    const draw = async () => {
      const [o, hs] = await Promise.all([api('/v1/overview'), allHosts()]);
      const sum = (k) => o.minutes.reduce((n, m) => n + m[k], 0);
      const byState = { up: [], draining: [], down: [] };
      for (const h of hs) byState[h.state]?.push(h);
      const slots = (list) => `${list.reduce((n, h) => n + h.running_count, 0)} / ${list.reduce((n, h) => n + h.slots, 0)} slots in use`;
      app.innerHTML = `<h1>Overview</h1>
        <section class="cards" id="counts">${STATES.map((s) => `<a class="card" href="/ui/tasks?state=${s}" data-count="${s}"><b>${o.counts[s] ?? 0}</b>${badge(s)}</a>`).join('')}</section>
        <div class="grid2">
          <section class="panel"><h2>Ready, waiting for a host, by labels</h2>${o.ready_by_labels.length === 0 ? '<p class="muted">No task is waiting.</p>'
            : `<table><tr><th>labels needed</th><th>tasks</th></tr>${o.ready_by_labels.map((r) => `<tr><td class="wrap">${Object.keys(r.constraints).length ? esc(Object.entries(r.constraints).map(([k, v]) => `${k}=${v}`).join(', ')) : '<span class="muted">any host</span>'}</td><td>${r.count}</td></tr>`).join('')}</table>`}</section>
          <section class="panel" id="host-summary"><h2>Hosts</h2><table>
            ${['up', 'draining', 'down'].map((s) => `<tr><td>${s}</td><td data-hosts="${s}">${byState[s].length}</td><td class="muted">${s === 'down' ? '' : slots(byState[s])}</td></tr>`).join('')}
            </table><p><a href="/ui/hosts">All hosts</a></p></section>
        </div>
        ${o.scaling.length === 0 ? '' : `<section class="panel" id="scaling"><h2>Autoscaling</h2><table><tr><th>provider</th><th>desired</th><th>actual</th><th>starting</th><th>draining</th><th class="hide-sm">seen</th></tr>
          ${o.scaling.map((p) => `<tr data-provider="${esc(p.provider)}"><td>${esc(p.provider)}</td><td data-field="desired">${p.desired}</td><td data-field="actual">${p.actual}</td><td>${p.starting}</td><td>${p.draining}</td><td class="muted hide-sm">${p.seen_at ? esc(when(p.seen_at)) : '—'}</td></tr>`).join('')}</table></section>`}
        <div class="grid2">
          <section class="panel"><h2>Runs succeeded, last hour: ${sum('succeeded')}</h2>${bars(o.minutes, 'succeeded', 'ok')}</section>
          <section class="panel"><h2>Runs failed, last hour: ${sum('failed')}</h2>${bars(o.minutes, 'failed', 'bad')}</section>
        </div>
        <p class="muted">As of ${esc(when(o.at))}; refreshed live.</p>`;
    };
    await draw();
    // The counts are one pass over the tasks table (GET /v1/overview): read again at most every 5 s while events come.
    const again = throttle(() => void draw().catch(() => undefined), 5000);
    onLeave(live.on(() => again()));
  }

  // ---- tasks ---------------------------------------------------------------------------------------------------
  const SORTS = { name: (t) => t.name, state: (t) => STATES.indexOf(t.state), attempt: (t) => t.attempt, host: (t) => t.host ?? '', updated: (t) => t.updated_at };
  function taskRow(t) {
    return `<tr data-name="${esc(t.name)}" data-state="${esc(t.state)}"><td><a href="/ui/tasks/${enc(t.name)}">${esc(t.name)}</a></td><td class="state">${badge(t.state)}</td>
      <td class="attempt">${t.attempt}</td><td class="host hide-sm">${esc(t.host ?? '')}</td><td class="updated hide-sm" title="${esc(t.updated_at)}">${esc(ago(t.updated_at))}</td>
      <td class="act">${FINISHED.has(t.state) ? '' : `<button class="danger cancel" data-name="${esc(t.name)}">Cancel</button>`}</td></tr>`;
  }
  async function tasks() {
    const q = new URLSearchParams(location.search);
    const state = q.get('state') ?? '';
    const prefix = q.get('prefix') ?? '';
    const after = q.get('after') ?? '';
    const back = q.getAll('back');
    const params = new URLSearchParams({ limit: String(PAGE) });
    if (state) params.set('state', state);
    if (prefix) params.set('prefix', prefix);
    if (after) params.set('after', after);
    const page = await api(`/v1/tasks?${params}`);
    const rows = new Map(page.tasks.map((t) => [t.name, t]));
    let sort = { key: 'name', dir: 1 };
    // Pages by cursor: `after` is this page's, `back` the cursors of the pages before it ('' the first page's).
    const link = (cursor, stack) => {
      const u = new URLSearchParams();
      if (state) u.set('state', state);
      if (prefix) u.set('prefix', prefix);
      if (cursor) u.set('after', cursor);
      for (const b of stack) u.append('back', b);
      return `/ui/tasks${u.size ? `?${u}` : ''}`;
    };
    app.innerHTML = `<h1>Tasks</h1>
      <form class="filters" id="filters"><select name="state" aria-label="state"><option value="">every state</option>${STATES.map((s) => `<option${s === state ? ' selected' : ''}>${s}</option>`).join('')}</select>
        <input name="prefix" placeholder="name starts with" value="${esc(prefix)}" aria-label="name prefix"> <button>Filter</button></form>
      <div class="panel"><table id="tasks"><thead><tr>${[['name', 'name'], ['state', 'state'], ['attempt', 'attempt'], ['host', 'host'], ['updated', 'updated']].map(([k, l]) => `<th class="sort${k === 'host' || k === 'updated' ? ' hide-sm' : ''}" data-sort="${k}">${l}</th>`).join('')}<th></th></tr></thead><tbody></tbody></table>
      <p class="muted" id="empty" hidden>No task here.</p></div>
      <div class="pager">${after ? `<a href="${esc(link(back.at(-1) ?? '', back.slice(0, -1)))}" id="prev">← Previous</a>` : ''}
        ${page.next ? `<a href="${esc(link(page.next, [...back, after]))}" id="next">Next →</a>` : ''}
        <span class="muted">${page.tasks.length} on this page, by name; click a column to sort the page.</span></div>`;
    const body = $('#tasks tbody');
    const draw = () => {
      const list = [...rows.values()].sort((a, b) => { const x = SORTS[sort.key](a); const y = SORTS[sort.key](b); return (x < y ? -1 : x > y ? 1 : 0) * sort.dir || (a.name < b.name ? -1 : 1); });
      body.innerHTML = list.map(taskRow).join('');
      $('#empty').hidden = list.length > 0;
      for (const th of document.querySelectorAll('th.sort')) th.className = `sort${th.dataset.sort === sort.key ? (sort.dir > 0 ? ' asc' : ' desc') : ''}${th.dataset.sort === 'host' || th.dataset.sort === 'updated' ? ' hide-sm' : ''}`;
    };
    draw();
    $('#filters').onsubmit = (e) => {
      e.preventDefault();
      const f = new FormData(e.target);
      const u = new URLSearchParams();
      if (f.get('state')) u.set('state', f.get('state'));
      if (f.get('prefix')) u.set('prefix', f.get('prefix'));
      go(`/ui/tasks${u.size ? `?${u}` : ''}`);
    };
    $('#tasks thead').onclick = (e) => {
      const k = e.target.closest('th')?.dataset.sort;
      if (!k) return;
      sort = { key: k, dir: sort.key === k ? -sort.dir : 1 };
      draw();
    };
    body.onclick = (e) => {
      const b = e.target.closest('button.cancel');
      if (b) void act('DELETE', `/v1/tasks/${enc(b.dataset.name)}`, () => `Cancel of ${b.dataset.name} sent`);
    };
    // A row changes in place; a task new to this page joins it when it falls in the page's range of names.
    const first = after || null;
    const last = page.next ? page.tasks.at(-1)?.name : null;
    const update = (e) => {
      const had = rows.get(e.name);
      if (!had) {
        if (prefix && !e.name.startsWith(prefix)) return;
        if ((first !== null && e.name <= first) || (last && e.name > last)) return;
        if (state && e.state !== state) return;
      }
      rows.set(e.name, { ...(had ?? { name: e.name }), state: e.state, attempt: e.attempt, host: e.host, updated_at: e.at });
      const tr = body.querySelector(`tr[data-name="${CSS.escape(e.name)}"]`);
      if (tr && sort.key !== 'state' && sort.key !== 'updated') tr.outerHTML = taskRow(rows.get(e.name));
      else draw();
    };
    onLeave(live.on((kind, e) => { if (kind === 'task') update(e); }));
  }

  // ---- one task ------------------------------------------------------------------------------------------------
  async function task(name) {
    const q = new URLSearchParams(location.search);
    let picked = q.has('attempt') ? Number(q.get('attempt')) : null;
    let follow = null;
    const stopFollow = () => { follow?.abort(); follow = null; };
    onLeave(stopFollow);
    const showOutput = (t) => {
      const runs = t.runs ?? [];
      const run = runs.find((r) => r.attempt === picked) ?? runs.at(-1);
      const box = $('#output');
      stopFollow();
      if (!run) { box.innerHTML = '<p class="muted">No run yet.</p>'; return; }
      const running = !run.finished_at && t.attempt === run.attempt && (t.state === 'running' || t.state === 'placed');
      box.innerHTML = `<h2>Output of run ${run.attempt}${running ? ' <span class="badge s-running">live</span>' : ''}</h2><pre id="output-text"></pre>
        <p><a href="/ui/tasks/${enc(name)}/runs/${run.attempt}" id="full-output">Full output</a>${run.output_chars > run.output.length ? ` <span class="muted">(this is its last ${run.output.length} of ${run.output_chars} characters)</span>` : ''}
        · <a href="/v1/tasks/${enc(name)}/runs/${run.attempt}/output" target="_blank" rel="noopener" id="output-raw">as text</a></p>`;
      rawWithToken($('#output-raw'));
      const pre = $('#output-text');
      pre.textContent = run.output;
      if (!running) return;
      const ctl = new AbortController();
      follow = ctl;
      void (async () => {
        try {
          const res = await fetch(`/v1/tasks/${enc(name)}/runs/${run.attempt}/output?follow=true`, { headers: headers(), signal: ctl.signal });
          if (!res.ok || !res.body) return;
          const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
          let text = '';
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            text += value;
            // The follow gives the output from its beginning: shown once it holds more than the stored tail.
            if (text.length >= pre.textContent.length || !pre.textContent.startsWith(text.slice(0, 32))) pre.textContent = text.length > 262144 ? text.slice(-262144) : text;
            pre.scrollTop = pre.scrollHeight;
          }
        } catch {
          // aborted (the view left, or the run ended and the task was read again)
        }
      })();
    };
    const draw = async () => {
      const t = await api(`/v1/tasks/${enc(name)}`);
      const runs = t.runs ?? [];
      const spec = t.spec;
      app.innerHTML = `<h1>${esc(t.name)} ${badge(t.state)}</h1>
        <p>${FINISHED.has(t.state) ? '' : '<button class="danger" id="cancel">Cancel</button> '}<a href="/ui/graph/${enc(t.name)}" id="graph-link">Dependency graph</a> · <a href="/ui/tasks?prefix=${enc(t.name)}">in the tasks table</a></p>
        <div class="grid2"><section class="panel"><dl class="facts" id="facts">
          <dt>state</dt><dd data-field="state">${esc(t.state)}</dd>
          <dt>reason</dt><dd data-field="reason">${esc(t.reason ?? '')}</dd>
          <dt>attempt</dt><dd>${t.attempt} (failures ${t.failures})</dd>
          <dt>host</dt><dd>${esc(t.host ?? '')}</dd>
          ${t.pending_dependencies.length ? `<dt>waiting for</dt><dd>${t.pending_dependencies.map((d) => `<a href="/ui/tasks/${enc(d)}">${esc(d)}</a>`).join(', ')}</dd>` : ''}
          ${spec.cron ? `<dt>cron</dt><dd>${esc(spec.cron)} (${esc(spec.timezone ?? 'UTC')})</dd>` : ''}
          ${spec.schedule_at ? `<dt>schedule_at</dt><dd>${esc(spec.schedule_at)}</dd>` : ''}
          ${t.next_run_at ? `<dt>next_run_at</dt><dd data-field="next_run_at" title="${esc(t.next_run_at)}">${esc(when(t.next_run_at))} (${esc(ago(t.next_run_at))})</dd>` : ''}
          ${t.retry_at ? `<dt>retry at</dt><dd>${esc(when(t.retry_at))}</dd>` : ''}
          ${t.template ? `<dt>template</dt><dd>${esc(t.template)} v${t.template_version}</dd>` : ''}
          <dt>created</dt><dd>${esc(when(t.created_at))}</dd><dt>updated</dt><dd>${esc(when(t.updated_at))}</dd>
        </dl></section>
        <section class="panel"><h2>Spec</h2><pre class="spec">${esc(JSON.stringify(spec, null, 2))}</pre></section></div>
        <section class="panel"><h2>Runs (${t.runs_total ?? runs.length})</h2>${runs.length === 0 ? '<p class="muted">None yet.</p>' : `<table id="runs"><tr><th>attempt</th><th>host</th><th>exit code</th><th>reason</th><th>duration</th><th class="hide-sm">started</th></tr>
          ${[...runs].reverse().map((r) => `<tr class="click${r.attempt === (picked ?? runs.at(-1).attempt) ? ' sel' : ''}" data-attempt="${r.attempt}"><td>${r.attempt}</td><td>${esc(r.host ?? '')}</td><td data-field="exit_code">${r.exit_code ?? ''}</td><td class="wrap">${esc(r.reason ?? '')}</td><td>${esc(duration(r))}</td><td class="hide-sm">${esc(when(r.started_at))}</td></tr>`).join('')}</table>`}</section>
        <section class="panel" id="output"></section>
        ${t.fires && t.fires.length ? `<section class="panel"><h2>Fires</h2><table id="fires"><tr><th>fire time</th><th>outcome</th><th>missed from</th><th>child</th></tr>
          ${t.fires.map((f) => `<tr><td>${esc(when(f.fire_time))}</td><td>${esc(f.outcome)}</td><td>${esc(when(f.missed_from))}</td><td>${f.child ? `<a href="/ui/tasks/${enc(f.child)}">${esc(f.child)}</a>` : ''}</td></tr>`).join('')}</table></section>` : ''}`;
      $('#cancel')?.addEventListener('click', () => void act('DELETE', `/v1/tasks/${enc(name)}`, () => `Cancel of ${name} sent`));
      $('#runs')?.addEventListener('click', (e) => {
        const tr = e.target.closest('tr[data-attempt]');
        if (!tr) return;
        picked = Number(tr.dataset.attempt);
        history.replaceState(null, '', `/ui/tasks/${enc(name)}?attempt=${picked}`);
        for (const r of document.querySelectorAll('#runs tr[data-attempt]')) r.classList.toggle('sel', r === tr);
        showOutput(t);
      });
      showOutput(t);
    };
    await draw();
    const again = throttle(() => void draw().catch((err) => toast(err.message, true)), 500);
    onLeave(live.on((kind, e) => { if (kind === 'task' && e.name === name) again(); }));
  }

  async function fullOutput(name, attempt) {
    const text = await api(`/v1/tasks/${enc(name)}/runs/${attempt}/output`, { text: true });
    app.innerHTML = `<h1><a href="/ui/tasks/${enc(name)}?attempt=${attempt}">${esc(name)}</a>: output of run ${attempt}</h1><pre id="output-full"></pre>`;
    $('#output-full').textContent = text;
  }

  /**
   * A plain link cannot send the Authorization header: with a token kept, the text is read with it and shown from a
   * blob instead (a new tab on the raw route answered 401 where reading needs a token).
   */
  function rawWithToken(a) {
    a.addEventListener('click', (e) => {
      if (!token()) return;
      e.preventDefault();
      const tab = window.open('', '_blank');
      void api(a.getAttribute('href'), { text: true })
        .then((text) => { const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' })); if (tab) tab.location.href = url; else window.location.href = url; })
        .catch((err) => { tab?.close(); toast(err.message, true); });
    });
  }

  // ---- the dependency graph ------------------------------------------------------------------------------------
  /** Lays the graph out in a worker (ui/layout.js, d3-dag): the page answers while it works. */
  function layout(data, signal) {
    return new Promise((resolve, reject) => {
      const w = new Worker('/ui/assets/layout.js');
      const end = () => w.terminate();
      signal.addEventListener('abort', () => { end(); reject(new Error('left')); });
      w.onmessage = (e) => { end(); if (e.data.error) reject(new Error(`the layout failed: ${e.data.error}`)); else resolve(e.data); };
      w.onerror = (e) => { end(); reject(new Error(`the layout failed: ${e.message}`)); };
      w.postMessage({ nodes: data.nodes.map((n) => n.name), edges: data.edges, widths: data.nodes.map((n) => Math.min(220, 24 + n.name.length * 6.6)) });
    });
  }
  /**
   * Draws the laid-out graph as lean SVG: one group per node (a rect and a label), one path per edge, arrowheads as
   * one path for all. Pan and zoom move the layer it is on; nothing is drawn again.
   */
  function drawGraph(svg, data, root, laid) {
    const f = (n) => n.toFixed(1);
    const parts = [];
    const arrows = [];
    for (const [from, to, xy] of laid.edges) {
      const pts = [];
      for (let i = 0; i < xy.length; i += 2) pts.push({ x: xy[i], y: xy[i + 1] });
      parts.push(`<path class="edge" data-from="${esc(from)}" data-to="${esc(to)}" d="M${pts.map((p) => `${f(p.x)},${f(p.y)}`).join('L')}"/>`);
      const [a, b] = pts.slice(-2);
      const ang = Math.atan2(b.y - a.y, b.x - a.x);
      const p = (d, s) => `${f(b.x - 7 * Math.cos(ang + s * d))},${f(b.y - 7 * Math.sin(ang + s * d))}`;
      arrows.push(`M${f(b.x)},${f(b.y)}L${p(0.45, 1)}L${p(0.45, -1)}Z`);
    }
    data.nodes.forEach((n, i) => {
      const [x, y, w, h] = laid.nodes[i];
      const label = n.name.length > 32 ? `${n.name.slice(0, 31)}…` : n.name;
      parts.push(`<g class="node s-${esc(n.state ?? 'unknown')}${n.name === root ? ' root' : ''}" data-name="${esc(n.name)}" data-state="${esc(n.state ?? 'unknown')}" transform="translate(${f(x - w / 2)},${f(y - h / 2)})"><rect rx="5" width="${f(w)}" height="${h}"/><text x="8" y="18">${esc(label)}</text><title>${esc(n.name)}: ${esc(n.state ?? 'not submitted')}</title></g>`);
    });
    const width = Math.ceil(laid.width); const height = Math.ceil(laid.height);
    svg.setAttribute('width', String(width));
    svg.setAttribute('height', String(height));
    svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
    svg.innerHTML = `<path class="arrows" d="${arrows.join('')}"/>${parts.join('')}`;
    return { width, height };
  }
  /**
   * Pan and zoom move the plane the SVG is drawn on, a composited layer (CSS transform, will-change): the browser
   * moves its pixels instead of painting 2,000 nodes again each frame (SVG's own transform attribute repainted all).
   */
  function panZoom(holder, plane, size, onClick) {
    const box = holder.getBoundingClientRect();
    let k = Math.min(box.width / size.width, box.height / size.height, 1.5);
    let x = (box.width - size.width * k) / 2;
    let y = (box.height - size.height * k) / 2;
    // The layer keeps the pixels of the scale it was painted at: sharp again once the zoom rests (one repaint).
    let rest = null;
    const sharpen = () => { plane.style.willChange = 'auto'; requestAnimationFrame(() => { plane.style.willChange = 'transform'; }); };
    const apply = () => {
      plane.style.transform = `translate(${x.toFixed(1)}px,${y.toFixed(1)}px) scale(${k.toFixed(4)})`;
      clearTimeout(rest);
      rest = setTimeout(sharpen, 250);
    };
    apply();
    const svg = holder;
    svg.addEventListener('wheel', (e) => {
      e.preventDefault();
      const r = svg.getBoundingClientRect();
      const px = e.clientX - r.left; const py = e.clientY - r.top;
      const f = Math.exp(-e.deltaY * 0.0015);
      const nk = Math.min(8, Math.max(0.02, k * f));
      x = px - (px - x) * (nk / k); y = py - (py - y) * (nk / k); k = nk;
      apply();
    }, { passive: false });
    let drag = null;
    svg.addEventListener('pointerdown', (e) => { drag = { sx: e.clientX, sy: e.clientY, x, y, moved: false }; svg.setPointerCapture(e.pointerId); });
    svg.addEventListener('pointermove', (e) => {
      if (!drag) return;
      const dx = e.clientX - drag.sx; const dy = e.clientY - drag.sy;
      if (Math.abs(dx) + Math.abs(dy) > 4) drag.moved = true;
      x = drag.x + dx; y = drag.y + dy;
      apply();
    });
    svg.addEventListener('pointerup', (e) => {
      const d = drag;
      drag = null;
      if (d && !d.moved) {
        const hit = document.elementsFromPoint(e.clientX, e.clientY).find((el) => el.closest?.('.node'));
        const node = hit?.closest('.node');
        if (node) onClick(node.dataset.name);
      }
    });
    return { zoom: (f) => { const r = svg.getBoundingClientRect(); const cx = r.width / 2; const cy = r.height / 2; const nk = Math.min(8, Math.max(0.02, k * f)); x = cx - (cx - x) * (nk / k); y = cy - (cy - y) * (nk / k); k = nk; apply(); } };
  }
  async function graph(name) {
    const data = await api(`/v1/tasks/${enc(name)}/graph`);
    app.innerHTML = `<h1>Workflow of <a href="/ui/tasks/${enc(name)}">${esc(name)}</a></h1>
      <p class="muted">${data.nodes.length} tasks, ${data.edges.length} dependencies${data.truncated ? ' (the nearest ones: the workflow has more)' : ''}. Drag to pan, wheel to zoom, click a task to open it.
      <button id="zoom-in" type="button">+</button> <button id="zoom-out" type="button">−</button></p>
      <div class="legend">${STATES.map(badge).join('')}</div>
      <p class="muted" id="graph-status"></p>
      <div id="graph"><div id="plane"><svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="dependency graph"></svg></div></div>`;
    const svg = $('#graph svg');
    const t0 = performance.now();
    const gone = new AbortController();
    onLeave(() => gone.abort());
    $('#graph-status').textContent = `Laying out ${data.nodes.length} tasks…`;
    let laid;
    try {
      laid = await layout(data, gone.signal);
    } catch (err) {
      if (gone.signal.aborted) return;
      throw err;
    }
    $('#graph-status').textContent = '';
    svg.dataset.layoutMs = String(Math.round(performance.now() - t0));
    const size = drawGraph(svg, data, name, laid);
    const pz = panZoom($('#graph'), $('#plane'), size, (n) => go(`/ui/tasks/${enc(n)}`));
    // Drawn once the browser painted it: what the bench reads (layout and draw together).
    requestAnimationFrame(() => requestAnimationFrame(() => { svg.dataset.drawnMs = String(Math.round(performance.now() - t0)); }));
    $('#zoom-in').onclick = () => pz.zoom(1.4);
    $('#zoom-out').onclick = () => pz.zoom(1 / 1.4);
    const nodes = new Map([...svg.querySelectorAll('.node')].map((el) => [el.dataset.name, el]));
    onLeave(live.on((kind, e) => {
      const el = kind === 'task' ? nodes.get(e.name) : undefined;
      if (!el) return;
      el.classList.remove(`s-${el.dataset.state}`);
      el.classList.add(`s-${e.state}`);
      el.dataset.state = e.state;
      el.querySelector('title').textContent = `${e.name}: ${e.state}`;
    }));
  }

  // ---- hosts ---------------------------------------------------------------------------------------------------
  async function hosts() {
    const draw = async () => {
      const list = await allHosts();
      app.innerHTML = `<h1>Hosts</h1><div class="panel">${list.length === 0 ? '<p class="muted">No host has announced itself.</p>' : `<table id="hosts"><tr><th>host</th><th>state</th><th>slots used / free</th><th class="hide-sm">labels</th><th>tasks</th><th></th></tr>
        ${list.map((h) => `<tr data-host="${esc(h.host)}" data-state="${esc(h.state)}"><td>${esc(h.host)}</td><td><span class="badge s-${h.state === 'up' ? 'success' : h.state === 'draining' ? 'running' : 'failed'}">${esc(h.state)}</span></td>
          <td>${h.running_count} / ${Math.max(0, h.slots - h.running_count)}</td><td class="wrap hide-sm">${esc(Object.entries(h.labels).map(([k, v]) => `${k}=${v}`).join(', '))}</td>
          <td class="wrap">${h.running.slice(0, 20).map((r) => `<a href="/ui/tasks/${enc(r.name)}">${esc(r.name)}</a>`).join(', ')}${h.running_count > 20 ? ` <span class="muted">and ${h.running_count - 20} more</span>` : ''}</td>
          <td>${h.state === 'down' ? '' : h.state === 'draining' ? `<button class="undrain" data-host="${esc(h.host)}">Undrain</button>` : `<button class="danger drain" data-host="${esc(h.host)}">Drain</button>`}</td></tr>`).join('')}</table>`}</div>
        <p class="muted">last seen: ${list.map((h) => `${esc(h.host)} ${esc(ago(h.last_seen))}`).join(', ')}</p>`;
      $('#hosts')?.addEventListener('click', (e) => {
        const b = e.target.closest('button');
        if (!b) return;
        const what = b.classList.contains('drain') ? 'drain' : 'undrain';
        void act('POST', `/v1/hosts/${enc(b.dataset.host)}/${what}`, (r) => `${r.host} is ${r.state}`).then(() => void draw().catch(() => undefined));
      });
    };
    await draw();
    const again = throttle(() => void draw().catch(() => undefined), 2000);
    onLeave(live.on((kind, e) => { if (kind === 'host' || (kind === 'task' && (e.state === 'placed' || e.from === 'running' || e.from === 'placed'))) again(); }));
  }

  // ---- cron ----------------------------------------------------------------------------------------------------
  async function cron() {
    const hours = Number(new URLSearchParams(location.search).get('hours') ?? 24) || 24;
    const s = await api(`/v1/schedule?hours=${hours}&limit=500`);
    const now = Date.now();
    const end = Date.parse(s.until);
    const lanes = s.tasks.slice(0, 200);
    const W = 1000; const L = 180; const H = 22;
    const xOf = (t) => L + ((t - now) / (end - now)) * (W - L - 10);
    const ticks = [];
    for (let i = 0; i <= 6; i++) { const t = now + ((end - now) * i) / 6; ticks.push(`<line class="tick" x1="${xOf(t)}" y1="16" x2="${xOf(t)}" y2="${20 + lanes.length * H}"/><text x="${xOf(t) - 20}" y="12">${esc(new Date(t).toLocaleString([], { hour: '2-digit', minute: '2-digit', ...(hours > 24 ? { day: 'numeric', month: 'short' } : {}) }))}</text>`); }
    const rows = lanes.map((t, i) => `<a href="/ui/tasks/${enc(t.name)}"><text class="lane" x="4" y="${36 + i * H}">${esc(t.name.length > 26 ? `${t.name.slice(0, 25)}…` : t.name)}</text></a><circle class="fire" cx="${xOf(Math.max(now, Date.parse(t.next_run_at))).toFixed(1)}" cy="${32 + i * H}" r="6"><title>${esc(t.name)}: ${esc(when(t.next_run_at))}</title></circle>`).join('');
    app.innerHTML = `<h1>Cron and scheduled tasks</h1>
      <p class="filters">Next starts within ${[6, 24, 168].map((h) => h === hours ? `<b>${h} h</b>` : `<a href="/ui/cron?hours=${h}">${h} h</a>`).join(' · ')}</p>
      <div class="panel">${s.tasks.length === 0 ? '<p class="muted">No cron or scheduled task starts in this window.</p>'
        : `<svg class="timeline" id="timeline" viewBox="0 0 ${W} ${30 + lanes.length * H}" role="img" aria-label="timeline">${ticks.join('')}${rows}</svg>`}</div>
      ${s.tasks.length ? `<div class="panel"><table id="upcoming"><tr><th>task</th><th>state</th><th>next start</th><th>when</th><th class="hide-sm">cron / schedule_at</th></tr>
        ${s.tasks.map((t) => `<tr data-name="${esc(t.name)}"><td><a href="/ui/tasks/${enc(t.name)}">${esc(t.name)}</a></td><td>${badge(t.state)}</td><td>${esc(when(t.next_run_at))}</td><td>${esc(ago(t.next_run_at))}</td><td class="hide-sm">${esc(t.cron ? `${t.cron} (${t.timezone ?? 'UTC'})` : t.schedule_at ?? '')}</td></tr>`).join('')}</table>
        ${s.truncated ? '<p class="muted">More start in this window than are listed.</p>' : ''}</div>` : ''}`;
    const again = throttle(() => void route(), 5000);
    onLeave(live.on((kind, e) => { if (kind === 'task' && s.tasks.some((t) => t.name === e.name)) again(); }));
  }

  // ---- start ---------------------------------------------------------------------------------------------------
  $('#token-button').addEventListener('click', () => void askToken(token() ? 'A token is kept for this tab: give another, or forget it.' : 'Give an API token (read, or write to act).'));
  updateTokenButton();
  addEventListener('pagehide', () => { live.stop.abort(); for (const fn of leave) fn(); leave = []; });
  live.start();
  void route();
})();
