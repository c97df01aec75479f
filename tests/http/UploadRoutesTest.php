<?php

declare(strict_types=1);

namespace Stask\HttpTests;

/**
 * Uploads as multipart requests through PHP's own upload handling: single
 * files to a task or a worker, and chunked uploads start → chunks →
 * complete, with the limits run.sh sets (64K files, 1K chunks, 100 chunks).
 */
final class UploadRoutesTest extends HttpTestCase
{
    private const KEYS = ['success', 'code', 'message', 'result', 'filename', 'uploaded_file', 'original_filename', 'file_size'];

    private function assertStored(array $data, string $prefix, string $original, string $content): void
    {
        $this->assertEqualsCanonicalizing(self::KEYS, array_keys($data));
        $this->assertSame([200, 'File uploaded successfully', $original, strlen($content)], [$data['code'], $data['message'], $data['original_filename'], $data['file_size']]);
        $this->assertMatchesRegularExpression('/^' . preg_quote($prefix, '/') . '_\d{10}_[0-9a-f]{8}\.csv$/', $data['filename']);
        $this->assertSame($data['filename'], $data['result']);
        $this->assertSame('uploads/' . $data['filename'], $data['uploaded_file']);
        $this->assertSame($content, file_get_contents(self::storage() . '/' . $data['uploaded_file']));
    }

    public function testATaskUploadIsStoredAndNamedInTheTaskMeta(): void
    {
        $t = $this->createTask(['data' => ['keep' => 'me']]);
        foreach (["/tasks/{$t['id']}/upload", "/task/{$t['id']}/upload"] as $path) {
            $r = $this->upload($path, '../../etc/My Data.CSV', "a,b\n1,2\n");
            $this->assertSame(200, $r->status, $r->body);
            $data = $this->jsonOf($r);
            $this->assertStored($data, "task_{$t['id']}", 'My Data.CSV', "a,b\n1,2\n");
            $meta = $this->ok('GET', "/tasks/{$t['id']}")['task']['meta'];
            $this->assertSame(['keep' => 'me', 'uploaded_file' => $data['uploaded_file'], 'original_filename' => 'My Data.CSV', 'file_size' => 8], array_diff_key($meta, ['uploaded_at' => 1]));
            $this->assertMatchesRegularExpression('/Z$/', $meta['uploaded_at']);
        }
    }

    public function testTaskUploadRefusals(): void
    {
        $t = $this->createTask();
        $path = "/tasks/{$t['id']}/upload";
        foreach (['evil.php', 'x.csv.php', 'noext', '.csv', 'x.', 'x.c$v'] as $name) {
            $data = $this->assertError($this->upload($path, $name, 'x'), 422, 'Invalid file type', $name);
            $this->assertSame(['csv'], $data['allowed_extensions']);
        }
        $this->assertError($this->upload($path, 'big.csv', str_repeat('x', 64 * 1024 + 1)), 413, 'File too large');
        $this->assertSame(200, $this->upload($path, 'max.csv', str_repeat('x', 64 * 1024))->status);
        [$body, $type] = self::multipart(['note' => 'no file'], []);
        $this->assertError($this->request('POST', "/stask{$path}", $body, ['content-type' => $type]), 400, 'Bad Request');
        $this->assertError($this->upload($path, '', 'x'), 400, 'Bad Request');
        $this->fails(400, 'POST', $path, ['file' => '/etc/passwd'], 'Bad Request');
        $this->ok('POST', "/tasks/{$t['id']}/cancel");
        $this->assertError($this->upload($path, 'late.csv', 'x'), 409, 'Conflict');
        $this->assertError($this->upload('/tasks/999999999/upload', 'a.csv', 'x'), 404, 'Task not found');
    }

