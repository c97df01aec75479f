<?php

declare(strict_types=1);

namespace Stask\HttpTests;

/**
 * The API's own routes, statistics, performance and cache: status codes,
 * JSON keys and types, query validation, the Prometheus text, HEAD.
 */
final class SystemRoutesTest extends HttpTestCase
{
    public function testTheRootListsEveryCanonicalRoute(): void
    {
        $data = $this->ok('GET', '/');
        $this->assertSame('sTask API', $data['name']);
        $this->assertIsString($data['version']);
        $this->assertSame($data, $this->ok('GET', ''));
        $routes = array_map(static fn (array $r): string => $r['method'] . ' ' . $r['path'], $data['routes']);
        // Every canonical row of ROUTES (src/engine/api/router.rs), no alias.
        $expected = [
            'GET /stask/', 'GET /stask/stats', 'GET /stask/stats/timeline', 'GET /stask/health', 'GET /stask/processes', 'GET /stask/metrics',
            'POST /stask/clean', 'GET /stask/server-limits', 'GET /stask/tasks', 'POST /stask/tasks', 'POST /stask/tasks/retry',
            'POST /stask/tasks/cancel', 'GET /stask/tasks/{id}',
            'GET /stask/tasks/{id}/progress', 'GET /stask/tasks/{id}/download', 'POST /stask/tasks/{id}/cancel',
            'POST /stask/tasks/{id}/retry', 'POST /stask/tasks/{id}/upload', 'GET /stask/workers', 'POST /stask/workers/discover',
            'POST /stask/workers/rescan', 'POST /stask/workers/clean-orphans', 'GET /stask/workers/{identifier}',
            'POST /stask/workers/{identifier}/activate', 'POST /stask/workers/{identifier}/deactivate',
            'GET /stask/workers/{identifier}/settings', 'PUT /stask/workers/{identifier}/settings',
            'GET /stask/workers/{identifier}/schedule', 'PUT /stask/workers/{identifier}/schedule',
            'GET /stask/workers/{identifier}/widget', 'POST /stask/workers/{identifier}/tasks/{action}',
            'POST /stask/workers/{identifier}/upload', 'POST /stask/workers/{identifier}/uploads',
            'POST /stask/uploads/{upload_id}/chunks/{index}', 'POST /stask/uploads/{upload_id}/complete',
            'GET /stask/performance/summary', 'GET /stask/performance/workers', 'GET /stask/performance/alerts',
            'GET /stask/cache/stats', 'POST /stask/cache/clear',
        ];
        $this->assertEqualsCanonicalizing($expected, $routes);
    }

    public function testHealth(): void
    {
        $data = $this->ok('GET', '/health');
        $this->assertSame('ok', $data['status']);
        $this->assertTrue($data['database']['ok']);
        $this->assertSame(['sqlite' => 'sqlite', 'pgsql' => 'pgsql', 'mariadb' => 'mysql'][getenv('STASK_TEST_BACKEND')], $data['database']['driver']);
        $this->assertIsNumeric($data['database']['latency_ms']);
        $this->assertTrue($data['storage']['ok']);
        $this->assertIsInt($data['queue']['pending']);
        // The suite's worker process (work.php) is registered and beating.
        $this->assertGreaterThanOrEqual(1, $data['processes']['alive']);
        $this->assertIsString($data['processes']['last_heartbeat']);
        $this->assertIsString($data['version']);
        $this->assertMatchesRegularExpression('/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/', $data['time']);
    }

    public function testHeadIsAGetWithoutABody(): void
    {
        foreach (['/health', '/stats', '/metrics', '/tasks', '/workers', '/tasks/abc', '/nope'] as $path) {
            $get = $this->send('GET', $path);
            $head = $this->send('HEAD', $path);
            $this->assertSame($get->status, $head->status, $path);
            $this->assertSame($get->header('content-type'), $head->header('content-type'), $path);
            $this->assertSame('', $head->body, $path);
        }
    }

