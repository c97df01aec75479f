<?php

declare(strict_types=1);

namespace Stask\HttpTests;

use Seiger\sTask\Models\sWorker;

/**
 * The worker routes, canonical and alias paths: registry, activation,
 * settings and schedule (validated), widget, the run route's refusals, and
 * discovery/rescan/orphan cleanup in the server process.
 */
final class WorkerRoutesTest extends HttpTestCase
{
    public function testListAndShow(): void
    {
        $data = $this->ok('GET', '/workers');
        $this->assertSame($data['total'], count($data['workers']));
        $byId = array_column($data['workers'], null, 'identifier');
        foreach (['product', 'email_campaign', 'product_sync'] as $identifier) {
            $this->assertArrayHasKey($identifier, $byId);
            $this->assertWorker($byId[$identifier]);
        }
        $this->assertSame('Examples\Workers\ProductWorker', $byId['product']['class']);
        $this->assertSame(['export', 'import'], $byId['product']['actions']);
        $active = array_column($this->ok('GET', '/workers?active=1')['workers'], 'active');
        $this->assertNotContains(false, $active);
        $this->assertNotContains(true, array_column($this->ok('GET', '/workers?active=false')['workers'], 'active'));
        $this->fails(422, 'GET', '/workers?active=maybe', null, 'Validation failed');
        foreach (['/workers/product', '/worker/product', '/workers/product/'] as $path) {
            $w = $this->ok('GET', $path)['worker'];
            $this->assertWorker($w);
            $this->assertSame('product', $w['identifier']);
        }
        $this->fails(404, 'GET', '/workers/no_such_worker', null, 'Worker not found');
        $this->fails(404, 'GET', '/worker/' . rawurlencode('ünïcode näme'), null, 'Worker not found');
        $this->fails(400, 'GET', '/workers/bad%01name', null, 'Bad Request');
        $this->fails(400, 'GET', '/workers/' . str_repeat('w', 256), null, 'Bad Request');
        $this->fails(400, 'GET', '/workers/%zz', null, 'Bad Request');
        $this->assertSame('GET', $this->send('PUT', '/workers')->header('allow'));
        $r = $this->send('DELETE', '/workers/product');
        $this->assertError($r, 405, 'Method Not Allowed');
        $this->assertSame('GET', $r->header('allow'));
    }

    public function testActivateAndDeactivateByPathAndByBody(): void
    {
        foreach ([
            ['/workers/email_campaign/activate', null, true, 'Worker activated'],
            ['/workers/email_campaign/deactivate', null, false, 'Worker deactivated'],
            ['/worker/email_campaign/activate', null, true, 'Worker activated'],
            ['/worker/email_campaign/deactivate', null, false, 'Worker deactivated'],
            ['/worker/activate', ['identifier' => 'email_campaign'], true, 'Worker activated'],
            ['/worker/deactivate', ['identifier' => 'email_campaign'], false, 'Worker deactivated'],
        ] as [$path, $body, $active, $message]) {
            $data = $this->ok('POST', $path, $body);
            $this->assertSame($message, $data['message'], $path);
            $this->assertWorker($data['worker']);
            $this->assertSame([$active, 'email_campaign'], [$data['worker']['active'], $data['worker']['identifier']], $path);
            $this->assertSame($active, $this->ok('GET', '/workers/email_campaign')['worker']['active']);
        }
        $r = $this->request('POST', '/stask/worker/activate', 'identifier=email_campaign&_token=x', ['content-type' => 'application/x-www-form-urlencoded']);
        $this->assertTrue($this->jsonOf($r)['worker']['active']);
        $this->ok('POST', '/worker/deactivate', ['identifier' => 'email_campaign']);
        $this->fails(404, 'POST', '/workers/no_such_worker/activate', null, 'Worker not found');
        $this->fails(404, 'POST', '/worker/deactivate', ['identifier' => 'no_such_worker'], 'Worker not found');
        $this->assertSame('identifier', $this->fails(422, 'POST', '/worker/activate', [], 'Validation failed')['field']);
        $this->assertSame('identifier', $this->fails(422, 'POST', '/worker/activate', ['identifier' => ['product']])['field']);
        $this->fails(422, 'POST', '/worker/activate', ['identifier' => "a\nb"], 'Validation failed');
        $this->fails(400, 'POST', '/worker/activate', '{"identifier":', 'Malformed JSON');
        $this->assertSame('POST', $this->send('GET', '/workers/product/activate')->header('allow'));
    }

