<?php

declare(strict_types=1);

namespace Stask\HttpTests;

/**
 * The task routes, canonical and alias paths: list (filters, sort, pages),
 * create, detail, progress, cancel, retry, download of a real result the
 * worker process wrote, and the 400/404/405/409/413/422 answers.
 */
final class TaskRoutesTest extends HttpTestCase
{
    /** Task ids that are not positive decimal integers (400), and ones that do not exist (404). */
    private const BAD_IDS = ['abc', '0', '-1', '1e3', '0x10', '5.0', '99999999999999999999', '%20', '+5'];
    private const MISSING_IDS = ['999999999', '999999999999999999'];

    public function testCreateThroughEveryPathReturnsTheTask(): void
    {
        foreach (['/tasks', '/task', '/task/store'] as $path) {
            $data = $this->ok('POST', $path, [
                'identifier' => 'http_idle', 'action' => 'wait', 'data' => ['path' => $path, 'n' => 1],
                'priority' => 'high', 'max_attempts' => 5, 'start_at' => '2099-01-01T00:00:00Z',
            ]);
            $this->assertSame('Task created successfully', $data['message']);
            $t = $data['task'];
            $this->assertTask($t);
            $this->assertSame(['http_idle', 'wait', 10, 'pending', 'high', 5], [$t['identifier'], $t['action'], $t['status'], $t['status_text'], $t['priority'], $t['max_attempts']]);
            $this->assertSame(['path' => $path, 'n' => 1], $t['meta']);
            $this->assertSame('2099-01-01T00:00:00Z', $t['start_at']);
            $this->assertNull($t['started_by']);
            $this->assertNull($t['download_url']);
            $this->assertTrue($t['can_cancel']);
            $this->assertFalse($t['can_retry']);
        }
        // Numeric priorities, and a form-encoded body with string numbers.
        $this->assertSame('low', $this->createTask(['priority' => 1])['priority']);
        $r = $this->request('POST', '/stask/tasks', 'identifier=http_idle&action=wait&priority=3&max_attempts=2&start_at=2099-01-01', ['content-type' => 'application/x-www-form-urlencoded']);
        $t = $this->jsonOf($r)['task'];
        $this->assertSame([200, 'high', 2], [$r->status, $t['priority'], $t['max_attempts']]);
    }

    public function testCreateRefusesWrongInput(): void
    {
        $base = ['identifier' => 'http_idle', 'action' => 'wait'];
        $this->assertInvalid('POST', '/tasks', [
            [[], 'identifier'],
            [['action' => 'wait'], 'identifier'],
            [['identifier' => 'http_idle'], 'action'],
            [['identifier' => '  ', 'action' => 'wait'], 'identifier'],
            [['identifier' => ['a'], 'action' => 'wait'], 'identifier'],
            [['identifier' => true, 'action' => 'wait'], 'identifier'],
            [$base + ['priority' => ['high']], 'priority'],
            [$base + ['priority' => 'urgent'], 'priority'],
            [$base + ['priority' => 7], 'priority'],
            [$base + ['priority' => null, 'data' => 'text'], 'data'],
            [$base + ['data' => 5], 'data'],
            [$base + ['data' => true], 'data'],
            [$base + ['max_attempts' => 'many'], 'max_attempts'],
            [$base + ['start_at' => 'tomorrow'], 'start_at'],
            [$base + ['start_at' => ['2030-01-01']], 'start_at'],
            [$base + ['status' => 30], 'status'],
            [$base + ['result' => '/etc/passwd'], 'result'],
        ]);
        foreach ([0, 1001, -5] as $bad) {
            $this->assertSame(422, $this->send('POST', '/tasks', $base + ['max_attempts' => $bad])->status, "max_attempts {$bad}");
        }
        foreach (['[1, 2]', '"text"', '42', 'null', 'true'] as $json) {
            $this->fails(422, 'POST', '/tasks', $json, 'Validation failed');
        }
        foreach (['{', '{"identifier": "x",}', "{'identifier': 'x'}", '{"a":1}{"b":2}', "\xff\xfe", '{"identifier": "x"'] as $json) {
            $this->fails(400, 'POST', '/task', $json, 'Malformed JSON');
        }
        // Data over 256 KiB (the body itself is under the 1M limit).
        $this->fails(413, 'POST', '/tasks', $base + ['data' => ['blob' => str_repeat('x', 300 * 1024)]], 'Payload Too Large');
        // A body over the engine's 1M limit, before any parsing.
        $this->fails(413, 'POST', '/tasks', str_repeat(' ', 1024 * 1024 + 10), 'Payload Too Large');
    }

