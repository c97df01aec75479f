<?php

/**
 * The catalogue of hostile inputs: one row per input, the surface it
 * reaches (an HTTP route through sTask::handleHttp(), or a PHP method), and
 * what must come back: an HTTP status (the API answers, never throws) or the
 * class of the exception a PHP method throws, plus a fragment of the message
 * or body ('' = any). `absent` lists text that must not appear (leaks,
 * injected headers). tests/php/HostileCatalogueTest.php runs every row on
 * every backend, each batch in a child PHP process, so a crash fails the row;
 * docs/security.md shows the same table (tools/hostile-table.php prints it,
 * the test compares).
 *
 * expect: an int status; 'ok' (the PHP call returns); or an exception class
 * (short name, from Seiger\sTask\Exceptions unless it is PHP's own).
 */

declare(strict_types=1);

use Seiger\sTask\Facades\sTask;
use Seiger\sTask\Models\sTaskModel;
use Seiger\sTask\Models\sWorker;
use Stask\Hostile\Hostile;

$r = static fn (string $id, string $surface, string $input, int|string $expect, string $message, \Closure $run, array $absent = []): array
    => compact('id', 'surface', 'input', 'expect', 'message', 'run', 'absent');

$task = static fn (Hostile $h): sTaskModel => sTaskModel::find($h->f['pending']);
$worker = static fn (): sWorker => sTask::getWorker('product');

