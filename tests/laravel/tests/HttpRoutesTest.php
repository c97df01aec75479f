<?php

namespace Tests;

/**
 * Every route of the engine's table (src/engine/api/router.rs ROUTES,
 * canonical and alias paths) through the Laravel kernel of the harness app
 * under `php -S`, at /stask as the package registers it: refusal without a
 * manager session or without the `stask` permission, CSRF on every
 * state-changing route, the status and JSON shape of each route, bad ids,
 * malformed bodies, path traversal, uploads, downloads; the plain-Laravel
 * Gate and a configuration the engine refuses.
 *
 * The manager session is Evolution's: GET /harness/login (routes/web.php)
 * fills the native session from role_permissions as UserLogin does; role 1
 * holds `stask` (the package's migration), role 2 does not.
 */
class HttpRoutesTest extends HttpHarnessTestCase
{
    private const ROUTER = __DIR__ . '/../../../src/engine/api/router.rs';

    private const DENIED = ['success' => false, 'code' => 403, 'message' => 'Access denied: the stask permission is required'];

    private const MANAGER = 5;

    /** (method pattern) => true for every route a test answered with 2xx. */
    private array $covered = [];

    public function testTheRoutesOfRoutesPhpAreTheEnginesTable(): void
    {
        $engine = self::engineRoutes();
        $this->assertGreaterThan(50, count($engine), 'router.rs parsed');

        // The canonical rows are what the engine lists at its root (GET /stask as JSON).
        $base = $this->loginAs(1);
        $root = $this->request('GET', $base . '/stask', ['Accept' => 'application/json']);
        $this->assertSame(200, $root['status'], $root['body']);
        $listed = array_map(static fn ($r) => $r['method'] . ' ' . $r['path'], $this->json($root)['routes']);
        $canonical = [];
        foreach ($engine as [$method, $pattern, $alias]) {
            if (!$alias) {
                $canonical[] = "{$method} /stask/{$pattern}";
            }
        }
        $this->assertEqualsCanonicalizing($canonical, $listed);

        // routes.php registers the page, the assets and one catch-all, all guarded; every
        // row of the table (with sample values) reaches the adapter through them.
        $code = <<<'PHP'
            $out = ['registered' => [], 'matched' => []];
            foreach (app('router')->getRoutes() as $route) {
                if (str_starts_with($route->uri(), 'stask')) {
                    $out['registered'][] = [$route->uri(), $route->getName(), $route->methods(), $route->gatherMiddleware()];
                }
            }
            foreach (json_decode(getenv('PROBES'), true) as [$method, $path]) {
                $route = app('router')->getRoutes()->match(\Illuminate\Http\Request::create($path, $method));
                $out['matched'][] = $route->getName() . ' ' . ($route->parameter('path') ?? '');
            }
            echo json_encode($out);
            PHP;
        $probes = array_map(static fn ($r) => [$r[0], '/stask/' . self::concrete($r[1])], $engine);
        $out = json_decode($this->php($code, ['PROBES' => json_encode($probes)]), true);

        $guard = 'Seiger\sTask\Http\Middleware\AuthorizeManager';
        $registered = [];
        foreach ($out['registered'] as [$uri, $name, $methods, $middleware]) {
            $registered[$uri] = $name;
            $this->assertContains($guard, $middleware, "{$uri} is guarded");
            $this->assertContains('mgr', $middleware, "{$uri} is in the mgr group");
        }
        $this->assertSame(['stask' => 'sTask.index', 'stask/assets/{file}' => 'sTask.asset', 'stask/doctor' => 'sTask.doctor', 'stask/{path}' => 'sTask.api'], $registered);
        foreach ($engine as $i => [$method, $pattern]) {
            $expected = $pattern === '' ? 'sTask.index ' : 'sTask.api ' . self::concrete($pattern);
            $this->assertSame($expected, $out['matched'][$i], "{$method} /stask/{$pattern}");
        }
    }

    public function testWithoutAManagerSessionEveryRouteIsRefused(): void
    {
        $base = $this->serve([]);
        $this->assertEveryRouteIsDenied($base, 'no session');

        // A manager whose role lacks `stask` (the editor, role 2) is refused the same way,
        // with or without the CSRF token.
        $base = $this->loginAs(2);
        $this->assertSame(403, $this->request('GET', $base . '/stask')['status']);
        $this->assertEveryRouteIsDenied($base, 'role 2');
    }

    public function testEveryStateChangingRouteNeedsTheCsrfToken(): void
    {
        $base = $this->loginAs(1);
        $token = $this->csrfToken($this->request('GET', $base . '/stask')['body']);
        $tasks = count($this->rows('s_tasks'));
        foreach (self::engineRoutes() as [$method, $pattern]) {
            $url = $base . '/stask/' . self::concrete($pattern);
            $where = "{$method} /stask/{$pattern}";
            if ($method === 'GET') {
                $this->assertNotContains($this->request('GET', $url)['status'], [403, 419, 500], "{$where} needs no token");
                continue;
            }
            $json = ['Content-Type' => 'application/json'];
            $missing = $this->request($method, $url, $json, '{}');
            $this->assertSame(419, $missing['status'], "{$where} without a token");
            $this->assertSame(['success' => false, 'code' => 419, 'message' => 'CSRF token mismatch: reload the page and try again'], $this->json($missing));
            $this->assertStringStartsWith('application/json', $missing['headers']['content-type']);
            $wrong = $this->request($method, $url, $json + ['X-CSRF-TOKEN' => strrev($token)], '{}');
            $this->assertSame(419, $wrong['status'], "{$where} with a wrong token");
            $formWrong = $this->request($method, $url, ['Content-Type' => 'application/x-www-form-urlencoded'], '_token=' . urlencode(substr($token, 1)));
            $this->assertSame(419, $formWrong['status'], "{$where} with a wrong _token");
            $this->assertCount($tasks, $this->rows('s_tasks'), "{$where}: nothing happened");

            // With the token (header, then form field) the engine answers, whatever its verdict.
            foreach ([
                'header' => [$json + ['X-CSRF-TOKEN' => $token], '{}'],
                'form' => [['Content-Type' => 'application/x-www-form-urlencoded'], http_build_query(['_token' => $token])],
            ] as $how => [$headers, $body]) {
                $passed = $this->request($method, $url, $headers, $body);
                $this->assertNotContains($passed['status'], [403, 419, 500], "{$where} with the token ({$how}): {$passed['body']}");
                $this->assertArrayHasKey('success', $this->json($passed), "{$where}: the engine's JSON");
            }
            $tasks = count($this->rows('s_tasks'));
        }
    }