    public function testSettings(): void
    {
        $base = '/workers/email_campaign/settings';
        $this->ok('PUT', '/workers/email_campaign/schedule', ['type' => 'periodic', 'frequency' => 'daily', 'time' => '7:05']);
        $data = $this->ok('PUT', $base, ['batch' => 50, 'allowed_extensions' => ['csv', 'TXT2'], 'timeout' => 30.5]);
        $this->assertSame(['success', 'identifier', 'settings', 'message'], array_keys($data));
        $this->assertSame('Settings saved', $data['message']);
        $this->assertSame('07:05', $data['settings']['schedule']['time'], 'a stored schedule is kept when the body has none');
        $this->assertSame(50, $data['settings']['batch']);
        $got = $this->ok('GET', $base);
        $this->assertSame(['success', 'identifier', 'settings'], array_keys($got));
        $this->assertSame($data['settings'], $got['settings']);
        // The wrapped form, through the POST alias; a schedule in it is validated and stored complete.
        $data = $this->ok('POST', $base, ['settings' => ['batch' => 5, 'schedule' => ['type' => 'manual']]]);
        $this->assertSame(5, $data['settings']['batch']);
        $this->assertSame('manual', $data['settings']['schedule']['type']);
        $this->assertCount(11, $data['settings']['schedule']);
        $this->assertSame($data['settings'], $this->ok('GET', '/workers/email_campaign')['worker']['settings']);
        $this->assertInvalid('PUT', $base, [
            [['settings' => 'x'], 'settings'],
            [['settings' => [1, 2]], 'settings'],
            [['allowed_extensions' => 'csv'], 'allowed_extensions'],
            [['allowed_extensions' => ['.csv']], 'allowed_extensions'],
            [['allowed_extensions' => ['c/v']], 'allowed_extensions'],
            [['allowed_extensions' => [5]], 'allowed_extensions'],
            [['timeout' => -1], 'timeout'],
            [['timeout' => 86401], 'timeout'],
            [['timeout' => 'long'], 'timeout'],
            [['schedule' => 'daily'], 'schedule'],
            [['schedule' => ['type' => 'yearly']], 'type'],
            [['schedule' => ['type' => 'cron']], 'expression'],
        ]);
        $this->fails(422, 'PUT', $base, '[1]', 'Validation failed');
        $this->fails(422, 'PUT', $base, '"text"', 'Validation failed');
        $this->fails(400, 'PUT', $base, '{"batch": 1', 'Malformed JSON');
        $this->fails(413, 'PUT', $base, ['blob' => str_repeat('s', 70 * 1024)], 'Payload Too Large');
        $this->assertSame(5, $this->ok('GET', $base)['settings']['batch'], 'refused settings change nothing');
        $this->fails(404, 'GET', '/workers/no_such_worker/settings', null, 'Worker not found');
        $this->fails(404, 'PUT', '/workers/no_such_worker/settings', [], 'Worker not found');
        $this->assertSame('GET, PUT, POST', $this->send('DELETE', $base)->header('allow'));
        $this->ok('PUT', $base, []);
    }