    public function testListPaginatesFiltersAndSorts(): void
    {
        $action = 'list' . bin2hex(random_bytes(3));
        $ids = [];
        foreach (['low', 'normal', 'high'] as $priority) {
            $ids[] = $this->createTask(['action' => $action, 'priority' => $priority])['id'];
        }
        $data = $this->ok('GET', "/tasks?action={$action}&per_page=2");
        $this->assertSame(['page' => 1, 'per_page' => 2, 'total' => 3, 'pages' => 2], $data['pagination']);
        $this->assertSame([$ids[2], $ids[1]], array_column($data['data'], 'id'));
        foreach ($data['data'] as $t) {
            $this->assertTask($t);
        }
        $this->assertSame([$ids[0]], array_column($this->ok('GET', "/tasks?action={$action}&per_page=2&page=2")['data'], 'id'));
        $this->assertSame([], $this->ok('GET', "/tasks?action={$action}&per_page=2&page=9")['data']);
        $this->assertSame($ids, array_column($this->ok('GET', "/tasks?action={$action}&sort=id&dir=asc")['data'], 'id'));
        $this->assertSame([$ids[2]], array_column($this->ok('GET', "/tasks?action={$action}&priority=high")['data'], 'id'));
        $this->assertSame([$ids[2], $ids[0]], array_column($this->ok('GET', "/tasks?action={$action}&priority=3,1")['data'], 'id'));
        $this->assertSame([$ids[1], $ids[0]], array_column($this->ok('GET', "/tasks?action={$action}&priority[]=low&priority[]=normal")['data'], 'id'));
        foreach (['pending', '10', 'queued', 'pending,failed', 'PENDING'] as $status) {
            $this->assertCount(3, $this->ok('GET', "/tasks?action={$action}&status={$status}")['data'], $status);
        }
        $this->assertCount(0, $this->ok('GET', "/tasks?action={$action}&status=finished")['data']);
        $this->assertCount(3, $this->ok('GET', "/tasks?action={$action}&identifier=http_idle")['data']);
        $this->assertCount(3, $this->ok('GET', "/tasks?action={$action}&worker=http_idle")['data']);
        $this->assertCount(0, $this->ok('GET', "/tasks?action={$action}&worker=other")['data']);
        $today = gmdate('Y-m-d');
        $this->assertCount(3, $this->ok('GET', "/tasks?action={$action}&from={$today}&to={$today}")['data']);
        $this->assertCount(0, $this->ok('GET', "/tasks?action={$action}&to=2000-01-01T00:00:00Z")['data']);
        foreach (['id', 'created_at', 'updated_at', 'started_at', 'finished_at', 'status', 'progress', 'identifier', 'action', 'attempts', 'duration'] as $sort) {
            $this->assertCount(3, $this->ok('GET', "/tasks?action={$action}&sort={$sort}&dir=asc")['data'], $sort);
        }
        $all = $this->ok('GET', '/tasks');
        $this->assertSame(20, $all['pagination']['per_page']);
        $this->assertLessThanOrEqual(20, count($all['data']));
        foreach (['status=done', 'status=99', 'status[]=x', 'priority=urgent', 'sort=password', 'sort=id;drop', 'dir=up',
            'page=0', 'page=x', 'per_page=0', 'per_page=101', 'from=yesterday', 'to=2025-13-01', 'identifier[]=a', 'action[x]=1'] as $query) {
            $this->fails(422, 'GET', "/tasks?{$query}", null, 'Validation failed');
        }
        $this->assertSame('GET, POST', $this->send('DELETE', '/tasks')->header('allow'));
        $this->fails(405, 'PUT', '/tasks', [], 'Method Not Allowed');
    }

