<?php

namespace Tests;

/**
 * The Laravel/Evolution adapter (php/src/Http) over real HTTP: the harness
 * app under `php -S` on 127.0.0.1, its session and CSRF middleware, the
 * shim's evo()->hasPermission() (EVO_PERMISSIONS), and the engine's API
 * behind sTask::handleHttp().
 */
class HttpAdapterTest extends HttpHarnessTestCase
{
    public function testModulePageRendersForAManagerWithThePermission(): void
    {
        $base = $this->serve(['EVO_PERMISSIONS' => 'stask']);
        $page = $this->request('GET', $base . '/stask');

        $this->assertSame(200, $page['status'], $page['body']);
        $this->assertStringStartsWith('text/html', $page['headers']['content-type']);
        $this->assertStringContainsString('<div id="stask-app"', $page['body']);
        $config = $this->pageConfig($page['body']);
        $this->assertSame('/stask', $config['api']);
        $this->assertSame('csrf', $config['auth']);
        $this->assertSame($this->csrfToken($page['body']), $config['csrf']);
        $this->assertNotSame('', $config['csrf']);
        $this->assertSame('Task Manager', $config['strings']['title']);
        $this->assertMatchesRegularExpression('#<script src="/stask/assets/stask-admin\.js\?v=\w+" defer></script>#', $page['body']);

        $script = $this->request('GET', $base . '/stask/assets/stask-admin.js');
        $this->assertSame(200, $script['status']);
        $this->assertStringStartsWith('text/javascript', $script['headers']['content-type']);
        $this->assertSame(file_get_contents(self::APP . '/../../php/assets/stask-admin.js'), $script['body']);
        // No way out of the assets folder (the engine refuses the path as the API's).
        $escape = $this->request('GET', $base . '/stask/assets/..%2F..%2Fsrc%2FHttp%2Froutes.php');
        $this->assertContains($escape['status'], [400, 404]);
        $this->assertStringNotContainsString('<?php', $escape['body']);
    }

    public function testTheModuleSpeaksTheManagersLanguage(): void
    {
        $base = $this->serve(['EVO_PERMISSIONS' => 'stask', 'APP_LOCALE' => 'uk']);
        $config = $this->pageConfig($this->request('GET', $base . '/stask')['body']);

        $this->assertSame('uk', $config['locale']);
        $this->assertSame('Менеджер задач', $config['strings']['title']);
        $this->assertSame('Воркери', $config['strings']['tab_workers']);
    }

    public function testEveryRouteAnswers403WithoutThePermission(): void
    {
        $base = $this->serve(['EVO_PERMISSIONS' => 'other']);
        $page = $this->request('GET', $base . '/stask');
        $this->assertSame(403, $page['status']);
        $this->assertStringContainsString('id="stask-access-denied"', $page['body'], 'the tab gets a page that says why');
        foreach ([['GET', '/stask/stats'], ['GET', '/stask/assets/stask-admin.js'], ['POST', '/stask/workers/discover'], ['GET', '/stask/tasks/1/download']] as [$method, $path]) {
            $response = $this->request($method, $base . $path);
            $this->assertSame(403, $response['status'], "{$method} {$path}");
            $this->assertSame(['success' => false, 'code' => 403, 'message' => 'Access denied: the stask permission is required'], $this->json($response));
        }
    }

    public function testStateChangingRequestsNeedTheSessionsCsrfToken(): void
    {
        $base = $this->serve(['EVO_PERMISSIONS' => 'stask']);
        $token = $this->csrfToken($this->request('GET', $base . '/stask')['body']);

        foreach (['POST' => '/stask/workers/discover', 'PUT' => '/stask/workers/report/settings', 'DELETE' => '/stask/tasks/1', 'PATCH' => '/stask/tasks/1'] as $method => $path) {
            $missing = $this->request($method, $base . $path, ['Content-Type' => 'application/json'], '{}');
            $this->assertSame(419, $missing['status'], "{$method} {$path} without a token");
            $this->assertSame(419, $this->json($missing)['code']);
            $wrong = $this->request($method, $base . $path, ['X-CSRF-TOKEN' => strrev($token), 'Content-Type' => 'application/json'], '{}');
            $this->assertSame(419, $wrong['status'], "{$method} {$path} with a wrong token");
        }
        // Another session's token is no good either.
        $this->cookies = [];
        $this->assertSame(419, $this->request('POST', $base . '/stask/workers/discover', ['X-CSRF-TOKEN' => $token])['status']);
        $this->assertSame([], $this->rows('s_tasks'));
    }

    public function testPostWithTheCsrfTokenReachesTheEngineAsTheManager(): void
    {
        $base = $this->serve(['EVO_PERMISSIONS' => 'stask', 'EVO_USER_ID' => '7']);
        $token = $this->csrfToken($this->request('GET', $base . '/stask')['body']);

        $run = $this->request('POST', $base . '/stask/workers/report/tasks/csv', [
            'X-CSRF-TOKEN' => $token,
            'X-Requested-With' => 'XMLHttpRequest',
            'Content-Type' => 'application/json',
        ], json_encode(['options' => ['rows' => 4]]));
        $this->assertSame(200, $run['status'], $run['body']);
        $created = $this->json($run);
        $this->assertTrue($created['success']);
        $this->assertSame('Task created successfully', $created['message']);

        $rows = $this->rows('s_tasks');
        $this->assertCount(1, $rows);
        $this->assertSame((string) $created['id'], (string) $rows[0]['id']);
        $this->assertSame('report', $rows[0]['identifier']);
        $this->assertSame('csv', $rows[0]['action']);
        $this->assertSame('7', (string) $rows[0]['started_by'], 'the trusted adapter passes the manager id');
        $this->assertSame(['rows' => 4], json_decode($rows[0]['meta'], true));

        // The form field _token works as well as the header.
        $form = $this->request('POST', $base . '/stask/workers/report/deactivate', ['Content-Type' => 'application/x-www-form-urlencoded'], http_build_query(['_token' => $token]));
        $this->assertSame(200, $form['status'], $form['body']);
        $this->assertFalse($this->json($form)['worker']['active']);
    }