    public function testSchedule(): void
    {
        $base = '/workers/product_sync/schedule';
        $get = $this->ok('GET', $base);
        $this->assertSame(['success', 'identifier', 'next_run', 'schedule'], array_keys($get));
        $this->assertSame(['type', 'enabled', 'datetime', 'time', 'frequency', 'days', 'start_time', 'end_time', 'interval', 'expression', 'missed'], array_keys($get['schedule']));
        foreach ([
            [['type' => 'manual'], ['type' => 'manual', 'enabled' => false]],
            [['type' => 'once', 'enabled' => true, 'datetime' => '2030-01-02T03:04'], ['datetime' => '2030-01-02 03:04:00', 'enabled' => true]],
            [['type' => 'periodic', 'time' => '*:30', 'enabled' => '1'], ['frequency' => 'hourly', 'time' => '*:30', 'enabled' => true]],
            [['type' => 'periodic', 'frequency' => 'weekly', 'time' => '9:05', 'days' => ['Friday', 'monday']], ['time' => '09:05', 'days' => ['monday', 'friday']]],
            [['type' => 'periodic', 'frequency' => 'weekly', 'time' => '23:59', 'days' => 'sunday,SATURDAY'], ['days' => ['sunday', 'saturday']]],
            [['type' => 'regular', 'start_time' => '22:00', 'end_time' => '2:00', 'interval' => 'every_15min'], ['start_time' => '22:00', 'end_time' => '02:00', 'interval' => 'every_15min']],
            [['type' => 'cron', 'enabled' => true, 'expression' => '*/10  8-18 * * mon-fri', 'missed' => 'run_once'], ['expression' => '*/10 8-18 * * mon-fri', 'missed' => 'run_once']],
        ] as [$body, $expected]) {
            foreach ([['PUT', $body], ['POST', ['schedule' => $body]]] as [$method, $sent]) {
                $data = $this->ok($method, $base, $sent);
                $this->assertSame('Schedule saved', $data['message']);
                $this->assertCount(11, $data['schedule']);
                $this->assertSame($data['next_run'], $this->ok('GET', $base)['next_run']);
                foreach ($expected as $key => $value) {
                    $this->assertSame($value, $data['schedule'][$key], "{$method} " . json_encode($body) . " {$key}");
                }
                $this->assertSame($data['schedule'], $this->ok('GET', $base)['schedule']);
            }
        }
        $before = $this->ok('GET', $base)['schedule'];
        $this->assertInvalid('PUT', $base, [
            [[], 'type'],
            [['type' => 'yearly'], 'type'],
            [['type' => 'cron'], 'expression'],
            [['type' => 'cron', 'expression' => '0 3 * *'], 'expression'],
            [['type' => 'cron', 'expression' => '0 3 * * * *'], 'expression'],
            [['type' => 'cron', 'expression' => '0 3 31 2 *'], 'expression'],
            [['type' => 'manual', 'missed' => 'later'], 'missed'],
            [['type' => 'regular', 'start_time' => '9:10', 'end_time' => '9:50'], 'interval'],
            [['type' => 5], 'type'],
            [['type' => 'manual', 'extra' => 1], 'extra'],
            [['type' => 'manual', 'enabled' => 'perhaps'], 'enabled'],
            [['type' => 'once'], 'datetime'],
            [['type' => 'once', 'datetime' => 'tomorrow'], 'datetime'],
            [['type' => 'once', 'datetime' => '2030-02-30 10:00'], 'datetime'],
            [['type' => 'periodic'], 'time'],
            [['type' => 'periodic', 'frequency' => 'daily', 'time' => '25:00'], 'time'],
            [['type' => 'periodic', 'frequency' => 'daily', 'time' => '10:75'], 'time'],
            [['type' => 'periodic', 'frequency' => 'daily', 'time' => '1000'], 'time'],
            [['type' => 'periodic', 'frequency' => 'daily', 'time' => '*:00'], 'time'],
            [['type' => 'periodic', 'frequency' => 'hourly', 'time' => '10:00'], 'time'],
            [['type' => 'periodic', 'frequency' => 'monthly', 'time' => '10:00'], 'frequency'],
            [['type' => 'periodic', 'frequency' => 'weekly', 'time' => '10:00'], 'days'],
            [['type' => 'periodic', 'frequency' => 'weekly', 'time' => '10:00', 'days' => []], 'days'],
            [['type' => 'periodic', 'frequency' => 'weekly', 'time' => '10:00', 'days' => ['funday']], 'days'],
            [['type' => 'periodic', 'frequency' => 'weekly', 'time' => '10:00', 'days' => [1]], 'days'],
            [['type' => 'regular', 'start_time' => '9:00'], 'end_time'],
            [['type' => 'regular', 'start_time' => '9:00', 'end_time' => '24:00'], 'end_time'],
            [['type' => 'regular', 'start_time' => '9:00', 'end_time' => '10:00', 'interval' => 'every_7min'], 'interval'],
            [['schedule' => 'daily'], 'schedule'],
            [['schedule' => ['type' => 'once']], 'datetime'],
        ]);
        $this->fails(422, 'PUT', $base, '[1]', 'Validation failed');
        $this->fails(400, 'PUT', $base, '{"type": manual}', 'Malformed JSON');
        $this->assertSame($before, $this->ok('GET', $base)['schedule'], 'refused schedules change nothing');
        $this->fails(404, 'GET', '/workers/no_such_worker/schedule', null, 'Worker not found');
        $this->fails(404, 'PUT', '/workers/no_such_worker/schedule', ['type' => 'manual'], 'Worker not found');
        $this->assertSame('GET, PUT, POST', $this->send('PATCH', $base)->header('allow'));
        $this->ok('PUT', $base, ['type' => 'manual']);
    }

    public function testWidget(): void
    {
        $data = $this->ok('GET', '/workers/product/widget');
        $this->assertSame(['success', 'identifier', 'html'], array_keys($data));
        $this->assertSame('product', $data['identifier']);
        $this->assertStringContainsString('Products', $data['html']);
        $this->fails(404, 'GET', '/workers/no_such_worker/widget', null, 'Worker not found');
        $this->assertSame('GET', $this->send('POST', '/workers/product/widget')->header('allow'));
    }

