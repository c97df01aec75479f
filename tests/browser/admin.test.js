// Browser tests of the sTask admin module, in headless Debian chromium driven
// by playwright-core, against a host started by run.sh: the standalone front
// controller (bearer token) or the Laravel harness app (manager session and
// CSRF), each with a real SQLite database and a real worker process.
//
// Environment (set by run.sh): STASK_HOST (standalone | laravel), STASK_URL
// (server root), STASK_PAGE (URL of the module page), STASK_API_TOKEN
// (standalone), STASK_ARTIFACTS, CHROMIUM (default /usr/bin/chromium).

'use strict';

const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');

const HOST = process.env.STASK_HOST || 'standalone';
const BASE = process.env.STASK_URL;
const PAGE = process.env.STASK_PAGE || BASE + '/';
const TOKEN = process.env.STASK_API_TOKEN;
const BEARER = HOST === 'standalone';
const ARTIFACTS = process.env.STASK_ARTIFACTS || path.join(__dirname, 'artifacts');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'];

if (!BASE || (BEARER && !TOKEN)) {
    throw new Error('STASK_URL (and STASK_API_TOKEN for the standalone host) must be set: run tests/browser/run.sh');
}
fs.mkdirSync(ARTIFACTS, { recursive: true });

const VIEWPORTS = [
    { name: 'desktop', width: 1280, height: 800 },
    { name: 'phone', width: 390, height: 844, isMobile: true, hasTouch: true },
];

