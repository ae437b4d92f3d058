// Drives the master's dashboard in Debian's Chromium (playwright-core, no
// downloaded browser) with a person's client certificate, and prints what
// a person sees as one JSON object on stdout; the system test
// (tests/system/test_19_dashboard.py) starts the daemons and judges it.
//
// Usage: node dashboard.mjs CONFIG.json, where CONFIG holds
//   url          the master's https://127.0.0.1:PORT
//   cert, key    the person's PEM certificate and key, or
//   pfx          the same as one PKCS#12 file (cohortctl cert issue --p12)
//   start_job    a job to start with its Start button (optional)
//   why_job      a job whose Why? button to press (optional)
//   clear_id     a failed instruction to clear with its button (optional)
//   attacker_url a page on another origin whose script posts a start of
//                start_job to the master (optional; cross-site forgery)
//   enable_worker a worker to enable with its button (optional)
//   screenshot   where to write a PNG of the jobs view (optional)
// The master's CA must be trusted through NODE_EXTRA_CA_CERTS: the
// certificate is presented by Playwright's own TLS client.
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const STEP_MS = 15000;
const conf = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const seen = { dialogs: [], page_errors: [], console_errors: [], views: {},
  history_requests: [] };

async function tableRows(page, id) {
  return page.$$eval(`#${id} tbody tr`, (trs) =>
    trs.map((tr) => [...tr.cells].map((td) => td.textContent.trim())));
}

async function openView(page, view) {
  await page.click(`nav a[data-view="${view}"]`);
  await page.waitForSelector(`body[data-loaded="${view}"]`,
    { timeout: STEP_MS });
}

function jobRow(page, job) {
  return page.locator('#jobs-table tbody tr',
    { has: page.locator('td:first-child', { hasText: new RegExp(`^${job}$`) }) });
}

async function bannerText(page) {
  await page.waitForSelector('#banner:not([hidden])', { timeout: STEP_MS });
  return (await page.textContent('#banner')).trim();
}