    public function testEveryRouteAnswersWithItsShape(): void
    {
        $base = $this->loginAs(1);
        $token = $this->csrfToken($this->request('GET', $base . '/stask')['body']);
        $send = function (string $method, string $pattern, array $values = [], $body = null, int $status = 200, array $headers = []) use ($base, $token): array {
            if (is_array($body)) {
                $body = json_encode($body, JSON_FORCE_OBJECT * (int) ($body === []));
                $headers += ['Content-Type' => 'application/json'];
            }
            if ($method !== 'GET') {
                $headers += ['X-CSRF-TOKEN' => $token];
            }
            $response = $this->request($method, $base . '/stask/' . self::concrete($pattern, $values), $headers, $body);
            $this->assertSame($status, $response['status'], "{$method} {$pattern}: {$response['body']}");
            $this->assertStringNotContainsString($this->dir, $response['body'], "{$method} {$pattern}: no server paths");
            $this->covered["{$method} {$pattern}"] = true;

            return $response;
        };
        $json = fn (...$args) => $this->json($send(...$args));

        $root = $send('GET', '', [], null, 200, ['Accept' => 'application/json']);
        $this->assertShape(['success' => 'bool', 'name' => 'string', 'version' => 'string', 'routes' => 'list'], $this->json($root), 'root');
        $this->assertShape(array_fill_keys(['pending', 'preparing', 'running', 'completed', 'failed', 'cancelled', 'total', 'total_workers', 'active_workers'], 'int'), $json('GET', 'stats'), 'stats');
        $timeline = $json('GET', 'stats/timeline');
        $this->assertShape(['success' => 'bool', 'hours' => 'int', 'from' => 'string', 'to' => 'string', 'timeline' => 'list'], $timeline, 'timeline');
        $this->assertCount(24, $timeline['timeline']);
        $this->assertShape(['hour' => 'string', 'created' => 'int', 'completed' => 'int', 'failed' => 'int', 'avg_duration' => '?number'], $timeline['timeline'][0], 'timeline[0]');
        $health = $json('GET', 'health');
        $this->assertShape(['success' => 'bool', 'status' => 'string', 'database' => ['ok' => 'bool', 'driver' => 'string', 'latency_ms' => 'number'], 'storage' => ['ok' => 'bool'], 'queue' => ['pending' => 'int'], 'version' => 'string', 'time' => 'string'], $health, 'health');
        $this->assertSame($this->connection, $health['database']['driver']);
        $this->assertShape(['alive' => 'int', 'last_heartbeat' => '?string'], $health['processes'], 'health.processes');
        $this->assertShape(['success' => 'bool', 'processes' => 'list', 'alive' => 'int', 'alive_within_seconds' => 'int'], $json('GET', 'processes'), 'processes');
        $this->assertShape(array_fill_keys(['maxFileSize', 'chunkSize', 'singleUploadLimit', 'maxChunks', 'maxBodySize'], 'int') + ['success' => 'bool', 'phpUploadLimit' => '?int'], $json('GET', 'server-limits'), 'server-limits');

        // Tasks: three creation paths, all started by the manager.
        $ids = [];
        foreach (['tasks', 'task', 'task/store'] as $path) {
            $created = $json('POST', $path, [], ['identifier' => 'report', 'action' => 'csv', 'data' => ['rows' => 2], 'priority' => 'high']);
            $this->assertShape(['success' => 'bool', 'message' => 'string', 'task' => self::TASK], $created, "POST {$path}");
            $this->assertSame(self::MANAGER, $created['task']['started_by']);
            $ids[] = $created['task']['id'];
        }
        foreach ($this->rows('s_tasks') as $row) {
            $this->assertSame((string) self::MANAGER, (string) $row['started_by'], 'started_by is the manager in the session');
        }
        $list = $json('GET', 'tasks');
        $this->assertShape(['success' => 'bool', 'data' => 'list', 'pagination' => ['page' => 'int', 'per_page' => 'int', 'total' => 'int', 'pages' => 'int']], $list, 'list');
        $this->assertShape(self::TASK, $list['data'][0], 'list data[0]');
        foreach (['tasks/{id}', 'task/{id}'] as $path) {
            $this->assertShape(['success' => 'bool', 'task' => self::TASK + ['log_lines' => 'list'], 'history' => 'list', 'worker_processes' => 'int'], $json('GET', $path, ['id' => $ids[0]]), $path);
        }
        foreach (['tasks/{id}/progress', 'task/{id}/progress'] as $path) {
            $progress = $json('GET', $path, ['id' => $ids[0]]);
            $this->assertShape(['success' => 'bool', 'code' => 'int', 'id' => 'int', 'status' => 'string', 'progress' => 'int', 'message' => '?string', 'log_lines' => 'list', 'identifier' => 'string', 'action' => 'string'], $progress, $path);
        }
        foreach (['tasks/{id}/upload' => $ids[1], 'task/{id}/upload' => $ids[2]] as $path => $id) {
            [$headers, $body] = $this->multipart(['_token' => $token], ['file' => ['list.csv', "a,b\n1,2\n"]]);
            $upload = $json('POST', $path, ['id' => $id], $body, 200, $headers);
            $this->assertShape(self::UPLOADED, $upload, $path);
            $this->assertSame('list.csv', $upload['original_filename']);
            $this->assertSame("a,b\n1,2\n", file_get_contents($this->dir . '/storage/stask/' . $upload['uploaded_file']));
        }
        foreach (['tasks/{id}/cancel' => $ids[1], 'task/{id}/cancel' => $ids[2]] as $path => $id) {
            $cancel = $json('POST', $path, ['id' => $id]);
            $this->assertShape(['success' => 'bool', 'id' => 'int', 'status' => 'int', 'status_text' => 'string', 'message' => 'string'], $cancel, $path);
            $this->assertSame('cancelled', $cancel['status_text']);
        }
        foreach (['tasks/{id}/retry' => $ids[1], 'task/{id}/retry' => $ids[2]] as $path => $id) {
            $retry = $json('POST', $path, ['id' => $id]);
            $this->assertSame(['success' => true, 'id' => $id, 'status' => 10, 'status_text' => 'pending', 'message' => 'Task queued for retry'], array_intersect_key($retry, array_flip(['success', 'id', 'status', 'status_text', 'message'])));
        }
        // Bulk: cancel a selection by ids, retry what a filter of the list matches.
        $cancelled = $json('POST', 'tasks/cancel', [], ['ids' => [$ids[1], 999999999]]);
        $this->assertShape(['success' => 'bool', 'cancelled' => 'int', 'cancelled_ids' => 'list', 'requested' => 'int', 'requested_ids' => 'list', 'not_cancelled' => 'list', 'message' => 'string'], $cancelled, 'tasks/cancel');
        $this->assertSame([$ids[1]], array_merge($cancelled['cancelled_ids'], $cancelled['requested_ids']));
        $this->assertSame([['id' => 999999999, 'reason' => 'not_found', 'status' => null]], $cancelled['not_cancelled']);
        $retried = $json('POST', 'tasks/retry', [], ['status' => 'cancelled', 'identifier' => 'report', 'action' => 'csv']);
        $this->assertShape(['success' => 'bool', 'retried' => 'int', 'retried_ids' => 'list', 'not_retried' => 'list', 'remaining' => 'int', 'message' => 'string'], $retried, 'tasks/retry');
        $this->assertContains($ids[1], $retried['retried_ids']);

        // Workers.
        $workers = $json('GET', 'workers');
        $this->assertShape(['success' => 'bool', 'workers' => 'list', 'total' => 'int'], $workers, 'workers');
        $this->assertShape(self::WORKER, $workers['workers'][0], 'workers[0]');
        foreach (['workers/{identifier}', 'worker/{identifier}'] as $path) {
            $this->assertShape(['success' => 'bool', 'worker' => self::WORKER], $json('GET', $path), $path);
        }
        $this->assertShape(['success' => 'bool', 'message' => 'string', 'discovered' => 'int', 'workers' => 'list'], $json('POST', 'workers/discover'), 'discover');
        $this->assertShape(['success' => 'bool', 'message' => 'string', 'updated' => 'int', 'workers' => 'list'], $json('POST', 'workers/rescan'), 'rescan');
        foreach (['workers/clean-orphans', 'worker/clean-orphaned'] as $path) {
            $this->assertShape(['success' => 'bool', 'message' => 'string', 'deleted' => 'int'], $json('POST', $path), $path);
        }
        foreach (['worker/deactivate' => false, 'worker/activate' => true] as $path => $active) {
            $changed = $json('POST', $path, [], ['identifier' => 'report']);
            $this->assertShape(['success' => 'bool', 'message' => 'string', 'worker' => self::WORKER], $changed, $path);
            $this->assertSame($active, $changed['worker']['active'], $path);
        }
        foreach (['workers/{identifier}/deactivate' => false, 'workers/{identifier}/activate' => true, 'worker/{identifier}/deactivate' => false, 'worker/{identifier}/activate' => true] as $path => $active) {
            $this->assertSame($active, $json('POST', $path)['worker']['active'], $path);
        }
        $this->assertShape(['success' => 'bool', 'identifier' => 'string', 'settings' => 'object'], $json('GET', 'workers/{identifier}/settings'), 'settings');
        foreach (['PUT' => 60, 'POST' => 120] as $method => $timeout) {
            $saved = $json($method, 'workers/{identifier}/settings', [], ['allowed_extensions' => ['csv', 'txt'], 'timeout' => $timeout]);
            $this->assertSame(['allowed_extensions' => ['csv', 'txt'], 'timeout' => $timeout], array_intersect_key($saved['settings'], array_flip(['allowed_extensions', 'timeout'])), "{$method} settings");
            $this->assertSame('Settings saved', $saved['message']);
        }
        $this->assertShape(['success' => 'bool', 'identifier' => 'string', 'schedule' => self::SCHEDULE], $json('GET', 'workers/{identifier}/schedule'), 'schedule');
        foreach (['PUT' => '08:30', 'POST' => '09:45'] as $method => $time) {
            $saved = $json($method, 'workers/{identifier}/schedule', [], ['schedule' => ['type' => 'periodic', 'frequency' => 'daily', 'time' => $time, 'enabled' => true]]);
            $this->assertShape(['success' => 'bool', 'identifier' => 'string', 'schedule' => self::SCHEDULE, 'message' => 'string'], $saved, "{$method} schedule");
            $this->assertSame($time, $saved['schedule']['time']);
        }
        $widget = $json('GET', 'workers/{identifier}/widget');
        $this->assertShape(['success' => 'bool', 'identifier' => 'string', 'html' => 'string'], $widget, 'widget');
        foreach (['workers/{identifier}/tasks/{action}', 'worker/{identifier}/run/{action}'] as $path) {
            $run = $json('POST', $path, [], ['options' => ['rows' => 3]]);
            $this->assertSame(['success', 'id', 'message'], array_keys($run), $path);
            $this->assertIsInt($run['id']);
            $this->assertSame((string) self::MANAGER, (string) $this->rows('s_tasks', 'id = ?', [$run['id']])[0]['started_by']);
        }
        foreach (['workers/{identifier}/upload', 'worker/{identifier}/upload'] as $path) {
            [$headers, $body] = $this->multipart([], ['file' => ['one.txt', 'hello']]);
            $upload = $json('POST', $path, [], $body, 200, $headers);
            $this->assertShape(self::UPLOADED, $upload, $path);
            $this->assertSame('hello', file_get_contents($this->dir . '/storage/stask/' . $upload['uploaded_file']));
        }

        // A chunked upload, two chunks through Laravel's multipart parsing.
        $start = $json('POST', 'workers/{identifier}/uploads', [], ['filename' => 'big.csv', 'size' => 10, 'total_chunks' => 2]);
        $this->assertShape(['success' => 'bool', 'upload_id' => 'string', 'chunk_size' => 'int', 'total_chunks' => 'int', 'size' => 'int', 'expires_at' => 'string', 'chunk_url' => 'string', 'complete_url' => 'string'], $start, 'uploads');
        $this->assertStringStartsWith('/stask/uploads/' . $start['upload_id'], $start['chunk_url']);
        foreach (['0' => "id,n\n", '1' => "1,22\n"] as $index => $chunk) {
            [$headers, $body] = $this->multipart([], ['file' => ['blob', $chunk]]);
            $got = $json('POST', 'uploads/{upload_id}/chunks/{index}', ['upload_id' => $start['upload_id'], 'index' => $index], $body, 200, $headers);
            $this->assertShape(['success' => 'bool', 'upload_id' => 'string', 'index' => 'int', 'received_chunks' => 'int', 'total_chunks' => 'int', 'received_bytes' => 'int', 'size' => 'int'], $got, "chunk {$index}");
        }
        $done = $json('POST', 'uploads/{upload_id}/complete', ['upload_id' => $start['upload_id']]);
        $this->assertShape(self::UPLOADED, $done, 'complete');
        $this->assertSame("id,n\n1,22\n", file_get_contents($this->dir . '/storage/stask/' . $done['uploaded_file']));
        $this->assertSame(404, $this->request('POST', $base . '/stask/uploads/' . $start['upload_id'] . '/complete', ['X-CSRF-TOKEN' => $token])['status']);

        // A finished task's file, both paths.
        $this->artisanOk(['stask:worker', '--once'], [], 60);
        $finished = $this->rows('s_tasks', 'status = 30');
        $this->assertNotEmpty($finished);
        foreach (['tasks/{id}/download', 'task/{id}/download'] as $path) {
            $download = $send('GET', $path, ['id' => (int) $finished[0]['id']]);
            $this->assertSame("n,square\n1,1\n2,4\n", substr($download['body'], 0, 17));
            $this->assertStringStartsWith('text/csv', $download['headers']['content-type']);
            $this->assertMatchesRegularExpression('/^attachment; filename="report_\d+\.csv"/', $download['headers']['content-disposition']);
        }

        // Performance, cache, metrics, clean.
        $summary = $json('GET', 'performance/summary');
        $this->assertShape(['success' => 'bool', 'period' => ['hours' => 'int', 'from' => 'string', 'to' => 'string'], 'tasks' => array_fill_keys(['total', 'completed', 'failed', 'running', 'queued', 'cancelled'], 'int'), 'performance' => ['success_rate' => 'number', 'average_duration' => 'number', 'average_memory' => 'number', 'total_execution_time' => 'number', 'error_rate' => 'number'], 'workers' => 'object', 'errors' => ['total_errors' => 'int', 'error_rate' => 'number', 'common_errors' => 'list']], $summary, 'summary');
        $perWorker = $json('GET', 'performance/workers');
        $this->assertShape(['success' => 'bool', 'workers' => 'object'], $perWorker, 'performance/workers');
        $this->assertShape(['identifier' => 'string', 'total_tasks' => 'int', 'completed' => 'int', 'failed' => 'int', 'success_rate' => 'number'], $perWorker['workers']['report'], 'performance/workers.report');
        $this->assertShape(['success' => 'bool', 'alerts' => 'list'], $json('GET', 'performance/alerts'), 'alerts');
        $this->assertShape(['success' => 'bool', 'cache_stats' => array_fill_keys(['hits', 'misses', 'evictions', 'cache_size', 'memory_usage'], 'int') + ['hit_rate' => 'number']], $json('GET', 'cache/stats'), 'cache/stats');
        $this->assertSame(['success' => true, 'message' => 'Cache cleared successfully'], $json('POST', 'cache/clear', [], []));
        $metrics = $send('GET', 'metrics');
        $this->assertSame('text/plain; version=0.0.4; charset=utf-8', $metrics['headers']['content-type']);
        $this->assertStringContainsString('# TYPE stask_queue_depth gauge', $metrics['body']);
        $this->assertMatchesRegularExpression('/^stask_tasks_completed_total\{worker="report"\} [1-9]/m', $metrics['body']);
        $clean = $json('POST', 'clean', [], ['days' => 0]);
        $this->assertShape(['success' => 'bool', 'message' => 'string', 'deleted_tasks' => 'int', 'deleted_progress_files' => 'int', 'deleted_uploads' => 'int'], $clean, 'clean');

        $missing = [];
        foreach (self::engineRoutes() as [$method, $pattern]) {
            if (!isset($this->covered["{$method} {$pattern}"])) {
                $missing[] = "{$method} {$pattern}";
            }
        }
        $this->assertSame([], $missing, 'every route of the table was answered with success');
    }