    public function testShowAndProgressOfAPendingTask(): void
    {
        $t = $this->createTask();
        foreach (["/tasks/{$t['id']}", "/task/{$t['id']}", "/tasks/{$t['id']}/"] as $path) {
            $data = $this->ok('GET', $path);
            $this->assertTask($data['task'], true);
            $this->assertSame($t['id'], $data['task']['id']);
            $this->assertSame([], $data['task']['log_lines']);
            $this->assertSame([], $data['history'], 'no attempt yet');
            $this->assertGreaterThanOrEqual(1, $data['worker_processes'], "the suite's worker process");
        }
        foreach (["/tasks/{$t['id']}/progress", "/task/{$t['id']}/progress"] as $path) {
            $p = $this->ok('GET', $path);
            $this->assertSame(['success', 'code', 'id', 'status', 'progress', 'message', 'message_code', 'message_params', 'eta', 'processed', 'total', 'log_lines', 'log_codes', 'identifier', 'action', 'updated_at'], array_keys($p));
            $this->assertSame([200, $t['id'], 0, 'http_idle', 'wait'], [$p['code'], $p['id'], $p['progress'], $p['identifier'], $p['action']]);
            $this->assertIsString($p['status']);
            $this->assertIsArray($p['log_lines']);
        }
    }

    public function testInvalidAndUnknownIds(): void
    {
        $routes = [['GET', ''], ['GET', '/progress'], ['GET', '/download'], ['POST', '/cancel'], ['POST', '/retry'], ['POST', '/upload']];
        foreach (['/tasks/', '/task/'] as $prefix) {
            foreach ($routes as [$method, $suffix]) {
                foreach (self::BAD_IDS as $id) {
                    $data = $this->fails(400, $method, $prefix . $id . $suffix, null, 'Invalid task ID');
                    $this->assertSame(400, $data['code']);
                    $this->assertSame('error', $data['status']);
                    $this->assertArrayHasKey('id', $data);
                }
                foreach (self::MISSING_IDS as $id) {
                    $data = $this->assertError($this->send($method, $prefix . $id . $suffix), 404);
                    $this->assertContains($data['error'], ['Task not found']);
                }
            }
        }
        $p = $this->fails(404, 'GET', '/tasks/999999999/progress', null, 'Task not found');
        $this->assertSame([404, 999999999, 'not_found'], [$p['code'], $p['id'], $p['status']]);
        $p = $this->fails(400, 'GET', '/tasks/-1/progress', null, 'Invalid task ID');
        $this->assertSame(-1, $p['id']);
        $this->assertNull($this->fails(400, 'GET', '/tasks/abc/progress')['id']);
        // GET /task/store is the detail alias with the id "store".
        $this->fails(400, 'GET', '/task/store', null, 'Invalid task ID');
        // Known paths, other methods.
        foreach ([['DELETE', '/tasks/1', 'GET'], ['POST', '/tasks/1/progress', 'GET'], ['GET', '/tasks/1/cancel', 'POST'],
            ['PUT', '/task/1/retry', 'POST'], ['GET', '/tasks/1/upload', 'POST'], ['POST', '/tasks/1/download', 'GET']] as [$method, $path, $allow]) {
            $r = $this->send($method, $path);
            $this->assertError($r, 405, 'Method Not Allowed', "{$method} {$path}");
            $this->assertSame($allow, $r->header('allow'), "{$method} {$path}");
        }
    }

    public function testCancelAndRetry(): void
    {
        $t = $this->createTask();
        $data = $this->ok('POST', "/tasks/{$t['id']}/cancel");
        $this->assertSame(['success' => true, 'id' => $t['id'], 'status' => 50, 'status_text' => 'cancelled', 'message' => 'Task cancelled'], $data);
        $this->assertStringContainsString('cancelled', $this->fails(409, 'POST', "/task/{$t['id']}/cancel", null, 'Conflict')['message']);
        $shown = $this->ok('GET', "/tasks/{$t['id']}")['task'];
        $this->assertSame([false, true], [$shown['can_cancel'], $shown['can_retry']]);
        $data = $this->ok('POST', "/task/{$t['id']}/retry");
        $this->assertSame(['success' => true, 'id' => $t['id'], 'status' => 10, 'status_text' => 'pending', 'message' => 'Task queued for retry'], $data);
        // Retried, it is due now: the worker process may already hold it (and fail it: no such worker).
        $this->assertContains($this->send('POST', "/tasks/{$t['id']}/retry")->status, [200, 409]);
        $this->fails(400, 'GET', "/tasks/{$t['id']}/download", null, 'Task not completed');
    }