    public function testAWorkerUpload(): void
    {
        foreach (['/workers/product/upload', '/worker/product/upload'] as $path) {
            $r = $this->upload($path, 'C:\\Users\\me\\products.csv', "id\n1\n");
            $this->assertSame(200, $r->status, $r->body);
            $this->assertStored($this->jsonOf($r), 'product', 'products.csv', "id\n1\n");
        }
        $data = $this->assertError($this->upload('/workers/product/upload', 'shell.phtml', '<?php'), 422, 'Invalid file type');
        $this->assertSame(['csv'], $data['allowed_extensions']);
        $this->assertSame('chunk_index', $this->assertError($this->upload('/workers/product/upload', 'a.csv', 'x', ['chunk_index' => '0']), 422)['field']);
        $this->assertSame('chunk_index', $this->assertError($this->upload('/workers/product/upload', 'a.csv', 'x', ['session_id' => '../../x']), 422)['field']);
        $this->assertError($this->upload('/workers/no_such_worker/upload', 'a.csv', 'x'), 404, 'Worker not found');
        $this->assertError($this->upload('/workers/product_sync/upload', 'a.csv', 'x'), 409, 'Conflict');
        $this->assertError($this->upload('/workers/product/upload', 'big.csv', str_repeat('y', 70000)), 413, 'File too large');
        $this->assertSame('POST', $this->send('GET', '/workers/product/upload')->header('allow'));
    }

    /** Starts a chunked upload of product; the answer after checks. */
    private function start(array $body): array
    {
        $data = $this->ok('POST', '/workers/product/uploads', $body);
        $this->assertSame(['success', 'upload_id', 'chunk_size', 'total_chunks', 'size', 'expires_at', 'chunk_url', 'complete_url'], array_keys($data));
        $this->assertMatchesRegularExpression('/^[0-9a-f]{32}$/', $data['upload_id']);
        $this->assertSame("/stask/uploads/{$data['upload_id']}/chunks/{index}", $data['chunk_url']);
        $this->assertSame("/stask/uploads/{$data['upload_id']}/complete", $data['complete_url']);
        $this->assertMatchesRegularExpression('/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/', $data['expires_at']);

        return $data;
    }

    private function chunk(string $id, int|string $index, string $content): Response
    {
        return $this->upload("/uploads/{$id}/chunks/{$index}", 'blob', $content);
    }

    public function testAChunkedUploadIsAssembledInOrder(): void
    {
        $content = '';
        for ($i = 0; strlen($content) < 2500; $i++) {
            $content .= "{$i},row {$i}\n";
        }
        $content = substr($content, 0, 2500);
        $up = $this->start(['filename' => 'Big Import.csv', 'size' => 2500]);
        $this->assertSame([1024, 3, 2500], [$up['chunk_size'], $up['total_chunks'], $up['size']]);
        $id = $up['upload_id'];
        $parts = str_split($content, 1024);
        foreach ([[2, 1, 452], [0, 2, 1476]] as [$index, $received, $bytes]) {
            $r = $this->chunk($id, $index, $parts[$index]);
            $this->assertSame(200, $r->status, $r->body);
            $this->assertSame(['success' => true, 'upload_id' => $id, 'index' => $index, 'received_chunks' => $received,
                'total_chunks' => 3, 'received_bytes' => $bytes, 'size' => 2500], $this->jsonOf($r));
        }
        $missing = $this->fails(409, 'POST', "/uploads/{$id}/complete", null, 'Conflict');
        $this->assertSame([1], $missing['missing_chunks']);
        // Re-sending an index replaces it.
        $this->assertSame(200, $this->chunk($id, 1, str_repeat('z', 10))->status);
        $this->assertSame(200, $this->chunk($id, 1, $parts[1])->status);
        $done = $this->ok('POST', "/uploads/{$id}/complete");
        $this->assertEqualsCanonicalizing(self::KEYS, array_keys($done));
        $this->assertSame(['Big Import.csv', 2500], [$done['original_filename'], $done['file_size']]);
        $this->assertStringStartsWith('product_', $done['filename']);
        $this->assertSame($content, file_get_contents(self::storage() . '/' . $done['uploaded_file']));
        $this->assertDirectoryDoesNotExist(self::storage() . "/uploads/.chunks/{$id}");
        $this->fails(404, 'POST', "/uploads/{$id}/complete", null, 'Upload not found');
        $this->assertError($this->chunk($id, 0, 'x'), 404, 'Upload not found');
    }