    public function testBadInputGetsA4xxJsonAnswerWithoutServerDetails(): void
    {
        $base = $this->loginAs(1);
        $token = $this->csrfToken($this->request('GET', $base . '/stask')['body']);
        $check = function (string $method, string $path, int $status, ?string $body = null, array $headers = []) use ($base, $token): array {
            $headers += ['X-CSRF-TOKEN' => $token, 'Content-Type' => 'application/json'];
            $response = $this->request($method, $base . $path, $headers, $body);
            $this->assertSame($status, $response['status'], "{$method} {$path} {$body}: {$response['body']}");
            $this->assertStringStartsWith('application/json', $response['headers']['content-type'] ?? '', "{$method} {$path}");
            $data = $this->json($response);
            $this->assertFalse($data['success'], "{$method} {$path}");
            $this->assertIsString($data['message']);
            foreach ([$this->dir, '/usr/share/php', '#0 ', 'Stack trace', '.php'] as $leak) {
                $this->assertStringNotContainsString($leak, $response['body'], "{$method} {$path}");
            }

            return $data;
        };

        foreach (self::engineRoutes() as [$method, $pattern]) {
            if (str_contains($pattern, '{id}')) {
                foreach (['abc', '0', '-1', '1.5', '1e3', '99999999999999999999999', '%20'] as $bad) {
                    $this->assertSame('Invalid task ID', $check($method, '/stask/' . self::concrete($pattern, ['id' => $bad]), 400, '{}')['error']);
                }
                $check($method, '/stask/' . self::concrete($pattern, ['id' => 999999]), 404, '{}');
            }
            if (str_contains($pattern, '{identifier}')) {
                $check($method, '/stask/' . self::concrete($pattern, ['identifier' => 'nope']), 404, '{}');
            }
            if (str_contains($pattern, '{upload_id}')) {
                $check($method, '/stask/' . self::concrete($pattern, ['upload_id' => 'ABC']), 400, '{}');
                $check($method, '/stask/' . self::concrete($pattern), 404, '{}');
            }
            // Malformed JSON where a body is read.
            if (in_array($pattern, ['tasks', 'task', 'task/store', 'clean', 'worker/activate', 'worker/deactivate', 'workers/{identifier}/settings', 'workers/{identifier}/schedule', 'workers/{identifier}/tasks/{action}', 'worker/{identifier}/run/{action}', 'workers/{identifier}/uploads', 'cache/clear'], true) && $method !== 'GET') {
                $this->assertSame('Malformed JSON', $check($method, '/stask/' . self::concrete($pattern), 400, '{"identifier": "report",')['error'], "{$method} {$pattern}");
            }
        }

        // Wrong types and values.
        foreach ([
            ['POST', '/stask/tasks', '{"identifier": ["report"], "action": "csv"}'],
            ['POST', '/stask/tasks', '{"identifier": "report", "action": ["csv"]}'],
            ['POST', '/stask/tasks', '{"identifier": "report", "action": "csv", "data": "rows"}'],
            ['POST', '/stask/tasks', '{"identifier": "report", "action": "csv", "priority": "urgent"}'],
            ['POST', '/stask/tasks', '{"identifier": "report", "action": "csv", "max_attempts": 0}'],
            ['POST', '/stask/tasks', '{"identifier": "report", "action": "csv", "start_at": "tomorrow"}'],
            ['POST', '/stask/tasks', '{"identifier": "report", "action": "csv", "extra": 1}'],
            ['POST', '/stask/tasks', '"just a string"'],
            ['POST', '/stask/clean', '{"days": -1}'],
            ['POST', '/stask/clean', '{"days": "soon"}'],
            ['PUT', '/stask/workers/report/settings', '{"timeout": "long"}'],
            ['PUT', '/stask/workers/report/settings', '{"allowed_extensions": "csv"}'],
            ['PUT', '/stask/workers/report/schedule', '{"type": "sometimes"}'],
            ['PUT', '/stask/workers/report/schedule', '{"type": "periodic", "frequency": "daily", "time": "25:00"}'],
            ['POST', '/stask/workers/report/tasks/csv', '{"options": [1, 2]}'],
            ['POST', '/stask/workers/report/uploads', '{"filename": "x.exe", "size": 10}', 'Invalid file type'],
            ['POST', '/stask/workers/report/uploads', '{"filename": "x.csv", "size": "ten"}'],
            ['GET', '/stask/tasks?per_page=abc', null],
            ['GET', '/stask/tasks?status=bogus', null],
            ['GET', '/stask/tasks?sort=password', null],
            ['GET', '/stask/stats/timeline?hours=0', null],
            ['GET', '/stask/performance/summary?hours=x', null],
        ] as $row) {
            [$method, $path, $body, $error] = $row + [3 => 'Validation failed'];
            $this->assertSame($error, $check($method, $path, 422, $body)['error'], "{$method} {$path} {$body}");
        }
        $check('POST', '/stask/workers/report/tasks/no$such', 400, '{}');
        $check('POST', '/stask/workers/report/tasks/nosuch', 404, '{}');
        $check('POST', '/stask/uploads/' . str_repeat('a', 32) . '/chunks/x', 404, '{}');
        $check('POST', '/stask/workers/report/upload', 400, '{}');
        $check('POST', '/stask/tasks/1/upload', 404, '{}');

        // Paths: traversal segments, broken escapes, unknown routes, other methods.
        foreach (['/stask/tasks/%2e%2e/download', '/stask/tasks/..%2F..%2Fetc%2Fpasswd/download', '/stask/workers/..%2F..%2F/settings', '/stask/%2e%2e/%2e%2e/config/app.php', '/stask/tasks/%00/progress'] as $path) {
            $check('GET', $path, 400);
        }
        // Laravel decodes the path once, the engine does not decode it again.
        $this->assertSame('Worker not found', $check('GET', '/stask/workers/%252e%252e/widget', 404)['error']);
        $this->assertSame('Worker not found', $check('GET', '/stask/workers/100%25/widget', 404)['error']);
        $check('GET', '/stask/no/such/route', 404);
        $check('GET', '/stask/tasks/1/cancel', 405);
        $check('DELETE', '/stask/tasks', 405);
        $check('PATCH', '/stask/workers/report/settings', 405);
        $this->assertSame('GET, PUT, POST', $this->request('DELETE', $base . '/stask/workers/report/settings', ['X-CSRF-TOKEN' => $token])['headers']['allow'] ?? null);
        foreach (['/stask/assets/..%2F..%2Fsrc%2FHttp%2Froutes.php', '/stask/assets/%2e%2e', '/stask/assets/stask-admin.php'] as $path) {
            $response = $this->request('GET', $base . $path);
            $this->assertContains($response['status'], [400, 404], $path);
            $this->assertStringNotContainsString('<?php', $response['body'], $path);
        }
    }

