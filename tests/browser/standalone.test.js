// The standalone front controller (php/public/index.php) and its launcher
// (php/bin/stask-serve) over real HTTP: what it refuses and what it serves
// besides the API. Run by run.sh for the standalone host (STASK_URL,
// STASK_API_TOKEN); the token-less servers are started here.

'use strict';

const { test, describe } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const fs = require('node:fs');
const net = require('node:net');
const { spawn, spawnSync } = require('node:child_process');

const BASE = process.env.STASK_URL;
const TOKEN = process.env.STASK_API_TOKEN;
const ROOT = path.join(__dirname, '..', '..');
const INDEX = path.join(ROOT, 'php', 'public', 'index.php');

if (!BASE || !TOKEN) {
    throw new Error('STASK_URL and STASK_API_TOKEN must be set: run tests/browser/run.sh');
}

const auth = { Authorization: 'Bearer ' + TOKEN };

function freePort() {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.listen(0, '127.0.0.1', () => {
            const { port } = srv.address();
            srv.close(() => resolve(port));
        });
        srv.on('error', reject);
    });
}

/** Starts `php -S` on the front controller with env changes; resolves {url, stop, stderr()}. */
async function serve(envChanges) {
    const port = await freePort();
    const env = { ...process.env, ...envChanges };
    for (const [k, v] of Object.entries(envChanges)) {
        if (v === undefined) {
            delete env[k];
        }
    }
    const child = spawn('php', ['-S', `127.0.0.1:${port}`, INDEX], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 100; i++) {
        try {
            await fetch(url + '/assets/stask-admin.css');
            break;
        } catch {
            await new Promise((r) => setTimeout(r, 100));
        }
    }
    return {
        url,
        stderr: () => stderr,
        stop: () => new Promise((resolve) => {
            child.on('exit', resolve);
            child.kill('SIGTERM');
        }),
    };
}

describe('standalone front controller', () => {
    test('refuses every request with 503 JSON and says why on stderr when no token is configured', async () => {
        const server = await serve({ STASK_API_TOKEN: undefined });
        try {
            for (const p of ['/', '/stask/stats', '/stask/tasks/1/download']) {
                const res = await fetch(server.url + p, { headers: auth });
                assert.equal(res.status, 503, p);
                const body = await res.json();
                assert.equal(body.success, false);
                assert.match(body.message, /STASK_API_TOKEN/);
            }
            await new Promise((r) => setTimeout(r, 200));
            assert.match(server.stderr(), /refusing to serve: no API token is configured/);
        } finally {
            await server.stop();
        }
    });

    test('refuses a token that is too short with a 503 that says what to fix', async () => {
        const server = await serve({ STASK_API_TOKEN: 'short' });
        try {
            const res = await fetch(server.url + '/stask/stats', { headers: { Authorization: 'Bearer short' } });
            assert.equal(res.status, 503);
            assert.match((await res.json()).message, /at least 16 characters/);
        } finally {
            await server.stop();
        }
    });

    test('the launcher will not start without a usable token', () => {
        const launcher = path.join(ROOT, 'php', 'bin', 'stask-serve');
        const env = { ...process.env };
        delete env.STASK_API_TOKEN;
        const missing = spawnSync('php', [launcher], { env, encoding: 'utf8' });
        assert.equal(missing.status, 2);
        assert.match(missing.stderr, /no API token/);
        const short = spawnSync('php', [launcher], { env: { ...env, STASK_API_TOKEN: 'short' }, encoding: 'utf8' });
        assert.equal(short.status, 2);
        assert.match(short.stderr, /at least 16 characters/);
    });

    test('the API wants the bearer token', async () => {
        assert.equal((await fetch(BASE + '/stask/stats')).status, 401);
        assert.equal((await fetch(BASE + '/stask/stats', { headers: { Authorization: 'Bearer ' + 'x'.repeat(32) } })).status, 401);
        const ok = await fetch(BASE + '/stask/stats', { headers: auth });
        assert.equal(ok.status, 200);
        assert.match(ok.headers.get('content-type'), /^application\/json/);
    });

    test('serves the page with a strict content security policy, at / and /stask', async () => {
        for (const p of ['/', '/stask']) {
            const res = await fetch(BASE + p);
            assert.equal(res.status, 200, p);
            assert.match(res.headers.get('content-type'), /^text\/html/);
            assert.match(res.headers.get('content-security-policy'), /script-src 'self';/);
            const html = await res.text();
            assert.match(html, /<div id="stask-app" class="stask-app" data-auth="bearer">/);
            assert.doesNotMatch(html, new RegExp(TOKEN), 'the page never carries the token');
        }
    });

    test('serves assets from php/assets only', async () => {
        const js = await fetch(BASE + '/assets/stask-admin.js');
        assert.equal(js.status, 200);
        assert.match(js.headers.get('content-type'), /^text\/javascript/);
        assert.equal(await js.text(), fs.readFileSync(path.join(ROOT, 'php', 'assets', 'stask-admin.js'), 'utf8'));
        for (const p of ['/assets/..%2Fautoload.php', '/assets/%2e%2e/autoload.php', '/assets/.hidden.js', '/assets/stask.svg%00.js', '/assets/missing.js', '/assets/']) {
            const res = await fetch(BASE + p);
            assert.equal(res.status, 404, p);
            assert.doesNotMatch(await res.text(), /<\?php/);
        }
    });

    test('answers unknown paths with 404 JSON and oversized bodies with 413 before reading them', async () => {
        const missing = await fetch(BASE + '/nowhere', { headers: auth });
        assert.equal(missing.status, 404);
        assert.equal((await missing.json()).success, false);

        const big = await fetch(BASE + '/stask/tasks', {
            method: 'POST',
            headers: { ...auth, 'Content-Type': 'application/json' },
            body: ' '.repeat(9 * 1024 * 1024),
        });
        assert.equal(big.status, 413);
        assert.equal((await big.json()).code, 413);
    });

    test('answers HEAD without a body', async () => {
        const res = await fetch(BASE + '/stask/health', { method: 'HEAD', headers: auth });
        assert.equal(res.status, 200);
        assert.equal(await res.text(), '');
    });
});