    public function testChunkRefusals(): void
    {
        $id = $this->start(['filename' => 'a.csv', 'size' => 2500, 'total_chunks' => 3])['upload_id'];
        $this->assertError($this->chunk($id, 0, str_repeat('x', 1025)), 413, 'File too large');
        foreach (['3', '-1', 'x', '1.0', '99999999999999999999'] as $index) {
            $this->assertSame('index', $this->assertError($this->chunk($id, $index, 'x'), 422, 'Validation failed', $index)['field']);
        }
        $this->assertError($this->chunk($id, 0, ''), 422, 'Validation failed');
        [$body, $type] = self::multipart(['file' => 'text'], []);
        $this->assertError($this->request('POST', "/stask/uploads/{$id}/chunks/0", $body, ['content-type' => $type]), 400, 'Bad Request');
        foreach ([0, 1] as $index) {
            $this->assertSame(200, $this->chunk($id, $index, str_repeat('x', 1024))->status);
        }
        // 2048 + 1024 would pass the announced 2500 bytes.
        $this->assertError($this->chunk($id, 2, str_repeat('x', 1024)), 413, 'Upload too large');
        $this->assertSame(200, $this->chunk($id, 2, str_repeat('x', 100))->status);
        $this->assertError($this->send('POST', "/uploads/{$id}/complete"), 422, 'Size mismatch');
        foreach (['abc', strtoupper($id), substr($id, 1), $id . '0', '..', '%2e%2e', str_repeat('g', 32)] as $bad) {
            $this->assertSame(400, $this->chunk($bad, 0, 'x')->status, $bad);
            $this->assertSame(400, $this->send('POST', "/uploads/{$bad}/complete")->status, $bad);
        }
        $unknown = str_repeat('0', 32);
        $this->assertError($this->chunk($unknown, 0, 'x'), 404, 'Upload not found');
        $this->fails(404, 'POST', "/uploads/{$unknown}/complete", null, 'Upload not found');
        $this->assertSame('POST', $this->send('GET', "/uploads/{$id}/complete")->header('allow'));
        $this->assertSame('POST', $this->send('PUT', "/uploads/{$id}/chunks/0")->header('allow'));
    }

    public function testStartRefusals(): void
    {
        foreach ([
            [['size' => 10], 422, 'filename'],
            [['filename' => '', 'size' => 10], 422, 'filename'],
            [['filename' => 'a.csv'], 422, 'size'],
            [['filename' => 'a.csv', 'size' => 'big'], 422, 'size'],
            [['filename' => 'a.csv', 'size' => 0], 413, 'size'],
            [['filename' => 'a.csv', 'size' => -5], 413, 'size'],
            [['filename' => 'a.csv', 'size' => 64 * 1024 + 1], 413, 'size'],
            [['filename' => 'a.csv', 'size' => 2500, 'total_chunks' => 2], 422, 'total_chunks'],
            [['filename' => 'a.csv', 'size' => 5, 'total_chunks' => 6], 422, 'total_chunks'],
            [['filename' => 'a.csv', 'size' => 2500, 'total_chunks' => 'x'], 422, 'total_chunks'],
            [['filename' => 'a.csv', 'size' => 60000, 'total_chunks' => 101], 422, 'total_chunks'],
        ] as [$body, $status, $field]) {
            $this->assertSame($field, $this->fails($status, 'POST', '/workers/product/uploads', $body)['field'] ?? null, json_encode($body));
        }
        $data = $this->fails(422, 'POST', '/workers/product/uploads', ['filename' => 'a.exe', 'size' => 10], 'Invalid file type');
        $this->assertSame(['csv'], $data['allowed_extensions']);
        $this->fails(400, 'POST', '/workers/product/uploads', '{"filename"', 'Malformed JSON');
        $this->fails(404, 'POST', '/workers/no_such_worker/uploads', ['filename' => 'a.csv', 'size' => 10], 'Worker not found');
        $this->fails(409, 'POST', '/workers/product_sync/uploads', ['filename' => 'a.csv', 'size' => 10], 'Conflict');
        $this->assertSame('POST', $this->send('GET', '/workers/product/uploads')->header('allow'));
        // One chunk carries a small file; the worker's allowed extensions apply.
        $this->assertSame(1, $this->start(['filename' => 'small.CSV', 'size' => 10])['total_chunks']);
    }
}