    public function testDownloadServesOnlyRegularFilesInsideStorage(): void
    {
        $base = $this->loginAs(1);
        $storage = $this->dir . '/storage/stask';
        @mkdir($storage . '/exports', 0775, true);
        file_put_contents($storage . '/exports/ok.csv', "fine\n");
        file_put_contents($this->dir . '/secret.txt', "top secret\n");
        symlink($this->dir . '/secret.txt', $storage . '/exports/link.csv');
        symlink($this->dir . '/config', $storage . '/exports/configdir');
        symlink('/etc', $storage . '/etc');

        $outside = [
            '"/etc/passwd"',
            json_encode($this->dir . '/secret.txt'),
            json_encode($this->dir . '/config/app.php'),
            '"../../secret.txt"',
            '"exports/../../../secret.txt"',
            json_encode($storage . '/../../secret.txt'),
            '{"file": "/etc/hostname"}',
            '{"path": "../../config/app.php"}',
            '"exports/link.csv"',
            json_encode($storage . '/exports/link.csv'),
            '"exports/configdir/app.php"',
            '"etc/hostname"',
            '"exports"',
            json_encode($storage),
            '"exports/none.csv"',
            '""',
            'null',
        ];
        $id = $this->completedTask('"exports/ok.csv"');
        $ok = $this->request('GET', $base . "/stask/tasks/{$id}/download");
        $this->assertSame(200, $ok['status'], $ok['body']);
        $this->assertSame("fine\n", $ok['body']);
        $this->assertSame('attachment; filename="ok.csv"; filename*=UTF-8\'\'ok.csv', $ok['headers']['content-disposition']);

        foreach ($outside as $result) {
            $this->pdo()->prepare("UPDATE {$this->prefix}s_tasks SET result = ? WHERE id = ?")->execute([$result === 'null' ? null : $result, $id]);
            $response = $this->request('GET', $base . "/stask/tasks/{$id}/download");
            $this->assertSame(404, $response['status'], "result {$result}: {$response['body']}");
            $data = $this->json($response);
            $this->assertSame(['success' => false, 'error' => 'Export file not found', 'message' => 'Export file is not available', 'code' => 404], $data, $result);
            foreach ([$this->dir, 'secret', 'root:', '/etc'] as $leak) {
                $this->assertStringNotContainsString($leak, $response['body'], "result {$result}");
            }
            $task = $this->json($this->request('GET', $base . "/stask/tasks/{$id}"))['task'];
            $this->assertNull($task['download_url'], "no download link for {$result}");
        }
    }