    public function testMetricsAreThePrometheusTextFormat(): void
    {
        // At least one task row, so the per-worker series have a sample.
        $this->createTask(['identifier' => 'http_metrics']);
        $r = $this->send('GET', '/metrics');
        $this->assertSame(200, $r->status);
        $this->assertSame('text/plain; version=0.0.4; charset=utf-8', $r->header('content-type'));
        $this->assertSame('nosniff', $r->header('x-content-type-options'));
        $counters = ['stask_tasks_processed_total', 'stask_tasks_completed_total', 'stask_tasks_failed_total', 'stask_tasks_retried_total', 'stask_tasks_cancelled_total'];
        $gauges = ['stask_queue_depth', 'stask_tasks_running', 'stask_oldest_pending_age_seconds', 'stask_workers', 'stask_worker_processes', 'stask_scrape_timestamp_seconds'];
        foreach ([...array_fill_keys($counters, 'counter'), ...array_fill_keys($gauges, 'gauge')] as $name => $type) {
            $this->assertMatchesRegularExpression("/^# HELP {$name} \\S.*$/m", $r->body);
            $this->assertStringContainsString("\n# TYPE {$name} {$type}\n", "\n" . $r->body);
        }
        foreach ([...$counters, 'stask_queue_depth', 'stask_tasks_running', 'stask_oldest_pending_age_seconds'] as $name) {
            $this->assertMatchesRegularExpression("/^{$name}\\{worker=\"http_metrics\"\\} [0-9.]+$/m", $r->body);
        }
        $this->assertMatchesRegularExpression('/^stask_queue_depth\{worker="http_metrics"\} [1-9]\d*$/m', $r->body);
        $this->assertMatchesRegularExpression('/^stask_workers\{state="active"\} [1-9]\d*$/m', $r->body);
        $this->assertMatchesRegularExpression('/^stask_workers\{state="inactive"\} \d+$/m', $r->body);
        $this->assertMatchesRegularExpression('/^stask_scrape_timestamp_seconds \d{10}$/m', $r->body);
        $this->assertMatchesRegularExpression('/^stask_worker_processes [1-9]\d*$/m', $r->body, 'the suite\'s worker process');
        foreach (explode("\n", rtrim($r->body, "\n")) as $line) {
            $this->assertMatchesRegularExpression('/^(# (HELP|TYPE) \w+ .+|\w+(\{\w+="[^"]*"\})? -?[0-9.e+]+)$/', $line);
        }
    }

    public function testServerLimits(): void
    {
        $data = $this->ok('GET', '/server-limits');
        $this->assertSame(['success', 'maxFileSize', 'chunkSize', 'singleUploadLimit', 'maxChunks', 'maxBodySize', 'phpUploadLimit'], array_keys($data));
        // run.sh: STASK_UPLOAD_MAX_SIZE=64K, STASK_UPLOAD_CHUNK_SIZE=1K, STASK_UPLOAD_MAX_CHUNKS=100, body 1M.
        $this->assertSame(65536, $data['maxFileSize']);
        $this->assertSame(1024, $data['chunkSize']);
        $this->assertSame(65536, $data['singleUploadLimit']);
        $this->assertSame(100, $data['maxChunks']);
        $this->assertSame(1048576, $data['maxBodySize']);
        $this->assertIsInt($data['phpUploadLimit']);
    }

    public function testClean(): void
    {
        $data = $this->ok('POST', '/clean', ['days' => 30]);
        $this->assertMatchesRegularExpression('/^Cleaned \d+ tasks$/', $data['message']);
        foreach (['deleted_tasks', 'deleted_progress_files', 'deleted_uploads'] as $key) {
            $this->assertIsInt($data[$key]);
        }
        $this->assertSame(true, $this->ok('POST', '/clean')['success']);
        foreach ([['days' => -1], ['days' => 36501], ['days' => 'soon'], ['days' => [1]]] as $body) {
            $this->assertSame('days', $this->fails(422, 'POST', '/clean', $body, 'Validation failed')['field']);
        }
        $this->fails(400, 'POST', '/clean', '{"days": ', 'Malformed JSON');
        $this->fails(422, 'POST', '/clean', '"days"', 'Validation failed');
        $this->fails(405, 'GET', '/clean');
    }

    public function testStats(): void
    {
        $r = $this->send('GET', '/stats');
        $this->assertSame(200, $r->status);
        $data = $this->jsonOf($r);
        $this->assertSame(['pending', 'preparing', 'running', 'completed', 'failed', 'cancelled', 'total', 'total_workers', 'active_workers'], array_keys($data));
        foreach ($data as $key => $value) {
            $this->assertIsInt($value, $key);
        }
        $this->assertGreaterThanOrEqual(3, $data['total_workers']);
    }

    public function testTimeline(): void
    {
        $data = $this->ok('GET', '/stats/timeline');
        $this->assertSame(24, $data['hours']);
        $this->assertCount(24, $data['timeline']);
        $this->assertIsString($data['from']);
        $this->assertIsString($data['to']);
        foreach ($data['timeline'] as $hour) {
            $this->assertSame(['hour', 'created', 'completed', 'failed', 'avg_duration'], array_keys($hour));
            $this->assertIsInt($hour['created']);
            $this->assertTrue($hour['avg_duration'] === null || is_numeric($hour['avg_duration']));
        }
        $this->assertSame($data['from'], $data['timeline'][0]['hour']);
        $this->assertGreaterThanOrEqual(1, end($data['timeline'])['created'] + prev($data['timeline'])['created']);
        $this->assertCount(1, $this->ok('GET', '/stats/timeline?hours=1')['timeline']);
        $this->assertCount(744, $this->ok('GET', '/stats/timeline?hours=744')['timeline']);
        foreach (['0', '745', 'abc', '-3', '99999999999999999999'] as $bad) {
            $this->assertSame('hours', $this->fails(422, 'GET', "/stats/timeline?hours={$bad}")['field']);
        }
        $this->assertSame('hours', $this->fails(422, 'GET', '/stats/timeline?hours[]=2')['field']);
    }

