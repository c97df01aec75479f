/*
 * sTask admin module: Dashboard, Tasks (list + detail) and Workers.
 *
 * Plain script, no build step and no dependencies. The page (php/views/module.php)
 * puts its configuration in <script type="application/json" id="stask-config">:
 *   { api, auth: "csrf"|"bearer", csrf, locale, strings }
 *
 * Text that comes from tasks or workers (messages, log lines, meta, errors,
 * titles) is only ever inserted as text nodes. The one exception is the
 * worker's widget HTML, which the worker's own PHP code renders.
 *
 * Live data comes from polling. Every poller waits for its previous request
 * to finish before it schedules the next one, slows down when nothing runs,
 * backs off exponentially on errors and pauses while the browser tab is
 * hidden, so an open page never turns into a request storm.
 */
(function () {
    'use strict';

    var cfgNode = document.getElementById('stask-config');
    if (!cfgNode) {
        return;
    }
    var CFG = JSON.parse(cfgNode.textContent || '{}');
    var API = String(CFG.api || '/stask').replace(/\/+$/, '');
    var STR = CFG.strings || {};
    var TOKEN_KEY = 'stask.api_token';
    var TERMINAL = ['completed', 'failed', 'cancelled'];
    var STATUS_BY_CODE = {10: 'pending', 15: 'preparing', 20: 'running', 30: 'completed', 40: 'failed', 50: 'cancelled'};
    var STATUSES = ['pending', 'preparing', 'running', 'completed', 'failed', 'cancelled'];
    var PRIORITIES = ['high', 'normal', 'low'];
    var DAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

    // ------------------------------------------------------------------ theme

    /*
     * Light or dark, following the host. Evolution CMS 3.x has four colour
     * modes (1 lightness, 2 light, 3 dark, 4 darkness); only "darkness" makes
     * the content area dark ("dark" darkens the header and tree only). The
     * manager puts the mode's name as a class on its body (and on the body of
     * the page in its main frame when the user switches), keeps the number in
     * the MODX_themeMode cookie and localStorage, and the server read it for
     * CFG.theme. In order: the manager window around this page, this page's
     * body, the cookie, localStorage, the server, then the browser's
     * prefers-color-scheme (a page of its own, or a host that says nothing).
     */
    var Theme = (function () {
        var LIGHT_CLASSES = ['lightness', 'light', 'dark'];
        var MODE_KEY = 'MODX_themeMode';
        var media = window.matchMedia ? window.matchMedia('(prefers-color-scheme: dark)') : null;
        var watched = [];
        var observer = null;

        function fromClasses(el) {
            if (!el || !el.classList) {
                return null;
            }
            if (el.classList.contains('darkness')) {
                return 'dark';
            }
            return LIGHT_CLASSES.some(function (c) { return el.classList.contains(c); }) ? 'light' : null;
        }

        function fromMode(v) {
            var n = parseInt(v, 10);
            return n === 4 ? 'dark' : (n >= 1 && n <= 3 ? 'light' : null);
        }

        function cookie(name) {
            var found = null;
            String(document.cookie || '').split(';').forEach(function (part) {
                var i = part.indexOf('=');
                if (i > 0 && part.slice(0, i).trim() === name) {
                    found = part.slice(i + 1).trim();
                }
            });
            return found;
        }

        function stored() {
            try {
                return window.localStorage ? window.localStorage.getItem(MODE_KEY) : null;
            } catch (e) {
                return null;
            }
        }

        /** Bodies of the windows around this one that the browser lets us read (same origin). */
        function hostBodies() {
            var out = [];
            var w = window;
            for (var i = 0; i < 5; i++) {
                try {
                    if (!w.parent || w.parent === w) {
                        break;
                    }
                    w = w.parent;
                    if (w.document && w.document.body) {
                        out.push(w.document.body);
                    }
                } catch (e) {
                    break; // another origin
                }
            }
            return out;
        }

        function decide() {
            var bodies = hostBodies();
            for (var i = 0; i < bodies.length; i++) {
                var c = fromClasses(bodies[i]);
                if (c) {
                    return [c, 'manager'];
                }
            }
            var own = fromClasses(document.body);
            if (own) {
                return [own, 'page'];
            }
            var m = fromMode(cookie(MODE_KEY));
            if (m) {
                return [m, 'cookie'];
            }
            m = fromMode(stored());
            if (m) {
                return [m, 'storage'];
            }
            if (CFG.theme === 'dark' || CFG.theme === 'light') {
                return [CFG.theme, 'server'];
            }
            return [media && media.matches ? 'dark' : 'light', 'browser'];
        }

        function apply() {
            var d = decide();
            var html = document.documentElement;
            if (html.getAttribute('data-theme') !== d[0]) {
                html.setAttribute('data-theme', d[0]);
            }
            html.setAttribute('data-theme-source', d[1]);
            return d[0];
        }

        function watch() {
            if (window.MutationObserver) {
                observer = new MutationObserver(apply);
                hostBodies().concat(document.body ? [document.body] : []).forEach(function (b) {
                    try {
                        observer.observe(b, {attributes: true, attributeFilter: ['class']});
                        watched.push(b);
                    } catch (e) {
                        // not observable
                    }
                });
            }
            // The manager's switch writes localStorage: other same-origin pages hear it.
            window.addEventListener('storage', function (ev) {
                if (!ev.key || ev.key === MODE_KEY) {
                    apply();
                }
            });
            if (media) {
                if (media.addEventListener) {
                    media.addEventListener('change', apply);
                } else if (media.addListener) {
                    media.addListener(apply);
                }
            }
            // A cookie changes without an event: look again when the tab is shown.
            document.addEventListener('visibilitychange', function () {
                if (!document.hidden) {
                    apply();
                }
            });
        }

        return {apply: apply, watch: watch};
    })();
    Theme.apply();
    Theme.watch();

    // ------------------------------------------------------------------ helpers

    function t(key, params) {
        var s = Object.prototype.hasOwnProperty.call(STR, key) ? String(STR[key]) : key;
        if (params) {
            // Longest names first, so :page does not eat the start of :pages.
            Object.keys(params).sort(function (a, b) { return b.length - a.length; }).forEach(function (k) {
                s = s.split(':' + k).join(String(params[k]));
            });
        }
        return s;
    }

    /** h('div', {class: 'x', onclick: fn}, 'text', node, [more]) - strings become text nodes. */
    function h(tag, attrs) {
        var el = document.createElement(tag);
        if (attrs) {
            Object.keys(attrs).forEach(function (k) {
                var v = attrs[k];
                if (v === null || v === undefined || v === false) {
                    return;
                }
                if (k.slice(0, 2) === 'on' && typeof v === 'function') {
                    el.addEventListener(k.slice(2), v);
                } else if (k === 'class') {
                    el.className = v;
                } else if (k === 'dataset') {
                    Object.keys(v).forEach(function (d) { el.dataset[d] = v[d]; });
                } else if (k === 'value' || k === 'checked' || k === 'selected' || k === 'disabled') {
                    el[k] = v;
                } else {
                    el.setAttribute(k, v === true ? '' : String(v));
                }
            });
        }
        for (var i = 2; i < arguments.length; i++) {
            append(el, arguments[i]);
        }
        return el;
    }

    function append(el, child) {
        if (child === null || child === undefined || child === false) {
            return;
        }
        if (Array.isArray(child)) {
            child.forEach(function (c) { append(el, c); });
        } else if (child instanceof Node) {
            el.appendChild(child);
        } else {
            el.appendChild(document.createTextNode(String(child)));
        }
    }

    function clear(el) {
        while (el.firstChild) {
            el.removeChild(el.firstChild);
        }
        return el;
    }

    function $(sel, root) {
        return (root || document).querySelector(sel);
    }

    function statusOf(task) {
        if (!task) {
            return 'unknown';
        }
        if (typeof task.status_text === 'string' && task.status_text) {
            return task.status_text;
        }
        if (typeof task.status === 'string' && isNaN(Number(task.status))) {
            return task.status;
        }
        return STATUS_BY_CODE[Number(task.status)] || 'unknown';
    }

    function isTerminal(status) {
        return TERMINAL.indexOf(status) !== -1;
    }

    function pct(v) {
        var n = Math.round(Number(v) || 0);
        return Math.max(0, Math.min(100, n));
    }

    function fmtDate(v) {
        if (!v) {
            return '—';
        }
        var d = new Date(typeof v === 'number' ? v * 1000 : String(v).replace(' ', 'T') + (/[zZ]|[+-]\d\d:?\d\d$/.test(v) ? '' : 'Z'));
        if (isNaN(d.getTime())) {
            return String(v);
        }
        var p = function (n) { return (n < 10 ? '0' : '') + n; };
        return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + ' ' + p(d.getHours()) + ':' + p(d.getMinutes()) + ':' + p(d.getSeconds());
    }

    /**
     * A schedule's next run as the server gives it (ISO 8601 with the
     * offset of the application's time zone), shown on that clock, the one
     * the schedule's times are written in: "2026-03-08 03:00 (UTC-04:00)".
     */
    function fmtNextRun(v) {
        var m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.exec(String(v || ''));
        if (!m) {
            return v ? String(v) : '—';
        }
        return m[1] + ' ' + m[2] + ' (UTC' + (m[3] === 'Z' || m[3] === '+00:00' ? '' : m[3]) + ')';
    }

    function fmtDuration(sec) {
        if (sec === null || sec === undefined || sec === '') {
            return '—';
        }
        var s = Number(sec);
        if (isNaN(s)) {
            return String(sec);
        }
        if (s < 1) {
            return Math.round(s * 1000) + ' ms';
        }
        if (s < 60) {
            return (Math.round(s * 10) / 10) + ' s';
        }
        var m = Math.floor(s / 60);
        if (m < 60) {
            return m + 'm ' + Math.round(s % 60) + 's';
        }
        return Math.floor(m / 60) + 'h ' + (m % 60) + 'm';
    }

    function fmtBytes(b) {
        if (b === null || b === undefined || b === '') {
            return '—';
        }
        var n = Number(b);
        var units = ['B', 'KB', 'MB', 'GB'];
        var i = 0;
        while (n >= 1024 && i < units.length - 1) {
            n /= 1024;
            i++;
        }
        return (Math.round(n * 10) / 10) + ' ' + units[i];
    }

    /**
     * The engine writes its texts in English (other programs read them) and
     * names each with a code: task messages by `message_code` (the values
     * they were built from in `message_params`), alerts by `type`. These put
     * them in the page's language; text without a known code (a worker's
     * own message) is shown as written. One pass, so a value that happens to
     * contain ":name" is never filled in again.
     */
    function fill(template, params) {
        return String(template).replace(/:([a-z_]+)/g, function (all, name) {
            return Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : all;
        });
    }

    function has(key) {
        return Object.prototype.hasOwnProperty.call(STR, key);
    }

    /** A task's (or a progress report's) message in the page's language. */
    function taskMessage(x) {
        if (!x) {
            return '';
        }
        if (x.message_code && has('msg_' + x.message_code)) {
            var params = {};
            Object.keys(x.message_params || {}).forEach(function (k) {
                params[k] = k === 'at' ? fmtDate(x.message_params[k]) : x.message_params[k];
            });
            return fill(STR['msg_' + x.message_code], params);
        }
        return x.message ? String(x.message) : '';
    }

    var ALERT_VALUES = {
        low_success_rate: function (v) { return (Math.round(Number(v) * 100) / 100) + '%'; },
        high_execution_time: fmtDuration,
        high_memory_usage: fmtBytes,
        no_worker_process: function (v) { return String(v); }
    };

    /** An alert of /performance/alerts in the page's language. */
    function alertText(a) {
        var fmt = ALERT_VALUES[a.type];
        if (!fmt || !has('alert_' + a.type)) {
            return a.message || a.type || '';
        }
        return fill(STR['alert_' + a.type], {value: fmt(a.value), threshold: fmt(a.threshold)});
    }

    function prettyJson(v) {
        if (v === null || v === undefined || v === '' || (typeof v === 'object' && Object.keys(v).length === 0)) {
            return t('no_data');
        }
        if (typeof v === 'string') {
            try {
                return JSON.stringify(JSON.parse(v), null, 2);
            } catch (e) {
                return v;
            }
        }
        return JSON.stringify(v, null, 2);
    }

    function statusBadge(status) {
        return h('span', {class: 'stask-badge stask-badge--' + status, 'data-status': status}, t('status_' + status));
    }

    function priorityBadge(p) {
        p = p || 'normal';
        return h('span', {class: 'stask-badge stask-prio--' + p}, t('priority_' + p));
    }

    function progressBar(value, status, label) {
        var v = pct(value);
        var bar = h('div', {class: 'stask-progress stask-progress--' + (status || 'pending'), role: 'progressbar',
            'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(v), 'data-progress': String(v)},
            h('div', {class: 'stask-progress__fill'}),
            h('span', {class: 'stask-progress__label'}, label !== undefined ? label : v + '%'));
        bar.firstChild.style.width = v + '%'; // CSSOM, not a style attribute: allowed by a strict CSP
        return bar;
    }

    /** instant: no transition (a bar's first real value, not a change to watch). */
    function updateProgressBar(bar, value, status, instant) {
        var v = pct(value);
        var fill = bar.firstChild;
        bar.className = 'stask-progress stask-progress--' + (status || 'pending');
        bar.setAttribute('aria-valuenow', String(v));
        bar.setAttribute('data-progress', String(v));
        if (instant) {
            fill.style.transition = 'none';
            fill.style.width = v + '%';
            void fill.offsetWidth; // apply the width before the transition comes back
            fill.style.transition = '';
        } else {
            fill.style.width = v + '%';
        }
        bar.lastChild.textContent = v + '%';
    }

    // --------------------------------------------------------------- toasts
    // Successes are told in the page's language; errors carry the server's own message (it names the problem).

    var toastBox;

    function toast(message, kind) {
        if (!toastBox) {
            toastBox = h('div', {class: 'stask-toasts', 'aria-live': 'polite'});
            document.body.appendChild(toastBox);
        }
        var el = h('div', {class: 'stask-toast stask-toast--' + (kind || 'info'), role: kind === 'error' ? 'alert' : 'status'}, message);
        toastBox.appendChild(el);
        setTimeout(function () {
            el.classList.add('stask-toast--gone');
            setTimeout(function () { el.remove(); }, 400);
        }, kind === 'error' ? 6000 : 3500);
    }

    /**
     * Asks before a bulk action: resolves true for the action's button,
     * false for "Go back", Escape or a click beside the dialog.
     */
    function confirmAction(text, actionLabel, danger) {
        return new Promise(function (resolve) {
            var overlay;
            var done = function (yes) {
                document.removeEventListener('keydown', onKey, true);
                overlay.remove();
                resolve(yes);
            };
            var onKey = function (ev) {
                if (ev.key === 'Escape') {
                    ev.stopPropagation();
                    done(false);
                }
            };
            var ok = h('button', {type: 'button', class: 'stask-btn ' + (danger ? 'stask-btn--danger' : 'stask-btn--primary'), 'data-confirm': 'ok', onclick: function () {
                done(true);
            }}, actionLabel);
            overlay = h('div', {class: 'stask-overlay stask-overlay--confirm', onclick: function (ev) {
                if (ev.target === overlay) {
                    done(false);
                }
            }}, h('div', {class: 'stask-dialog stask-dialog--confirm', role: 'alertdialog', 'aria-modal': 'true', 'aria-describedby': 'stask-confirm-text'},
                h('p', {id: 'stask-confirm-text', class: 'stask-confirm__text'}, text),
                h('div', {class: 'stask-confirm__buttons'},
                    h('button', {type: 'button', class: 'stask-btn', 'data-confirm': 'back', onclick: function () {
                        done(false);
                    }}, t('back')),
                    ok)));
            document.addEventListener('keydown', onKey, true);
            document.body.appendChild(overlay);
            ok.focus();
        });
    }

    // ------------------------------------------------------------------- API

    function ApiError(status, message, data) {
        this.status = status;
        this.message = message;
        this.data = data;
    }
    ApiError.prototype = Object.create(Error.prototype);

    function token() {
        try {
            return sessionStorage.getItem(TOKEN_KEY) || '';
        } catch (e) {
            return '';
        }
    }

    function headers(method, json) {
        var hd = {'Accept': 'application/json', 'X-Requested-With': 'XMLHttpRequest'};
        if (CFG.auth === 'bearer') {
            var tk = token();
            if (tk) {
                hd.Authorization = 'Bearer ' + tk;
            }
        } else if (method !== 'GET' && method !== 'HEAD') {
            hd['X-CSRF-TOKEN'] = CFG.csrf || '';
        }
        if (json) {
            hd['Content-Type'] = 'application/json';
        }
        return hd;
    }

    function qs(query) {
        if (!query) {
            return '';
        }
        var parts = [];
        Object.keys(query).forEach(function (k) {
            var v = query[k];
            if (v === null || v === undefined || v === '') {
                return;
            }
            parts.push(encodeURIComponent(k) + '=' + encodeURIComponent(v));
        });
        return parts.length ? '?' + parts.join('&') : '';
    }

    function api(method, path, options) {
        options = options || {};
        var hasBody = options.body !== undefined;
        var multipart = options.formData !== undefined;
        if (CFG.auth === 'bearer' && !token()) {
            askToken();
            return Promise.reject(new ApiError(401, t('token_required')));
        }
        return fetch(API + path + qs(options.query), {
            method: method,
            headers: headers(method, hasBody),
            body: multipart ? options.formData : (hasBody ? JSON.stringify(options.body) : undefined),
            credentials: 'same-origin',
            cache: 'no-store'
        }).then(function (res) {
            return res.text().then(function (text) {
                var data = null;
                try {
                    data = text ? JSON.parse(text) : null;
                } catch (e) {
                    data = null;
                }
                if (res.status === 401 && CFG.auth === 'bearer') {
                    askToken(true);
                }
                if (!res.ok || (data && data.success === false && !options.allowFailure)) {
                    var msg = (data && (data.message || data.error)) || (res.status === 419 ? t('csrf_expired') : res.status === 403 ? t('forbidden') : t('request_failed', {status: res.status}));
                    if (data && data.errors && typeof data.errors === 'object') {
                        msg += ': ' + Object.keys(data.errors).map(function (k) {
                            var e = data.errors[k];
                            return k + ' ' + (Array.isArray(e) ? e.join(', ') : e);
                        }).join('; ');
                    }
                    throw new ApiError(res.status, String(msg), data);
                }
                return data || {};
            });
        }, function () {
            throw new ApiError(0, t('network_error'));
        });
    }

    /**
     * Downloads a task's result, keeping the server's file name. With a session
     * (csrf mode) the browser fetches the file itself and streams it to disk;
     * a bearer token cannot ride on a plain link, so that mode goes through
     * fetch() and a blob.
     */
    function download(id) {
        var url = API + '/tasks/' + encodeURIComponent(id) + '/download';
        if (CFG.auth !== 'bearer') {
            var link = h('a', {href: url, download: '', hidden: true});
            document.body.appendChild(link);
            link.click();
            setTimeout(function () { link.remove(); }, 1000);
            return Promise.resolve();
        }
        return fetch(url, {
            headers: headers('GET', false),
            credentials: 'same-origin',
            cache: 'no-store'
        }).then(function (res) {
            if (!res.ok) {
                return res.json().catch(function () { return {}; }).then(function (d) {
                    throw new ApiError(res.status, d.message || d.error || t('download_failed'));
                });
            }
            var cd = res.headers.get('Content-Disposition') || '';
            var m = /filename\*=UTF-8''([^;]+)/i.exec(cd) || /filename="?([^";]+)"?/i.exec(cd);
            var name = m ? decodeURIComponent(m[1]) : 'task-' + id;
            return res.blob().then(function (blob) {
                var url = URL.createObjectURL(blob);
                var a = h('a', {href: url, download: name, hidden: true});
                document.body.appendChild(a);
                a.click();
                setTimeout(function () {
                    URL.revokeObjectURL(url);
                    a.remove();
                }, 1000);
            });
        }).catch(function (e) {
            toast(e.message || t('download_failed'), 'error');
        });
    }

    // ---------------------------------------------------------- bearer token

    var tokenDialog = null;

    function askToken(invalid) {
        if (CFG.auth !== 'bearer' || tokenDialog) {
            return;
        }
        try {
            sessionStorage.removeItem(TOKEN_KEY);
        } catch (e) { /* storage disabled */ }
        var input = h('input', {type: 'password', id: 'stask-token', autocomplete: 'off', required: true, class: 'stask-input'});
        var form = h('form', {class: 'stask-token-form', onsubmit: function (ev) {
            ev.preventDefault();
            var v = input.value.trim();
            if (!v) {
                return;
            }
            try {
                sessionStorage.setItem(TOKEN_KEY, v);
            } catch (e) { /* storage disabled */ }
            // Start over with the token: every view loads again, no poller waits out a back-off.
            location.reload();
        }},
        h('h2', null, t('token_title')),
        h('p', null, t('token_help')),
        invalid ? h('p', {class: 'stask-error'}, t('token_invalid')) : null,
        h('label', {for: 'stask-token'}, t('token_label')),
        input,
        h('button', {type: 'submit', class: 'stask-btn stask-btn--primary'}, t('token_submit')));
        tokenDialog = h('div', {class: 'stask-overlay stask-overlay--token', role: 'dialog', 'aria-modal': 'true'}, h('div', {class: 'stask-dialog'}, form));
        document.body.appendChild(tokenDialog);
        input.focus();
    }

    // --------------------------------------------------------------- polling

    /**
     * A poller runs fn(); fn resolves to the delay before the next run (ms) or
     * null to stop. Errors back off exponentially (1 s, 2 s, ... up to 30 s).
     * Nothing runs while the document is hidden; becoming visible runs at once.
     */
    function Poller(fn) {
        this.fn = fn;
        this.timer = null;
        this.running = false;
        this.active = false;
        this.errors = 0;
        this.pendingKick = false;
    }

    Poller.prototype.start = function (delay) {
        this.active = true;
        this.schedule(delay || 0);
        return this;
    };

    Poller.prototype.stop = function () {
        this.active = false;
        clearTimeout(this.timer);
        this.timer = null;
    };

    Poller.prototype.kick = function () {
        if (!this.active) {
            return;
        }
        if (this.running) {
            this.pendingKick = true;
            return;
        }
        this.schedule(0);
    };

    Poller.prototype.schedule = function (delay) {
        var self = this;
        clearTimeout(this.timer);
        this.timer = setTimeout(function () { self.run(); }, delay);
    };

    Poller.prototype.run = function () {
        var self = this;
        this.timer = null;
        if (!this.active || this.running) {
            return;
        }
        if (document.hidden) {
            return; // resumed by the visibilitychange listener
        }
        this.running = true;
        Promise.resolve().then(function () { return self.fn(); }).then(function (next) {
            self.errors = 0;
            return next;
        }, function (err) {
            self.errors++;
            if (err && err.status === 401 && CFG.auth === 'bearer') {
                return 30000;
            }
            return Math.min(30000, 1000 * Math.pow(2, self.errors - 1));
        }).then(function (next) {
            self.running = false;
            if (!self.active) {
                return;
            }
            if (self.pendingKick) {
                self.pendingKick = false;
                next = 0;
            }
            if (next === null || next === undefined) {
                self.active = false;
                return;
            }
            self.schedule(next);
        });
    };

    var Pollers = {
        all: [],
        make: function (fn) {
            var p = new Poller(fn);
            this.all.push(p);
            return p;
        },
        drop: function (p) {
            if (!p) {
                return;
            }
            p.stop();
            this.all = this.all.filter(function (x) { return x !== p; });
        }
    };

    document.addEventListener('visibilitychange', function () {
        if (!document.hidden) {
            Pollers.all.forEach(function (p) {
                if (p.active && !p.timer && !p.running) {
                    p.schedule(0);
                }
            });
        }
    });

    /** Delay policy of a task's progress: quick first polls, 1 s running, 2.5 s queued. */
    function progressDelay(count, status) {
        if (isTerminal(status)) {
            return null;
        }
        if (count < 5) {
            return 750;
        }
        if (status === 'running' || status === 'preparing') {
            return 1000;
        }
        return 2500;
    }

    // ------------------------------------------------------------------ charts

    var SVG = 'http://www.w3.org/2000/svg';

    function s(tag, attrs) {
        var el = document.createElementNS(SVG, tag);
        Object.keys(attrs || {}).forEach(function (k) { el.setAttribute(k, String(attrs[k])); });
        for (var i = 2; i < arguments.length; i++) {
            if (typeof arguments[i] === 'string') {
                el.appendChild(document.createTextNode(arguments[i]));
            } else if (arguments[i]) {
                el.appendChild(arguments[i]);
            }
        }
        return el;
    }

    function hourLabel(v) {
        var d = new Date(typeof v === 'number' ? v * 1000 : String(v).replace(' ', 'T') + (/[zZ]|[+-]\d\d:?\d\d$/.test(String(v)) ? '' : 'Z'));
        if (isNaN(d.getTime())) {
            return String(v).slice(11, 13) || String(v);
        }
        return (d.getHours() < 10 ? '0' : '') + d.getHours();
    }

    /*
     * The duration axis: `steps` equal steps from 0, each a round length of
     * time (1-2-2.5-5 ms, 1-2-5-10-15-20-30 s or min, 1-2-3-6-12 h, ...), the
     * top the first at or above `max`. Every label is in the unit of the step
     * (ms below 0.1 s, s below a minute, min below an hour, then h) and is
     * rounded to what the step can show, so no label reads 0.30000000000000004.
     */
    var DURATION_STEPS = (function () {
        var out = [];
        for (var e = -4; e <= -1; e++) {
            [1, 2, 2.5, 5].forEach(function (m) { out.push(m * Math.pow(10, e)); });
        }
        return out.concat([1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1200, 1800,
            3600, 7200, 10800, 21600, 43200, 86400, 172800, 432000, 864000]);
    })();

    function durationAxis(max, steps) {
        var want = Math.max(Number(max) || 0, 1e-9) / steps;
        var step = DURATION_STEPS.filter(function (x) { return x >= want - 1e-12; })[0];
        if (step === undefined) {
            step = Math.ceil(want / 864000) * 864000;
        }
        var unit = step < 0.1 ? ['unit_ms', 0.001] : step < 60 ? ['unit_s', 1] : step < 3600 ? ['unit_min', 60] : ['unit_h', 3600];
        var labels = [];
        for (var i = 0; i <= steps; i++) {
            var v = Number((i * step / unit[1]).toFixed(4));
            labels.push(i === 0 ? '0' : String(v) + ' ' + t(unit[0]));
        }
        return {top: step * steps, labels: labels};
    }

    /** Bars of tasks per hour (created, completed, failed) and a line of average duration. */
    function drawTimeline(container, points) {
        // On a phone the chart scrolls sideways in its box: it opens (and
        // stays, unless the reader scrolled back) at its right end, where
        // the current hours are.
        var atEnd = !container.firstChild || container.scrollLeft + container.clientWidth >= container.scrollWidth - 2;
        clear(container);
        var W = 720, H = 220, L = 36, R = 44, T = 12, B = 28;
        var n = Math.max(points.length, 1);
        var maxCount = 1, maxDur = 0;
        points.forEach(function (p) {
            maxCount = Math.max(maxCount, Number(p.created) || 0, Number(p.completed) || 0, Number(p.failed) || 0);
            maxDur = Math.max(maxDur, Number(p.avg_duration) || 0);
        });
        maxCount = maxCount > 4 ? Math.ceil(maxCount / 4) * 4 : 4;
        var cw = (W - L - R) / n;
        var bw = Math.max(1.5, cw / 4);
        var y = function (v) { return T + (H - T - B) * (1 - v / maxCount); };
        var dur = durationAxis(maxDur, 4);
        var yd = function (v) { return T + (H - T - B) * (1 - v / dur.top); };
        var svg = s('svg', {viewBox: '0 0 ' + W + ' ' + H, class: 'stask-chart', role: 'img', 'aria-label': t('chart_title'), preserveAspectRatio: 'none'});
        for (var g = 0; g <= 4; g++) {
            var gy = T + (H - T - B) * g / 4;
            svg.appendChild(s('line', {x1: L, x2: W - R, y1: gy, y2: gy, class: 'stask-chart__grid'}));
            svg.appendChild(s('text', {x: L - 4, y: gy + 4, 'text-anchor': 'end', class: 'stask-chart__axis'}, String(Math.round(maxCount * (4 - g) / 4))));
            if (maxDur > 0) {
                svg.appendChild(s('text', {x: W - R + 4, y: gy + 4, class: 'stask-chart__axis stask-chart__axis--dur'}, dur.labels[4 - g]));
            }
        }
        var line = [];
        points.forEach(function (p, i) {
            var x0 = L + i * cw + (cw - 3 * bw) / 2;
            [['created', 0], ['completed', 1], ['failed', 2]].forEach(function (k) {
                var v = Number(p[k[0]]) || 0;
                if (v > 0) {
                    svg.appendChild(s('rect', {x: x0 + k[1] * bw, y: y(v), width: bw, height: (H - B) - y(v), class: 'stask-chart__bar stask-chart__bar--' + k[0]},
                        s('title', {}, hourLabel(p.hour) + ':00 ' + t('chart_' + k[0]) + ': ' + v)));
                }
            });
            if (p.avg_duration !== null && p.avg_duration !== undefined && Number(p.avg_duration) > 0) {
                line.push((L + i * cw + cw / 2) + ',' + yd(Number(p.avg_duration)));
            }
            if (i % Math.ceil(n / 12) === 0) {
                svg.appendChild(s('text', {x: L + i * cw + cw / 2, y: H - 10, 'text-anchor': 'middle', class: 'stask-chart__axis'}, hourLabel(p.hour)));
            }
        });
        if (line.length > 1) {
            svg.appendChild(s('polyline', {points: line.join(' '), class: 'stask-chart__line'}));
        }
        line.forEach(function (pt) {
            var xy = pt.split(',');
            svg.appendChild(s('circle', {cx: xy[0], cy: xy[1], r: 2.5, class: 'stask-chart__dot'}));
        });
        container.appendChild(svg);
        if (atEnd) {
            container.scrollLeft = container.scrollWidth;
        }
        container.appendChild(h('div', {class: 'stask-legend'},
            ['created', 'completed', 'failed', 'duration'].map(function (k) {
                return h('span', {class: 'stask-legend__item stask-legend__item--' + k}, t('chart_' + k));
            })));
    }

    // ------------------------------------------------------------------ views

    var root = document.getElementById('stask-app');
    var views = {};
    var workersCache = null;

    function loadWorkers(force) {
        if (workersCache && !force) {
            return Promise.resolve(workersCache);
        }
        return api('GET', '/workers').then(function (d) {
            workersCache = d.data || d.workers || [];
            return workersCache;
        });
    }

    function workerTitle(identifier, fallback) {
        if (fallback) {
            return fallback;
        }
        var w = (workersCache || []).filter(function (x) { return x.identifier === identifier; })[0];
        return w && w.title ? w.title : identifier;
    }

    function emptyRow(cols, text) {
        return h('tr', {class: 'stask-empty'}, h('td', {colspan: String(cols)}, text || t('no_tasks')));
    }

    function taskLink(id) {
        return h('a', {href: '#tasks/' + id, class: 'stask-link'}, '#' + id);
    }

    // ---- Dashboard

    views.dashboard = (function () {
        var el, cards, chart, alerts, recent, errors, processes, poller, slowPoller, barMap = {};
        var CARDS = ['pending', 'running', 'completed', 'failed', 'cancelled', 'workers'];

        function build() {
            cards = h('div', {class: 'stask-cards'}, CARDS.map(function (k) {
                return h('div', {class: 'stask-card stask-card--' + k, 'data-card': k},
                    h('span', {class: 'stask-card__label'}, t('card_' + k)),
                    h('b', {class: 'stask-card__value'}, '…'),
                    h('small', {class: 'stask-card__sub'}, ''));
            }));
            chart = h('div', {class: 'stask-chart-box'}, h('p', {class: 'stask-muted'}, t('loading')));
            alerts = h('div', {class: 'stask-alerts'});
            recent = h('tbody');
            errors = h('tbody');
            processes = h('tbody');
            el = h('section', {class: 'stask-view stask-view--dashboard'},
                cards,
                h('div', {class: 'stask-grid'},
                    h('div', {class: 'stask-panel stask-panel--chart'}, h('h3', null, t('chart_title')), chart),
                    h('div', {class: 'stask-panel stask-panel--alerts'}, h('h3', null, t('alerts')), alerts)),
                h('div', {class: 'stask-panel'}, h('h3', null, t('recent_tasks')),
                    h('div', {class: 'stask-table-wrap'}, h('table', {class: 'stask-table stask-table--recent'},
                        h('thead', null, h('tr', null, h('th', null, '#'), h('th', null, t('worker')), h('th', null, t('action')),
                            h('th', null, t('status')), h('th', {class: 'stask-col-progress'}, t('progress')), h('th', null, t('created')))),
                        recent))),
                h('div', {class: 'stask-panel stask-panel--errors'}, h('h3', null, t('recent_errors')),
                    h('div', {class: 'stask-table-wrap'}, h('table', {class: 'stask-table'},
                        h('thead', null, h('tr', null, h('th', null, '#'), h('th', null, t('worker')), h('th', null, t('message')), h('th', null, t('finished')))),
                        errors))),
                h('div', {class: 'stask-panel stask-panel--processes'}, h('h3', null, t('worker_processes')),
                    h('div', {class: 'stask-table-wrap'}, h('table', {class: 'stask-table'},
                        h('thead', null, h('tr', null, h('th', null, t('process')), h('th', null, t('started')), h('th', null, t('heartbeat')),
                            h('th', null, t('tasks_done')), h('th', null, t('current_task')))),
                        processes))));
            return el;
        }

        function renderStats(st) {
            var values = {
                pending: st.pending, running: (Number(st.running) || 0) + (Number(st.preparing) || 0), completed: st.completed,
                failed: st.failed, cancelled: st.cancelled, workers: st.active_workers !== undefined ? st.active_workers : st.total_workers
            };
            CARDS.forEach(function (k) {
                var card = cards.querySelector('[data-card="' + k + '"]');
                card.querySelector('.stask-card__value').textContent = String(values[k] === undefined ? 0 : values[k]);
                if (k === 'workers' && st.total_workers !== undefined) {
                    card.querySelector('.stask-card__sub').textContent = t('workers_of', {active: st.active_workers || 0, total: st.total_workers});
                }
            });
        }

        function renderRecent(list) {
            var ids = list.map(function (x) { return String(x.id); }).join(',');
            if (recent.dataset.ids === ids) {
                // Same rows: update in place so the bars animate instead of flickering.
                list.forEach(function (task) {
                    var row = barMap[task.id];
                    if (row) {
                        var st = statusOf(task);
                        updateProgressBar(row.bar, task.progress, st);
                        var badge = statusBadge(st);
                        row.status.replaceWith(badge);
                        row.status = badge;
                    }
                });
                return;
            }
            recent.dataset.ids = ids;
            clear(recent);
            barMap = {};
            if (!list.length) {
                recent.appendChild(emptyRow(6));
                return;
            }
            list.forEach(function (task) {
                var st = statusOf(task);
                var bar = progressBar(task.progress, st);
                var badge = statusBadge(st);
                barMap[task.id] = {bar: bar, status: badge};
                recent.appendChild(h('tr', {'data-task-id': String(task.id)},
                    h('td', null, taskLink(task.id)),
                    h('td', null, workerTitle(task.identifier, task.worker_title)),
                    h('td', null, task.action),
                    h('td', null, badge),
                    h('td', {class: 'stask-col-progress'}, bar),
                    h('td', null, fmtDate(task.created_at))));
            });
        }

        function renderErrors(list) {
            clear(errors);
            if (!list.length) {
                errors.appendChild(emptyRow(4, t('no_errors')));
                return;
            }
            list.forEach(function (task) {
                errors.appendChild(h('tr', null,
                    h('td', null, taskLink(task.id)),
                    h('td', null, workerTitle(task.identifier, task.worker_title)),
                    h('td', {class: 'stask-cell-message'}, (task.message_code ? taskMessage(task) : task.last_error || task.message) || t('no_data')),
                    h('td', null, fmtDate(task.finished_at || task.updated_at))));
            });
        }

        function renderAlerts(list) {
            clear(alerts);
            if (!list.length) {
                alerts.appendChild(h('p', {class: 'stask-muted'}, t('no_alerts')));
                return;
            }
            list.forEach(function (a) {
                alerts.appendChild(h('div', {class: 'stask-alert stask-alert--' + (a.severity || 'warning')},
                    h('b', null, t('severity_' + (a.severity || 'warning'))), ' ', h('span', {class: 'stask-alert__text', 'data-alert': a.type || ''}, alertText(a))));
            });
        }

        /** The live worker processes (as Horizon lists its supervisors); gone ones greyed. */
        function renderProcesses(list) {
            clear(processes);
            if (!list.length) {
                processes.appendChild(emptyRow(5, t('no_processes')));
                return;
            }
            list.forEach(function (p) {
                processes.appendChild(h('tr', {'data-process': p.host + ':' + p.pid, class: p.alive ? '' : 'stask-muted'},
                    h('td', null, h('code', null, p.host + ' · ' + p.pid), ' ',
                        h('span', {class: 'stask-badge stask-badge--' + (p.alive ? 'running' : 'failed')}, t(p.alive ? 'process_alive' : 'process_gone'))),
                    h('td', null, fmtDate(p.started_at)),
                    h('td', null, fmtDate(p.heartbeat_at)),
                    h('td', null, String(p.tasks_done)),
                    h('td', null, p.current_task ? taskLink(p.current_task) : '—')));
            });
        }

        function fast() {
            return Promise.all([
                api('GET', '/stats'),
                api('GET', '/tasks', {query: {per_page: 8, sort: 'id', dir: 'desc'}})
            ]).then(function (r) {
                renderStats(r[0].stats || r[0].data || r[0]);
                var list = r[1].data || [];
                renderRecent(list);
                var busy = list.some(function (x) { return !isTerminal(statusOf(x)); });
                return busy ? 1000 : 2500;
            });
        }

        function slow() {
            return Promise.all([
                api('GET', '/stats/timeline', {query: {hours: 24}}).then(function (d) {
                    drawTimeline(chart, d.data || d.timeline || d.hours || []);
                }),
                api('GET', '/performance/alerts').then(function (d) { renderAlerts(d.alerts || d.data || []); }),
                api('GET', '/processes').then(function (d) { renderProcesses(d.processes || []); }),
                api('GET', '/tasks', {query: {status: 'failed', per_page: 5, sort: 'id', dir: 'desc'}}).then(function (d) { renderErrors(d.data || []); })
            ]).then(function () { return 15000; });
        }

        return {
            title: 'tab_dashboard',
            mount: function () {
                if (!el) {
                    build();
                }
                loadWorkers().catch(function () {});
                poller = Pollers.make(fast).start();
                slowPoller = Pollers.make(slow).start();
                return el;
            },
            unmount: function () {
                Pollers.drop(poller);
                Pollers.drop(slowPoller);
            },
            refresh: function () {
                if (poller) {
                    poller.kick();
                    slowPoller.kick();
                }
            }
        };
    })();

    // ---- Tasks (list)

    views.tasks = (function () {
        var el, body, pager, form, poller;
        var state = {status: '', identifier: '', action: '', priority: '', from: '', to: '', sort: 'id', dir: 'desc', page: 1, per_page: 20};
        var FILTERS = ['status', 'identifier', 'action', 'priority', 'from', 'to'];
        // The bulk routes take at most this many tasks per request.
        var BULK_MAX = 1000;
        // Ticked rows (id -> true): kept across pages and refreshes, dropped when the filters change.
        var selected = {}, pageIds = [], selectAll, bulkBar, bulkCount, retryBtn;
        // [sort key or null, label]: the API sorts by these columns (not by priority).
        var COLS = [['id', '#'], ['identifier', 'worker'], ['action', 'action'], ['status', 'status'], [null, 'priority'],
            ['progress', 'progress'], ['attempts', 'attempts'], ['created_at', 'created']];

        function field(name, label, input) {
            input.name = name;
            input.id = 'stask-f-' + name;
            input.className = 'stask-input';
            return h('label', {class: 'stask-field', for: input.id}, h('span', null, t(label)), input);
        }

        function build() {
            var workerSelect = h('select', null, h('option', {value: ''}, t('all')));
            loadWorkers().then(function (ws) {
                ws.forEach(function (w) {
                    workerSelect.appendChild(h('option', {value: w.identifier}, w.title || w.identifier));
                });
                workerSelect.value = state.identifier;
            }).catch(function () {});
            form = h('form', {class: 'stask-filters', onsubmit: function (ev) {
                ev.preventDefault();
                readForm();
                state.page = 1;
                selected = {};
                poller.kick();
            }},
            field('status', 'status', h('select', null, h('option', {value: ''}, t('all')), STATUSES.map(function (st) {
                return h('option', {value: st}, t('status_' + st));
            }))),
            field('identifier', 'worker', workerSelect),
            field('action', 'action', h('input', {type: 'text', placeholder: t('action')})),
            field('priority', 'priority', h('select', null, h('option', {value: ''}, t('all')), PRIORITIES.map(function (p) {
                return h('option', {value: p}, t('priority_' + p));
            }))),
            field('from', 'date_from', h('input', {type: 'date'})),
            field('to', 'date_to', h('input', {type: 'date'})),
            h('div', {class: 'stask-filters__buttons'},
                h('button', {type: 'submit', class: 'stask-btn stask-btn--primary'}, t('apply')),
                h('button', {type: 'button', class: 'stask-btn', onclick: function () {
                    form.reset();
                    readForm();
                    state.page = 1;
                    selected = {};
                    poller.kick();
                }}, t('reset'))));
            selectAll = h('input', {type: 'checkbox', class: 'stask-select', 'data-select': 'page', 'aria-label': t('select_page'), onchange: function () {
                pageIds.forEach(function (id) {
                    if (selectAll.checked) {
                        selected[id] = true;
                    } else {
                        delete selected[id];
                    }
                });
                body.querySelectorAll('input[data-select]').forEach(function (box) { box.checked = selectAll.checked; });
                syncSelection();
            }});
            var head = h('tr', null, h('th', {class: 'stask-col-select'}, selectAll), COLS.map(function (c) {
                if (!c[0]) {
                    return h('th', null, t(c[1]));
                }
                var th = h('th', {'data-sort': c[0], class: 'stask-sortable', tabindex: '0', role: 'button', 'aria-sort': 'none'}, c[1] === '#' ? '#' : t(c[1]));
                var go = function () {
                    if (state.sort === c[0]) {
                        state.dir = state.dir === 'asc' ? 'desc' : 'asc';
                    } else {
                        state.sort = c[0];
                        state.dir = c[0] === 'id' || c[0] === 'created_at' ? 'desc' : 'asc';
                    }
                    state.page = 1;
                    markSort();
                    poller.kick();
                };
                th.addEventListener('click', go);
                th.addEventListener('keydown', function (ev) {
                    if (ev.key === 'Enter' || ev.key === ' ') {
                        ev.preventDefault();
                        go();
                    }
                });
                return th;
            }), h('th', {class: 'stask-cell-message'}, t('message')));
            body = h('tbody');
            pager = h('div', {class: 'stask-pager'});
            bulkCount = h('span', {class: 'stask-bulk__count', 'aria-live': 'polite'});
            bulkBar = h('div', {class: 'stask-bulk', hidden: true},
                bulkCount,
                h('button', {type: 'button', class: 'stask-btn stask-btn--danger stask-btn--small', 'data-action': 'cancel-selected', onclick: function (ev) {
                    cancelSelected(ev.currentTarget);
                }}, t('cancel_selected')),
                h('button', {type: 'button', class: 'stask-btn stask-btn--small', 'data-action': 'clear-selection', onclick: function () {
                    selected = {};
                    body.querySelectorAll('input[data-select]').forEach(function (box) { box.checked = false; });
                    syncSelection();
                }}, t('clear_selection')));
            retryBtn = h('button', {type: 'button', class: 'stask-btn stask-btn--small', 'data-action': 'retry-all', onclick: function (ev) {
                retryAll(ev.currentTarget);
            }});
            el = h('section', {class: 'stask-view stask-view--tasks'},
                h('div', {class: 'stask-panel'}, form),
                h('div', {class: 'stask-panel'},
                    h('div', {class: 'stask-tasks-bar'}, bulkBar, retryBtn),
                    h('div', {class: 'stask-table-wrap'}, h('table', {class: 'stask-table stask-table--tasks'}, h('thead', null, head), body)),
                    pager));
            markSort();
            syncRetry();
        }

        function selectedIds() {
            return Object.keys(selected).map(Number);
        }

        /** The bar (count and actions) and the page's select-all box, from `selected`. */
        function syncSelection() {
            var n = selectedIds().length;
            bulkBar.hidden = n === 0;
            bulkCount.textContent = t('selected_count', {count: n});
            var onPage = pageIds.filter(function (id) { return selected[id]; }).length;
            selectAll.checked = pageIds.length > 0 && onPage === pageIds.length;
            selectAll.indeterminate = onPage > 0 && onPage < pageIds.length;
            selectAll.disabled = pageIds.length === 0;
        }

        /** The applied filters, as the list and the bulk retry take them. */
        function filters() {
            var q = {};
            FILTERS.forEach(function (k) {
                if (state[k] !== '') {
                    q[k] = state[k];
                }
            });
            return q;
        }

        /** Which tasks "retry all" takes under the current filters: failed ones, cancelled ones when that is the filter, none for other states. */
        function retryKind() {
            if (state.status === 'cancelled') {
                return 'cancelled';
            }
            return state.status === '' || state.status === 'failed' ? 'failed' : null;
        }

        function syncRetry() {
            var kind = retryKind();
            retryBtn.hidden = !kind;
            retryBtn.textContent = kind === 'cancelled' ? t('retry_cancelled_all') : t('retry_failed_all');
        }

        function cancelSelected(btn) {
            var ids = selectedIds();
            if (!ids.length) {
                return;
            }
            confirmAction(t('confirm_cancel_selected', {count: ids.length}), t('cancel_selected'), true).then(function (yes) {
                if (!yes) {
                    return;
                }
                btn.disabled = true;
                var sum = {cancelled: 0, requested: 0, skipped: 0};
                var chunks = [];
                for (var i = 0; i < ids.length; i += BULK_MAX) {
                    chunks.push(ids.slice(i, i + BULK_MAX));
                }
                return chunks.reduce(function (p, chunk) {
                    return p.then(function () {
                        return api('POST', '/tasks/cancel', {body: {ids: chunk}}).then(function (d) {
                            sum.cancelled += d.cancelled || 0;
                            sum.requested += d.requested || 0;
                            sum.skipped += (d.not_cancelled || []).length;
                        });
                    });
                }, Promise.resolve()).then(function () {
                    selected = {};
                    body.querySelectorAll('input[data-select]').forEach(function (box) { box.checked = false; });
                    toast(t('bulk_cancelled', sum), 'success');
                }, function (e) {
                    toast(e.message, 'error');
                }).then(function () {
                    btn.disabled = false;
                    syncSelection();
                    poller.kick();
                    App.refresh();
                });
            });
        }

        /** Retries every task of the kind retryKind() names that the applied filters match, on every page. */
        function retryAll(btn) {
            var kind = retryKind();
            if (!kind) {
                return;
            }
            var q = filters();
            q.status = kind;
            btn.disabled = true;
            api('GET', '/tasks', {query: Object.assign({per_page: 1}, q)}).then(function (d) {
                var total = (d.pagination || {}).total || 0;
                if (!total) {
                    toast(t('retry_none'), 'info');
                    return null;
                }
                var ask = kind === 'cancelled' ? t('confirm_retry_cancelled', {count: total}) : t('confirm_retry_failed', {count: total});
                return confirmAction(ask, t('retry'), false).then(function (yes) {
                    if (!yes) {
                        return null;
                    }
                    var retried = 0;
                    var rounds = Math.ceil(total / BULK_MAX) + 1;
                    var step = function () {
                        return api('POST', '/tasks/retry', {body: q}).then(function (r) {
                            retried += r.retried || 0;
                            // A request takes at most BULK_MAX: go on only while one was full.
                            if (r.retried >= BULK_MAX && r.remaining > 0 && --rounds > 0) {
                                return step();
                            }
                            return null;
                        });
                    };
                    return step().then(function () {
                        toast(t('bulk_retried', {count: retried}), 'success');
                    });
                });
            }).catch(function (e) {
                toast(e.message, 'error');
            }).then(function () {
                btn.disabled = false;
                poller.kick();
                App.refresh();
            });
        }

        function markSort() {
            el.querySelectorAll('th[data-sort]').forEach(function (th) {
                var on = th.dataset.sort === state.sort;
                th.classList.toggle('stask-sorted', on);
                th.classList.toggle('stask-sorted--asc', on && state.dir === 'asc');
                th.setAttribute('aria-sort', on ? (state.dir === 'asc' ? 'ascending' : 'descending') : 'none');
            });
        }

        function readForm() {
            FILTERS.forEach(function (k) {
                state[k] = form.elements[k].value.trim();
            });
            syncRetry();
        }

        function render(d) {
            var list = d.data || [];
            clear(body);
            if (!list.length) {
                // A filter that matches nothing is not an empty queue.
                var filtered = FILTERS.some(function (k) { return state[k] !== ''; });
                body.appendChild(emptyRow(COLS.length + 2, filtered ? t('no_matches') : t('no_tasks')));
            }
            pageIds = list.map(function (task) { return Number(task.id); });
            list.forEach(function (task) {
                var st = statusOf(task);
                body.appendChild(h('tr', {'data-task-id': String(task.id), class: 'stask-row', onclick: function (ev) {
                    if (ev.target.tagName !== 'A' && !ev.target.closest('.stask-col-select')) {
                        location.hash = '#tasks/' + task.id;
                    }
                }},
                h('td', {class: 'stask-col-select'}, h('input', {type: 'checkbox', class: 'stask-select', 'data-select': String(task.id),
                    'aria-label': t('select_task', {id: task.id}), checked: !!selected[task.id], onchange: function (ev) {
                        if (ev.target.checked) {
                            selected[task.id] = true;
                        } else {
                            delete selected[task.id];
                        }
                        syncSelection();
                    }})),
                h('td', null, taskLink(task.id)),
                h('td', null, workerTitle(task.identifier, task.worker_title), h('div', {class: 'stask-muted stask-small'}, task.identifier)),
                h('td', null, task.action),
                h('td', null, statusBadge(st)),
                h('td', null, priorityBadge(task.priority)),
                h('td', {class: 'stask-col-progress'}, progressBar(task.progress, st)),
                h('td', null, (task.attempts || 0) + ' / ' + (task.max_attempts || 0)),
                h('td', null, fmtDate(task.created_at)),
                h('td', {class: 'stask-cell-message'}, taskMessage(task))));
            });
            syncSelection();
            var p = d.pagination || {page: state.page, pages: 1, total: list.length, per_page: state.per_page};
            clear(pager);
            pager.appendChild(h('button', {type: 'button', class: 'stask-btn', disabled: p.page <= 1, 'data-page': 'prev', onclick: function () {
                state.page = Math.max(1, p.page - 1);
                poller.kick();
            }}, '‹ ' + t('prev')));
            pager.appendChild(h('span', {class: 'stask-pager__info'}, t('page_of', {page: p.page, pages: Math.max(1, p.pages || 1), total: p.total || 0})));
            pager.appendChild(h('button', {type: 'button', class: 'stask-btn', disabled: p.page >= (p.pages || 1), 'data-page': 'next', onclick: function () {
                state.page = p.page + 1;
                poller.kick();
            }}, t('next') + ' ›'));
            var per = h('select', {class: 'stask-input stask-input--small', 'aria-label': t('per_page'), onchange: function () {
                state.per_page = Number(per.value);
                state.page = 1;
                poller.kick();
            }}, [10, 20, 50, 100].map(function (n) { return h('option', {value: String(n), selected: n === state.per_page}, String(n)); }));
            pager.appendChild(h('label', {class: 'stask-pager__per'}, t('per_page'), ' ', per));
            return list.some(function (x) { return !isTerminal(statusOf(x)); });
        }

        function load() {
            var q = {};
            Object.keys(state).forEach(function (k) { q[k] = state[k]; });
            return api('GET', '/tasks', {query: q}).then(function (d) {
                return render(d) ? 1000 : 2500;
            });
        }

        return {
            title: 'tab_tasks',
            mount: function () {
                if (!el) {
                    build();
                }
                poller = Pollers.make(load).start();
                return el;
            },
            unmount: function () {
                Pollers.drop(poller);
            },
            refresh: function () {
                if (poller) {
                    poller.kick();
                }
            }
        };
    })();

    // ---- Task detail (a dialog over the current tab)

    var TaskDetail = (function () {
        var overlay, poller, taskId, count;
        var parts = {};

        function close() {
            Pollers.drop(poller);
            poller = null;
            if (overlay) {
                overlay.remove();
                overlay = null;
            }
            taskId = null;
        }

        function dl(label, value, key) {
            var dd = h('dd', {'data-field': key}, value);
            parts[key] = dd;
            return [h('dt', null, t(label)), dd];
        }

        function open(id) {
            close();
            taskId = id;
            count = 0;
            parts = {};
            var bar = progressBar(0, 'pending');
            parts.bar = bar;
            parts.status = h('span', null, statusBadge('pending'));
            parts.counts = h('span', {class: 'stask-muted'});
            parts.eta = h('span', {class: 'stask-eta'});
            parts.message = h('p', {class: 'stask-task-message'});
            parts.log = h('pre', {class: 'stask-log', 'aria-live': 'off'});
            parts.meta = h('pre', {class: 'stask-json'});
            parts.result = h('pre', {class: 'stask-json'});
            parts.error = h('pre', {class: 'stask-json stask-json--error'});
            parts.errorBox = h('div', {class: 'stask-detail__error', hidden: true}, h('h4', null, t('last_error')), parts.error);
            parts.actions = h('div', {class: 'stask-detail__actions'});
            parts.idle = h('p', {class: 'stask-alert stask-alert--critical', 'data-no-worker-process': '', hidden: true}, t('no_worker_process'));
            parts.history = h('tbody');
            parts.historyBox = h('div', {class: 'stask-detail__history', hidden: true},
                h('h4', null, t('attempt_history')),
                h('div', {class: 'stask-table-wrap'}, h('table', {class: 'stask-table stask-table--compact'},
                    h('thead', null, h('tr', null, h('th', null, '#'), h('th', null, t('outcome')), h('th', null, t('started')),
                        h('th', null, t('duration')), h('th', null, t('peak_memory')), h('th', null, t('process')), h('th', null, t('message')))),
                    parts.history)));
            var dialog = h('div', {class: 'stask-dialog stask-dialog--task', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'stask-task-title', 'data-task-id': String(id)},
                h('header', {class: 'stask-dialog__head'},
                    h('h2', {id: 'stask-task-title'}, t('task'), ' #' + id, ' ', parts.status),
                    h('button', {type: 'button', class: 'stask-btn stask-btn--icon', 'aria-label': t('close'), onclick: function () {
                        App.closeDetail();
                    }}, '×')),
                h('div', {class: 'stask-dialog__body'},
                    h('div', {class: 'stask-detail__progress'}, bar, h('div', {class: 'stask-detail__line'}, parts.counts, ' ', parts.eta)),
                    parts.message,
                    parts.idle,
                    parts.actions,
                    h('dl', {class: 'stask-dl'},
                        dl('worker', '', 'worker'), dl('action', '', 'action'), dl('priority', '', 'priority'),
                        dl('attempts', '', 'attempts'), dl('created', '', 'created_at'), dl('started', '', 'start_at'),
                        dl('finished', '', 'finished_at'), dl('duration', '', 'duration'), dl('peak_memory', '', 'peak_memory'),
                        dl('started_by', '', 'started_by')),
                    parts.errorBox,
                    parts.historyBox,
                    h('h4', null, t('log')), parts.log,
                    h('div', {class: 'stask-detail__cols'},
                        h('div', null, h('h4', null, t('meta')), parts.meta),
                        h('div', null, h('h4', null, t('result')), parts.result))));
            overlay = h('div', {class: 'stask-overlay', onclick: function (ev) {
                if (ev.target === overlay) {
                    App.closeDetail();
                }
            }}, dialog);
            document.body.appendChild(overlay);
            poller = Pollers.make(tick).start();
        }

        /** The log; the lines the engine wrote (log_codes) in the page's language. */
        function renderLog(lines, codes) {
            lines = Array.isArray(lines) ? lines : [];
            codes = Array.isArray(codes) ? codes : [];
            var text = lines.map(function (l, i) {
                var line = typeof l === 'string' ? l : (l && (l.message || JSON.stringify(l))) || '';
                return codes[i] ? taskMessage({message: line, message_code: codes[i].code, message_params: codes[i].params}) : line;
            }).join('\n');
            text = text || t('no_log');
            if (parts.log.textContent !== text) {
                var atEnd = parts.log.scrollTop + parts.log.clientHeight >= parts.log.scrollHeight - 4;
                parts.log.textContent = text;
                if (atEnd) {
                    parts.log.scrollTop = parts.log.scrollHeight;
                }
            }
        }

        function renderProgress(p, st, instant) {
            updateProgressBar(parts.bar, p.progress, st, instant);
            parts.status.replaceChildren(statusBadge(st));
            parts.counts.textContent = (p.total ? t('processed_of', {processed: p.processed || 0, total: p.total}) : '');
            parts.eta.textContent = !isTerminal(st) && p.eta && p.eta !== '—' ? t('eta') + ': ' + p.eta : '';
            parts.message.textContent = taskMessage(p);
            if (p.log_lines) {
                renderLog(p.log_lines, p.log_codes);
            }
        }

        function renderTask(task, first) {
            var st = statusOf(task);
            renderProgress(task, st, first);
            if (!task.log_lines) {
                renderLog([]);
            }
            parts.worker.replaceChildren(workerTitle(task.identifier, task.worker_title), ' ', h('code', null, task.identifier));
            parts.action.textContent = task.action || '';
            parts.priority.replaceChildren(priorityBadge(task.priority));
            parts.attempts.textContent = (task.attempts || 0) + ' / ' + (task.max_attempts || 0);
            parts.created_at.textContent = fmtDate(task.created_at);
            // Not started yet: when it may start (start_at), not as if it had.
            parts.start_at.textContent = task.started_at ? fmtDate(task.started_at)
                : (task.start_at ? t('not_before', {date: fmtDate(task.start_at)}) : '—');
            parts.finished_at.textContent = fmtDate(task.finished_at);
            // A task that never ran has no duration or memory to show (not "0 ms", "0 B").
            var ran = !!task.started_at || Number(task.attempts) > 0 || Number(task.duration) > 0;
            parts.duration.textContent = ran ? fmtDuration(task.duration) : '—';
            parts.peak_memory.textContent = ran && Number(task.peak_memory) > 0 ? fmtBytes(task.peak_memory) : '—';
            parts.started_by.textContent = task.started_by ? String(task.started_by) : t('system');
            parts.meta.textContent = prettyJson(task.meta);
            parts.result.textContent = prettyJson(task.result);
            parts.error.textContent = task.last_error || '';
            parts.errorBox.hidden = !task.last_error;
            renderActions(task, st);
        }

        /** Each attempt: outcome, when, how long, memory, which process, error (trace on demand). */
        function renderHistory(list) {
            clear(parts.history);
            parts.historyBox.hidden = !list.length;
            list.forEach(function (a) {
                var text = [a.error_class, a.message].filter(Boolean).join(': ');
                var cell = h('td', {class: 'stask-cell-message'}, text || '—');
                if (a.trace) {
                    cell.appendChild(h('details', null, h('summary', null, t('trace')), h('pre', {class: 'stask-json stask-json--error'}, a.trace)));
                }
                parts.history.appendChild(h('tr', {'data-attempt': String(a.attempt), 'data-outcome': a.outcome},
                    h('td', null, String(a.attempt)),
                    h('td', null, t('outcome_' + a.outcome)),
                    h('td', null, a.started_at ? fmtDate(a.started_at) : '—'),
                    h('td', null, a.duration === null ? '—' : fmtDuration(a.duration)),
                    h('td', null, a.peak_memory ? fmtBytes(a.peak_memory) : '—'),
                    h('td', null, h('code', null, a.owner || '—')),
                    cell));
            });
        }

        function renderActions(task, st) {
            var canCancel = task.can_cancel !== undefined ? task.can_cancel : !isTerminal(st);
            var canRetry = task.can_retry !== undefined ? task.can_retry : (st === 'failed' || st === 'cancelled');
            var canDownload = !!task.download_url;
            clear(parts.actions);
            if (canDownload) {
                parts.actions.appendChild(h('button', {type: 'button', class: 'stask-btn stask-btn--primary', 'data-action': 'download', onclick: function () {
                    download(task.id);
                }}, t('download')));
            }
            if (canCancel) {
                parts.actions.appendChild(h('button', {type: 'button', class: 'stask-btn stask-btn--danger', 'data-action': 'cancel', onclick: function (ev) {
                    ev.target.disabled = true;
                    api('POST', '/tasks/' + task.id + '/cancel').then(function (d) {
                        toast(t('cancel_requested'), 'success');
                    }, function (e) {
                        toast(e.message, 'error');
                    }).then(function () {
                        count = 0;
                        poller.start();
                        App.refresh();
                    });
                }}, t('cancel')));
            }
            if (canRetry) {
                parts.actions.appendChild(h('button', {type: 'button', class: 'stask-btn', 'data-action': 'retry', onclick: function (ev) {
                    ev.target.disabled = true;
                    api('POST', '/tasks/' + task.id + '/retry').then(function (d) {
                        toast(t('retry_queued'), 'success');
                    }, function (e) {
                        toast(e.message, 'error');
                    }).then(function () {
                        count = 0;
                        poller.start();
                        App.refresh();
                    });
                }}, t('retry')));
            }
        }

        var lastStatus = null;

        /** Full detail on the first poll and whenever the status changes; progress otherwise. */
        function tick() {
            var id = taskId;
            var first = count === 0;
            count++;
            if (first || lastStatus === null) {
                return api('GET', '/tasks/' + id).then(function (d) {
                    if (id !== taskId) {
                        return null;
                    }
                    var task = d.task || d.data || d;
                    lastStatus = statusOf(task);
                    renderTask(task, first);
                    renderHistory(d.history || []);
                    // Pending with nothing alive to run it: say so, and what to do.
                    parts.idle.hidden = !(lastStatus === 'pending' && d.worker_processes === 0);
                    return isTerminal(lastStatus) ? null : progressDelay(count, lastStatus);
                }, function (e) {
                    if (e.status === 404) {
                        parts.message.textContent = t('task_not_found');
                        return null;
                    }
                    throw e;
                });
            }
            return api('GET', '/tasks/' + id + '/progress', {allowFailure: true}).then(function (p) {
                if (id !== taskId) {
                    return null;
                }
                var st = p.status || lastStatus;
                if (st !== lastStatus || isTerminal(st)) {
                    lastStatus = null; // reload the full task (result, buttons)
                    return 0;
                }
                renderProgress(p, st);
                return progressDelay(count, st);
            });
        }

        document.addEventListener('keydown', function (ev) {
            if (ev.key === 'Escape' && overlay) {
                App.closeDetail();
            }
        });

        return {open: function (id) { lastStatus = null; open(id); }, close: close, isOpen: function () { return !!overlay; }, id: function () { return taskId; }};
    })();

    // ---- Workers

    views.workers = (function () {
        var el, list, poller, openPanels = {};

        function build() {
            list = h('div', {class: 'stask-workers'}, h('p', {class: 'stask-muted'}, t('discovering')));
            el = h('section', {class: 'stask-view stask-view--workers'},
                h('div', {class: 'stask-toolbar'},
                    h('button', {type: 'button', class: 'stask-btn', 'data-action': 'rescan', onclick: function (ev) {
                        maintenance(ev.target, '/workers/rescan', 'rescanned');
                    }}, t('rescan')),
                    h('button', {type: 'button', class: 'stask-btn', 'data-action': 'clean-orphans', onclick: function (ev) {
                        maintenance(ev.target, '/workers/clean-orphans', 'orphans_cleaned');
                    }}, t('clean_orphans')),
                    h('button', {type: 'button', class: 'stask-btn', 'data-action': 'cache-clear', onclick: function (ev) {
                        maintenance(ev.target, '/cache/clear', 'cache_cleared');
                    }}, t('clear_cache'))),
                list);
        }

        function maintenance(btn, path, msg) {
            btn.disabled = true;
            api('POST', path).then(function (d) {
                toast(t(msg), 'success');
                return refreshList();
            }, function (e) {
                toast(e.message, 'error');
            }).then(function () { btn.disabled = false; });
        }

        function refreshList() {
            return loadWorkers(true).then(render);
        }

        function render(workers) {
            clear(list);
            if (!workers.length) {
                list.appendChild(h('p', {class: 'stask-muted'}, t('no_workers')));
                return;
            }
            workers.forEach(function (w) {
                list.appendChild(card(w));
            });
            checkIconFont(list);
        }

        function card(w) {
            var id = w.identifier;
            var active = !!w.active && w.active !== '0';
            var body = h('div', {class: 'stask-worker__panel'});
            var toggle = h('button', {type: 'button', class: 'stask-btn ' + (active ? '' : 'stask-btn--primary'), 'data-action': active ? 'deactivate' : 'activate', onclick: function () {
                toggle.disabled = true;
                api('POST', '/workers/' + encodeURIComponent(id) + '/' + (active ? 'deactivate' : 'activate')).then(function (d) {
                    toast(t(active ? 'worker_deactivated' : 'worker_activated'), 'success');
                    return refreshList();
                }, function (e) {
                    toast(e.message, 'error');
                    toggle.disabled = false;
                });
            }}, t(active ? 'deactivate' : 'activate'));
            var tab = function (name, label, fn) {
                return h('button', {type: 'button', class: 'stask-btn', 'data-panel': name, 'aria-expanded': openPanels[id] === name ? 'true' : 'false', onclick: function (ev) {
                    var same = openPanels[id] === name;
                    card.querySelectorAll('[data-panel]').forEach(function (b) { b.setAttribute('aria-expanded', 'false'); });
                    clear(body);
                    if (same) {
                        delete openPanels[id];
                        return;
                    }
                    openPanels[id] = name;
                    ev.currentTarget.setAttribute('aria-expanded', 'true');
                    fn(body, w);
                }}, t(label));
            };
            var meta = [];
            if (w.scope) {
                meta.push(h('span', {class: 'stask-chip'}, w.scope));
            }
            if (w.class_exists === false) {
                meta.push(h('span', {class: 'stask-chip stask-chip--bad'}, t('class_missing')));
            }
            if (w.schedule && w.schedule.enabled && w.schedule.type && w.schedule.type !== 'manual') {
                meta.push(h('span', {class: 'stask-chip stask-chip--info'}, t('schedule_' + w.schedule.type)));
                meta.push(h('span', {class: 'stask-chip', 'data-next-run': w.next_run || '', title: w.next_run ? fmtDate(w.next_run) : ''},
                    w.next_run ? t('next_run') + ' ' + fmtNextRun(w.next_run) : t('next_run_none')));
            }
            var card = h('article', {class: 'stask-worker' + (active ? ' stask-worker--active' : ''), 'data-worker': id},
                h('header', {class: 'stask-worker__head'},
                    h('div', {class: 'stask-worker__title'},
                        workerIcon(w),
                        h('h3', null, w.title || id),
                        h('code', null, id), ' ',
                        h('span', {class: 'stask-badge stask-badge--' + (active ? 'completed' : 'cancelled'), 'data-active': active ? '1' : '0'}, t(active ? 'active' : 'inactive')),
                        meta),
                    h('div', {class: 'stask-worker__buttons'},
                        toggle,
                        tab('run', 'run', runPanel),
                        tab('schedule', 'schedule', schedulePanel),
                        tab('settings', 'settings', settingsPanel))),
                w.description ? h('p', {class: 'stask-worker__desc'}, w.description) : null,
                lastTaskLine(w.last_task),
                lastScheduledLine(w.last_scheduled),
                body);
            if (openPanels[id]) {
                var again = {run: runPanel, schedule: schedulePanel, settings: settingsPanel}[openPanels[id]];
                var btn = card.querySelector('[data-panel="' + openPanels[id] + '"]');
                if (btn) {
                    btn.setAttribute('aria-expanded', 'true');
                }
                again(body, w);
            }
            return card;
        }

        /** The card's "Last task" line; an empty (hidden) one when the worker never had a task. */
        function lastTaskLine(last) {
            var p = h('p', {class: 'stask-worker__last stask-muted stask-small', hidden: !last});
            fillLastTask(p, last);
            return p;
        }

        // The task the schedule's latest slot created (the scheduler's memory).
        function lastScheduledLine(s) {
            if (!s || !s.task_id) {
                return null;
            }
            return h('p', {class: 'stask-worker__scheduled stask-muted stask-small', 'data-scheduled-task': String(s.task_id)},
                t('last_scheduled'), ': ', taskLink(s.task_id), ' ', t('scheduled_for'), ' ',
                h('span', {title: s.scheduled_for || ''}, fmtDate(s.scheduled_for || '')));
        }

        function fillLastTask(p, last) {
            if (!last) {
                return;
            }
            var id = last.id || last;
            var st = statusOf(last);
            p.dataset.taskId = String(id);
            p.hidden = false;
            p.replaceChildren(t('last_run'), ': ', taskLink(id), ' ', last.action || '', ' ',
                st !== 'unknown' ? statusBadge(st) : null, ' ', fmtDate(last.finished_at || last.created_at || ''));
        }

        function cardOf(identifier) {
            var cards = list && list.isConnected ? list.querySelectorAll('[data-worker]') : [];
            for (var i = 0; i < cards.length; i++) {
                if (cards[i].getAttribute('data-worker') === identifier) {
                    return cards[i];
                }
            }
            return null;
        }

        /**
         * After a run started from a card: reloads that worker until its last
         * task is the one started (or a later one) and has finished, updating
         * the card's "Last task" line each time; gives up after a while.
         */
        function followLastTask(identifier, taskId) {
            var n = 0;
            var done = function () {
                setTimeout(function () { Pollers.drop(p); }, 0);
                return null;
            };
            var p = Pollers.make(function () {
                if (!cardOf(identifier) || n++ > 120) {
                    return done();
                }
                return api('GET', '/workers/' + encodeURIComponent(identifier)).then(function (d) {
                    var last = (d.worker || d.data || {}).last_task;
                    var line = cardOf(identifier) && cardOf(identifier).querySelector('.stask-worker__last');
                    if (line && last && Number(last.id) >= Number(taskId)) {
                        fillLastTask(line, last);
                        if (isTerminal(statusOf(last))) {
                            return done();
                        }
                    }
                    return n < 10 ? 500 : 1500;
                });
            }).start();
        }

        /** The worker's icon(): its icon class names (never its markup), else its text, else an initial. */
        function workerIcon(w) {
            var raw = String(w.icon || '').trim();
            var classes = [];
            var text = '';
            if (raw.indexOf('<') !== -1) {
                var m = /\sclass\s*=\s*(?:"([^"]*)"|'([^']*)')/i.exec(raw);
                classes = m ? (m[1] || m[2] || '').split(/\s+/) : [];
            } else if (/^[A-Za-z][A-Za-z0-9_ -]*$/.test(raw) && /(^|\s)(fa[srbld]?|fa-[a-z0-9-]+|bi|bi-[a-z0-9-]+)(\s|$)/.test(raw)) {
                classes = raw.split(/\s+/);
            } else if (raw && raw.length <= 8) {
                text = raw; // an emoji or a short symbol
            }
            classes = classes.filter(function (c) { return /^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(c); }).slice(0, 8);
            var initial = String(w.title || w.identifier || '?').trim().charAt(0).toUpperCase();
            var box = h('span', {class: 'stask-worker__icon', 'aria-hidden': 'true', 'data-icon': classes.join(' ') || null});
            if (classes.length) {
                box.appendChild(h('i', {class: classes.join(' ')}));
                box.appendChild(h('span', {class: 'stask-worker__initial'}, initial));
            } else {
                box.classList.add('stask-worker__icon--text');
                box.appendChild(h('span', {class: 'stask-worker__initial'}, text || initial));
            }
            return box;
        }

        /** An icon class that draws nothing (no icon font on this page, an unknown name) shows the initial instead. */
        function checkIconFont(container) {
            container.querySelectorAll('.stask-worker__icon').forEach(function (box) {
                var i = box.querySelector('i');
                var before = i ? window.getComputedStyle(i, '::before').content : '';
                var drawn = !!before && before !== 'none' && before !== 'normal' && before !== '""';
                box.classList.toggle('stask-worker__icon--nofont', !!i && !drawn);
            });
        }

        // -- run

        function startTask(identifier, action, options, out, priority) {
            // The package's convention: `options` becomes the task's meta.
            var body = {options: options || {}};
            if (priority) {
                body.priority = priority;
            }
            return api('POST', '/workers/' + encodeURIComponent(identifier) + '/tasks/' + encodeURIComponent(action), {body: body}).then(function (d) {
                toast(t('task_started'), 'success');
                if (out && d.id) {
                    watchInline(out, d.id);
                    followLastTask(identifier, d.id);
                }
                App.refresh();
                return d;
            }, function (e) {
                toast(e.message, 'error');
                throw e;
            });
        }

        /** A small live progress line under the run form. */
        function watchInline(out, id) {
            var bar = progressBar(0, 'pending');
            var msg = h('span', {class: 'stask-muted'});
            var badge = h('span', null, statusBadge('pending'));
            var dlBtn = h('span');
            var row = h('div', {class: 'stask-inline-task', 'data-task-id': String(id)}, taskLink(id), ' ', badge, bar, msg, dlBtn);
            out.insertBefore(row, out.firstChild);
            var n = 0;
            var p = Pollers.make(function () {
                if (!row.isConnected) {
                    return null;
                }
                n++;
                return api('GET', '/tasks/' + id + '/progress', {allowFailure: true}).then(function (d) {
                    var st = d.status && STATUSES.indexOf(d.status) !== -1 ? d.status : 'pending';
                    updateProgressBar(bar, d.progress, st);
                    badge.replaceChildren(statusBadge(st));
                    msg.textContent = taskMessage(d) + (d.eta && d.eta !== '—' && !isTerminal(st) ? ' · ' + t('eta') + ' ' + d.eta : '');
                    if (isTerminal(st)) {
                        return api('GET', '/tasks/' + id).then(function (r) {
                            var task = r.task || {};
                            if (task.download_url) {
                                dlBtn.replaceChildren(h('button', {type: 'button', class: 'stask-btn stask-btn--small', 'data-action': 'download', onclick: function () {
                                    download(id);
                                }}, t('download')));
                            }
                            return null;
                        });
                    }
                    return progressDelay(n, st);
                });
            }).start();
            row.addEventListener('stask:gone', function () { Pollers.drop(p); });
        }

        /** Uploads one file for a later run of the worker; resolves to the options that name it. */
        function uploadFor(identifier, file) {
            var fd = new FormData();
            fd.append('file', file, file.name);
            return api('POST', '/workers/' + encodeURIComponent(identifier) + '/upload', {formData: fd}).then(function (d) {
                return {uploaded_file: d.uploaded_file || d.filename || d.result, original_filename: d.original_filename || file.name};
            });
        }

        function runPanel(body, w) {
            var out = h('div', {class: 'stask-run-out'});
            var widgetBox = h('div', {class: 'stask-widget-box'}, h('p', {class: 'stask-muted'}, t('loading')));
            var actions = Array.isArray(w.actions) ? w.actions : [];
            var actionInput = actions.length
                ? h('select', {class: 'stask-input', name: 'action', id: 'stask-run-action-' + w.identifier}, actions.map(function (a) {
                    var name = typeof a === 'string' ? a : a.name || a.action;
                    return h('option', {value: name}, name);
                }))
                : h('input', {class: 'stask-input', name: 'action', id: 'stask-run-action-' + w.identifier, required: true, placeholder: 'import'});
            var allowed = w.settings && Array.isArray(w.settings.allowed_extensions) ? w.settings.allowed_extensions : ['csv'];
            var fileInput = h('input', {type: 'file', class: 'stask-input', name: 'file', accept: allowed.map(function (e) { return '.' + e; }).join(',')});
            var opts = h('textarea', {class: 'stask-input stask-code', name: 'options', rows: '4', spellcheck: 'false'}, '{}');
            var priorityInput = h('select', {class: 'stask-input', name: 'priority'}, ['normal', 'high', 'low'].map(function (p) {
                return h('option', {value: p}, t('priority_' + p));
            }));
            var err = h('p', {class: 'stask-error', hidden: true});
            var form = h('form', {class: 'stask-run-form', 'data-run-form': w.identifier, onsubmit: function (ev) {
                ev.preventDefault();
                var options;
                try {
                    options = opts.value.trim() === '' ? {} : JSON.parse(opts.value);
                    if (!options || typeof options !== 'object' || Array.isArray(options)) {
                        throw new Error(t('json_object_required'));
                    }
                } catch (e) {
                    err.textContent = t('invalid_json') + ': ' + e.message;
                    err.hidden = false;
                    return;
                }
                err.hidden = true;
                var btn = form.querySelector('button[type=submit]');
                btn.disabled = true;
                var file = fileInput.files && fileInput.files[0];
                var ready = file ? uploadFor(w.identifier, file).then(function (named) {
                    return Object.assign({}, options, named);
                }) : Promise.resolve(options);
                ready.then(function (o) {
                    return startTask(w.identifier, actionInput.value.trim(), o, out, priorityInput.value).then(function () {
                        fileInput.value = '';
                    });
                }, function (e) {
                    toast(e.message, 'error');
                }).catch(function () {}).then(function () {
                    btn.disabled = false;
                });
            }},
            h('h4', null, t('run_action')),
            h('div', {class: 'stask-form-row'},
                h('label', {class: 'stask-field'}, h('span', null, t('action')), actionInput),
                h('label', {class: 'stask-field'}, h('span', null, t('priority')), priorityInput),
                h('label', {class: 'stask-field'}, h('span', null, t('upload_file')), fileInput)),
            h('label', {class: 'stask-field stask-field--wide'}, h('span', null, t('options_json')), opts),
            err,
            h('button', {type: 'submit', class: 'stask-btn stask-btn--primary', 'data-action': 'start'}, t('start')));
            body.appendChild(h('div', {class: 'stask-run'}, widgetBox, form, out));
            if (w.active === false || w.active === 0) {
                body.insertBefore(h('p', {class: 'stask-alert stask-alert--warning'}, t('worker_inactive_hint')), body.firstChild);
            }
            api('GET', '/workers/' + encodeURIComponent(w.identifier) + '/widget').then(function (d) {
                clear(widgetBox);
                var html = d.html || d.widget || '';
                if (!html) {
                    widgetBox.remove();
                    return;
                }
                // Widget HTML is rendered by the worker's own PHP code (trusted); scripts in it do not run.
                widgetBox.innerHTML = html;
                bindWidget(widgetBox, w, out);
            }, function () {
                widgetBox.remove();
            });
        }

        /**
         * Buttons with data-stask-action in a widget start that action with the
         * widget's named fields as options; a chosen file is uploaded first and
         * its field carries the stored name.
         */
        function bindWidget(box, w, out) {
            var descriptor = null;
            var dnode = box.querySelector('[data-stask-task-runner]');
            if (dnode) {
                try {
                    descriptor = JSON.parse(dnode.getAttribute('data-stask-task-runner'));
                } catch (e) {
                    descriptor = null;
                }
            }
            box.querySelectorAll('[data-stask-action], .stask-widget__run').forEach(function (btn) {
                btn.addEventListener('click', function (ev) {
                    ev.preventDefault();
                    var action = btn.getAttribute('data-stask-action') || (descriptor && descriptor.action) || 'make';
                    var scope = btn.closest('form') || box;
                    var options = {};
                    var uploads = [];
                    scope.querySelectorAll('input[name], select[name], textarea[name]').forEach(function (f) {
                        if (f.type === 'checkbox') {
                            options[f.name] = f.checked;
                        } else if (f.type === 'radio') {
                            if (f.checked) {
                                options[f.name] = f.value;
                            }
                        } else if (f.type === 'file') {
                            if (f.files && f.files[0]) {
                                uploads.push(uploadFor(w.identifier, f.files[0]).then(function (named) {
                                    options[f.name] = named.uploaded_file;
                                    options.original_filename = named.original_filename;
                                }));
                            }
                        } else {
                            options[f.name] = f.value;
                        }
                    });
                    btn.disabled = true;
                    Promise.all(uploads).then(function () {
                        return startTask(w.identifier, action, options, out);
                    }, function (e) {
                        toast(e.message, 'error');
                    }).catch(function () {}).then(function () {
                        btn.disabled = false;
                    });
                });
            });
        }

        // -- schedule

        function schedulePanel(body, w) {
            var box = h('div', {class: 'stask-schedule'}, h('p', {class: 'stask-muted'}, t('loading')));
            body.appendChild(box);
            api('GET', '/workers/' + encodeURIComponent(w.identifier) + '/schedule').then(function (d) {
                scheduleForm(box, w, d.schedule || d.data || {}, d.next_run);
            }, function (e) {
                box.replaceChildren(h('p', {class: 'stask-error'}, e.message));
            });
        }

        function toLocalInput(v) {
            if (!v) {
                return '';
            }
            var m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2})/.exec(String(v));
            return m ? m[1] + 'T' + m[2] : '';
        }

        function scheduleForm(box, w, sc, nextRun) {
            var uid = 'stask-sc-' + w.identifier;
            var f = function (name, label, input, cls) {
                input.name = name;
                input.id = uid + '-' + name;
                if (!input.className) {
                    input.className = 'stask-input';
                }
                return h('label', {class: 'stask-field ' + (cls || ''), for: input.id, 'data-field': name}, h('span', null, t(label)), input);
            };
            var enabled = h('input', {type: 'checkbox', class: 'stask-check', checked: !!sc.enabled});
            var type = h('select', null, ['manual', 'once', 'periodic', 'regular', 'cron'].map(function (v) {
                return h('option', {value: v, selected: (sc.type || 'manual') === v}, t('schedule_' + v));
            }));
            var datetime = h('input', {type: 'datetime-local', value: toLocalInput(sc.datetime)});
            var frequency = h('select', null, ['hourly', 'daily', 'weekly'].map(function (v) {
                return h('option', {value: v, selected: (sc.frequency || 'hourly') === v}, t('frequency_' + v));
            }));
            var time = h('input', {type: 'text', value: sc.time || '', placeholder: 'HH:MM', pattern: '(\\*|[0-2]?\\d):[0-5]\\d', inputmode: 'numeric'});
            var days = h('fieldset', {class: 'stask-days', 'data-field': 'days'}, h('legend', null, t('days')),
                DAYS.map(function (d) {
                    return h('label', {class: 'stask-day'}, h('input', {type: 'checkbox', name: 'days', value: d, checked: (sc.days || []).indexOf(d) !== -1}), t('day_' + d));
                }));
            var start = h('input', {type: 'time', value: sc.start_time || ''});
            var end = h('input', {type: 'time', value: sc.end_time || ''});
            var interval = h('select', null, ['every_5min', 'every_15min', 'every_30min', 'hourly'].map(function (v) {
                return h('option', {value: v, selected: (sc.interval || 'hourly') === v}, t('interval_' + v));
            }));
            var expression = h('input', {type: 'text', value: sc.expression || '', placeholder: '*/15 9-17 * * MON-FRI', spellcheck: 'false', autocomplete: 'off'});
            var missed = h('select', null, ['skip', 'run_once'].map(function (v) {
                return h('option', {value: v, selected: (sc.missed || 'skip') === v}, t('missed_' + v));
            }));
            var err = h('p', {class: 'stask-error', hidden: true});
            var saved = h('span', {class: 'stask-saved', hidden: true}, t('saved'));
            // What the server computed for the stored schedule (not for unsaved edits).
            var next = h('p', {class: 'stask-muted stask-next-run', 'data-next-run': nextRun || ''},
                t('next_run') + ': ', h('strong', null, nextRun ? fmtNextRun(nextRun) : t('next_run_none')));
            var groups = {
                once: h('div', {class: 'stask-form-row', 'data-group': 'once'}, f('datetime', 'schedule_datetime', datetime)),
                periodic: h('div', {class: 'stask-form-row', 'data-group': 'periodic'}, f('frequency', 'frequency', frequency), f('time', 'schedule_time', time), days),
                regular: h('div', {class: 'stask-form-row', 'data-group': 'regular'}, f('start_time', 'start_time', start), f('end_time', 'end_time', end), f('interval', 'interval', interval)),
                cron: h('div', {class: 'stask-form-row', 'data-group': 'cron'}, f('expression', 'schedule_expression', expression),
                    h('p', {class: 'stask-muted stask-help'}, t('schedule_expression_help')))
            };
            var missedRow = h('div', {class: 'stask-form-row', 'data-group': 'missed'}, f('missed', 'missed', missed));
            var sync = function () {
                Object.keys(groups).forEach(function (k) { groups[k].hidden = type.value !== k; });
                missedRow.hidden = type.value === 'manual';
                days.hidden = frequency.value !== 'weekly';
                time.placeholder = frequency.value === 'hourly' ? '*:MM' : 'HH:MM';
            };
            type.addEventListener('change', sync);
            frequency.addEventListener('change', sync);
            var form = h('form', {class: 'stask-schedule-form', 'data-schedule-form': w.identifier, novalidate: true, onsubmit: function (ev) {
                ev.preventDefault();
                var payload = {
                    type: type.value,
                    enabled: enabled.checked,
                    datetime: datetime.value ? datetime.value.replace('T', ' ') + ':00' : null,
                    time: time.value.trim() || null,
                    frequency: frequency.value,
                    days: Array.prototype.slice.call(days.querySelectorAll('input:checked')).map(function (i) { return i.value; }),
                    start_time: start.value || null,
                    end_time: end.value || null,
                    interval: interval.value,
                    expression: type.value === 'cron' ? expression.value.trim() || null : null,
                    missed: missed.value
                };
                var problem = null;
                if (payload.type === 'once' && !payload.datetime) {
                    problem = t('schedule_need_datetime');
                } else if (payload.type === 'periodic' && !/^(\*|[0-2]?\d):[0-5]\d$/.test(payload.time || '')) {
                    problem = t('schedule_need_time');
                } else if (payload.type === 'periodic' && payload.frequency === 'weekly' && !payload.days.length) {
                    problem = t('schedule_need_days');
                } else if (payload.type === 'regular' && (!payload.start_time || !payload.end_time)) {
                    problem = t('schedule_need_window');
                } else if (payload.type === 'cron' && !/^@\w+$/.test(payload.expression || '') && (payload.expression || '').split(/\s+/).length !== 5) {
                    problem = t('schedule_need_expression');
                }
                if (problem) {
                    err.textContent = problem;
                    err.hidden = false;
                    return;
                }
                err.hidden = true;
                var btn = form.querySelector('button[type=submit]');
                btn.disabled = true;
                api('PUT', '/workers/' + encodeURIComponent(w.identifier) + '/schedule', {body: payload}).then(function (d) {
                    toast(t('schedule_saved'), 'success');
                    saved.hidden = false;
                    setTimeout(function () { saved.hidden = true; }, 3000);
                    // Show what the server stored, not what we sent.
                    return api('GET', '/workers/' + encodeURIComponent(w.identifier) + '/schedule').then(function (r) {
                        scheduleForm(box, w, r.schedule || r.data || {}, r.next_run);
                        box.querySelector('.stask-saved').hidden = false;
                        // The card's chip follows (the list itself refreshes on its own pace).
                        var card = box.closest('[data-worker]');
                        var chip = card && card.querySelector('.stask-worker__head [data-next-run]');
                        if (chip) {
                            chip.setAttribute('data-next-run', r.next_run || '');
                            chip.textContent = r.next_run ? t('next_run') + ' ' + fmtNextRun(r.next_run) : t('next_run_none');
                        }
                    });
                }, function (e) {
                    err.textContent = e.message;
                    err.hidden = false;
                }).then(function () { btn.disabled = false; });
            }},
            h('h4', null, t('schedule')),
            h('div', {class: 'stask-form-row'},
                h('label', {class: 'stask-field stask-field--check', for: uid + '-enabled'}, (function () {
                    enabled.id = uid + '-enabled';
                    enabled.name = 'enabled';
                    return enabled;
                })(), h('span', null, t('schedule_enabled'))),
                f('type', 'schedule_type', type)),
            groups.once, groups.periodic, groups.regular, groups.cron, missedRow,
            next,
            err,
            h('div', {class: 'stask-form-row'}, h('button', {type: 'submit', class: 'stask-btn stask-btn--primary', 'data-action': 'save-schedule'}, t('save')), saved));
            box.replaceChildren(form);
            sync();
        }

        // -- settings

        function settingsPanel(body, w) {
            var box = h('div', {class: 'stask-settings'}, h('p', {class: 'stask-muted'}, t('loading')));
            body.appendChild(box);
            api('GET', '/workers/' + encodeURIComponent(w.identifier) + '/settings').then(function (d) {
                var settings = d.settings || d.data || {};
                var area = h('textarea', {class: 'stask-input stask-code', rows: '10', spellcheck: 'false', name: 'settings', 'aria-label': t('settings_json')});
                area.value = JSON.stringify(settings, null, 2);
                var err = h('p', {class: 'stask-error', hidden: true});
                var check = function () {
                    try {
                        var v = JSON.parse(area.value);
                        if (!v || typeof v !== 'object' || Array.isArray(v)) {
                            throw new Error(t('json_object_required'));
                        }
                        err.hidden = true;
                        area.classList.remove('stask-input--bad');
                        return v;
                    } catch (e) {
                        err.textContent = t('invalid_json') + ': ' + e.message;
                        err.hidden = false;
                        area.classList.add('stask-input--bad');
                        return null;
                    }
                };
                area.addEventListener('input', check);
                var form = h('form', {class: 'stask-settings-form', 'data-settings-form': w.identifier, onsubmit: function (ev) {
                    ev.preventDefault();
                    var v = check();
                    if (!v) {
                        return;
                    }
                    var btn = form.querySelector('button[type=submit]');
                    btn.disabled = true;
                    api('PUT', '/workers/' + encodeURIComponent(w.identifier) + '/settings', {body: {settings: v}}).then(function (r) {
                        toast(t('settings_saved'), 'success');
                        if (r.settings) {
                            area.value = JSON.stringify(r.settings, null, 2);
                        }
                    }, function (e) {
                        err.textContent = e.message;
                        err.hidden = false;
                    }).then(function () { btn.disabled = false; });
                }},
                h('h4', null, t('settings')),
                h('p', {class: 'stask-muted stask-small'}, t('settings_help')),
                area, err,
                h('button', {type: 'submit', class: 'stask-btn stask-btn--primary', 'data-action': 'save-settings'}, t('save')));
                box.replaceChildren(form);
            }, function (e) {
                box.replaceChildren(h('p', {class: 'stask-error'}, e.message));
            });
        }

        return {
            title: 'tab_workers',
            mount: function () {
                if (!el) {
                    build();
                }
                // Opening the tab discovers new workers (cheap: the engine caches it).
                api('POST', '/workers/discover').catch(function (e) {
                    toast(e.message, 'error');
                }).then(function () {
                    return refreshList();
                }).catch(function (e) {
                    list.replaceChildren(h('p', {class: 'stask-error'}, e.message));
                });
                return el;
            },
            unmount: function () {
                Pollers.drop(poller);
                el && el.querySelectorAll('.stask-inline-task').forEach(function (r) {
                    r.dispatchEvent(new Event('stask:gone'));
                });
            },
            refresh: function () {}
        };
    })();

    // -------------------------------------------------------------------- app

    var App = (function () {
        var current = null, nav, main;

        function shell() {
            nav = h('nav', {class: 'stask-tabs', role: 'tablist'}, ['dashboard', 'tasks', 'workers'].map(function (k) {
                return h('a', {href: '#' + k, role: 'tab', class: 'stask-tab', 'data-tab': k, 'aria-selected': 'false'}, t('tab_' + k));
            }));
            main = h('main', {class: 'stask-main'});
            clear(root);
            root.appendChild(h('header', {class: 'stask-header'},
                h('h1', null, t('title')),
                CFG.auth === 'bearer' ? h('button', {type: 'button', class: 'stask-btn stask-btn--small', onclick: function () {
                    askToken(false);
                }}, t('change_token')) : null));
            root.appendChild(nav);
            root.appendChild(main);
        }

        function route() {
            var hash = (location.hash || '#dashboard').slice(1);
            var m = /^tasks\/(\d+)$/.exec(hash);
            // A task opened from a tab keeps that tab underneath; a bookmark shows the task list.
            var tab = m ? (current || 'tasks') : (views[hash] ? hash : 'dashboard');
            if (current !== tab) {
                if (current) {
                    views[current].unmount();
                }
                current = tab;
                main.replaceChildren(views[tab].mount());
                nav.querySelectorAll('[data-tab]').forEach(function (a) {
                    var on = a.dataset.tab === tab;
                    a.setAttribute('aria-selected', on ? 'true' : 'false');
                    a.classList.toggle('stask-tab--on', on);
                });
            }
            if (m) {
                if (TaskDetail.id() !== m[1]) {
                    TaskDetail.open(m[1]);
                }
            } else {
                TaskDetail.close();
            }
        }

        return {
            start: function () {
                shell();
                window.addEventListener('hashchange', route);
                route();
                if (CFG.auth === 'bearer' && !token()) {
                    askToken(false);
                }
            },
            refresh: function () {
                if (current) {
                    views[current].refresh();
                }
            },
            closeDetail: function () {
                location.hash = '#' + (current || 'tasks');
            }
        };
    })();

    App.start();
})();