for (const vp of VIEWPORTS) {
    describe(`admin module at ${vp.width}x${vp.height} (${vp.name})`, () => {
        let context;
        let page;
        let profile;
        const errors = [];

        const shot = (name) => page.screenshot({ path: path.join(ARTIFACTS, `${HOST}-${vp.name}-${name}.png`), fullPage: true });

        /**
         * The API, straight, with the page's own credentials (its bearer token,
         * or its session and CSRF token): to check what the UI did.
         */
        async function api(method, route, body) {
            const res = await page.evaluate(async ({ method, route, body }) => {
                const cfg = JSON.parse(document.getElementById('stask-config').textContent);
                const headers = { Accept: 'application/json', 'X-Requested-With': 'XMLHttpRequest' };
                if (cfg.auth === 'bearer') {
                    headers.Authorization = 'Bearer ' + sessionStorage.getItem('stask.api_token');
                } else {
                    headers['X-CSRF-TOKEN'] = cfg.csrf;
                }
                if (body) {
                    headers['Content-Type'] = 'application/json';
                }
                const r = await fetch(cfg.api + route, { method, headers, body: body ? JSON.stringify(body) : undefined, credentials: 'same-origin' });
                return { status: r.status, text: await r.text() };
            }, { method, route, body });
            const data = JSON.parse(res.text);
            assert.ok(res.status < 300, `${method} ${route}: HTTP ${res.status} ${res.text}`);
            return data;
        }

        async function worker(identifier) {
            return (await api('GET', '/workers/' + identifier)).worker;
        }

        /** No sideways scrolling of the page itself (tables scroll inside their own box). */
        async function assertFitsWidth() {
            const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
            assert.ok(overflow <= 1, `the page is ${overflow}px wider than the ${vp.width}px viewport`);
        }

        async function openTab(name) {
            await page.click(`.stask-tab[data-tab="${name}"]`);
            await page.waitForSelector(`.stask-tab[data-tab="${name}"][aria-selected="true"]`);
        }

        async function workerCard(identifier) {
            await openTab('workers');
            const card = page.locator(`[data-worker="${identifier}"]`);
            await card.waitFor();
            return card;
        }

        /** Opens a panel (run, schedule, settings) of a worker card, closed first if it was open. */
        async function openPanel(identifier, panel) {
            const card = await workerCard(identifier);
            const button = card.locator(`[data-panel="${panel}"]`);
            if ((await button.getAttribute('aria-expanded')) === 'true') {
                await button.click();
            }
            await button.click();
            return card;
        }

        async function startFromRunForm(identifier, action, options, priority) {
            let card = page.locator(`[data-worker="${identifier}"]`);
            if (!(await card.locator(`[data-run-form="${identifier}"]`).isVisible().catch(() => false))) {
                card = await openPanel(identifier, 'run');
            }
            const form = card.locator(`[data-run-form="${identifier}"]`);
            const actionField = form.locator('[name="action"]');
            if ((await actionField.evaluate((e) => e.tagName)) === 'SELECT') {
                await actionField.selectOption(action); // the worker lists its actions
            } else {
                await actionField.fill(action);
            }
            await form.locator('[name="options"]').fill(JSON.stringify(options));
            if (priority) {
                await form.locator('[name="priority"]').selectOption(priority);
            }
            const before = await card.locator('.stask-inline-task').count();
            await form.locator('[data-action="start"]').click();
            await assert.doesNotReject(card.locator('.stask-inline-task').nth(before).waitFor());
            const row = card.locator('.stask-inline-task').first();
            const id = Number(await row.getAttribute('data-task-id'));
            assert.ok(id > 0, 'the page shows the new task id');
            return { card, row, id };
        }

        /** Relative luminance (0 black .. 1 white) of an element's computed background colour. */
        async function backgroundLuminance(frameOrPage, selector) {
            return frameOrPage.evaluate((sel) => {
                const c = getComputedStyle(document.querySelector(sel)).backgroundColor;
                const [r, g, b] = (c.match(/[\d.]+/g) || ['0', '0', '0']).slice(0, 3).map(Number).map((v) => {
                    v /= 255;
                    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
                });
                return 0.2126 * r + 0.7152 * g + 0.0722 * b;
            }, selector);
        }

        /** Sets or removes Evolution's colour-mode cookie (1 lightness .. 4 darkness) for the site. */
        async function setThemeCookie(mode) {
            if (mode === null) {
                await page.evaluate(() => { document.cookie = 'MODX_themeMode=; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT'; });
            } else {
                await context.addCookies([{ name: 'MODX_themeMode', value: String(mode), url: BASE + '/' }]);
            }
        }

        before(async () => {
            profile = fs.mkdtempSync(path.join(os.tmpdir(), 'stask-chromium-'));
            context = await chromium.launchPersistentContext(profile, {
                executablePath: CHROMIUM,
                headless: true,
                args: FLAGS,
                viewport: { width: vp.width, height: vp.height },
                isMobile: !!vp.isMobile,
                hasTouch: !!vp.hasTouch,
                acceptDownloads: true,
            });
            page = context.pages()[0] || (await context.newPage());
            page.setDefaultTimeout(20000);
            page.on('pageerror', (e) => errors.push(e.message));
            page.on('console', (m) => {
                if (m.type() === 'error' && !/favicon/.test(m.location().url || '')) {
                    errors.push(m.text());
                }
            });
        });

        after(async () => {
            if (context) {
                await context.close();
            }
            fs.rmSync(profile, { recursive: true, force: true });
        });

        test(BEARER ? 'opens the module: asks for the token, then shows the dashboard' : 'opens the module with the manager session', async () => {
            await page.goto(PAGE);
            if (BEARER) {
                await page.waitForSelector('#stask-token');
                await shot('token');
                await page.fill('#stask-token', TOKEN);
                await page.click('.stask-token-form button[type="submit"]');
            } else {
                assert.equal(await page.getAttribute('#stask-app', 'data-auth'), 'csrf');
            }
            await page.waitForFunction(() => /^\d+$/.test(document.querySelector('.stask-card[data-card="workers"] .stask-card__value').textContent));
            const stats = await api('GET', '/stats');
            const shown = await page.textContent('.stask-card[data-card="workers"] .stask-card__value');
            assert.equal(Number(shown), stats.active_workers);
            await page.waitForSelector('.stask-chart');
            if (BEARER) {
                assert.equal(await page.evaluate(() => sessionStorage.getItem('stask.api_token')), TOKEN);
            } else {
                assert.equal(await page.locator('#stask-token').count(), 0, 'no token is asked for');
            }
            await assertFitsWidth();
            await shot('dashboard');
        });

        test('the 24 h chart shows the current hours, at any width', async () => {
            await openTab('dashboard');
            await page.waitForSelector('.stask-chart');
            const seen = await page.evaluate(() => {
                const box = document.querySelector('.stask-chart-box').getBoundingClientRect();
                const labels = [...document.querySelectorAll('.stask-chart text.stask-chart__axis:not(.stask-chart__axis--dur)')]
                    .filter((t) => /^\d\d$/.test(t.textContent));
                const last = labels[labels.length - 1].getBoundingClientRect();
                const legend = document.querySelector('.stask-chart-box .stask-legend').getBoundingClientRect();
                return { lastInside: last.left >= box.left - 1 && last.right <= box.right + 1, legendInside: legend.left >= box.left - 1 };
            });
            assert.ok(seen.lastInside, 'the newest hour is in view');
            assert.ok(seen.legendInside, 'the legend stays in view');
        });

        test('labels the duration axis in round steps of one unit', async () => {
            // The timeline is answered here, so each case has a known longest average duration (seconds).
            const cases = [[0.0123, 'ms'], [0.3, 's'], [2.2, 's'], [7.4, 's'], [95, 's'], [1500, 'min'], [40000, 'h']];
            const UNIT = { ms: 0.001, s: 1, min: 60, h: 3600 };
            let longest = 0;
            const timeline = async (route) => {
                const now = Date.UTC(2026, 0, 15, 12);
                const hours = Array.from({ length: 24 }, (_, i) => ({
                    hour: new Date(now - (23 - i) * 3600e3).toISOString().replace('.000', ''),
                    created: i % 3, completed: i % 2, failed: i === 20 ? 1 : 0,
                    avg_duration: i === 22 ? longest : (i % 4 === 0 ? Math.round(longest * 300) / 1000 : null),
                }));
                await route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ success: true, hours: 24, timeline: hours }) });
            };
            await page.route(/\/stats\/timeline/, timeline);
            try {
                for (const [max, unit] of cases) {
                    longest = max;
                    await page.goto(PAGE + '#dashboard');
                    await page.reload(); // a new page: no chart of the previous case
                    await page.waitForFunction(() => document.querySelectorAll('.stask-chart .stask-chart__axis--dur').length === 5);
                    const axis = await page.evaluate(() => {
                        const svg = document.querySelector('.stask-chart').getBoundingClientRect();
                        const labels = [...document.querySelectorAll('.stask-chart .stask-chart__axis--dur')].map((t) => {
                            const r = t.getBoundingClientRect();
                            return { text: t.textContent, top: r.top, bottom: r.bottom, left: r.left, right: r.right };
                        }).sort((a, b) => b.top - a.top); // from the bottom (0) up
                        const dots = [...document.querySelectorAll('.stask-chart .stask-chart__dot')].map((c) => c.getBoundingClientRect().top + c.getBoundingClientRect().height / 2);
                        return { labels, svgRight: svg.right, svgLeft: svg.left, highestDot: Math.min(...dots) };
                    });
                    const texts = axis.labels.map((l) => l.text);
                    assert.equal(texts[0], '0', `${max} s: the axis starts at 0 (${texts})`);
                    const values = texts.slice(1).map((text) => {
                        const m = /^(\d+(?:\.\d{1,2})?) (ms|s|min|h)$/.exec(text);
                        assert.ok(m, `${max} s: "${text}" is a number and a unit`);
                        assert.equal(m[2], unit, `${max} s: ticks in ${unit} (${texts})`);
                        return Number(m[1]);
                    });
                    const step = values[0];
                    values.forEach((v, i) => assert.ok(Math.abs(v - step * (i + 1)) < 1e-9, `${max} s: even steps (${texts})`));
                    assert.match(step.toExponential(), /^\d(\.\d)?e/, `${max} s: a round step (${texts})`);
                    const top = values[values.length - 1] * UNIT[unit];
                    assert.ok(top >= max && top < 3 * max, `${max} s: the top ${texts[4]} covers the longest average without wasting the chart`);
                    for (let i = 1; i < axis.labels.length; i++) {
                        assert.ok(axis.labels[i].bottom <= axis.labels[i - 1].top + 0.5, `${max} s: labels do not overlap (${texts})`);
                    }
                    axis.labels.forEach((l) => assert.ok(l.right <= axis.svgRight + 1 && l.left >= axis.svgLeft, `${max} s: "${l.text}" is inside the chart`));
                    assert.ok(axis.highestDot >= axis.labels[4].top - 1, `${max} s: the line stays under the top of its axis`);
                }
                await assertFitsWidth();
                await shot('duration-axis');
            } finally {
                await page.unroute(/\/stats\/timeline/, timeline);
            }
        });

        test('starts a task and watches its progress bar reach 100%', async () => {
            const { row, id } = await startFromRunForm('product', 'import', { rows: 40, pace_ms: 40 });
            // Live: the bar moves through intermediate values before completing.
            const seen = new Set();
            const bar = row.locator('.stask-progress');
            const deadline = Date.now() + 30000;
            while (Date.now() < deadline) {
                const v = Number(await bar.getAttribute('aria-valuenow'));
                seen.add(v);
                if (v === 100 && (await row.locator('.stask-badge--completed').count()) === 1) {
                    break;
                }
                await page.waitForTimeout(100);
            }
            assert.ok(seen.has(100), `progress reached 100% (saw ${[...seen].join(', ')})`);
            assert.equal((await api('GET', `/tasks/${id}`)).task.status_text, 'completed');
            await assertFitsWidth();
            await shot('task-completed');
        });

        test('downloads the result of an export task', async () => {
            const { row, id } = await startFromRunForm('product', 'export', {}, 'high');
            assert.equal((await api('GET', `/tasks/${id}`)).task.priority, 'high', 'the run form sets the priority');
            const button = row.locator('[data-action="download"]');
            await button.waitFor({ timeout: 30000 });
            const [download] = await Promise.all([page.waitForEvent('download'), button.click()]);
            assert.equal(download.suggestedFilename(), `products_${id}.csv`);
            const file = path.join(ARTIFACTS, `${HOST}-${vp.name}-${download.suggestedFilename()}`);
            await download.saveAs(file);
            const csv = fs.readFileSync(file, 'utf8');
            assert.match(csv, /^id,sku,name,price,stock,category_id,active\n1,SKU-0001,/);

            // The task detail dialog offers the same download.
            await page.goto(PAGE + `#tasks/${id}`);
            await page.waitForSelector(`.stask-dialog--task[data-task-id="${id}"] [data-action="download"]`);
            const [again] = await Promise.all([page.waitForEvent('download'), page.click('.stask-dialog--task [data-action="download"]')]);
            assert.equal(again.suggestedFilename(), `products_${id}.csv`);
            await assertFitsWidth();
            await shot('task-detail-completed');
            await page.click('.stask-dialog__head button');
        });

        test('uploads a file with a run', async () => {
            const card = await openPanel('product', 'run');
            const form = card.locator('[data-run-form="product"]');
            await form.locator('input[type="file"][name="file"]').setInputFiles({
                name: 'prices.csv', mimeType: 'text/csv', buffer: Buffer.from('sku,price\nA-1,10\n'),
            });
            const { id } = await startFromRunForm('product', 'import', { rows: 5 });
            const meta = (await api('GET', `/tasks/${id}`)).task.meta;
            assert.equal(meta.original_filename, 'prices.csv');
            assert.match(String(meta.uploaded_file), /\.csv$/);
            assert.equal(meta.rows, 5);
            assert.equal(await form.locator('input[type="file"]').evaluate((i) => i.files.length), 0, 'the file field is cleared');
        });

        test('cancels a running task from its detail dialog', async () => {
            const { id } = await startFromRunForm('product', 'import', { rows: 3000, pace_ms: 40 });
            await page.goto(PAGE + `#tasks/${id}`);
            const dialog = page.locator(`.stask-dialog--task[data-task-id="${id}"]`);
            await dialog.locator('.stask-badge--running').waitFor({ timeout: 30000 });
            // Wait for a live update of the progress and the log, then cancel.
            await page.waitForFunction(() => Number(document.querySelector('.stask-dialog--task .stask-progress').getAttribute('aria-valuenow')) > 0);
            await page.waitForFunction(() => /Imported \d+ of 3000/.test(document.querySelector('.stask-dialog--task .stask-log').textContent));
            assert.match(await dialog.locator('.stask-eta').textContent(), /\S/, 'an ETA is shown while it runs');
            await shot('task-running');
            await dialog.locator('[data-action="cancel"]').click();
            await dialog.locator('.stask-badge--cancelled').waitFor({ timeout: 30000 });
            assert.equal((await api('GET', `/tasks/${id}`)).task.status_text, 'cancelled');
            // A cancelled task can be retried; it is not cancellable any more.
            await dialog.locator('[data-action="retry"]').waitFor();
            assert.equal(await dialog.locator('[data-action="cancel"]').count(), 0);
            await assertFitsWidth();
            await shot('task-cancelled');
            await page.click('.stask-dialog__head button');
            await page.waitForSelector('.stask-dialog--task', { state: 'detached' });
        });

        test('lists, filters and sorts tasks', async () => {
            await openTab('tasks');
            const rows = page.locator('.stask-table--tasks tbody tr[data-task-id]');
            await rows.first().waitFor();
            const ids = async () => (await rows.evaluateAll((trs) => trs.map((tr) => Number(tr.dataset.taskId))));
            const desc = await ids();
            assert.deepEqual(desc, [...desc].sort((a, b) => b - a), 'newest first by default');
            await page.click('th[data-sort="id"]');
            await page.waitForFunction(() => {
                const r = [...document.querySelectorAll('.stask-table--tasks tbody tr[data-task-id]')].map((tr) => Number(tr.dataset.taskId));
                return r.length > 1 && r[0] < r[1];
            });
            await page.selectOption('#stask-f-status', 'cancelled');
            await page.click('.stask-filters button[type="submit"]');
            await page.waitForFunction(() => {
                const r = [...document.querySelectorAll('.stask-table--tasks tbody tr[data-task-id]')];
                return r.length > 0 && r.every((tr) => tr.querySelector('.stask-badge--cancelled'));
            });
            const total = (await api('GET', '/tasks?status=cancelled')).pagination.total;
            assert.equal(await rows.count(), total);
            assert.equal((await page.textContent('.stask-pager__info')).trim(), `Page 1 of 1 (${total} tasks)`);
            await assertFitsWidth();
            await shot('tasks-filtered');
            await page.click('.stask-filters button[type="button"]');

            // A filter that matches nothing says so, and how to get back (not "no tasks yet").
            await rows.first().waitFor();
            await page.fill('#stask-f-action', 'no_such_action');
            await page.click('.stask-filters button[type="submit"]');
            await page.locator('.stask-table--tasks tbody tr.stask-empty').waitFor();
            assert.equal((await page.textContent('.stask-table--tasks tbody tr.stask-empty')).trim(), 'No tasks match these filters. Clear them to see every task.');
            await page.click('.stask-filters button[type="button"]');
            await rows.first().waitFor();
        });

        test('cancels the selected tasks and retries every failed one of a filter', async () => {
            // Pending tasks that never start (start_at far ahead), under an action of their own.
            const waiting = `bulk_${vp.name}`;
            const ids = [];
            for (let i = 0; i < 3; i++) {
                ids.push((await api('POST', '/tasks', { identifier: 'product', action: waiting, start_at: '2099-01-01T00:00:00Z' })).task.id);
            }
            await openTab('tasks');
            await page.fill('#stask-f-action', waiting);
            await page.click('.stask-filters button[type="submit"]');
            const rows = page.locator('.stask-table--tasks tbody tr[data-task-id]');
            await page.waitForFunction((n) => document.querySelectorAll('.stask-table--tasks tbody tr[data-task-id]').length === n, ids.length);
            const bar = page.locator('.stask-bulk');
            assert.equal(await bar.isVisible(), false, 'no bar without a selection');
            await page.check('input[data-select="page"]');
            assert.equal((await page.textContent('.stask-bulk__count')).trim(), '3 selected');
            await page.uncheck(`input[data-select="${ids[1]}"]`);
            assert.equal((await page.textContent('.stask-bulk__count')).trim(), '2 selected');
            assert.equal(await page.locator('input[data-select="page"]').evaluate((b) => b.indeterminate), true);
            assert.equal(await page.locator('.stask-dialog--task').count(), 0, 'ticking a box does not open the task');
            // The selection survives the list's refreshes.
            await page.waitForTimeout(2800);
            assert.equal(await page.isChecked(`input[data-select="${ids[0]}"]`), true);
            await assertFitsWidth();
            await shot('tasks-selected');

            // Going back changes nothing; confirming cancels exactly the ticked ones.
            await page.click('[data-action="cancel-selected"]');
            await page.locator('.stask-dialog--confirm').waitFor();
            assert.match(await page.textContent('.stask-dialog--confirm'), /\(2\)/, 'the confirmation names how many');
            await page.click('[data-confirm="back"]');
            assert.equal((await api('GET', `/tasks/${ids[0]}`)).task.status_text, 'pending');
            await page.click('[data-action="cancel-selected"]');
            await shot('tasks-cancel-confirm');
            await page.click('[data-confirm="ok"]');
            await page.locator('.stask-toast', { hasText: 'Cancelled: 2.' }).waitFor();
            const statuses = async () => Promise.all(ids.map(async (id) => (await api('GET', `/tasks/${id}`)).task.status_text));
            assert.deepEqual(await statuses(), ['cancelled', 'pending', 'cancelled']);
            assert.equal(await bar.isVisible(), false, 'the selection is gone after the action');

            // "Retry all cancelled" of the filter brings them back.
            await page.selectOption('#stask-f-status', 'cancelled');
            await page.click('.stask-filters button[type="submit"]');
            await page.waitForFunction(() => document.querySelectorAll('.stask-table--tasks tbody tr[data-task-id]').length === 2);
            await page.click('[data-action="retry-all"]');
            await page.click('[data-confirm="ok"]');
            await page.locator('.stask-toast', { hasText: 'Queued again: 2.' }).waitFor();
            // Due again now (a retry does not wait for start_at): the worker process may already run them.
            assert.ok((await statuses()).every((st) => st !== 'cancelled'), 'both went back to the queue');

            // Failed tasks on more than one page: the retry takes every one the filter matches
            // on the server, and nothing outside it (another action of the same worker).
            const failing = `fail_${vp.name}`;
            const failed = [];
            for (let i = 0; i < 12; i++) {
                failed.push((await api('POST', '/tasks', { identifier: `ghost_${vp.name}`, action: failing, max_attempts: 1 })).task.id);
            }
            const other = (await api('POST', '/tasks', { identifier: `ghost_${vp.name}`, action: `other_${vp.name}`, max_attempts: 1 })).task.id;
            const allFailed = async () => (await api('GET', `/tasks?identifier=ghost_${vp.name}&status=failed&per_page=100`)).pagination.total === 13;
            for (let i = 0; i < 100 && !(await allFailed()); i++) {
                await page.waitForTimeout(200);
            }
            assert.ok(await allFailed(), 'the worker process failed the tasks of an unknown worker');
            await page.click('.stask-filters button[type="button"]');
            await page.fill('#stask-f-action', failing);
            await page.selectOption('#stask-f-status', 'failed');
            await page.selectOption('.stask-pager__per select', '10');
            await page.click('.stask-filters button[type="submit"]');
            await page.waitForFunction(() => document.querySelectorAll('.stask-table--tasks tbody tr[data-task-id]').length === 10);
            await page.click('[data-action="retry-all"]');
            assert.match(await page.textContent('.stask-dialog--confirm'), /\(12\)/);
            await page.click('[data-confirm="ok"]');
            await page.locator('.stask-toast', { hasText: 'Queued again: 12.' }).waitFor();
            const after = (await api('GET', `/tasks?identifier=ghost_${vp.name}&per_page=100`)).data;
            for (const t of after) {
                // A retry gives one more attempt: 2 for each retried task, 1 for the one outside the filter.
                assert.equal(t.max_attempts, t.id === other ? 1 : 2, `task #${t.id} (${t.action})`);
            }
            assert.equal(after.length, 13);
            await page.selectOption('.stask-pager__per select', '20');
            await page.click('.stask-filters button[type="button"]');
            await rows.first().waitFor();
        });

        test('activates a worker', async () => {
            const id = 'email_campaign';
            if ((await worker(id)).active) {
                await api('POST', `/workers/${id}/deactivate`);
            }
            const card = await workerCard(id);
            await card.locator('[data-active="0"]').waitFor();
            await card.locator('[data-action="activate"]').click();
            await page.locator(`[data-worker="${id}"] [data-active="1"]`).waitFor();
            assert.equal((await worker(id)).active, true);
            await assertFitsWidth();
            await shot('worker-activated');
        });

        test('edits a weekly schedule and finds it persisted after a reload', async () => {
            const id = 'product_sync';
            const days = vp.name === 'phone' ? ['tuesday', 'saturday'] : ['monday', 'friday'];
            const time = vp.name === 'phone' ? '07:15' : '09:30';
            let card = await openPanel(id, 'schedule');
            let form = card.locator(`[data-schedule-form="${id}"]`);
            await form.waitFor();
            await form.locator('[name="enabled"]').check();
            await form.locator('[name="type"]').selectOption('periodic');
            await form.locator('[name="frequency"]').selectOption('weekly');
            // Missing days are caught before anything is sent.
            for (const box of await form.locator('[name="days"]').all()) {
                await box.setChecked(false);
            }
            await form.locator('[name="time"]').fill(time);
            await form.locator('[data-action="save-schedule"]').click();
            await form.locator('.stask-error:not([hidden])').waitFor();
            for (const d of days) {
                await form.locator(`[name="days"][value="${d}"]`).check();
            }
            await shot('schedule-form');
            await form.locator('[data-action="save-schedule"]').click();
            await card.locator('.stask-saved:not([hidden])').waitFor();

            const stored = (await api('GET', `/workers/${id}/schedule`)).schedule;
            assert.equal(stored.type, 'periodic');
            assert.equal(stored.enabled, true);
            assert.equal(stored.frequency, 'weekly');
            assert.equal(stored.time, time);
            assert.deepEqual([...stored.days].sort(), [...days].sort());

            await page.reload();
            card = await openPanel(id, 'schedule');
            form = card.locator(`[data-schedule-form="${id}"]`);
            await form.waitFor();
            assert.equal(await form.locator('[name="type"]').inputValue(), 'periodic');
            assert.equal(await form.locator('[name="frequency"]').inputValue(), 'weekly');
            assert.equal(await form.locator('[name="time"]').inputValue(), time);
            assert.equal(await form.locator('[name="enabled"]').isChecked(), true);
            const checked = await form.locator('[name="days"]:checked').evaluateAll((els) => els.map((e) => e.value));
            assert.deepEqual(checked.sort(), [...days].sort());
            await assertFitsWidth();
            await shot('schedule-persisted');
        });

        test('saves once and regular schedules as the server stores them', async () => {
            const id = 'email_campaign';
            const card = await openPanel(id, 'schedule');
            const form = () => card.locator(`[data-schedule-form="${id}"]`);
            // After a save the page draws the form again from what the server stored:
            // wait for that new form, or the next step may edit the old one as it goes.
            const save = async () => {
                await form().evaluate((f) => { f.dataset.old = '1'; });
                await Promise.all([
                    page.waitForResponse((r) => r.url().endsWith(`/workers/${id}/schedule`) && r.request().method() === 'PUT'),
                    form().locator('[data-action="save-schedule"]').click(),
                ]);
                await card.locator(`[data-schedule-form="${id}"]:not([data-old])`).waitFor();
            };

            await form().locator('[name="type"]').selectOption('once');
            await form().locator('[name="datetime"]').fill('2031-05-04T10:30');
            await save();
            let stored = (await api('GET', `/workers/${id}/schedule`)).schedule;
            assert.equal(stored.type, 'once');
            assert.match(stored.datetime, /^2031-05-04[ T]10:30/);
            await page.waitForFunction((sel) => document.querySelector(sel + ' [name="datetime"]').value === '2031-05-04T10:30', `[data-schedule-form="${id}"]`);

            await form().locator('[name="type"]').selectOption('regular');
            await form().locator('[name="start_time"]').fill('08:00');
            await form().locator('[name="end_time"]').fill('18:30');
            await form().locator('[name="interval"]').selectOption('every_15min');
            await save();
            stored = (await api('GET', `/workers/${id}/schedule`)).schedule;
            assert.equal(stored.type, 'regular');
            assert.equal(stored.start_time, '08:00');
            assert.equal(stored.end_time, '18:30');
            assert.equal(stored.interval, 'every_15min');
            await shot('schedule-regular');
        });

        test('saves a cron schedule with its missed-run policy and shows the next run', async () => {
            const id = 'email_campaign';
            // Both viewports share the database: each saves something else.
            const [expr, hhmm, policy] = vp.name === 'phone' ? ['45 5 * * *', '05:45', 'skip'] : ['30 4 * * *', '04:30', 'run_once'];
            const before = (await api('GET', `/workers/${id}/schedule`)).schedule;
            let card = await openPanel(id, 'schedule');
            const form = () => card.locator(`[data-schedule-form="${id}"]`);
            await form().waitFor();
            await form().locator('[name="enabled"]').check();
            await form().locator('[name="type"]').selectOption('cron');
            // The form shows the stored policy: on a fresh database, Laravel's skip.
            assert.equal(await form().locator('[name="missed"]').inputValue(), before.missed);
            if (vp.name === 'desktop') {
                assert.equal(before.missed, 'skip');
            }
            // Four fields are caught before anything is sent.
            await form().locator('[name="expression"]').fill('30 4 * *');
            await form().locator('[data-action="save-schedule"]').click();
            await form().locator('.stask-error:not([hidden])').waitFor();
            // One that never matches is refused by the server, which says why.
            const logged = errors.length;
            await form().locator('[name="expression"]').fill('0 0 31 2 *');
            await Promise.all([
                page.waitForResponse((r) => r.url().endsWith(`/workers/${id}/schedule`) && r.request().method() === 'PUT' && r.status() === 422),
                form().locator('[data-action="save-schedule"]').click(),
            ]);
            await page.waitForFunction((sel) => /never/.test(document.querySelector(sel + ' .stask-error').textContent), `[data-schedule-form="${id}"]`);
            // Chromium logs the refused request as a console error: that one was asked for.
            for (let i = 0; i < 20 && errors.length === logged; i++) {
                await page.waitForTimeout(100);
            }
            const others = errors.splice(logged).filter((e) => !/status of 422\b/.test(e));
            assert.deepEqual(others, [], 'only the refused request was logged');

            await form().locator('[name="expression"]').fill(expr);
            await form().locator('[name="missed"]').selectOption(policy);
            await form().evaluate((f) => { f.dataset.old = '1'; });
            await Promise.all([
                page.waitForResponse((r) => r.url().endsWith(`/workers/${id}/schedule`) && r.request().method() === 'PUT' && r.status() === 200),
                form().locator('[data-action="save-schedule"]').click(),
            ]);
            await card.locator(`[data-schedule-form="${id}"]:not([data-old])`).waitFor();
            const got = await api('GET', `/workers/${id}/schedule`);
            assert.equal(got.schedule.type, 'cron');
            assert.equal(got.schedule.expression, expr);
            assert.equal(got.schedule.missed, policy);
            assert.ok(got.next_run.includes(`T${hhmm}:00`), got.next_run);
            const shown = form().locator('.stask-next-run');
            assert.equal(await shown.getAttribute('data-next-run'), got.next_run);
            assert.match(await shown.textContent(), new RegExp(`\\d{4}-\\d{2}-\\d{2} ${hhmm} \\(UTC`));
            if (before.enabled && before.type === 'cron') {
                // The card's chip was there before the save and shows the new run at once.
                assert.equal(await card.locator('.stask-worker__head [data-next-run]').getAttribute('data-next-run'), got.next_run);
            }
            await assertFitsWidth();
            await shot('schedule-cron');

            // The worker card shows it too, after a reload.
            await page.reload();
            card = await workerCard(id);
            const chip = card.locator('.stask-worker__head [data-next-run]');
            await chip.waitFor();
            assert.equal(await chip.getAttribute('data-next-run'), got.next_run);
            assert.ok((await chip.textContent()).includes(hhmm));
            card = await openPanel(id, 'schedule');
            assert.equal(await form().locator('[name="type"]').inputValue(), 'cron');
            assert.equal(await form().locator('[name="expression"]').inputValue(), expr);
            assert.equal(await form().locator('[name="missed"]').inputValue(), policy);
        });

        test('validates and saves worker settings as JSON', async () => {
            const id = 'product';
            const card = await openPanel(id, 'settings');
            const form = card.locator(`[data-settings-form="${id}"]`);
            const area = form.locator('textarea[name="settings"]');
            await area.waitFor();
            await area.fill('{"batch_size": 50,');
            await form.locator('.stask-error:not([hidden])').waitFor();
            await area.fill(JSON.stringify({ batch_size: 50, label: `from the ${vp.name} test` }));
            await form.locator('[data-action="save-settings"]').click();
            const deadline = Date.now() + 10000;
            let settings;
            do {
                settings = (await api('GET', `/workers/${id}/settings`)).settings;
                if (settings.label === `from the ${vp.name} test`) {
                    break;
                }
                await page.waitForTimeout(200);
            } while (Date.now() < deadline);
            assert.equal(settings.batch_size, 50);
            assert.equal(settings.label, `from the ${vp.name} test`);
            await shot('settings');
        });

        test('shows task and worker text as text, never as markup', async () => {
            // A task whose input carries markup: the detail shows it literally.
            const created = await api('POST', '/tasks', { identifier: 'product', action: 'import', data: { note: '<img src=x onerror="window.__xss=1">' }, priority: 'low' });
            const id = created.task.id;
            await page.goto(PAGE + `#tasks/${id}`);
            await page.waitForSelector(`.stask-dialog--task[data-task-id="${id}"] .stask-detail__cols .stask-json`);
            await page.waitForFunction(() => /<img src=x onerror=/.test(document.querySelector('.stask-dialog--task .stask-detail__cols .stask-json').textContent));
            assert.equal(await page.evaluate(() => window.__xss), undefined);
            assert.equal(await page.locator('.stask-dialog--task img').count(), 0);
            await page.click('.stask-dialog__head button');
        });

        // The standalone page takes ?lang=; the Laravel page follows the app's locale (HttpAdapterTest checks it).
        const standaloneOnly = BEARER ? test : () => {};
        standaloneOnly('speaks Ukrainian and Russian', async () => {
            for (const [lang, workers, cancelled] of [['uk', 'Воркери', 'Скасовані'], ['ru', 'Воркеры', 'Отменены']]) {
                await page.goto(BASE + `/?lang=${lang}`);
                await page.waitForSelector('.stask-tab[data-tab="workers"]');
                assert.equal(await page.getAttribute('html', 'lang'), lang);
                assert.equal((await page.textContent('.stask-tab[data-tab="workers"]')).trim(), workers);
                assert.equal((await page.textContent('.stask-card[data-card="cancelled"] .stask-card__label')).trim(), cancelled);
                await assertFitsWidth();
                await shot(`dashboard-${lang}`);
            }
        });

        standaloneOnly('shows the engine\'s alerts and task messages in Ukrainian', async () => {
            // A failure in the last hour lowers the success rate below its threshold: an alert.
            for (let i = 0; i < 20 && !(await api('GET', '/performance/alerts')).alerts.some((a) => a.type === 'low_success_rate'); i++) {
                await api('POST', '/tasks', { identifier: 'ghost_alert', action: 'run', max_attempts: 1 });
                await page.waitForTimeout(300);
            }
            const alert = (await api('GET', '/performance/alerts')).alerts.find((a) => a.type === 'low_success_rate');
            assert.ok(alert, 'a low success rate alert');
            const run = await api('POST', '/workers/product/tasks/import', { rows: 3 });
            let task;
            for (let i = 0; i < 100; i++) {
                task = (await api('GET', `/tasks/${run.id}`)).task;
                if (task.status_text === 'completed') {
                    break;
                }
                await page.waitForTimeout(200);
            }
            assert.deepEqual([task.status_text, task.message, task.message_code], ['completed', 'Task completed successfully', 'completed'], 'the API keeps English');

            await page.goto(BASE + '/?lang=uk#dashboard');
            const text = page.locator('.stask-alert__text[data-alert="low_success_rate"]');
            await text.waitFor();
            assert.match(await text.textContent(), /^Частка успішних задач нижча за поріг: [\d.]+% \(поріг 95%\)$/);
            await page.goto(BASE + `/?lang=uk#tasks/${run.id}`);
            await page.waitForFunction(() => (document.querySelector('.stask-dialog--task .stask-task-message') || {}).textContent === 'Задачу успішно виконано');
            // The log's closing line is the engine's too; the worker's own lines stay as written.
            const log = (await page.textContent('.stask-dialog--task .stask-log')).split('\n');
            assert.deepEqual([log[0], log[log.length - 1]], ['Imported 1 of 3 products', 'Задачу успішно виконано']);
            await shot('engine-texts-uk');
            await page.goto(PAGE);
        });

        test('polls gently while idle and not at all while the tab is hidden', async () => {
            await page.goto(PAGE);
            await page.waitForFunction(() => /^\d+$/.test(document.querySelector('.stask-card[data-card="pending"] .stask-card__value').textContent));
            let calls = 0;
            const count = (req) => {
                if (/\/stask\/(?!assets\/)[a-z]/.test(new URL(req.url()).pathname)) {
                    calls++;
                }
            };
            page.on('request', count);
            try {
                // The dashboard refreshes every 2.5 s (1 s while a task runs) with 2 requests, its
                // slow part (chart, alerts, errors, processes) every 15 s with 4: at most 16 in 5 s.
                await page.waitForTimeout(5000);
                assert.ok(calls >= 2, `the dashboard refreshes itself (${calls} requests in 5 s)`);
                assert.ok(calls <= 16, `no request storm: ${calls} requests in 5 s`);

                await page.evaluate(() => {
                    Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
                    document.dispatchEvent(new Event('visibilitychange'));
                });
                await page.waitForTimeout(1000); // a request already on its way may finish
                calls = 0;
                await page.waitForTimeout(4000);
                assert.equal(calls, 0, 'no polling while the tab is hidden');

                const resumed = page.waitForRequest((req) => /\/stask\/stats/.test(req.url()), { timeout: 2000 });
                await page.evaluate(() => {
                    Object.defineProperty(document, 'hidden', { configurable: true, get: () => false });
                    document.dispatchEvent(new Event('visibilitychange'));
                });
                await resumed; // at once, not after the next interval
            } finally {
                page.off('request', count);
            }
        });

        test('names on the worker card the task its schedule created', async () => {
            await page.goto(PAGE);
            const id = 'product';
            let w = (await api('GET', `/workers/${id}`)).worker;
            if (!(w.last_scheduled && w.last_scheduled.task_id)) {
                // Once, a few seconds from now (the harness runs in UTC): the worker
                // process's scheduler (every 20 s) creates the make task at its next pass.
                const before = (await api('GET', `/workers/${id}/schedule`)).schedule;
                const at = new Date(Date.now() + 5000).toISOString().slice(0, 19).replace('T', ' ');
                await api('PUT', `/workers/${id}/schedule`, { type: 'once', enabled: true, datetime: at });
                for (let i = 0; i < 80 && !(w.last_scheduled && w.last_scheduled.task_id); i++) {
                    await page.waitForTimeout(500);
                    w = (await api('GET', `/workers/${id}`)).worker;
                }
                await api('PUT', `/workers/${id}/schedule`, before);
            }
            assert.ok(w.last_scheduled && w.last_scheduled.task_id, JSON.stringify(w));
            const card = await workerCard(id);
            const line = card.locator('.stask-worker__scheduled');
            await line.waitFor();
            assert.equal(await line.getAttribute('data-scheduled-task'), String(w.last_scheduled.task_id));
            assert.match(await line.textContent(), new RegExp(`Created by the schedule: #${w.last_scheduled.task_id} for \\d{4}-`));
            await assertFitsWidth();
        });

        test('lists the live worker processes and a task\'s attempts', async () => {
            await page.goto(PAGE);
            // The suite's worker process is registered and beating.
            const proc = page.locator('.stask-panel--processes tr[data-process]');
            await proc.first().waitFor();
            assert.match(await proc.first().textContent(), /alive/);
            const listed = (await api('GET', '/processes')).processes;
            assert.ok(listed.some((p) => p.alive), JSON.stringify(listed));
            // A task no worker can run fails at its first attempt: the dialog lists it.
            const created = await api('POST', '/tasks', { identifier: 'ghost_history', action: 'run', max_attempts: 1 });
            const id = created.task.id;
            for (let i = 0; i < 100 && (await api('GET', `/tasks/${id}`)).task.status_text !== 'failed'; i++) {
                await page.waitForTimeout(200);
            }
            await page.goto(PAGE + `#tasks/${id}`);
            const attempt = page.locator('.stask-dialog--task .stask-detail__history tr[data-attempt="1"]');
            await attempt.waitFor();
            assert.equal(await attempt.getAttribute('data-outcome'), 'failed');
            assert.match(await attempt.textContent(), /ghost_history/);
            assert.ok(await page.locator('.stask-dialog--task [data-no-worker-process]').isHidden(), 'a worker process is running');
            await assertFitsWidth();
            await shot('task-attempts');
            await page.goto(PAGE);
        });

        test('shows each worker\'s icon, from its class names only', async () => {
            await page.goto(PAGE + '#workers');
            const card = await workerCard('product');
            const icon = card.locator('.stask-worker__icon');
            await icon.waitFor();
            assert.equal(await icon.getAttribute('data-icon'), 'fa fa-box', 'ProductWorker::icon() is <i class="fa fa-box"></i>');
            assert.equal(await icon.locator('i.fa.fa-box').count(), 1);
            // This page has no icon font of its own (the manager's Font Awesome is linked only inside
            // Evolution): the worker's initial stands in, so the box is never empty.
            const initial = icon.locator('.stask-worker__initial');
            if (await icon.evaluate((el) => el.classList.contains('stask-worker__icon--nofont'))) {
                assert.equal((await initial.textContent()).trim(), ((await worker('product')).title || 'P').trim().charAt(0).toUpperCase());
                assert.ok(await initial.isVisible());
            }
            for (const id of ['email_campaign', 'product_sync']) {
                assert.match(await page.locator(`[data-worker="${id}"] .stask-worker__icon`).getAttribute('data-icon'), /^fa fa-(envelope|sync)$/);
            }

            // An icon() carrying markup with handlers: only its class names are used.
            await page.route(/\/workers(\?.*)?$/, async (route) => {
                if (route.request().method() !== 'GET') {
                    return route.continue();
                }
                const res = await route.fetch();
                const body = await res.json();
                for (const w of body.workers || []) {
                    if (w.identifier === 'product') {
                        w.icon = '<img src=x onerror="window.__iconXss=1"><i class="fa fa-bolt x&quot;y" onclick="window.__iconXss=2"></i>';
                    }
                    if (w.identifier === 'email_campaign') {
                        w.icon = '✉';
                    }
                }
                await route.fulfill({ response: res, json: body });
            });
            try {
                await page.click('[data-action="rescan"]');
                await page.waitForSelector('[data-worker="product"] .stask-worker__icon[data-icon="fa fa-bolt"]');
                const evil = page.locator('[data-worker="product"] .stask-worker__icon');
                assert.equal(await evil.locator('img').count(), 0);
                assert.equal(await evil.locator('i').getAttribute('onclick'), null);
                assert.equal(await page.evaluate(() => window.__iconXss), undefined);
                assert.equal((await page.locator('[data-worker="email_campaign"] .stask-worker__icon').textContent()).trim(), '✉', 'a text icon is shown as text');
            } finally {
                await page.unroute(/\/workers(\?.*)?$/);
            }
            await page.click('[data-action="rescan"]');
            await page.waitForSelector('[data-worker="product"] .stask-worker__icon[data-icon="fa fa-box"]');
            await assertFitsWidth();
            await shot('workers-icons');

            // With an icon font on the page (the manager's Font Awesome in Evolution) the icon itself is drawn.
            await page.goto(PAGE + '#dashboard');
            await page.reload();
            await page.waitForSelector('.stask-tabs');
            await page.addStyleTag({ content: '.fa { font-style: normal; } .fa-box::before { content: "▣"; } .fa-envelope::before { content: "✉"; } .fa-sync::before { content: "⟳"; }' });
            const drawn = (await workerCard('product')).locator('.stask-worker__icon');
            assert.equal(await drawn.evaluate((el) => el.classList.contains('stask-worker__icon--nofont')), false);
            assert.ok(await drawn.locator('i.fa-box').isVisible());
            assert.equal(await drawn.locator('.stask-worker__initial').isVisible(), false);
            await shot('workers-icons-font');
            await page.reload(); // without the stand-in font again
        });

        test('refreshes the card\'s last task after a run started from it', async () => {
            await page.goto(PAGE + '#workers');
            const before = (await worker('product')).last_task;
            const card = await workerCard('product');
            const line = card.locator('.stask-worker__last');
            if (before) {
                assert.equal(await line.getAttribute('data-task-id'), String(before.id), 'the card shows the last task it was drawn with');
            }
            const { id } = await startFromRunForm('product', 'import', { rows: 10, pace_ms: 20 });
            // The card's line follows the new task, without a reload, until it has finished.
            await page.waitForSelector(`[data-worker="product"] .stask-worker__last[data-task-id="${id}"]`, { timeout: 30000 });
            await page.waitForSelector(`[data-worker="product"] .stask-worker__last[data-task-id="${id}"] .stask-badge--completed`, { timeout: 30000 });
            assert.equal((await worker('product')).last_task.id, id);
            assert.match(await page.locator('[data-worker="product"] .stask-worker__last').textContent(), new RegExp(`#${id}\\b`));
            await shot('worker-last-task');
        });

        test('shows no duration or peak memory for a task that never ran', async () => {
            const created = await api('POST', '/tasks', { identifier: 'product', action: 'import', data: { rows: 1 }, priority: 'low', start_at: '2099-01-01T00:00:00Z' });
            const id = created.task.id;
            try {
                await page.goto(PAGE + `#tasks/${id}`);
                const dialog = page.locator(`.stask-dialog--task[data-task-id="${id}"]`);
                await dialog.locator('.stask-badge--pending').waitFor();
                await page.waitForFunction(() => document.querySelector('.stask-dialog--task [data-field="action"]').textContent === 'import');
                const peak = (await dialog.locator('[data-field="peak_memory"]').textContent()).trim();
                const duration = (await dialog.locator('[data-field="duration"]').textContent()).trim();
                assert.equal(peak, '—', `peak memory of a task that never ran: ${peak}`);
                assert.equal(duration, '—', `duration of a task that never ran: ${duration}`);
                assert.doesNotMatch(await dialog.textContent(), /\b0 B\b/);
                const noLog = await page.evaluate(() => JSON.parse(document.getElementById('stask-config').textContent).strings.no_log);
                assert.equal((await dialog.locator('.stask-log').textContent()).trim(), noLog, 'an empty log says so');
                assert.match((await dialog.locator('[data-field="start_at"]').textContent()).trim(), /^not before 2099-01-0[12] /, 'when it may start, not as if it had');
                await shot('task-never-ran');
                await page.click('.stask-dialog__head button');
            } finally {
                await api('POST', `/tasks/${id}/cancel`);
            }
        });

        if (BEARER) {
            test('a task link opened without a token shows the token dialog on top', async () => {
                await page.goto(PAGE);
                await page.evaluate((t) => sessionStorage.setItem('stask.api_token', t), TOKEN);
                const task = (await api('POST', '/tasks', { identifier: 'product', action: 'import', data: { rows: 1 }, priority: 'low', start_at: '2099-01-01T00:00:00Z' })).task;
                await page.evaluate(() => sessionStorage.removeItem('stask.api_token'));
                await page.goto(PAGE + `#tasks/${task.id}`);
                await page.waitForSelector('#stask-token');
                // The task dialog fails behind it (401); whatever lands later, the
                // token dialog is what a click at its centre reaches.
                await page.waitForTimeout(500);
                const onTop = await page.evaluate(() => {
                    const r = document.querySelector('.stask-overlay--token .stask-dialog').getBoundingClientRect();
                    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
                    return !!(hit && hit.closest('.stask-overlay--token'));
                });
                assert.ok(onTop, 'the token dialog is the topmost layer');
                await shot('task-link-token');
                await page.fill('#stask-token', TOKEN);
                await page.click('.stask-token-form button[type="submit"]');
                await page.locator(`.stask-dialog--task[data-task-id="${task.id}"]`).waitFor();
                assert.equal(await page.locator('.stask-overlay--token').count(), 0);
                await page.click('.stask-dialog__head button');
            });
        }

        test('follows the dark theme of the Evolution manager (cookie and server)', async () => {
            await setThemeCookie(4); // "everything is dark"
            try {
                await page.goto(PAGE);
                await page.waitForFunction(() => /^\d+$/.test(document.querySelector('.stask-card[data-card="workers"] .stask-card__value').textContent));
                assert.equal(await page.getAttribute('html', 'data-theme'), 'dark');
                assert.ok((await backgroundLuminance(page, 'body')) < 0.05, 'the page background is dark');
                assert.ok((await backgroundLuminance(page, '.stask-card')) < 0.1, 'the cards are dark');
                await page.waitForSelector('.stask-chart');
                await shot('dashboard-dark');
                await openTab('workers');
                await page.locator('[data-worker="product"]').waitFor();
                await shot('workers-dark');
                await openPanel('product', 'schedule');
                await page.locator('[data-schedule-form="product"]').waitFor();
                await shot('worker-schedule-dark');
                await openTab('tasks');
                await page.locator('.stask-table--tasks tbody tr[data-task-id]').first().waitFor();
                assert.ok((await backgroundLuminance(page, '.stask-panel')) < 0.1, 'the task list is dark');
                await shot('tasks-dark');
                const { id } = await startFromRunForm('product', 'import', { rows: 5 });
                await page.goto(PAGE + `#tasks/${id}`);
                await page.locator(`.stask-dialog--task[data-task-id="${id}"] .stask-badge--completed`).waitFor({ timeout: 30000 });
                assert.ok((await backgroundLuminance(page, '.stask-dialog')) < 0.1, 'the task dialog is dark');
                await shot('task-detail-dark');
                await page.click('.stask-dialog__head button');

                // "Header and sidebar are dark" (3) keeps the content light.
                await setThemeCookie(3);
                await page.goto(PAGE);
                await page.waitForSelector('.stask-tabs');
                assert.equal(await page.getAttribute('html', 'data-theme'), 'light');
                assert.ok((await backgroundLuminance(page, 'body')) > 0.8, 'the page background is light');
            } finally {
                await setThemeCookie(null);
            }
        });

        test('follows the manager window around it, live', async () => {
            // A page of the site standing in for the manager: its body carries Evolution's mode class.
            const frameUrl = BASE + '/__stask_manager_frame';
            await page.route(frameUrl, (route) => route.fulfill({
                contentType: 'text/html',
                body: `<!DOCTYPE html><html><head><meta name="viewport" content="width=device-width, initial-scale=1"></head><body class="darkness" style="margin:0;background:#282c34"><iframe id="main" src="${PAGE}" style="border:0;width:100%;height:${vp.height}px"></iframe></body></html>`,
            }));
            try {
                await page.goto(frameUrl);
                const frame = page.frameLocator('#main');
                await frame.locator('.stask-tabs').waitFor();
                const inner = page.frames().find((f) => f !== page.mainFrame());
                assert.equal(await inner.getAttribute('html', 'data-theme'), 'dark');
                assert.equal(await inner.getAttribute('html', 'data-theme-source'), 'manager');
                assert.ok((await backgroundLuminance(inner, 'body')) < 0.05, 'dark inside a dark manager');
                await shot('framed-dark');
                // The manager's switch changes its body class: the module follows without a reload.
                await page.evaluate(() => { document.body.className = 'lightness'; });
                await inner.waitForFunction(() => document.documentElement.getAttribute('data-theme') === 'light');
                assert.ok((await backgroundLuminance(inner, 'body')) > 0.8, 'light again');
                await page.evaluate(() => { document.body.className = 'darkness'; });
                await inner.waitForFunction(() => document.documentElement.getAttribute('data-theme') === 'dark');
            } finally {
                await page.unroute(frameUrl);
            }
        });

        test('follows the browser\'s colour scheme when the host says nothing', async () => {
            await page.emulateMedia({ colorScheme: 'dark' });
            try {
                await page.goto(PAGE);
                await page.waitForSelector('.stask-tabs');
                if ((await page.getAttribute('html', 'data-host-theme')) !== 'auto') {
                    return; // this host chose a theme itself
                }
                assert.equal(await page.getAttribute('html', 'data-theme'), 'dark');
                assert.equal(await page.getAttribute('html', 'data-theme-source'), 'browser');
                assert.ok((await backgroundLuminance(page, 'body')) < 0.05);
                await page.emulateMedia({ colorScheme: 'light' });
                await page.waitForFunction(() => document.documentElement.getAttribute('data-theme') === 'light');
                assert.ok((await backgroundLuminance(page, 'body')) > 0.8);
            } finally {
                await page.emulateMedia({ colorScheme: 'light' });
            }
        });

        test('no script errors were reported by the page', () => {
            assert.deepEqual(errors, []);
        });
    });
}