    public function testARunningTaskStopsAtItsNextProgressReport(): void
    {
        $id = $this->ok('POST', '/workers/product/tasks/import', ['rows' => 400, 'pace_ms' => 25])['id'];
        $this->eventually(fn (): ?bool => $this->ok('GET', "/tasks/{$id}/progress")['progress'] > 0 ? true : null);
        $data = $this->ok('POST', "/tasks/{$id}/cancel");
        $this->assertSame([$id, 20, 'running'], [$data['id'], $data['status'], $data['status_text']]);
        $this->assertStringStartsWith('Cancellation requested', $data['message']);
        $t = $this->eventually(function () use ($id): ?array {
            $t = $this->ok('GET', "/tasks/{$id}")['task'];

            return $t['status'] === 50 ? $t : null;
        });
        $this->assertSame(['cancelled', false, true], [$t['status_text'], $t['can_cancel'], $t['can_retry']]);
        $this->assertLessThan(100, $t['progress']);
        $this->fails(409, 'POST', "/tasks/{$id}/cancel", null, 'Conflict');
        $this->fails(400, 'GET', "/tasks/{$id}/download", null, 'Task not completed');
    }

    public function testARunOfTheWorkerProcessReachesOneHundredAndIsDownloadable(): void
    {
        $run = $this->ok('POST', '/workers/product/tasks/export', ['fields' => ['id', 'sku', 'name']]);
        $this->assertSame(['success', 'id', 'message'], array_keys($run));
        $this->assertSame('Task created successfully', $run['message']);
        $id = $run['id'];
        $this->assertIsInt($id);
        $p = $this->eventually(function () use ($id): ?array {
            $p = $this->ok('GET', "/tasks/{$id}/progress");

            return $p['status'] === 'completed' ? $p : null;
        });
        $this->assertSame([100, 50, 50], [$p['progress'], $p['processed'], $p['total']]);
        $this->assertNotEmpty($p['log_lines']);
        $t = $this->ok('GET', "/tasks/{$id}")['task'];
        $this->assertSame([30, 'completed', 100, 'product', 'Products'], [$t['status'], $t['status_text'], $t['progress'], $t['identifier'], $t['worker_title']]);
        $this->assertSame("/stask/tasks/{$id}/download", $t['download_url']);
        $this->assertSame("exports/products_{$id}.csv", $t['result'], 'the result is shown relative to the storage folder, never as a server path');
        $this->assertSame(['fields' => ['id', 'sku', 'name']], $t['meta']);
        $this->assertIsFloat($t['duration'] + 0.0);
        foreach (["/tasks/{$id}/download", "/task/{$id}/download"] as $path) {
            $r = $this->send('GET', $path);
            $this->assertSame(200, $r->status, $r->body);
            // PHP appends its default_charset to text/* types.
            $this->assertMatchesRegularExpression('~^text/csv(;\s*charset=utf-8)?$~i', (string) $r->header('content-type'));
            $this->assertSame("attachment; filename=\"products_{$id}.csv\"; filename*=UTF-8''products_{$id}.csv", $r->header('content-disposition'));
            $this->assertSame((string) strlen($r->body), $r->header('content-length'));
            $this->assertSame('nosniff', $r->header('x-content-type-options'));
            $lines = explode("\n", trim($r->body));
            $this->assertSame(['id,sku,name', '1,SKU-0001,"Product 1"'], array_slice($lines, 0, 2));
            $this->assertCount(51, $lines);
            $head = $this->send('HEAD', $path);
            $this->assertSame([200, '', $r->header('content-length')], [$head->status, $head->body, $head->header('content-length')]);
        }
        $this->fails(409, 'POST', "/tasks/{$id}/cancel", null, 'Conflict');
        $this->fails(409, 'POST', "/tasks/{$id}/retry", null, 'Conflict');
        $this->assertSame($id, $this->ok('GET', "/tasks?status=completed&identifier=product&per_page=100")['data'][0]['id'] ?? null);
    }

    public function testTheRunAliasTakesAWrappedPriority(): void
    {
        $run = $this->ok('POST', '/worker/product/run/import', ['options' => ['rows' => 3], 'priority' => 'high']);
        $t = $this->eventually(function () use ($run): ?array {
            $t = $this->ok('GET', "/tasks/{$run['id']}")['task'];

            return $t['status'] === 30 ? $t : null;
        });
        $this->assertSame(['high', ['rows' => 3], 'import'], [$t['priority'], $t['meta'], $t['action']]);
        $this->assertSame(['source' => 'simulated', 'rows' => 3, 'created' => 0, 'updated' => 3], $t['result']);
        $this->assertNull($t['download_url'], 'a result that names no file is not downloadable');
        $this->fails(404, 'GET', "/tasks/{$run['id']}/download", null, 'Export file not found');
    }
}