    public function testPerformanceSummary(): void
    {
        $data = $this->ok('GET', '/performance/summary?hours=48');
        $this->assertSame(48, $data['period']['hours']);
        $this->assertIsString($data['period']['from']);
        $this->assertIsString($data['period']['to']);
        foreach (['total', 'completed', 'failed', 'running', 'queued', 'cancelled'] as $key) {
            $this->assertIsInt($data['tasks'][$key], "tasks.{$key}");
        }
        foreach (['success_rate', 'average_duration', 'average_memory', 'total_execution_time', 'error_rate'] as $key) {
            $this->assertIsNumeric($data['performance'][$key], "performance.{$key}");
        }
        $this->assertIsArray($data['workers']);
        foreach ($data['workers'] as $identifier => $w) {
            $this->assertSame($identifier, $w['identifier']);
            $this->assertIsInt($w['task_count']);
            $this->assertIsNumeric($w['success_rate']);
        }
        $this->assertIsInt($data['errors']['total_errors']);
        $this->assertIsNumeric($data['errors']['error_rate']);
        $this->assertIsArray($data['errors']['common_errors']);
        $this->assertSame(24, $this->ok('GET', '/performance/summary')['period']['hours']);
        $this->ok('GET', '/performance/summary?hours=8784');
        $this->fails(422, 'GET', '/performance/summary?hours=8785', null, 'Validation failed');
        $this->fails(422, 'GET', '/performance/summary?hours=x', null, 'Validation failed');
    }

    public function testPerformanceWorkers(): void
    {
        $this->createTask(['identifier' => 'http_perf']);
        $data = $this->ok('GET', '/performance/workers?hours=24');
        $this->assertIsArray($data['workers']);
        $this->assertArrayHasKey('http_perf', $data['workers']);
        foreach ($data['workers'] as $identifier => $w) {
            $this->assertSame($identifier, $w['identifier']);
            foreach (['total_tasks', 'completed', 'failed'] as $key) {
                $this->assertIsInt($w[$key], "{$identifier}.{$key}");
            }
            foreach (['success_rate', 'error_rate', 'average_duration', 'total_execution_time', 'average_memory'] as $key) {
                $this->assertIsNumeric($w[$key], "{$identifier}.{$key}");
            }
            $this->assertArrayHasKey('last_execution', $w);
        }
        $one = $this->ok('GET', '/performance/workers?identifier=http_perf')['workers'];
        $this->assertSame(['http_perf'], array_keys($one));
        $this->fails(422, 'GET', '/performance/workers?hours=0', null, 'Validation failed');
    }

    public function testPerformanceAlerts(): void
    {
        $data = $this->ok('GET', '/performance/alerts');
        $this->assertIsArray($data['alerts']);
        foreach ($data['alerts'] as $a) {
            $this->assertSame(['type', 'severity', 'message', 'value', 'threshold'], array_keys($a));
            $this->assertContains($a['type'], ['low_success_rate', 'high_execution_time', 'high_memory_usage', 'no_worker_process']);
        }
    }

    public function testCache(): void
    {
        $stats = $this->ok('GET', '/cache/stats')['cache_stats'];
        $this->assertSame(['hits', 'misses', 'evictions', 'hit_rate', 'cache_size', 'memory_usage'], array_keys($stats));
        foreach (['hits', 'misses', 'evictions', 'cache_size', 'memory_usage'] as $key) {
            $this->assertIsInt($stats[$key], $key);
        }
        $this->assertIsNumeric($stats['hit_rate']);
        $this->assertGreaterThan(0, $stats['memory_usage']);
        $this->assertSame('Cache cleared successfully', $this->ok('POST', '/cache/clear')['message']);
        $this->assertSame('Cache cleared successfully', $this->ok('POST', '/cache/clear', ['identifier' => 'product'])['message']);
        $this->fails(422, 'POST', '/cache/clear', ['identifier' => ['product']], 'Validation failed');
        $this->fails(422, 'POST', '/cache/clear', ['identifier' => "bad\x01name"], 'Validation failed');
        $this->fails(400, 'POST', '/cache/clear', '{identifier: product}', 'Malformed JSON');
        $this->assertSame('POST', $this->send('GET', '/cache/clear')->header('allow'));
        $this->assertSame('GET', $this->send('POST', '/cache/stats')->header('allow'));
    }
}
