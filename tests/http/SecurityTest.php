<?php

declare(strict_types=1);

namespace Stask\HttpTests;

use Seiger\sTask\Models\sTaskModel;

/**
 * What an attacker with (or without) the token can try: result paths that
 * leave the storage folder, `..` and %2e%2e in URLs, the assets route,
 * odd methods and bodies, oversized requests. Errors are JSON and never
 * show server paths, source or stack traces.
 */
final class SecurityTest extends HttpTestCase
{
    /**
     * A completed task (made in this process, on the server's database)
     * whose result is $result (the model stores an array as a JSON object).
     */
    private function completedWith(string|array $result): int
    {
        return sTaskModel::create(['identifier' => 'http_dl', 'action' => 'export', 'status' => 30, 'progress' => 100, 'result' => $result])->id;
    }

    public function testDownloadsNeverLeaveTheStorageFolder(): void
    {
        $storage = self::storage();
        $outside = getenv('STASK_HTTP_TMP') . '/outside.csv';
        file_put_contents($outside, "secret,outside\n");
        @mkdir("{$storage}/exports", 0775, true);
        $tag = bin2hex(random_bytes(4));
        symlink('/etc/passwd', "{$storage}/exports/link-{$tag}.csv");
        symlink('/etc', "{$storage}/exports/dir-{$tag}");
        symlink($outside, "{$storage}/exports/out-{$tag}.csv");
        mkdir("{$storage}/exports/folder-{$tag}.csv");
        $attacks = [
            '/etc/passwd', 'file:///etc/passwd', '../../../../../../etc/passwd', "exports/../../outside.csv", $outside,
            "{$storage}/../outside.csv", "{$storage}/exports/../../outside.csv", ['file' => '/etc/passwd'],
            ['path' => '../outside.csv'], ['file_path' => $outside], ['filename' => '/etc/hostname'],
            "exports/link-{$tag}.csv", "{$storage}/exports/link-{$tag}.csv", "exports/dir-{$tag}/passwd", "exports/out-{$tag}.csv",
            "exports/folder-{$tag}.csv", 'exports', '.', $storage, "{$storage}/", 'missing.csv', ['rows' => 5], '42',
            'null', '""', '/', "exports/x\u{0}.csv", '%2e%2e/outside.csv', 'exports\\..\\..\\outside.csv',
        ];
        if (getenv('STASK_TEST_BACKEND') === 'sqlite') {
            $attacks[] = 'stask.sqlite';
            $attacks[] = "{$storage}/stask.sqlite";
        }
        foreach ($attacks as $result) {
            $id = $this->completedWith($result);
            foreach (["/tasks/{$id}/download", "/task/{$id}/download"] as $path) {
                $r = $this->send('GET', $path);
                $data = $this->assertError($r, 404, 'Export file not found', json_encode($result));
                $this->assertSame(404, $data['code']);
                $this->assertNull($r->header('content-disposition'));
                $this->assertStringNotContainsString('root:', $r->body);
                $this->assertStringNotContainsString('secret', $r->body);
                $this->assertSame('Export file is not available', $data['message']);
            }
            $this->assertNull($this->ok('GET', "/tasks/{$id}")['task']['download_url'], json_encode($result));
        }
        // The same names inside the storage folder are served: absolute, relative, in an object.
        file_put_contents("{$storage}/exports/fine-{$tag}.txt", 'inside');
        foreach (["{$storage}/exports/fine-{$tag}.txt", "exports/fine-{$tag}.txt", ['path' => "exports/fine-{$tag}.txt"]] as $result) {
            $id = $this->completedWith($result);
            $r = $this->send('GET', "/tasks/{$id}/download");
            $this->assertSame([200, 'inside'], [$r->status, $r->body], json_encode($result));
            $this->assertMatchesRegularExpression('~^text/plain~', (string) $r->header('content-type'));
            $t = $this->ok('GET', "/tasks/{$id}")['task'];
            $this->assertSame("/stask/tasks/{$id}/download", $t['download_url']);
            $this->assertStringNotContainsString($storage, json_encode($t, JSON_UNESCAPED_SLASHES));
        }
    }

    public function testDotSegmentsInApiPathsAreRefused(): void
    {
        foreach ([
            '/stask/../index.php', '/stask/..', '/stask/%2e%2e/index.php', '/stask/%2E%2E/php/autoload.php', '/stask/tasks/%2e%2e/%2e%2e/etc/passwd',
            '/stask/tasks/1/%2e%2e/download', '/stask/./tasks', '/stask/tasks/%2e', '/stask/workers/..%2f..%2fetc', '/stask/workers/a%2fb',
            '/stask/tasks/1%00', '/stask/workers/%00', '/stask/%zz', '/stask/tasks/%', '/stask/uploads/..%2F..%2Fetc/complete',
            '/stask/tasks/1/download/..', '/stask/workers/product/tasks/..%5c..%5cx',
        ] as $target) {
            foreach (['GET', 'POST'] as $method) {
                $r = $this->request($method, $target);
                $this->assertContains($r->status, [400, 404, 405], "{$method} {$target}: {$r->body}");
                $this->assertError($r, $r->status, null, "{$method} {$target}");
                $this->assertStringNotContainsString('<?php', $r->body);
            }
        }
        $this->assertError($this->request('GET', '/stask/../index.php'), 400, 'Bad Request');
        $this->assertError($this->request('GET', '/stask/tasks/%2e%2e'), 400, 'Bad Request');
    }

