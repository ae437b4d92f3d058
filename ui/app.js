// The cohort dashboard: reads /v1/ with the browser's client certificate
// and shows targets, jobs, history, the download list and events. Every
// value from the master is set as text (textContent), never as markup: a
// job's output or a target's name is data, not page. The master serves
// this file under a policy that forbids inline script.
'use strict';

const REFRESH_MS = 5000;
// The words the master answers with: target status, run outcomes,
// instruction and execution status, event severity.
const OK = new Set(['normal', 'succeeded', 'applied', 'info', 'enabled',
  'online']);
const BAD = new Set(['failed', 'blocked', 'suspected offline', 'defected',
  'canceled', 'interrupted', 'missed', 'error', 'critical', 'offline']);

// timed: the refresh under way is the 5-second one, which leaves an open
// output alone; one a person asked for (asked) is never dropped.
const state = { view: 'targets', who: null, busy: false, again: false,
  timed: false, asked: false };

class ApiError extends Error {}

// One API call; a non-2xx answer throws its JSON error message.
async function api(method, path, body) {
  const opts = { method, headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  const res = await fetch(path, opts);
  let data = null;
  try {
    data = await res.json();
  } catch (e) {
    throw new ApiError(`${method} ${path}: HTTP ${res.status}, not JSON`);
  }
  if (!res.ok) {
    const msg = data && data.error ? data.error.message : `HTTP ${res.status}`;
    throw new ApiError(`${method} ${path}: ${msg}`);
  }
  return data;
}

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function badge(word) {
  const cls = OK.has(word) ? 'badge ok'
    : BAD.has(word) ? 'badge bad' : 'badge warn';
  return el('span', word, cls);
}

function when(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toLocaleString();
}

function canRun() {
  return state.who && (state.who.role === 'admin' || state.who.role === 'operator');
}

function isAdmin() {
  return state.who && state.who.role === 'admin';
}

function banner(text, info) {
  const b = document.getElementById('banner');
  b.textContent = text || '';
  b.className = info ? 'info' : 'error';
  b.hidden = !text;
}

// Fills table with a header row and one row per item; cells(item) gives
// each cell as a string, a number or a DOM node.
function fill(tableId, headers, items, cells, emptyText) {
  const table = document.getElementById(tableId);
  table.replaceChildren();
  const head = el('tr');
  for (const h of headers) head.append(el('th', h));
  table.append(el('thead'));
  table.tHead.append(head);
  const body = el('tbody');
  if (items.length === 0) {
    const td = el('td', emptyText, 'empty');
    td.colSpan = headers.length;
    body.append(el('tr'));
    body.lastChild.append(td);
  }
  for (const item of items) {
    const tr = el('tr');
    for (const c of cells(item)) {
      const td = el('td');
      if (c instanceof Node) td.append(c);
      else td.textContent = c === null || c === undefined ? '—' : String(c);
      tr.append(td);
    }
    body.append(tr);
  }
  table.append(body);
}

function button(text, action) {
  const b = el('button', text);
  b.type = 'button';
  b.addEventListener('click', async () => {
    b.disabled = true;
    try {
      banner(await action(), true);
      await refresh();
    } catch (e) {
      banner(e.message);
    } finally {
      b.disabled = false;
    }
  });
  return b;
}

async function showTargets() {
  const targets = await api('GET', '/v1/targets');
  const counts = {};
  for (const t of targets) counts[t.status] = (counts[t.status] || 0) + 1;
  document.getElementById('targets-summary').textContent =
    `${targets.length} targets: ` +
    Object.entries(counts).map(([s, n]) => `${n} ${s}`).join(', ');
  fill('targets-table',
    ['Name', 'Status', 'Last poll', 'Local time', 'Unread', 'Failed',
      'Poll interval', 'Version', 'Location'],
    targets,
    (t) => [t.name, badge(t.status), when(t.last_poll), t.local_time,
      t.unread_instructions, t.failed_instructions, `${t.poll_interval_s} s`,
      t.version, t.location],
    'No target is enlisted yet.');
}

// The master's last finished run per target (aimed at now, or with a
// run in the history); outcome null: never ran.
function outcomeList(job) {
  const box = el('div');
  if (job.last_outcomes.length === 0) {
    return el('span', 'aimed at no target', 'empty');
  }
  for (const r of job.last_outcomes) {
    const line = el('span', null, 'last');
    line.append(el('span', `${r.target}: `));
    if (r.outcome) {
      line.append(badge(r.outcome), el('span', ` ${when(r.started_at)}`));
    } else {
      line.append(el('span', 'never ran', 'empty'));
    }
    box.append(line);
  }
  return box;
}

// What the job does on each target and why (GET /v1/jobs/NAME/why):
// shown under the table until another job is asked about.
async function explain(job) {
  const why = await api('GET', `/v1/jobs/${encodeURIComponent(job)}/why`);
  let title = `Why: ${job}`;
  if (why.more_targets) title += ` (first ${why.targets.length} targets; ${why.more_targets} more)`;
  document.getElementById('why-title').textContent = title;
  fill('why-table', ['Target', 'Status', 'Verdict', 'Explanation'],
    why.targets, (w) => [w.target, badge(w.status), badge(w.verdict),
      w.explanation],
    'The job is aimed at no target.');
  document.getElementById('why-panel').hidden = false;
}

async function showJobs() {
  const jobs = await api('GET', '/v1/jobs?last_outcomes=1');
  const headers = ['Name', 'Enabled', 'Description', 'Steps', 'Schedules',
    'Last outcome per target', ''];
  fill('jobs-table', headers, jobs, (j) => {
    const actions = el('span', null, 'actions');
    const why = el('button', 'Why?');
    why.type = 'button';
    why.addEventListener('click', () => explain(j.name).catch(
      (e) => banner(e.message)));
    actions.append(why);
    if (canRun()) {
      actions.append(button('Start', async () => {
        const res = await api('POST',
          `/v1/jobs/${encodeURIComponent(j.name)}/start`, {});
        return `Started ${j.name} on ${res.posted.length} target(s).`;
      }));
    }
    return [j.name, j.enabled ? 'yes' : 'no', j.description, j.steps,
      j.schedules, outcomeList(j), actions];
  }, 'No job is defined yet.');
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

// The listing comes without outputs (a history of big outputs would be
// read again at every refresh); a step's output is read when it is
// opened, from its run's rows, and marked loaded (data-loaded).
async function loadOutput(d, r) {
  const pre = d.querySelector('pre');
  try {
    const rows = await api('GET', '/v1/history' + query({
      run_id: r.run_id, step: String(r.step), attempt: String(r.attempt),
      limit: '1000',
    }));
    const mine = rows.find((x) => x.step === r.step &&
      x.attempt === r.attempt);
    pre.textContent = mine && mine.output ? mine.output : '(no output)';
    d.dataset.loaded = '1';
  } catch (e) {
    pre.textContent = e.message; // read again when opened again
  }
}

function outputCell(r) {
  if (r.step === 0) return r.message || '';
  const d = el('details');
  d.append(el('summary', r.message || 'output'), el('pre', ''));
  d.addEventListener('toggle', () => {
    if (d.open && !d.dataset.loaded) loadOutput(d, r);
  });
  return d;
}

// An open output stays open: the timed refresh leaves this view alone
// while one is, also when it was opened while the refresh was under way.
// What a person asks for (a filter, the refresh button, a tab) folds the
// outputs first, and is shown even if one was opened meanwhile.
function historyHeld() {
  return state.view === 'history' &&
    document.querySelector('#history-table details[open]') !== null;
}

function foldOutputs() {
  for (const d of document.querySelectorAll('#history-table details[open]')) {
    d.open = false;
  }
}

async function showHistory() {
  const rows = await api('GET', '/v1/history' + query({
    job: document.getElementById('history-job').value.trim(),
    target: document.getElementById('history-target').value.trim(),
    limit: document.getElementById('history-limit').value,
    output: '0',
  }));
  if (state.timed && historyHeld()) return false;
  fill('history-table',
    ['Started', 'Job', 'Target', 'Step', 'Outcome', 'Exit', 'Duration',
      'Message and output'],
    rows,
    (r) => [when(r.started_at), r.job, r.target,
      r.step === 0 ? '(job)' : `${r.step} ${r.step_name}`, badge(r.outcome),
      r.exit_code, `${r.duration_ms} ms`, outputCell(r)],
    'No run matches.');
}

async function showDownloadlist() {
  const rows = await api('GET', '/v1/downloadlist' + query({
    target: document.getElementById('downloadlist-target').value.trim(),
  }));
  const headers = ['Id', 'Target', 'Operation', 'Object', 'Status', 'Posted',
    'Error'];
  if (isAdmin()) headers.push('');
  fill('downloadlist-table', headers, rows, (i) => {
    const cells = [i.id, i.target, i.operation, i.object, badge(i.status),
      when(i.posted_at), i.error];
    if (isAdmin()) {
      cells.push(i.status === 'failed' && !i.cleared
        ? button('Clear', async () => {
          await api('POST', `/v1/downloadlist/${i.id}/clear`);
          return `Cleared instruction ${i.id}: ${i.target} goes on.`;
        })
        : '');
    }
    return cells;
  }, 'No instruction.');
}

function executionCell(e) {
  return e.worker ? `${e.worker} (attempt ${e.attempt})` : '—';
}

async function showQueue() {
  const [execs, workers] = await Promise.all([
    api('GET', '/v1/executions' + query({
      status: document.getElementById('queue-status').value,
      limit: document.getElementById('queue-limit').value,
    })),
    api('GET', '/v1/workers'),
  ]);
  fill('queue-table',
    ['Id', 'Job', 'Status', 'Worker', 'Submitted', 'Finished', 'Reason'],
    execs,
    (e) => [e.id, e.job, badge(e.status), executionCell(e),
      when(e.submitted_at), when(e.finished_at), e.reason],
    'No execution matches.');
  const headers = ['Worker', 'Enabled', 'Online', 'Tasks', 'Status',
    'Last poll'];
  if (isAdmin()) headers.push('');
  fill('workers-table', headers, workers, (w) => {
    const cells = [w.name, badge(w.enabled ? 'enabled' : 'disabled'),
      badge(w.online ? 'online' : 'offline'), `${w.active} of ${w.max_tasks}`,
      badge(w.status), when(w.last_poll)];
    if (isAdmin()) {
      const verb = w.enabled ? 'disable' : 'enable';
      cells.push(button(w.enabled ? 'Disable' : 'Enable', async () => {
        await api('POST',
          `/v1/workers/${encodeURIComponent(w.name)}/${verb}`);
        return `Worker ${w.name} ${verb}d.`;
      }));
    }
    return cells;
  }, 'No worker: start a target with worker = yes.');
}

async function showEvents() {
  const rows = await api('GET', '/v1/events');
  fill('events-table',
    ['Time', 'Target', 'Severity', 'Kind', 'Job', 'Message'],
    rows,
    (e) => [when(e.time), e.target, badge(e.severity), e.kind, e.job,
      e.message],
    'No event.');
}

const VIEWS = {
  targets: showTargets,
  jobs: showJobs,
  history: showHistory,
  downloadlist: showDownloadlist,
  queue: showQueue,
  events: showEvents,
};

// Shows the current view. One refresh runs at a time; a refresh asked
// for meanwhile (a tab, a button) runs right after it, so the view shown
// is always the one last asked for.
async function refresh(timed = false) {
  if (state.busy) {
    state.again = true;
    state.asked = state.asked || !timed;
    return;
  }
  state.busy = true;
  state.timed = timed;
  do {
    state.again = false;
    const view = state.view;
    try {
      const shown = await VIEWS[view]();
      if (view === state.view && shown !== false) {
        document.getElementById('updated').textContent =
          `Updated ${new Date().toLocaleTimeString()}`;
        document.body.dataset.loaded = view;
        const b = document.getElementById('banner');
        if (b.className === 'error') banner('');
      }
    } catch (e) {
      banner(e.message);
    }
    state.timed = !state.asked;
    state.asked = false;
  } while (state.again);
  state.busy = false;
}

function tick() {
  if (!historyHeld()) refresh(true);
}

function route() {
  const want = location.hash.replace(/^#/, '');
  state.view = Object.hasOwn(VIEWS, want) ? want : 'targets';
  for (const s of document.querySelectorAll('section.view')) {
    s.hidden = s.id !== state.view;
  }
  for (const a of document.querySelectorAll('nav a')) {
    a.classList.toggle('current', a.dataset.view === state.view);
  }
  delete document.body.dataset.loaded;
  banner('');
  foldOutputs();
  refresh();
}

async function start() {
  try {
    state.who = await api('GET', '/v1/whoami');
    document.getElementById('who').textContent =
      `${state.who.name} (${state.who.role})`;
  } catch (e) {
    banner(e.message);
    setTimeout(start, REFRESH_MS);
    return;
  }
  for (const id of ['history-filter', 'downloadlist-filter',
    'queue-filter']) {
    document.getElementById(id).addEventListener('submit', (ev) => {
      ev.preventDefault();
      foldOutputs();
      refresh();
    });
  }
  document.getElementById('refresh').addEventListener('click', () => {
    foldOutputs();
    refresh();
  });
  window.addEventListener('hashchange', route);
  setInterval(tick, REFRESH_MS);
  route();
}

start();