    public function testJsonRoutesArePassedThrough(): void
    {
        $base = $this->serve(['EVO_PERMISSIONS' => 'stask']);
        $token = $this->csrfToken($this->request('GET', $base . '/stask')['body']);
        $this->artisanOk(['demo:enqueue', '2']);

        $stats = $this->request('GET', $base . '/stask/stats');
        $this->assertSame(200, $stats['status'], $stats['body']);
        $this->assertStringStartsWith('application/json', $stats['headers']['content-type']);
        $body = $this->json($stats);
        $this->assertSame(2, $body['pending']);
        $this->assertSame(2, $body['total_workers']);

        $list = $this->json($this->request('GET', $base . '/stask/tasks?status=pending&sort=id&dir=asc&per_page=1'));
        $this->assertTrue($list['success']);
        $this->assertSame(['page' => 1, 'per_page' => 1, 'total' => 2, 'pages' => 2], $list['pagination']);
        $id = $list['data'][0]['id'];

        $task = $this->json($this->request('GET', $base . "/stask/tasks/{$id}"))['task'];
        $this->assertSame('demo', $task['identifier']);
        $this->assertSame('pending', $task['status_text']);
        $this->assertTrue($task['can_cancel']);

        // The package's singular alias, and the engine's own errors, unchanged.
        $progress = $this->json($this->request('GET', $base . "/stask/task/{$id}/progress"));
        $this->assertSame($id, $progress['id']);
        $missing = $this->request('GET', $base . '/stask/tasks/999999');
        $this->assertSame(404, $missing['status']);
        $this->assertFalse($this->json($missing)['success']);
        $this->assertSame(404, $this->request('GET', $base . '/stask/no/such/route')['status']);

        $big = $this->request('POST', $base . '/stask/tasks', ['X-CSRF-TOKEN' => $token, 'Content-Type' => 'application/json'], str_repeat(' ', 9 * 1024 * 1024));
        $this->assertSame(413, $big['status']);
        $this->assertSame(413, $this->json($big)['code']);
    }

    public function testDownloadStreamsTheResultFile(): void
    {
        $base = $this->serve(['EVO_PERMISSIONS' => 'stask']);
        $token = $this->csrfToken($this->request('GET', $base . '/stask')['body']);
        $run = $this->json($this->request('POST', $base . '/stask/workers/report/tasks/csv', ['X-CSRF-TOKEN' => $token, 'Content-Type' => 'application/json'], '{"rows": 3}'));
        $id = $run['id'];

        $early = $this->request('GET', $base . "/stask/tasks/{$id}/download");
        $this->assertSame(400, $early['status'], 'a pending task has nothing to download');

        $this->artisanOk(['stask:worker', '--once'], [], 60);
        $task = $this->json($this->request('GET', $base . "/stask/tasks/{$id}"))['task'];
        $this->assertSame('completed', $task['status_text']);
        $this->assertSame("/stask/tasks/{$id}/download", $task['download_url']);

        $download = $this->request('GET', $base . $task['download_url']);
        $this->assertSame(200, $download['status'], $download['body']);
        $this->assertSame("n,square\n1,1\n2,4\n3,9\n", $download['body']);
        $this->assertStringStartsWith('text/csv', $download['headers']['content-type']);
        $this->assertStringContainsString("report_{$id}.csv", $download['headers']['content-disposition']);
        $this->assertStringStartsWith('attachment', $download['headers']['content-disposition']);
        $this->assertSame((string) strlen($download['body']), $download['headers']['content-length']);
    }

    public function testUploadsAreHandedToTheEngine(): void
    {
        $base = $this->serve(['EVO_PERMISSIONS' => 'stask']);
        $token = $this->csrfToken($this->request('GET', $base . '/stask')['body']);
        $boundary = 'stask' . bin2hex(random_bytes(8));
        $body = "--{$boundary}\r\n"
            . "Content-Disposition: form-data; name=\"file\"; filename=\"prices.csv\"\r\n"
            . "Content-Type: text/csv\r\n\r\n"
            . "sku,price\nA-1,10\n\r\n"
            . "--{$boundary}--\r\n";
        $upload = $this->request('POST', $base . '/stask/workers/report/upload', [
            'X-CSRF-TOKEN' => $token,
            'Content-Type' => "multipart/form-data; boundary={$boundary}",
        ], $body);
        $this->assertSame(200, $upload['status'], $upload['body']);
        $stored = $this->json($upload);
        $this->assertSame('prices.csv', $stored['original_filename']);
        $this->assertSame(strlen("sku,price\nA-1,10\n"), $stored['file_size']);
        $this->assertStringEndsWith('.csv', $stored['uploaded_file']);
        $this->assertStringNotContainsString($this->dir, $upload['body'], 'no server paths in the answer');
        $this->assertSame("sku,price\nA-1,10\n", file_get_contents($this->dir . '/storage/stask/' . $stored['uploaded_file']));
    }
}