    public function testAPlainLaravelHostDecidesByTheStaskGate(): void
    {
        $host = ['HARNESS_HOST' => 'laravel'];
        // No Gate defined: nobody.
        $base = $this->serve($host + ['HARNESS_USER_ID' => '9']);
        $this->assertSame(self::DENIED, $this->json($this->request('GET', $base . '/stask/stats')));
        // The Gate denies; or allows but nobody is logged in.
        foreach ([['HARNESS_GATE' => 'deny', 'HARNESS_USER_ID' => '9'], ['HARNESS_GATE' => 'allow']] as $env) {
            $base = $this->serve($host + $env);
            $this->assertDeniedPage($this->request('GET', $base . '/stask'));
            foreach ([['GET', '/stask', ['Accept' => 'application/json']], ['GET', '/stask/stats', []], ['POST', '/stask/tasks', []]] as [$method, $path, $headers]) {
                $response = $this->request($method, $base . $path, $headers);
                $this->assertSame(403, $response['status'], json_encode($env) . " {$method} {$path}");
                $this->assertSame(self::DENIED, $this->json($response));
            }
        }
        // The Gate allows the logged-in user: page, API, CSRF, started_by from auth()->id().
        $this->cookies = [];
        $base = $this->serve($host + ['HARNESS_GATE' => 'allow', 'HARNESS_USER_ID' => '9']);
        $page = $this->request('GET', $base . '/stask');
        $this->assertSame(200, $page['status'], $page['body']);
        $this->assertArrayNotHasKey('evo_mgr', $this->cookies, 'no Evolution here');
        $this->assertSame(200, $this->request('GET', $base . '/stask/stats')['status']);
        $this->assertSame(419, $this->request('POST', $base . '/stask/workers/report/tasks/csv')['status']);
        $run = $this->request('POST', $base . '/stask/workers/report/tasks/csv', ['X-CSRF-TOKEN' => $this->csrfToken($page['body']), 'Content-Type' => 'application/json'], '{}');
        $this->assertSame(200, $run['status'], $run['body']);
        $this->assertSame('9', (string) $this->rows('s_tasks', 'id = ?', [$this->json($run)['id']])[0]['started_by']);
    }