    public function testTheRunRouteRefusals(): void
    {
        $this->fails(404, 'POST', '/workers/no_such_worker/tasks/import', [], 'Worker not found');
        $this->fails(404, 'POST', '/worker/product/run/explode', [], 'Action not found');
        $this->fails(404, 'POST', '/workers/product/tasks/readCsv', [], 'Action not found');
        $this->fails(409, 'POST', '/workers/product_sync/tasks/import', [], 'Conflict');
        foreach (['ex.port', 'ex%20port', 'ex%3Bport', str_repeat('a', 65)] as $action) {
            $this->fails(400, 'POST', "/workers/product/tasks/{$action}", [], 'Bad Request');
        }
        $this->fails(400, 'POST', '/workers/product/tasks/%2e%2e', [], 'Bad Request');
        $this->assertSame('options', $this->fails(422, 'POST', '/workers/product/tasks/import', ['options' => 'rows=3'], 'Validation failed')['field']);
        $this->assertSame('priority', $this->fails(422, 'POST', '/workers/product/tasks/import', ['options' => [], 'priority' => 'asap'], 'Validation failed')['field']);
        $this->assertSame('priority', $this->fails(422, 'POST', '/workers/product/tasks/import', ['options' => [], 'priority' => ['high']])['field']);
        $this->fails(422, 'POST', '/workers/product/tasks/import', '[1]', 'Validation failed');
        $this->fails(400, 'POST', '/workers/product/tasks/import', '{"rows": 3', 'Malformed JSON');
        $this->fails(413, 'POST', '/workers/product/tasks/import', ['blob' => str_repeat('o', 300 * 1024)], 'Payload Too Large');
        $this->assertSame('POST', $this->send('GET', '/workers/product/tasks/import')->header('allow'));
        $this->assertSame('POST', $this->send('GET', '/worker/product/run/import')->header('allow'));
    }

    public function testDiscoverRescanAndCleanOrphans(): void
    {
        // The server discovers through the Composer map run.sh wrote (the example workers).
        sWorker::where('identifier', 'product_sync')->first()?->delete();
        $data = $this->ok('POST', '/workers/discover');
        $this->assertSame(['success', 'message', 'discovered', 'workers'], array_keys($data));
        $this->assertSame(1, $data['discovered']);
        $this->assertSame('Discovered 1 new worker', $data['message']);
        $this->assertSame('product_sync', $data['workers'][0]['identifier']);
        $this->assertFalse($data['workers'][0]['active'], 'new workers are inactive');
        $this->assertWorker($data['workers'][0]);
        $this->assertSame(0, $this->ok('POST', '/workers/discover')['discovered']);

        $w = sWorker::where('identifier', 'product_sync')->first();
        $w->update(['title' => 'Renamed by hand']);
        $data = $this->ok('POST', '/workers/rescan');
        $this->assertSame(['success', 'message', 'updated', 'workers'], array_keys($data));
        $this->assertSame(1, $data['updated']);
        $this->assertSame('Updated 1 worker', $data['message']);
        $this->assertNotSame('Renamed by hand', $data['workers'][0]['title']);
        $this->assertSame(0, $this->ok('POST', '/workers/rescan')['updated']);

        // An orphan: a row whose class no longer loads (rediscovered after each cleanup).
        foreach (['/workers/clean-orphans', '/worker/clean-orphaned'] as $path) {
            $this->orphanWorker('product_sync', 'Gone\\Workers\\MissingWorker');
            $data = $this->ok('POST', $path);
            $this->assertSame(['success' => true, 'message' => 'Removed 1 orphaned workers', 'deleted' => 1], $data);
            $this->fails(404, 'GET', '/workers/product_sync', null, 'Worker not found');
            $this->assertSame(0, $this->ok('POST', $path)['deleted']);
            $this->assertSame(1, $this->ok('POST', '/workers/discover')['discovered']);
        }
        foreach (['/workers/discover', '/workers/rescan', '/workers/clean-orphans', '/worker/clean-orphaned'] as $path) {
            $r = $this->send('PUT', $path);
            $this->assertError($r, 405, 'Method Not Allowed', $path);
            $this->assertContains('POST', explode(', ', (string) $r->header('allow')), $path);
            // GET reaches the worker detail of a worker named like the action.
            $this->fails(404, 'GET', $path, null, 'Worker not found');
        }
    }
}