return [
    // ------------------------------------------------------------ SQL injection
    $r('sql-status', 'GET /tasks', "status=10) OR 1=1 --", 422, 'status', fn (Hostile $h) => $h->query('/tasks', ['status' => '10) OR 1=1 --'])),
    $r('sql-sort', 'GET /tasks', 'sort=id; DROP TABLE s_tasks', 422, 'sort', fn (Hostile $h) => $h->query('/tasks', ['sort' => 'id; DROP TABLE s_tasks'])),
    $r('sql-dir', 'GET /tasks', 'dir=asc, (SELECT 1)', 422, 'dir', fn (Hostile $h) => $h->query('/tasks', ['dir' => 'asc, (SELECT 1)'])),
    $r('sql-identifier', 'GET /tasks', "identifier=' OR '1'='1", 200, '"total":0', fn (Hostile $h) => $h->query('/tasks', ['identifier' => "' OR '1'='1"])),
    $r('sql-action', 'GET /tasks', "action=x'; DELETE FROM s_tasks; --", 200, '"total":0', fn (Hostile $h) => $h->query('/tasks', ['action' => "x'; DELETE FROM s_tasks; --"])),
    $r('sql-priority', 'GET /tasks', "priority=high' OR 1=1", 422, 'priority', fn (Hostile $h) => $h->query('/tasks', ['priority' => "high' OR 1=1"])),
    $r('sql-page', 'GET /tasks', 'page=1 OR 1=1', 422, 'page', fn (Hostile $h) => $h->query('/tasks', ['page' => '1 OR 1=1'])),
    $r('sql-from', 'GET /tasks', "from=2025-01-01' OR 1=1", 422, 'from', fn (Hostile $h) => $h->query('/tasks', ['from' => "2025-01-01' OR 1=1"])),
    $r('sql-task-id', 'GET /tasks/{id}', 'id = `1 OR 1=1`', 400, 'Invalid task ID', fn (Hostile $h) => $h->http('GET', '/tasks/1%20OR%201=1')),
    $r('sql-task-id-semicolon', 'POST /tasks/{id}/cancel', 'id = `1;DELETE FROM s_tasks`', 400, 'Invalid task ID', fn (Hostile $h) => $h->http('POST', '/tasks/1;DELETE%20FROM%20s_tasks/cancel')),
    $r('sql-worker-id', 'GET /workers/{identifier}', "identifier = `' OR ''='`", 404, 'Worker not found', fn (Hostile $h) => $h->http('GET', "/workers/'%20OR%20''='")),
    $r('sql-perf-identifier', 'GET /performance/workers', "identifier=' UNION SELECT …", 200, '"workers":{}', fn (Hostile $h) => $h->query('/performance/workers', ['identifier' => "' UNION SELECT password FROM users --"])),
    $r('sql-model-where-column', 'sTaskModel::where()', "column `id = 1 OR 1`", 'InvalidArgumentException', 'column', fn () => sTaskModel::where('id = 1 OR 1', 1)->count()),
    $r('sql-model-order', 'sTaskModel::orderBy()', 'column `id; DROP TABLE s_tasks`', 'InvalidArgumentException', 'column', fn () => sTaskModel::orderBy('id; DROP TABLE s_tasks')->get()),
    $r('sql-model-direction', 'sTaskModel::orderBy()', "direction `desc; DROP TABLE s_tasks`", 'InvalidArgumentException', 'direction', fn () => sTaskModel::orderBy('id', 'desc; DROP TABLE s_tasks')->get()),
    $r('sql-model-operator', 'Query::where()', "operator `= 1 OR 1 --`", 'InvalidArgumentException', 'operator', fn () => sTaskModel::query()->where('id', '= 1 OR 1 --', 1)->count()),
    $r('sql-model-value', 'Query::where()', "value `' OR 1=1 --`", 'ok', '0', fn () => sTaskModel::where('identifier', "' OR 1=1 --")->count()),
    $r('sql-model-coerce', 'Query::where()', "`where('id', '1abc')` (MySQL would compare it with 1)", 'InvalidArgumentException', 'holds integers', fn () => sTaskModel::where('id', '1abc')->count()),
    $r('sql-model-text-vs-int', 'Query::where()', "`where('identifier', 5)`", 'ok', '0', fn () => sTaskModel::where('identifier', 5)->count()),
    $r('sql-model-bool', 'Query::where()', "`where('cancel_requested', 'maybe')`", 'InvalidArgumentException', 'booleans', fn () => sTaskModel::where('cancel_requested', 'maybe')->count()),
    $r('sql-model-where-in-huge', 'Query::whereIn()', '70,000 values (over the 65,535 parameters of a statement)', 'InvalidArgumentException', 'at most', fn () => sTaskModel::whereIn('id', range(1, 70_000))->count()),
    $r('sql-find', 'sTaskModel::find()', "`'1 OR 1=1'`", 'InvalidArgumentException', 'id', fn () => sTaskModel::find('1 OR 1=1')),
    $r('sql-case-identifier-api', 'GET /workers/{identifier}', 'identifier `PRODUCT` (case differs)', 404, 'Worker not found', fn (Hostile $h) => $h->http('GET', '/workers/PRODUCT')),
    $r('sql-case-identifier-php', 'sTask::getWorker()', "`'PRODUCT'` (identifiers are case-sensitive on every backend)", 'ok', 'null', fn () => sTask::getWorker('PRODUCT')),

    // ------------------------------------------------------------ path traversal
    $r('path-download-absolute', 'GET /tasks/{id}/download', 'result `/etc/passwd`', 404, 'Export file not found', fn (Hostile $h) => $h->http('GET', "/tasks/{$h->f['done']['/etc/passwd']}/download"), ['root:']),
    $r('path-download-dotdot', 'GET /tasks/{id}/download', 'result `../../../etc/passwd`', 404, 'Export file not found', fn (Hostile $h) => $h->http('GET', "/tasks/{$h->f['done']['../../../etc/passwd']}/download")),
    $r('path-download-inner-dotdot', 'GET /tasks/{id}/download', 'result `exports/../../secret.txt`', 404, 'Export file not found', fn (Hostile $h) => $h->http('GET', "/tasks/{$h->f['done']['exports/../../secret.txt']}/download")),
    $r('path-download-database', 'GET /tasks/{id}/download', 'result `stask.sqlite`', 404, 'Export file not found', fn (Hostile $h) => $h->http('GET', "/tasks/{$h->f['done']['stask.sqlite']}/download")),
    $r('path-download-wal', 'GET /tasks/{id}/download', 'result `stask.sqlite-wal` (the SQLite journal)', 404, 'Export file not found', fn (Hostile $h) => $h->http('GET', "/tasks/{$h->f['done']['stask.sqlite-wal']}/download")),
    $r('path-download-symlink', 'GET /tasks/{id}/download', 'result `exports/link.csv` → /etc/passwd', 404, 'Export file not found', fn (Hostile $h) => $h->http('GET', "/tasks/{$h->f['done']['exports/link.csv']}/download")),
    $r('path-download-nul', 'GET /tasks/{id}/download', 'result `exports/ok.csv\0.txt`', 404, 'Export file not found', fn (Hostile $h) => $h->http('GET', "/tasks/{$h->f['done']["exports/ok.csv\0.txt"]}/download")),
    $r('path-api-dotdot', 'any route', 'path `/tasks/../stats`', 400, 'Bad Request', fn (Hostile $h) => $h->http('GET', '/tasks/../stats')),
    $r('path-api-encoded-dotdot', 'any route', 'path `/tasks/%2e%2e/stats`', 400, 'Bad Request', fn (Hostile $h) => $h->http('GET', '/tasks/%2e%2e/stats')),
    $r('path-upload-id', 'POST /uploads/{upload_id}/complete', 'upload id `..%2F..%2Fetc`', 400, 'forbidden segment', fn (Hostile $h) => $h->http('POST', '/uploads/..%2F..%2Fetc/complete')),
    $r('path-upload-filename', 'POST /workers/{identifier}/upload', 'file name `../../shell.csv`', 200, 'uploads/product_', fn (Hostile $h) => $h->upload('/workers/product/upload', '../../shell.csv'), ['../']),
    $r('path-upload-tmp-name', 'POST /workers/{identifier}/upload', '`files.tmp_name` naming a file outside the temp folder (CLI)', 400, 'not a file uploaded', fn (Hostile $h) => $h->http('POST', '/workers/product/upload', ['files' => ['file' => ['name' => 'a.csv', 'type' => 'text/csv', 'tmp_name' => $h->f['victim'], 'error' => 0, 'size' => 1]]])),
    $r('path-chunk-index', 'POST /uploads/{upload_id}/chunks/{index}', 'index `../0`', 400, '', fn (Hostile $h) => $h->http('POST', '/uploads/0123456789abcdef0123456789abcdef/chunks/..%2F0')),

    // ------------------------------------------------------------ oversized
    $r('big-body', 'POST /tasks', 'body of 1.1 MiB (limit 1 MiB)', 413, 'Payload Too Large', fn (Hostile $h) => $h->json('POST', '/tasks', ['identifier' => 'product', 'action' => 'import', 'data' => ['x' => str_repeat('a', 1_150_000)]])),
    $r('big-task-data', 'POST /tasks', 'data of 300 KiB (limit 256 KiB)', 413, '', fn (Hostile $h) => $h->json('POST', '/tasks', ['identifier' => 'product', 'action' => 'import', 'data' => ['x' => str_repeat('a', 300 * 1024)]])),
    $r('big-settings', 'PUT /workers/{identifier}/settings', 'settings of 70 KiB (limit 64 KiB)', 413, 'settings', fn (Hostile $h) => $h->json('PUT', '/workers/product/settings', ['blob' => str_repeat('s', 70 * 1024)])),
    $r('big-upload-size', 'POST /workers/{identifier}/uploads', 'size 10^12', 413, 'size', fn (Hostile $h) => $h->json('POST', '/workers/product/uploads', ['filename' => 'a.csv', 'size' => 10 ** 12])),
    $r('big-create-data', 'sTask::create()', 'data of 300 KiB (PHP callers are trusted with size; the API caps it)', 'ok', 'sTaskModel', fn () => sTask::create('product', 'import', ['x' => str_repeat('a', 300 * 1024)])),
    $r('big-path', 'any route', 'path of 100 KiB', 404, '', fn (Hostile $h) => $h->http('GET', '/' . str_repeat('a', 100 * 1024))),

    // ------------------------------------------------------------ wrong types
    $r('type-identifier-int', 'POST /tasks', '`identifier: 123`', 422, 'identifier', fn (Hostile $h) => $h->json('POST', '/tasks', ['identifier' => 123, 'action' => 'import'])),
    $r('type-identifier-list', 'POST /tasks', '`identifier: ["a"]`', 422, 'identifier', fn (Hostile $h) => $h->json('POST', '/tasks', ['identifier' => ['a'], 'action' => 'import'])),
    $r('type-data-string', 'POST /tasks', '`data: "x"`', 422, 'data', fn (Hostile $h) => $h->json('POST', '/tasks', ['identifier' => 'product', 'action' => 'import', 'data' => 'x'])),
    $r('type-max-attempts', 'POST /tasks', '`max_attempts: "3; DROP"`', 422, 'max_attempts', fn (Hostile $h) => $h->json('POST', '/tasks', ['identifier' => 'product', 'action' => 'import', 'max_attempts' => '3; DROP'])),
    $r('type-max-attempts-zero', 'POST /tasks', '`max_attempts: 0`', 422, 'max_attempts', fn (Hostile $h) => $h->json('POST', '/tasks', ['identifier' => 'product', 'action' => 'import', 'max_attempts' => 0])),
    $r('type-body-list', 'POST /tasks', 'body `[1,2]`', 422, '', fn (Hostile $h) => $h->json('POST', '/tasks', '[1,2]')),
    $r('type-hours-array', 'GET /stats/timeline', '`hours[]=1`', 422, 'hours', fn (Hostile $h) => $h->query('/stats/timeline', ['hours' => ['1']])),
    $r('type-request-path', 'sTask::handleHttp()', "`path: ['/stats']`", 'InvalidArgumentException', 'path', fn () => sTask::handleHttp(['method' => 'GET', 'path' => ['/stats']])),
    $r('type-request-method', 'sTask::handleHttp()', '`method: 5`', 'InvalidArgumentException', 'method', fn () => sTask::handleHttp(['method' => 5, 'path' => '/'])),
    $r('type-request-body', 'sTask::handleHttp()', '`body: []`', 'InvalidArgumentException', 'body', fn () => sTask::handleHttp(['method' => 'POST', 'path' => '/tasks', 'body' => []])),
    $r('type-create-identifier', 'sTask::create()', "`identifier: ['x']`", 'InvalidArgumentException', 'identifier', fn () => sTask::create(['x'], 'import')),
    $r('type-create-data', 'sTask::create()', '`data: "x"`', 'InvalidArgumentException', 'data', fn () => sTask::create('product', 'import', 'x')),
    $r('type-create-user', 'sTask::create()', "`userId: 'abc'`", 'InvalidArgumentException', 'user', fn () => sTask::create('product', 'import', [], 'normal', 'abc')),
    $r('type-model-progress', 'sTaskModel::update()', "`progress: 'abc'`", 'InvalidArgumentException', 'progress', fn (Hostile $h) => $task($h)->update(['progress' => 'abc'])),
    $r('huge-max-attempts-model', 'sTaskModel::update()', '`max_attempts: PHP_INT_MAX`', 'InvalidArgumentException', 'max_attempts', fn (Hostile $h) => $task($h)->update(['max_attempts' => PHP_INT_MAX])),
    $r('huge-worker-position', 'sWorker->update()', '`position: 2^40` (an INTEGER column)', 'InvalidArgumentException', 'position', fn () => $worker()->update(['position' => 2 ** 40])),
    $r('type-object-tostring', 'sTask::create()', 'identifier an object whose __toString throws', 'InvalidArgumentException', 'identifier', fn () => sTask::create(new class () {
        public function __toString(): string
        {
            throw new \RuntimeException('boom');
        }
    }, 'import')),
    $r('type-resource', 'sTask::create()', 'data holding a stream resource', 'InvalidArgumentException', 'data', fn () => sTask::create('product', 'import', ['f' => STDIN])),
    $r('type-closure', 'sTask::create()', 'data holding a closure (stored as an object without properties)', 'ok', '"f":[]', fn () => sTask::create('product', 'import', ['f' => fn () => 1])),

    // ------------------------------------------------------------ NUL bytes
    $r('nul-api-identifier', 'POST /tasks', "`identifier: \"prod\\u0000uct\"`", 422, 'identifier', fn (Hostile $h) => $h->json('POST', '/tasks', ['identifier' => "prod\0uct", 'action' => 'import'])),
    $r('nul-api-action', 'POST /tasks', "`action: \"im\\u0000port\"`", 422, 'action', fn (Hostile $h) => $h->json('POST', '/tasks', ['identifier' => 'product', 'action' => "im\0port"])),
    $r('nul-query', 'GET /tasks', "`identifier=a%00b`", 422, 'identifier', fn (Hostile $h) => $h->query('/tasks', ['identifier' => "a\0b"])),
    $r('nul-path', 'GET /workers/{identifier}', 'identifier `prod%00uct`', 400, '', fn (Hostile $h) => $h->http('GET', '/workers/prod%00uct')),
    $r('nul-create', 'sTask::create()', "identifier `\"prod\\0uct\"`", 'InvalidArgumentException', 'identifier', fn () => sTask::create("prod\0uct", 'import')),
    $r('nul-model-message', 'sTaskModel::create()', "`message: \"x\\0y\"`", 'InvalidArgumentException', 'message', fn () => sTaskModel::create(['identifier' => 'product', 'action' => 'import', 'message' => "x\0y"])),
    $r('nul-worker-title', 'sWorker->update()', "`title: \"a\\0b\"`", 'InvalidArgumentException', 'title', fn () => $worker()->update(['title' => "a\0b"])),
    $r('nul-worker-stats', 'sTask::getWorkerStats()', "identifier `\"a\\0b\"`", 'InvalidArgumentException', 'identifier', fn () => sTask::getWorkerStats("a\0b")),
    $r('nul-perf-query', 'GET /performance/workers', '`identifier=a%00b`', 422, 'identifier', fn (Hostile $h) => $h->query('/performance/workers', ['identifier' => "a\0b"])),
    $r('nul-progress', 'sTask::progress()', "id `\"1\\0\"`", 'InvalidArgumentException', 'id', fn () => sTask::progress("1\0")),

    // ------------------------------------------------------------ invalid UTF-8
    $r('utf8-body', 'POST /tasks', 'JSON body with byte 0xFF in a string', 400, 'Malformed JSON', fn (Hostile $h) => $h->json('POST', '/tasks', "{\"identifier\":\"\xff\",\"action\":\"import\"}")),
    $r('utf8-query-key', 'GET /tasks', 'query key `0xFF 0xFE`', 400, '', fn (Hostile $h) => $h->query('/tasks', ["\xff\xfe" => '1'])),
    $r('utf8-query-value', 'GET /tasks', 'query `identifier=0xC3 0x28`', 400, '', fn (Hostile $h) => $h->query('/tasks', ['identifier' => "\xc3\x28"])),
    $r('utf8-form', 'POST /tasks (form)', 'form field `identifier=0xC3 0x28`', 400, '', fn (Hostile $h) => $h->http('POST', '/tasks', ['form' => ['identifier' => "\xc3\x28", 'action' => 'import'], 'headers' => ['content-type' => 'application/x-www-form-urlencoded']])),
    $r('utf8-header-list-key', 'any route', 'a header value list with the key `0xC3 0x28` (only the values of a list are read)', 200, '"total"', fn (Hostile $h) => $h->http('GET', '/stats', ['headers' => ['x-a' => ["\xc3\x28" => '1']]])),
    $r('utf8-create-identifier', 'sTask::create()', 'identifier `0xFF 0xFE`', 'InvalidArgumentException', 'identifier', fn () => sTask::create("\xff\xfe", 'import')),
    $r('utf8-create-data-key', 'sTask::create()', 'data key `0xFF`', 'InvalidArgumentException', 'UTF-8', fn () => sTask::create('product', 'import', ["\xff" => 1])),
    $r('utf8-create-data-value', 'sTask::create()', 'data value `0xC3 0x28`', 'InvalidArgumentException', 'data', fn () => sTask::create('product', 'import', ['x' => "\xc3\x28"])),
    $r('utf8-bearer', 'any route (bearer)', 'Authorization `Bearer 0xFF…` (bytes no header may hold)', 400, 'headers', fn (Hostile $h) => $h->bearer('GET', '/stats', "Bearer \xff\xfe\xfd-0123456789abcdef")),

    // ------------------------------------------------------------ deep and recursive
    $r('deep-create-recursive', 'sTask::create()', 'data that contains itself', 'InvalidArgumentException', 'recursi', fn () => sTask::create('product', 'import', Hostile::recursive())),
    $r('deep-create-10000', 'sTask::create()', 'data nested 10,000 deep', 'InvalidArgumentException', 'deep', fn () => sTask::create('product', 'import', Hostile::deep(10_000))),
    $r('deep-json-10000', 'POST /tasks', 'JSON nested 10,000 deep', 400, 'Malformed JSON', fn (Hostile $h) => $h->json('POST', '/tasks', Hostile::deepJson(10_000))),
    $r('deep-query-recursive', 'GET /tasks', 'query array that contains itself', 400, '', fn (Hostile $h) => $h->http('GET', '/tasks', ['query' => Hostile::recursive()])),
    $r('deep-form-10000', 'POST /tasks (form)', 'form field nested 10,000 deep', 400, '', fn (Hostile $h) => $h->http('POST', '/tasks', ['form' => ['identifier' => 'product', 'action' => 'import', 'data' => Hostile::deep(10_000)], 'headers' => ['content-type' => 'application/x-www-form-urlencoded']])),
    $r('deep-model-meta', 'sTaskModel::create()', 'meta that contains itself', 'InvalidArgumentException', 'recursi', fn () => sTaskModel::create(['identifier' => 'product', 'action' => 'import', 'meta' => Hostile::recursive()])),
    $r('deep-worker-settings', 'sWorker->update()', 'settings that contain themselves', 'InvalidArgumentException', 'recursi', fn () => $worker()->update(['settings' => Hostile::recursive()])),
    $r('deep-configure', 'sTask::configure()', '`options` nested 10,000 deep', 'ok', '', fn (Hostile $h) => sTask::configure(['options' => Hostile::deep(10_000)] + $h->f['connection'])),

    // ------------------------------------------------------------ NaN, INF, huge numbers
    $r('nan-create-data', 'sTask::create()', 'data `{x: NAN}`', 'InvalidArgumentException', 'NaN', fn () => sTask::create('product', 'import', ['x' => NAN])),
    $r('inf-create-data', 'sTask::create()', 'data `{x: INF}`', 'InvalidArgumentException', 'inf', fn () => sTask::create('product', 'import', ['x' => INF])),
    $r('nan-priority', 'sTask::create()', 'priority `NAN`', 'InvalidArgumentException', 'priority', fn () => sTask::create('product', 'import', [], NAN)),
    $r('nan-progress', 'sTaskModel::update()', '`progress: NAN`', 'InvalidArgumentException', 'progress', fn (Hostile $h) => $task($h)->update(['progress' => NAN])),
    $r('inf-batch', 'sTask::processPendingTasks()', '`INF`', 'InvalidArgumentException', 'batchSize', fn () => sTask::processPendingTasks(INF)),
    $r('nan-clean', 'sTask::cleanOldTasks()', '`NAN`', 'InvalidArgumentException', 'days', fn () => sTask::cleanOldTasks(NAN)),
    $r('huge-json-number', 'POST /tasks', '`max_attempts: 1e400` (out of range for JSON numbers)', 400, 'Malformed JSON', fn (Hostile $h) => $h->json('POST', '/tasks', '{"identifier":"product","action":"import","max_attempts":1e400}')),
    $r('huge-task-id', 'GET /tasks/{id}', 'id `99999999999999999999999`', 400, 'Invalid task ID', fn (Hostile $h) => $h->http('GET', '/tasks/99999999999999999999999')),
    $r('huge-task-id-max', 'GET /tasks/{id}', 'id `9223372036854775807`', 400, 'Invalid task ID', fn (Hostile $h) => $h->http('GET', '/tasks/9223372036854775807')),
    $r('huge-page', 'GET /tasks', '`page=99999999999999999999`', 422, 'page', fn (Hostile $h) => $h->query('/tasks', ['page' => '99999999999999999999'])),
    $r('huge-hours', 'GET /stats/timeline', '`hours=1e308`', 422, 'hours', fn (Hostile $h) => $h->query('/stats/timeline', ['hours' => '1e308'])),
    $r('huge-priority', 'sTask::create()', 'priority `PHP_INT_MAX`', 'InvalidArgumentException', 'priority', fn () => sTask::create('product', 'import', [], PHP_INT_MAX)),
    $r('huge-clean-days', 'POST /clean', '`days: 1e20`', 422, 'days', fn (Hostile $h) => $h->json('POST', '/clean', '{"days": 1e20}')),
    $r('negative-clean-days', 'sTask::cleanOldTasks()', '`-1`', 'InvalidArgumentException', 'days', fn () => sTask::cleanOldTasks(-1)),
    $r('negative-limit', 'Query::limit()', '`-1`', 'InvalidArgumentException', 'limit', fn () => sTaskModel::query()->limit(-1)->get()),

    // ------------------------------------------------------------ unknown keys
    $r('unknown-task-key', 'POST /tasks', '`{…, "status": 30}`', 422, 'status', fn (Hostile $h) => $h->json('POST', '/tasks', ['identifier' => 'product', 'action' => 'import', 'status' => 30])),
    $r('unknown-request-key', 'sTask::handleHttp()', '`bogus: 1`', 'InvalidArgumentException', 'bogus', fn () => sTask::handleHttp(['method' => 'GET', 'path' => '/', 'bogus' => 1])),
    $r('unknown-configure-key', 'sTask::configure()', "`drvier: 'sqlite'`", 'ConfigurationException', 'drvier', fn () => sTask::configure(['drvier' => 'sqlite'])),
    $r('unknown-schedule-key', 'PUT /workers/{identifier}/schedule', '`cron: "* * * * *"`', 422, 'cron', fn (Hostile $h) => $h->json('PUT', '/workers/product/schedule', ['type' => 'manual', 'cron' => '* * * * *'])),
    $r('unknown-model-column', 'sTaskModel::create()', '`password: "x"`', 'InvalidArgumentException', 'password', fn () => sTaskModel::create(['identifier' => 'product', 'action' => 'import', 'password' => 'x'])),

    // ------------------------------------------------------------ executable uploads
    $r('exec-settings-php', 'PUT /workers/{identifier}/settings', '`allowed_extensions: ["php"]`', 422, "'php'", fn (Hostile $h) => $h->json('PUT', '/workers/product/settings', ['allowed_extensions' => ['csv', 'php']])),
    $r('exec-settings-phtml', 'PUT /workers/{identifier}/settings', '`allowed_extensions: ["phtml", "phar"]`', 422, "'phtml'", fn (Hostile $h) => $h->json('PUT', '/workers/product/settings', ['allowed_extensions' => ['phtml', 'phar']])),
    $r('exec-settings-php7', 'PUT /workers/{identifier}/settings', '`allowed_extensions: ["PhP7"]`', 422, "'PhP7'", fn (Hostile $h) => $h->json('PUT', '/workers/product/settings', ['allowed_extensions' => ['PhP7']])),
    $r('exec-settings-svg', 'PUT /workers/{identifier}/settings', '`allowed_extensions: ["svg"]`', 422, "'svg'", fn (Hostile $h) => $h->json('PUT', '/workers/product/settings', ['allowed_extensions' => ['svg']])),
    $r('exec-upload-php', 'POST /workers/{identifier}/upload', 'file `shell.php`', 422, "'.php'", fn (Hostile $h) => $h->upload('/workers/product/upload', 'shell.php', '<?php echo 1;')),
    $r('exec-upload-htaccess', 'POST /workers/{identifier}/upload', 'file `.htaccess`', 422, "'.htaccess'", fn (Hostile $h) => $h->upload('/workers/product/upload', '.htaccess', 'AddHandler php-script .csv')),
    $r('exec-upload-double', 'POST /workers/{identifier}/upload', 'file `shell.php.csv`', 200, '.csv', fn (Hostile $h) => $h->upload('/workers/product/upload', 'shell.php.csv'), ['.php"']),
    $r('exec-chunked-phar', 'POST /workers/{identifier}/uploads', '`filename: "x.phar"`', 422, "'.phar'", fn (Hostile $h) => $h->json('POST', '/workers/product/uploads', ['filename' => 'x.phar', 'size' => 10])),
    $r('exec-task-upload', 'POST /tasks/{id}/upload', 'file `x.pht`', 422, "'.pht'", fn (Hostile $h) => $h->upload("/tasks/{$h->f['pending']}/upload", 'x.pht', '<?php')),
    $r('exec-stored-row', 'POST /workers/{identifier}/upload', 'file `shell.php` after sWorker->update() stored `allowed_extensions: ["php"]`', 422, "'.php'", function (Hostile $h) use ($worker) {
        try {
            $worker()->update(['settings' => ['allowed_extensions' => ['php', 'csv']]]);
        } catch (\Throwable) {
            // the model may refuse it already; the upload must be refused either way
        }
        $response = $h->upload('/workers/product/upload', 'shell.php', '<?php');
        $worker()->update(['settings' => []]);

        return $response;
    }),

    // ------------------------------------------------------------ priorities and statuses
    $r('prio-api-word', 'POST /tasks', '`priority: "urgent"`', 422, 'priority', fn (Hostile $h) => $h->json('POST', '/tasks', ['identifier' => 'product', 'action' => 'import', 'priority' => 'urgent'])),
    $r('prio-api-zero', 'POST /tasks', '`priority: 0`', 422, 'priority', fn (Hostile $h) => $h->json('POST', '/tasks', ['identifier' => 'product', 'action' => 'import', 'priority' => 0])),
    $r('prio-run', 'POST /workers/{identifier}/tasks/{action}', '`priority: "HIGH!"`', 422, 'priority', fn (Hostile $h) => $h->json('POST', '/workers/product/tasks/import', ['options' => [], 'priority' => 'HIGH!'])),
    $r('prio-create-negative', 'sTask::create()', 'priority `-1`', 'InvalidArgumentException', 'priority', fn () => sTask::create('product', 'import', [], -1)),
    $r('status-api-word', 'GET /tasks', '`status=bogus`', 422, 'status', fn (Hostile $h) => $h->query('/tasks', ['status' => 'bogus'])),
    $r('status-model-code', 'sTaskModel::create()', '`status: 99`', 'InvalidArgumentException', 'status', fn () => sTaskModel::create(['identifier' => 'product', 'action' => 'import', 'status' => 99])),
    $r('status-model-word', 'sTaskModel::update()', "`status: 'done'`", 'InvalidArgumentException', 'status', fn (Hostile $h) => $task($h)->update(['status' => 'done'])),

    // ------------------------------------------------------------ schedules
    $r('sched-type', 'PUT /workers/{identifier}/schedule', '`type: "cron"`', 422, 'type', fn (Hostile $h) => $h->json('PUT', '/workers/product/schedule', ['type' => 'cron'])),
    $r('sched-once-missing', 'PUT /workers/{identifier}/schedule', '`type: "once"` without datetime', 422, 'datetime', fn (Hostile $h) => $h->json('PUT', '/workers/product/schedule', ['type' => 'once'])),
    $r('sched-once-bad-date', 'PUT /workers/{identifier}/schedule', '`datetime: "2025-13-45 25:61"`', 422, 'datetime', fn (Hostile $h) => $h->json('PUT', '/workers/product/schedule', ['type' => 'once', 'datetime' => '2025-13-45 25:61'])),
    $r('sched-time', 'PUT /workers/{identifier}/schedule', '`frequency: "daily", time: "24:00"`', 422, 'time', fn (Hostile $h) => $h->json('PUT', '/workers/product/schedule', ['type' => 'periodic', 'frequency' => 'daily', 'time' => '24:00'])),
    $r('sched-days', 'PUT /workers/{identifier}/schedule', '`days: ["funday"]`', 422, 'days', fn (Hostile $h) => $h->json('PUT', '/workers/product/schedule', ['type' => 'periodic', 'frequency' => 'weekly', 'time' => '10:00', 'days' => ['funday']])),
    $r('sched-window', 'PUT /workers/{identifier}/schedule', '`start_time: "99:99"`', 422, 'start_time', fn (Hostile $h) => $h->json('PUT', '/workers/product/schedule', ['type' => 'regular', 'start_time' => '99:99', 'end_time' => '10:00'])),
    $r('sched-interval', 'PUT /workers/{identifier}/schedule', '`interval: "every_1sec"`', 422, 'interval', fn (Hostile $h) => $h->json('PUT', '/workers/product/schedule', ['type' => 'regular', 'start_time' => '09:00', 'end_time' => '10:00', 'interval' => 'every_1sec'])),
    $r('sched-not-object', 'PUT /workers/{identifier}/schedule', '`{"schedule": "daily"}`', 422, 'schedule', fn (Hostile $h) => $h->json('PUT', '/workers/product/schedule', ['schedule' => 'daily'])),

    // ------------------------------------------------------------ header injection
    $r('hdr-authorization-crlf', 'any route (bearer)', 'Authorization `Bearer <token>\r\nX-Injected: 1`', 401, '', fn (Hostile $h) => $h->bearer('GET', '/stats', 'Bearer ' . Hostile::TOKEN . "\r\nX-Injected: 1"), ['X-Injected']),
    $r('hdr-upload-name-crlf', 'POST /workers/{identifier}/upload', "file name `a\\r\\nSet-Cookie: x=1.csv`", 200, 'aSet-Cookie', fn (Hostile $h) => $h->upload('/workers/product/upload', "a\r\nSet-Cookie: x=1.csv"), ["\r", '\\r', '\\n']),
    $r('hdr-download-name-crlf', 'GET /tasks/{id}/download', "result file `exports/evil\\r\\nX-Injected: 1.csv` (an existing file)", 404, 'Export file not found', fn (Hostile $h) => $h->http('GET', "/tasks/{$h->f['done']["exports/evil\r\nX-Injected: 1.csv"]}/download"), ["\r\nX-Injected", "\nX-Injected"]),
    $r('hdr-base-url-crlf', 'GET /', "`base_url: \"/stask\\r\\nLocation: //evil\"` (the adapter's; it only appears JSON-escaped in bodies)", 200, 'routes', fn (Hostile $h) => $h->http('GET', '/', ['base_url' => "/stask\r\nLocation: //evil"]), ["\r\nLocation", "\nLocation"]),

    // ------------------------------------------------------------ authentication and CSRF
    $r('auth-missing', 'any route (bearer)', 'no Authorization header', 401, 'Unauthorized', fn (Hostile $h) => $h->bearer('GET', '/stats', null)),
    $r('auth-wrong', 'any route (bearer)', '`Bearer wrong-token-0123456789`', 401, '', fn (Hostile $h) => $h->bearer('GET', '/stats', 'Bearer wrong-token-0123456789')),
    $r('auth-basic', 'any route (bearer)', '`Basic <token>`', 401, '', fn (Hostile $h) => $h->bearer('GET', '/stats', 'Basic ' . Hostile::TOKEN)),
    $r('auth-unknown-route', 'unknown route (bearer)', 'no token, path `/nope`', 401, '', fn (Hostile $h) => $h->bearer('GET', '/nope', null), ['Not Found']),
    $r('auth-state-change', 'POST /workers/discover (bearer)', 'no token, state-changing request', 401, '', fn (Hostile $h) => $h->bearer('POST', '/workers/discover', null)),
    $r('auth-mode-unknown', 'sTask::handleHttp()', "`auth: {mode: 'csrf'}`", 'InvalidArgumentException', 'mode', fn () => sTask::handleHttp(['method' => 'GET', 'path' => '/', 'auth' => ['mode' => 'csrf']])),
    $r('auth-user-id', 'sTask::handleHttp()', "`auth: {mode: 'trusted', user_id: '1 OR 1'}`", 'InvalidArgumentException', 'user_id', fn () => sTask::handleHttp(['method' => 'GET', 'path' => '/', 'auth' => ['mode' => 'trusted', 'user_id' => '1 OR 1']])),
    $r('auth-csrf-token-ignored', 'POST /tasks', '`_token` in the body (CSRF is the adapter\'s check)', 200, 'Task created', fn (Hostile $h) => $h->http('POST', '/tasks', ['form' => ['identifier' => 'product', 'action' => 'import', '_token' => 'x'], 'headers' => ['content-type' => 'application/x-www-form-urlencoded']])),

    // ------------------------------------------------------------ configure() and workers
    $r('conf-prefix', 'sTask::configure()', "`prefix: 'evo_; DROP TABLE x'`", 'ConfigurationException', 'prefix', fn () => sTask::configure(['prefix' => 'evo_; DROP TABLE x'])),
    $r('conf-memory', 'sTask::configure()', "`database: ':memory:'`", 'ConfigurationException', 'memory', fn () => sTask::configure(['driver' => 'sqlite', 'database' => ':memory:'])),
    $r('conf-scheme', 'sTask::configure()', "`url: 'redis://x'`", 'ConfigurationException', 'redis', fn () => sTask::configure(['url' => 'redis://x'])),
    $r('conf-token', 'sTask::configure()', "`api_token: 'short'`", 'ConfigurationException', 'api_token', fn () => sTask::configure(['api_token' => 'short'])),
    $r('conf-exec-flag', 'sTask::configure()', "`upload_allow_executable: 'maybe'`", 'ConfigurationException', 'upload_allow_executable', fn () => sTask::configure(['upload_allow_executable' => 'maybe'])),
    $r('conf-nan', 'sTask::configure()', '`lease_seconds: NAN`', 'ConfigurationException', 'lease_seconds', fn () => sTask::configure(['lease_seconds' => NAN])),
    $r('conf-size', 'sTask::configure()', "`upload_max_size: '99999999999999999999G'`", 'ConfigurationException', 'upload_max_size', fn () => sTask::configure(['upload_max_size' => '99999999999999999999G'])),
    $r('worker-class-not-worker', 'sWorker->update()', "`class: 'stdClass'`", 'WorkerInvalidInterfaceException', 'TaskInterface', fn () => $worker()->update(['class' => 'stdClass'])),
    $r('worker-class-missing', 'sWorker->update()', "`class: 'Gone\\\\Worker'` (does not load)", 'WorkerClassNotFoundException', "'Gone\\Worker' could not be autoloaded", fn () => $worker()->update(['class' => 'Gone\\Worker'])),
    $r('worker-class-missing-save', 'sWorker->save()', "`\$w->class = 'NoSuchClass'`", 'WorkerClassNotFoundException', 'implements Seiger\\sTask\\Contracts\\TaskInterface', function (): void {
        $w = sTask::getWorker('product');
        $w->class = 'NoSuchClass';
        $w->save();
    }),
    $r('worker-class-missing-query', 'sWorker::where()->update()', "`class: 'NoSuchClass'`", 'WorkerClassNotFoundException', 'could not be autoloaded', fn () => sWorker::where('identifier', 'product')->update(['class' => 'NoSuchClass'])),
    $r('worker-class-abstract', 'sWorker::where()->update()', '`class: BaseWorker` (abstract)', 'WorkerClassNotFoundException', 'abstract', fn () => \Seiger\sTask\Models\sWorker::where('identifier', 'product')->update(['class' => \Seiger\sTask\Workers\BaseWorker::class])),
    $r('worker-register-stdclass', 'sTask::registerWorker()', "`'stdClass'`", 'WorkerInvalidInterfaceException', 'TaskInterface', fn () => sTask::registerWorker('stdClass')),
    $r('worker-register-path', 'sTask::registerWorker()', "`'../../etc/passwd'`", 'WorkerClassNotFoundException', 'could not be autoloaded', fn () => sTask::registerWorker('../../etc/passwd')),
    $r('worker-register-missing', 'sTask::registerWorker()', "`'NoSuchClass'`", 'WorkerClassNotFoundException', "'NoSuchClass' could not be autoloaded", fn () => sTask::registerWorker('NoSuchClass')),
    $r('worker-settings-null', 'sWorker->update()', '`settings: null` (the column is NOT NULL)', 'ok', 'true', fn () => $worker()->update(['settings' => null])),
    $r('worker-empty-identifier', 'sWorker->update()', "`identifier: ''`", 'InvalidArgumentException', 'identifier', fn () => $worker()->update(['identifier' => ''])),
];