    public function testAPlainLaravelHostChoosesThePrefixAndTheMiddleware(): void
    {
        $base = $this->serve(['HARNESS_HOST' => 'laravel', 'HARNESS_GATE' => 'allow', 'HARNESS_USER_ID' => '9',
            'STASK_ROUTE_PREFIX' => 'admin/tasks', 'STASK_ROUTE_MIDDLEWARE' => 'web,stamp']);
        $this->assertSame(404, $this->request('GET', $base . '/stask')['status']);
        $this->assertSame(404, $this->request('GET', $base . '/stask/stats')['status']);
        $page = $this->request('GET', $base . '/admin/tasks');
        $this->assertSame(200, $page['status'], $page['body']);
        $this->assertSame('yes', $page['headers']['x-harness-stamp'] ?? null, 'the configured middleware ran');
        $config = $this->pageConfig($page['body']);
        $this->assertSame('/admin/tasks', $config['api']);
        $this->assertMatchesRegularExpression('#<script src="/admin/tasks/assets/stask-admin\.js\?v=#', $page['body']);
        $this->assertSame(200, $this->request('GET', $base . '/admin/tasks/stats')['status']);
        $run = $this->request('POST', $base . '/admin/tasks/workers/report/tasks/csv', ['X-CSRF-TOKEN' => $this->csrfToken($page['body']), 'Content-Type' => 'application/json'], '{}');
        $this->assertSame(200, $run['status'], $run['body']);
    }

