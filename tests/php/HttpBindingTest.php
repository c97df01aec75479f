<?php

declare(strict_types=1);

namespace Stask\Tests;

use Examples\Workers\ProductWorker;
use Seiger\sTask\Exceptions\InvalidArgumentException;
use Seiger\sTask\Facades\sTask;

/**
 * sTask::handleHttp(), the binding the Laravel routes and the front
 * controller call: the request array is checked (a malformed one throws),
 * the response array has the agreed shape, and the PHP-side pieces of the
 * API (discovery, widgets, declared actions, uploads) work in a real PHP
 * process. The API's own behaviour is tested in tests/api.rs.
 */
final class HttpBindingTest extends TestCase
{
    private function call(string $method, string $path, array $extra = []): array
    {
        $r = sTask::handleHttp($extra + [
            'method' => $method,
            'path' => $path,
            'auth' => ['mode' => 'trusted', 'user_id' => 7],
            'base_url' => '/manager/stask',
        ]);
        $this->assertSame(['status', 'headers', isset($r['file']) ? 'file' : 'body'], array_keys($r));
        $this->assertIsInt($r['status']);

        return $r;
    }

    private function json(string $method, string $path, ?array $body = null, array $extra = []): array
    {
        if ($body !== null) {
            $extra += ['body' => json_encode($body, JSON_THROW_ON_ERROR), 'headers' => ['content-type' => 'application/json']];
        }
        $r = $this->call($method, $path, $extra);
        $this->assertSame('application/json; charset=utf-8', $r['headers']['Content-Type']);
        $data = json_decode($r['body'], true, 512, JSON_THROW_ON_ERROR);
        $this->assertIsArray($data);

        return [$r['status'], $data];
    }

    public function testAMalformedRequestArrayThrows(): void
    {
        foreach ([
            [['path' => '/stats'], 'method'],
            [['method' => 'GET'], 'path'],
            [['method' => 'GET', 'path' => 5], 'path'],
            [['method' => 'GET', 'path' => '/', 'query' => 'a=1'], 'query'],
            [['method' => 'GET', 'path' => '/', 'auth' => ['mode' => 'root']], 'mode'],
            [['method' => 'GET', 'path' => '/', 'auth' => ['mode' => 'trusted', 'user_id' => 'x']], 'user_id'],
            [['method' => 'GET', 'path' => '/', 'bogus' => 1], 'bogus'],
            [['method' => 'GET', 'path' => '/', 'body' => []], 'body'],
        ] as [$request, $mention]) {
            try {
                sTask::handleHttp($request);
                $this->fail('accepted ' . json_encode($request));
            } catch (InvalidArgumentException $e) {
                $this->assertStringContainsString($mention, $e->getMessage());
            }
        }
    }

    public function testBearerModeRefusesWithoutAConfiguredTokenAndChecksIt(): void
    {
        $r = sTask::handleHttp(['method' => 'GET', 'path' => '/stats', 'auth' => ['mode' => 'bearer']]);
        $this->assertSame(503, $r['status']);
        $this->assertStringContainsString('STASK_API_TOKEN', $r['body']);
        // No auth array at all is bearer mode too.
        $this->assertSame(503, sTask::handleHttp(['method' => 'GET', 'path' => '/stats'])['status']);

        $this->configure(['api_token' => 'phpunit-token-0123456789']);
        $r = sTask::handleHttp(['method' => 'GET', 'path' => '/stats', 'headers' => ['authorization' => 'Bearer nope']]);
        $this->assertSame(401, $r['status']);
        $this->assertArrayHasKey('WWW-Authenticate', $r['headers']);
        $r = sTask::handleHttp([
            'method' => 'GET', 'path' => '/stats',
            'headers' => ['Authorization' => ['Bearer phpunit-token-0123456789']],
        ]);
        $this->assertSame(200, $r['status']);
        $this->assertSame(0, json_decode($r['body'], true)['total']);
    }