async function visit(page) {
  await page.goto(`${conf.url}/ui/`);
  await page.waitForSelector('body[data-loaded="targets"]',
    { timeout: STEP_MS });
  seen.who = (await page.textContent('#who')).trim();
  seen.views.targets = await tableRows(page, 'targets-table');
  seen.targets_summary = (await page.textContent('#targets-summary')).trim();

  await openView(page, 'jobs');
  seen.views.jobs = await tableRows(page, 'jobs-table');
  seen.job_buttons = await page.$$eval('#jobs-table button',
    (bs) => bs.map((b) => b.textContent));
  seen.last_outcomes = Object.fromEntries(await page.$$eval(
    '#jobs-table tbody tr', (trs) => trs.map((tr) => [
      tr.cells[0].textContent,
      [...tr.querySelectorAll('.last')].map((l) => l.textContent.trim())])));
  if (conf.why_job) {
    await jobRow(page, conf.why_job).locator('button', { hasText: 'Why?' }).click();
    await page.waitForSelector('#why-panel:not([hidden])', { timeout: STEP_MS });
    seen.why_title = (await page.textContent('#why-title')).trim();
    seen.why = await tableRows(page, 'why-table');
  }
  if (conf.screenshot) await page.screenshot({ path: conf.screenshot, fullPage: true });
  if (conf.start_job) {
    const button = jobRow(page, conf.start_job).locator('button', { hasText: 'Start' });
    if (await button.count() === 1) {
      await button.click();
      seen.start_banner = await bannerText(page);
    } else {
      // a viewer has no button: the same call made by hand is refused
      seen.start_by_hand = await page.evaluate(async (job) => {
        const r = await fetch(`/v1/jobs/${encodeURIComponent(job)}/start`, {
          method: 'POST', headers: { 'Content-Type': 'application/json' },
          body: '{}' });
        return { status: r.status, body: await r.json() };
      }, conf.start_job);
    }
  }

  await openView(page, 'history');
  seen.views.history = await tableRows(page, 'history-table');
  // The listing has no outputs: a step's is read when it is opened. The
  // newest finished step of the job filtered for below.
  const details = page.locator('#history-table tbody tr')
    .filter({ hasText: conf.history_job || '' })
    .filter({ hasText: 'succeeded' }).locator('details').first();
  if (await details.count() === 1) {
    await details.locator('summary').click();
    await page.waitForSelector('#history-table details[open][data-loaded]',
      { timeout: STEP_MS });
    seen.first_output = await details.locator('pre').textContent();
    seen.first_output_visible = await details.locator('pre').isVisible();
  }
  if (conf.history_job) {
    await page.fill('#history-job', conf.history_job);
    await page.click('#history-filter button');
    await page.waitForFunction((job) =>
      [...document.querySelectorAll('#history-table tbody tr')].every(
        (tr) => tr.cells.length > 1 && tr.cells[1].textContent === job),
    conf.history_job, { timeout: STEP_MS });
    seen.views.history_filtered = await tableRows(page, 'history-table');
  }

  await openView(page, 'downloadlist');
  seen.views.downloadlist = await tableRows(page, 'downloadlist-table');
  if (conf.clear_id) {
    const row = page.locator('#downloadlist-table tbody tr',
      { has: page.locator('td:first-child', { hasText: new RegExp(`^${conf.clear_id}$`) }) });
    await row.locator('button', { hasText: 'Clear' }).click();
    seen.clear_banner = await bannerText(page);
  }

  await openView(page, 'queue');
  seen.views.queue = await tableRows(page, 'queue-table');
  seen.views.workers = await tableRows(page, 'workers-table');
  if (conf.enable_worker) {
    const row = page.locator('#workers-table tbody tr',
      { has: page.locator('td:first-child', { hasText: new RegExp(`^${conf.enable_worker}$`) }) });
    await row.locator('button', { hasText: 'Enable' }).click();
    seen.enable_banner = await bannerText(page);
    await page.waitForFunction((w) => [...document.querySelectorAll(
      '#workers-table tbody tr')].some((tr) => tr.cells[0].textContent === w &&
      tr.cells[1].textContent === 'enabled'), conf.enable_worker,
    { timeout: STEP_MS });
    seen.views.workers_after = await tableRows(page, 'workers-table');
  }
  if (conf.queue_status) {
    // the filter asks the master; the timed refresh keeps it
    await page.selectOption('#queue-status', conf.queue_status);
    await page.click('#queue-filter button');
    await page.waitForFunction((st) => {
      const rows = [...document.querySelectorAll('#queue-table tbody tr')];
      return rows.length > 0 && rows.every((tr) => tr.cells.length > 2 &&
        tr.cells[2].textContent === st);
    }, conf.queue_status, { timeout: STEP_MS });
    seen.views.queue_filtered = await tableRows(page, 'queue-table');
  }

  await openView(page, 'events');
  seen.views.events = await tableRows(page, 'events-table');
}

// Another site's page posts to the master in the background, as a
// forgery would: the browser sends the person's certificate with it.
async function forge(context) {
  const page = await context.newPage();
  await page.goto(conf.attacker_url);
  seen.forgery = await page.evaluate(async ([url, job]) => {
    try {
      await fetch(`${url}/v1/jobs/${encodeURIComponent(job)}/start`, {
        method: 'POST', mode: 'no-cors', credentials: 'include',
        body: '{}' });
      return 'sent';
    } catch (e) {
      return `not sent: ${e.message}`;
    }
  }, [conf.url, conf.start_job]);
  await page.close();
}

const browser = await chromium.launch({
  executablePath: process.env.COHORT_CHROMIUM || '/usr/bin/chromium',
  // the machine has no network beyond loopback: nothing in the background
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update',
    '--disable-sync'],
});
let failure = null;
try {
  const context = await browser.newContext({
    clientCertificates: [conf.pfx
      ? { origin: conf.url, pfxPath: conf.pfx, passphrase: '' }
      : { origin: conf.url, certPath: conf.cert, keyPath: conf.key }],
  });
  context.setDefaultTimeout(STEP_MS);
  const page = await context.newPage();
  page.on('dialog', (d) => { seen.dialogs.push(d.message()); d.dismiss(); });
  page.on('pageerror', (e) => seen.page_errors.push(e.message));
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.pathname === '/v1/history') seen.history_requests.push(u.search);
  });
  page.on('console', (m) => {
    if (m.type() === 'error') seen.console_errors.push(m.text());
  });
  await visit(page);
  if (conf.attacker_url) await forge(context);
} catch (e) {
  failure = e.message;
} finally {
  await browser.close();
}
seen.failure = failure;
process.stdout.write(JSON.stringify(seen) + '\n');