    public function testAConfigurationTheEngineRefusesIsA503JsonNotTheHostsErrorPage(): void
    {
        $base = $this->serve(['EVO_PERMISSIONS' => 'stask', 'STASK_API_TOKEN' => 'short', 'APP_DEBUG' => 'true']);
        // The host itself still works.
        $this->assertSame('stask harness', $this->request('GET', $base . '/')['body']);
        $token = $this->csrfToken($this->request('GET', $base . '/stask')['body']);
        foreach ([['GET', '/stask/stats'], ['GET', '/stask/tasks/1'], ['POST', '/stask/tasks']] as [$method, $path]) {
            $response = $this->request($method, $base . $path, ['X-CSRF-TOKEN' => $token, 'Content-Type' => 'application/json'], '{}');
            $this->assertSame(503, $response['status'], "{$method} {$path}: {$response['body']}");
            $this->assertStringStartsWith('application/json', $response['headers']['content-type']);
            $data = $this->json($response);
            $this->assertSame([false, 503, 'sTask is not configured'], [$data['success'], $data['code'], $data['error']]);
            $this->assertStringContainsString('api_token must be at least 16 characters', $data['message']);
            $this->assertStringContainsString('STASK_', $data['message'], 'says where to fix it');
            foreach ([$this->dir, '#0 ', '.php', '/usr/'] as $leak) {
                $this->assertStringNotContainsString($leak, $response['body']);
            }
        }
        // The guard still comes first.
        $this->assertSame(419, $this->request('POST', $base . '/stask/tasks')['status']);
        $this->assertStringContainsString('api_token', (string) @file_get_contents($this->dir . '/storage/logs/laravel.log'), 'logged');

        // A command fails loudly instead.
        $command = $this->artisan(['stask:tasks'], ['STASK_API_TOKEN' => 'short']);
        $this->assertNotSame(0, $command->getExitCode());
        $this->assertStringContainsString('api_token must be at least 16 characters', $command->getOutput() . $command->getErrorOutput());
    }

    // ------------------------------------------------------------------ helpers