    public function testTheAssetsRouteServesOnlyPlainAssetFiles(): void
    {
        $r = $this->request('GET', '/assets/stask-admin.js', null, ['authorization' => null]);
        $this->assertSame(200, $r->status);
        $this->assertMatchesRegularExpression('~^text/javascript~', (string) $r->header('content-type'));
        $this->assertSame('nosniff', $r->header('x-content-type-options'));
        $this->assertSame(file_get_contents(getenv('STASK_HTTP_ROOT') . '/php/assets/stask-admin.js'), $r->body);
        $head = $this->request('HEAD', '/assets/stask-admin.css');
        $this->assertSame([200, ''], [$head->status, $head->body]);
        foreach ([
            '/assets/../index.php', '/assets/../public/index.php', '/assets/..%2Findex.php', '/assets/%2e%2e/index.php',
            '/assets/%2e%2e%2fpublic%2findex.php', '/assets/..%2f..%2fphp%2fautoload.php', '/assets/.htaccess', '/assets/.hidden.js',
            '/assets/stask-admin.js%00.php', '/assets/index.php', '/assets/', '/assets/missing.js', '/assets/..\\index.php',
            '/assets//etc/passwd', '/assets/%2fetc%2fpasswd', '/php/public/index.php', '/php/autoload.php', '/src/lib.rs',
            '/.git/config', '/composer.json', '/stask.sqlite',
        ] as $target) {
            $r = $this->request('GET', $target);
            $this->assertSame(404, $r->status, "{$target}: " . substr($r->body, 0, 200));
            $data = $this->jsonOf($r);
            $this->assertFalse($data['success']);
            $this->assertStringNotContainsString('<?php', $r->body, $target);
            $this->assertStringNotContainsString('declare(strict_types', $r->body, $target);
            $this->assertNoLeak($r);
        }
        // The page itself is HTML, never the script's source.
        foreach (['/', '/index.php', '/stask'] as $target) {
            $r = $this->request('GET', $target, null, ['authorization' => null]);
            $this->assertSame(200, $r->status);
            $this->assertMatchesRegularExpression('~^text/html~', (string) $r->header('content-type'));
            $this->assertStringNotContainsString('<?php', $r->body);
            $this->assertStringNotContainsString(self::token(), $r->body);
        }
    }

    public function testOddMethodsHeadersAndBodies(): void
    {
        $r = $this->request('PATCH', '/stask/tasks');
        $this->assertError($r, 405, 'Method Not Allowed');
        $this->assertSame('GET, POST', $r->header('allow'));
        $r = $this->request('OPTIONS', '/stask/tasks/1');
        $this->assertSame(405, $r->status);
        $this->assertSame('GET', $r->header('allow'));
        $this->assertError($this->request('PROPFIND', '/stask/health'), 405, 'Method Not Allowed');
        $this->assertError($this->request('GET', '/stask/no/such/route'), 404, 'Not Found');
        $this->assertError($this->request('GET', '/stask/' . str_repeat('a/', 300)), 404, 'Not Found');
        $this->assertError($this->request('GET', '/nothing-here'), 404);
        // JSON under other content types is still JSON; broken JSON is a 400 whatever it claims to be.
        $this->assertSame(200, $this->request('POST', '/stask/cache/clear', '{}', ['content-type' => 'text/plain'])->status);
        $this->assertSame(200, $this->request('POST', '/stask/cache/clear', '{}')->status);
        foreach (['application/json', 'text/plain', 'application/json; charset=utf-16', ''] as $type) {
            $this->assertError($this->request('POST', '/stask/clean', '{"days":1', $type === '' ? [] : ['content-type' => $type]), 400, 'Malformed JSON', $type);
        }
        $this->assertError($this->request('POST', '/stask/tasks', '<task><identifier>x</identifier></task>', ['content-type' => 'application/xml']), 400, 'Malformed JSON');
        $deep = str_repeat('[', 5000) . str_repeat(']', 5000);
        $this->assertContains($this->request('POST', '/stask/tasks', $deep, ['content-type' => 'application/json'])->status, [400, 422]);
        $r = $this->request('GET', '/stask/tasks?status=' . rawurlencode("pending\r\nX-Injected: 1"));
        $this->assertError($r, 422, 'Validation failed');
        $this->assertNull($r->header('x-injected'));
        $this->assertSame(200, $this->request('GET', '/stask/stats', null, ['x-forwarded-for' => '../../etc', 'content-type' => "\x01"])->status);
    }

    public function testOversizedBodiesAre413(): void
    {
        // The engine's api_max_body, on a server where it is small.
        $small = $this->startServer(['STASK_API_MAX_BODY' => '1K']);
        $this->assertSame(1024, $this->jsonOf($this->request('GET', '/stask/server-limits', null, [], $small))['maxBodySize']);
        $body = json_encode(['identifier' => 'http_idle', 'action' => 'wait', 'data' => ['x' => str_repeat('a', 2000)]]);
        $data = $this->assertError($this->request('POST', '/stask/tasks', $body, ['content-type' => 'application/json'], $small), 413, 'Payload Too Large');
        $this->assertStringContainsString('1024', $data['message']);
        $this->assertSame(200, $this->request('POST', '/stask/cache/clear', '{}', [], $small)->status);
        // The front controller's own cap (STASK_MAX_BODY), before the body is read.
        $capped = $this->startServer(['STASK_MAX_BODY' => '1000']);
        $r = $this->request('POST', '/stask/tasks', str_repeat('x', 5000), ['content-type' => 'application/json'], $capped);
        $this->assertSame(413, $r->status, $r->body);
        $data = $this->jsonOf($r);
        $this->assertFalse($data['success']);
        $this->assertStringContainsString('1000', $data['message']);
        $this->assertNoLeak($r);
        // Without the token the size is not even looked at.
        $this->assertSame(401, $this->request('POST', '/stask/tasks', str_repeat('x', 5000), ['authorization' => null], $small)->status);
    }
}