    public function testAWorkerFoundByDiscoveryRunsAndItsExportDownloads(): void
    {
        $this->assertTrue(class_exists(ProductWorker::class));
        [$status, $data] = $this->json('POST', '/workers/discover', []);
        $this->assertSame(200, $status);
        $this->assertContains('product', array_column($data['workers'], 'identifier'));
        [$status] = $this->json('POST', '/workers/product/tasks/export', ['fields' => ['id', 'sku']]);
        $this->assertSame(409, $status, 'discovered workers start inactive');
        [$status, $data] = $this->json('POST', '/workers/product/activate');
        $this->assertSame(200, $status);
        $this->assertTrue($data['worker']['active']);
        $this->assertSame(['export', 'import'], $data['worker']['actions'], 'the public task* methods of ProductWorker');

        [$status, $data] = $this->json('POST', '/workers/product/tasks/nosuchaction', []);
        $this->assertSame(404, $status, 'only declared actions start');
        [$status, $data] = $this->json('POST', '/workers/product/tasks/export', ['fields' => ['id', 'sku']]);
        $this->assertSame(200, $status);
        $this->assertSame(['success', 'id', 'message'], array_keys($data));
        $id = $data['id'];
        $this->assertSame(7, $this->task($id)->started_by);

        sTask::processPendingTasks();
        [$status, $data] = $this->json('GET', "/tasks/{$id}/progress");
        $this->assertSame([200, 'completed', 100], [$status, $data['status'], $data['progress']]);
        [$status, $data] = $this->json('GET', "/tasks/{$id}");
        $this->assertSame("/manager/stask/tasks/{$id}/download", $data['task']['download_url']);
        $this->assertStringNotContainsString($this->root, json_encode($data));

        $r = $this->call('GET', "/tasks/{$id}/download");
        $this->assertSame(200, $r['status']);
        $this->assertSame('text/csv', $r['headers']['Content-Type']);
        $this->assertStringStartsWith('attachment; filename="products_', $r['headers']['Content-Disposition']);
        $this->assertStringStartsWith(realpath($this->staskStorage), $r['file']);
        $this->assertStringStartsWith("id,sku\n", (string) file_get_contents($r['file']));

        [$status, $data] = $this->json('GET', '/workers/product/widget');
        $this->assertSame(200, $status);
        $this->assertStringContainsString('data-stask-worker="product"', $data['html']);
        $this->assertStringContainsString('data-stask-action="export"', $data['html']);

        $this->orphanWorker('product', 'Gone\\Worker');
        [$status, $data] = $this->json('GET', '/workers/product');
        $this->assertSame([200, null], [$status, $data['worker']['actions']], 'a class that does not load declares nothing');
    }

    public function testUploadsArriveUnderTheStorageFolderWithServerNames(): void
    {
        $this->activeWorker(ProductWorker::class);
        $tmp = tempnam(sys_get_temp_dir(), 'php');
        file_put_contents($tmp, "sku,qty\n1,2\n");
        [$status, $data] = $this->json('POST', '/workers/product/upload', null, [
            'files' => ['file' => ['name' => 'my products.csv', 'type' => 'text/csv', 'tmp_name' => $tmp, 'error' => 0, 'size' => 12]],
        ]);
        $this->assertSame(200, $status, json_encode($data));
        $this->assertMatchesRegularExpression('/^product_\d+_[0-9a-f]{8}\.csv$/', $data['filename']);
        $this->assertSame('uploads/' . $data['filename'], $data['uploaded_file']);
        $this->assertFileExists("{$this->staskStorage}/uploads/{$data['filename']}");
        $this->assertStringNotContainsString($this->root, json_encode($data));

        [$status, $data] = $this->json('GET', '/server-limits');
        $this->assertSame(200, $status);
        $this->assertIsInt($data['phpUploadLimit']);
        $this->assertLessThanOrEqual($data['phpUploadLimit'], $data['singleUploadLimit']);
    }

    public function testClientMistakesAreJsonErrorsNotExceptions(): void
    {
        [$status, $data] = $this->json('GET', '/nowhere');
        $this->assertSame([404, false], [$status, $data['success']]);
        [$status, $data] = $this->json('POST', '/tasks', null, ['body' => '{"identifier":']);
        $this->assertSame([400, 'Malformed JSON'], [$status, $data['error']]);
        [$status] = $this->json('GET', '/tasks/abc/progress');
        $this->assertSame(400, $status);
        [$status, $data] = $this->json('POST', '/tasks', null, ['form' => ['identifier' => 'x', 'action' => 'y', 'priority' => 'high']]);
        $this->assertSame(200, $status, 'form fields are input too');
        $this->assertSame('high', $data['task']['priority']);
    }
}