    /** [method, pattern, alias] of every row of ROUTES in router.rs. */
    private static function engineRoutes(): array
    {
        $source = file_get_contents(self::ROUTER);
        $table = substr($source, strpos($source, 'pub const ROUTES'));
        $table = substr($table, 0, strpos($table, '];'));
        preg_match_all('/\b(r|alias)\("([A-Z]+)", "([^"]*)", Route::\w+\)/', $table, $m, PREG_SET_ORDER);

        return array_map(static fn ($row) => [$row[2], $row[3], $row[1] === 'alias'], $m);
    }

    /** The pattern with sample values for its captures. */
    private static function concrete(string $pattern, array $values = []): string
    {
        $values += ['id' => 999999, 'identifier' => 'report', 'action' => 'csv', 'upload_id' => str_repeat('0', 32), 'index' => 0];

        return preg_replace_callback('/\{(\w+)\}/', static fn ($m) => (string) $values[$m[1]], $pattern);
    }

    /** Logs a manager in (Evolution's native session) and returns the base URL. */
    private function loginAs(int $role): string
    {
        $this->cookies = [];
        $base = $this->serve([]);
        $login = $this->request('GET', $base . '/harness/login?user=' . self::MANAGER . '&role=' . $role);
        $this->assertSame(200, $login['status'], $login['body']);
        $this->assertArrayHasKey('evo_mgr', $this->cookies);

        return $base;
    }

    /** The 403 page the manager's tab shows: HTML naming the permission, no JSON, no redirect. */
    private function assertDeniedPage(array $response): void
    {
        $this->assertSame(403, $response['status']);
        $this->assertStringStartsWith('text/html', $response['headers']['content-type']);
        $this->assertArrayNotHasKey('location', $response['headers']);
        $this->assertStringContainsString('id="stask-access-denied"', $response['body']);
        $this->assertStringContainsString('Access sTask Interface', $response['body']);
    }

    private function assertEveryRouteIsDenied(string $base, string $who): void
    {
        $token = '';
        foreach (array_merge([['GET', '', false], ['GET', 'assets/stask-admin.js', false]], self::engineRoutes()) as [$method, $pattern]) {
            foreach ([[], ['X-CSRF-TOKEN' => $token, 'Accept' => 'application/json']] as $headers) {
                $response = $this->request($method, $base . '/stask/' . self::concrete($pattern), $headers + ['Content-Type' => 'application/json'], '{}');
                $this->assertSame(403, $response['status'], "{$who}: {$method} /stask/{$pattern}");
                if ($pattern === '' && $headers === []) {
                    // The module page opened in the manager's tab: a page that says why, not JSON.
                    $this->assertDeniedPage($response);
                    continue;
                }
                $this->assertStringStartsWith('application/json', $response['headers']['content-type']);
                $this->assertArrayNotHasKey('location', $response['headers']);
                $this->assertSame(self::DENIED, $this->json($response));
            }
        }
        $this->assertSame([], $this->rows('s_tasks'));
    }

    /** A task marked completed with the given raw result (JSON text). */
    private function completedTask(string $result): int
    {
        $this->php('\Seiger\sTask\Facades\sTask::create("report", "csv");');
        $id = (int) $this->rows('s_tasks')[count($this->rows('s_tasks')) - 1]['id'];
        $this->pdo()->prepare("UPDATE {$this->prefix}s_tasks SET status = 30, result = ? WHERE id = ?")->execute([$result, $id]);

        return $id;
    }

    /** Checks keys and value types: 'int', 'number', 'string', 'bool', 'list', 'object', '?type', or a nested shape. */
    private function assertShape(array $shape, $data, string $where): void
    {
        $this->assertIsArray($data, $where);
        foreach ($shape as $key => $type) {
            $this->assertArrayHasKey($key, $data, "{$where}: {$key}");
            $value = $data[$key];
            if (is_array($type)) {
                $this->assertShape($type, $value, "{$where}.{$key}");
                continue;
            }
            if ($type[0] === '?') {
                if ($value === null) {
                    continue;
                }
                $type = substr($type, 1);
            }
            $ok = match ($type) {
                'int' => is_int($value),
                'number' => is_int($value) || is_float($value),
                'string' => is_string($value),
                'bool' => is_bool($value),
                'list' => is_array($value) && array_is_list($value),
                'object' => is_array($value) && ($value === [] || !array_is_list($value)),
            };
            $this->assertTrue($ok, "{$where}: {$key} should be {$type}, got " . json_encode($value));
        }
    }

    private const TASK = [
        'id' => 'int', 'identifier' => 'string', 'action' => 'string', 'status' => 'int', 'status_text' => 'string',
        'message' => '?string', 'started_by' => '?int', 'priority' => 'string', 'progress' => 'int', 'attempts' => 'int',
        'max_attempts' => 'int', 'cancel_requested' => 'bool', 'created_at' => 'string', 'updated_at' => 'string',
        'can_cancel' => 'bool', 'can_retry' => 'bool', 'download_url' => '?string', 'progress_url' => 'string',
    ];

    private const WORKER = [
        'id' => 'int', 'identifier' => 'string', 'class' => 'string', 'title' => 'string', 'description' => 'string',
        'icon' => 'string', 'scope' => 'string', 'active' => 'bool', 'position' => 'int', 'settings' => 'object',
        'schedule' => self::SCHEDULE, 'created_at' => 'string', 'updated_at' => 'string',
    ];

    private const SCHEDULE = ['type' => 'string', 'enabled' => 'bool', 'frequency' => 'string', 'days' => 'list', 'interval' => 'string'];

    private const UPLOADED = [
        'success' => 'bool', 'message' => 'string', 'filename' => 'string', 'uploaded_file' => 'string',
        'original_filename' => 'string', 'file_size' => 'int',
    ];
}
