<?php

declare(strict_types=1);

namespace Stask\HttpTests;

/** One HTTP response: status, headers (lowercase name => list of values), body. */
final class Response
{
    /** @param array<string, list<string>> $headers */
    public function __construct(public int $status, public array $headers, public string $body, public string $raw)
    {
    }

    public function header(string $name): ?string
    {
        return $this->headers[strtolower($name)][0] ?? null;
    }

    /** The body as a JSON object (fails the test when it is not one). */
    public function json(): array
    {
        $data = json_decode($this->body, true);
        \PHPUnit\Framework\Assert::assertIsArray($data, "not a JSON object ({$this->status}): " . substr($this->body, 0, 300));

        return $data;
    }
}

/**
 * Talks to the front controller run.sh started (STASK_HTTP_URL) over raw
 * sockets, so any method, path (`..`, `%2e%2e`), header or body can be sent
 * exactly as written; and reaches the same database through the extension.
 */
abstract class HttpTestCase extends \PHPUnit\Framework\TestCase
{
    /** Servers a test started: proc handles. */
    private array $servers = [];

    protected function tearDown(): void
    {
        foreach ($this->servers as $proc) {
            $status = proc_get_status($proc);
            if ($status['running']) {
                posix_kill($status['pid'], SIGTERM);
            }
            proc_close($proc);
        }
        $this->servers = [];
        parent::tearDown();
    }

    protected static function url(): string
    {
        return (string) getenv('STASK_HTTP_URL');
    }

    protected static function token(): string
    {
        return (string) getenv('STASK_API_TOKEN');
    }

    /**
     * Points a worker row at a class that does not load, as a removed
     * package leaves it (the engine itself refuses to store such a class).
     */
    protected function orphanWorker(string $identifier, string $class): void
    {
        $dsn = (string) getenv('STASK_DSN');
        $pdo = \Stask\Tests\Support\RawRows::pdo((string) getenv('STASK_TEST_BACKEND'), (string) preg_replace('#^sqlite://#', '', $dsn));
        \Stask\Tests\Support\RawRows::orphanWorker($pdo, (string) getenv('STASK_TABLE_PREFIX'), $identifier, $class);
        \Seiger\sTask\Facades\sTask::clearWorkerCache();
    }

    /** The storage folder the server uses (STASK_STORAGE). */
    protected static function storage(): string
    {
        return (string) getenv('STASK_STORAGE');
    }

    /**
     * Sends one request. $target is sent verbatim (no normalisation); the
     * bearer token is added unless $headers has an Authorization entry
     * (null there sends none).
     */
    protected function request(string $method, string $target, ?string $body = null, array $headers = [], ?string $base = null): Response
    {
        $parts = parse_url($base ?? self::url());
        $host = $parts['host'] . ':' . $parts['port'];
        $socket = @fsockopen($parts['host'], (int) $parts['port'], $errno, $errstr, 5);
        $this->assertNotFalse($socket, "cannot connect to {$host}: {$errstr}");
        stream_set_timeout($socket, 30);
        $headers = array_change_key_case($headers, CASE_LOWER);
        if (!array_key_exists('authorization', $headers)) {
            $headers['authorization'] = 'Bearer ' . self::token();
        }
        $head = "{$method} {$target} HTTP/1.1\r\nHost: {$host}\r\nConnection: close\r\n";
        foreach ($headers as $name => $value) {
            if ($value !== null) {
                $head .= "{$name}: {$value}\r\n";
            }
        }
        if ($body !== null) {
            $head .= 'Content-Length: ' . strlen($body) . "\r\n";
        }
        fwrite($socket, $head . "\r\n");
        for ($off = 0, $n = strlen((string) $body); $off < $n; $off += $w) {
            $w = fwrite($socket, substr((string) $body, $off, 65536));
            if ($w === false || $w === 0) {
                break; // the server may answer (413) before reading everything
            }
        }
        $raw = (string) stream_get_contents($socket);
        fclose($socket);

        return self::parse($raw, $method);
    }

    private static function parse(string $raw, string $method): Response
    {
        $split = strpos($raw, "\r\n\r\n");
        \PHPUnit\Framework\Assert::assertNotFalse($split, 'no HTTP response: ' . substr($raw, 0, 200));
        $lines = explode("\r\n", substr($raw, 0, $split));
        \PHPUnit\Framework\Assert::assertMatchesRegularExpression('~^HTTP/1\.[01] \d{3}~', $lines[0]);
        $status = (int) substr($lines[0], 9, 3);
        $headers = [];
        foreach (array_slice($lines, 1) as $line) {
            [$name, $value] = array_map('trim', explode(':', $line, 2)) + [1 => ''];
            $headers[strtolower($name)][] = $value;
        }
        $body = substr($raw, $split + 4);
        if (strtolower($headers['transfer-encoding'][0] ?? '') === 'chunked') {
            $decoded = '';
            while (($eol = strpos($body, "\r\n")) !== false && ($len = hexdec(substr($body, 0, $eol))) > 0) {
                $decoded .= substr($body, $eol + 2, $len);
                $body = substr($body, $eol + 2 + $len + 2);
            }
            $body = $decoded;
        }

        return new Response($status, $headers, $body, $raw);
    }

    /** A request with a JSON body (an array is encoded; a string is sent as is). */
    protected function send(string $method, string $path, array|string|null $body = null, array $headers = []): Response
    {
        if (is_array($body)) {
            $body = json_encode($body, JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES);
        }
        if ($body !== null) {
            $headers += ['content-type' => 'application/json'];
        }

        return $this->request($method, '/stask' . $path, $body, $headers);
    }

    /** A 200 JSON success: the body, after the common checks. */
    protected function ok(string $method, string $path, array|string|null $body = null, array $headers = []): array
    {
        $r = $this->send($method, $path, $body, $headers);
        $this->assertSame(200, $r->status, "{$method} {$path}: {$r->body}");
        $data = $this->jsonOf($r);
        $this->assertTrue($data['success'] ?? null, "{$method} {$path}: {$r->body}");

        return $data;
    }

    /** A JSON error of $status (and $error title when given): the body. */
    protected function fails(int $status, string $method, string $path, array|string|null $body = null, ?string $error = null, array $headers = []): array
    {
        return $this->assertError($this->send($method, $path, $body, $headers), $status, $error, "{$method} {$path}");
    }

    /** The JSON headers every API answer carries; returns the body. */
    protected function jsonOf(Response $r): array
    {
        $this->assertSame('application/json; charset=utf-8', $r->header('content-type'), $r->raw);
        $this->assertSame('nosniff', $r->header('x-content-type-options'));
        $this->assertSame('no-store', $r->header('cache-control'));

        return $r->json();
    }

    protected function assertError(Response $r, int $status, ?string $error = null, string $what = ''): array
    {
        $this->assertSame($status, $r->status, "{$what}: {$r->body}");
        $data = $this->jsonOf($r);
        $this->assertFalse($data['success'], $r->body);
        $this->assertIsString($data['message']);
        $this->assertNotSame('', $data['message']);
        if ($error !== null) {
            $this->assertSame($error, $data['error'] ?? null, $r->body);
        }
        $this->assertNoLeak($r);

        return $data;
    }

    /** Nothing of the server's file system or internals in a body. */
    protected function assertNoLeak(Response $r): void
    {
        foreach ([(string) getenv('STASK_HTTP_TMP'), (string) getenv('STASK_HTTP_ROOT'), '/etc/', 'Stack trace', 'stack trace', 'sqlite://', 'postgres://', 'mysql://', 'SQLSTATE'] as $secret) {
            if ($secret !== '') {
                $this->assertStringNotContainsString($secret, $r->body);
            }
        }
        $this->assertDoesNotMatchRegularExpression('~[\w/.-]+\.php\b~', $r->body);
        $this->assertStringNotContainsString(self::token(), $r->body);
    }

    /** A multipart/form-data body: [body, content type]. $files: field => [filename, content]. */
    protected static function multipart(array $fields, array $files): array
    {
        $parts = [];
        foreach ($fields as $name => $value) {
            $parts[] = ["name=\"{$name}\"", $value];
        }
        foreach ($files as $name => [$filename, $content]) {
            $parts[] = ["name=\"{$name}\"; filename=\"{$filename}\"\r\nContent-Type: application/octet-stream", $content];
        }
        $boundary = '----stask-http-' . bin2hex(random_bytes(8));
        $body = '';
        foreach ($parts as [$disposition, $content]) {
            $body .= "--{$boundary}\r\nContent-Disposition: form-data; {$disposition}\r\n\r\n{$content}\r\n";
        }

        return [$body . "--{$boundary}--\r\n", "multipart/form-data; boundary={$boundary}"];
    }

    /** Each [body, field] of $cases is a 422 "Validation failed" naming that field. */
    protected function assertInvalid(string $method, string $path, array $cases): void
    {
        foreach ($cases as [$body, $field]) {
            $data = $this->fails(422, $method, $path, $body, 'Validation failed');
            $this->assertSame($field, $data['field'] ?? null, "{$method} {$path} " . json_encode($body));
        }
    }

    /** POSTs a file as multipart field `file` (plus form fields). */
    protected function upload(string $path, string $filename, string $content, array $fields = []): Response
    {
        [$body, $type] = self::multipart($fields, ['file' => [$filename, $content]]);

        return $this->request('POST', '/stask' . $path, $body, ['content-type' => $type]);
    }

    /** Creates a task through the API; start_at far ahead keeps it pending (the worker process never takes it). */
    protected function createTask(array $fields = []): array
    {
        $data = $this->ok('POST', '/tasks', $fields + ['identifier' => 'http_idle', 'action' => 'wait', 'start_at' => '2099-01-01T00:00:00Z']);

        return $data['task'];
    }

    /** Polls $check (returns null to go on) for up to $seconds. */
    protected function eventually(callable $check, float $seconds = 20.0): mixed
    {
        $until = microtime(true) + $seconds;
        do {
            $result = $check();
            if ($result !== null) {
                return $result;
            }
            usleep(100_000);
        } while (microtime(true) < $until);
        $this->fail("gave up after {$seconds} s");
    }

    /**
     * Starts another front controller on a free port with extra environment
     * (e.g. no token, a small body limit); stopped in tearDown. Returns its URL.
     */
    protected function startServer(array $env): string
    {
        $probe = stream_socket_server('tcp://127.0.0.1:0');
        $name = stream_socket_get_name($probe, false);
        fclose($probe);
        $url = 'http://' . $name;
        $log = getenv('STASK_HTTP_TMP') . '/server-' . substr($name, strrpos($name, ':') + 1) . '.log';
        $proc = proc_open(
            [PHP_BINARY, '-S', $name, getenv('STASK_HTTP_ROOT') . '/php/public/index.php'],
            [0 => ['file', '/dev/null', 'r'], 1 => ['file', $log, 'a'], 2 => ['file', $log, 'a']],
            $pipes,
            null,
            $env + getenv()
        );
        $this->assertIsResource($proc);
        $this->servers[] = $proc;
        for ($i = 0; $i < 100; $i++) {
            $s = @fsockopen('127.0.0.1', (int) substr($name, strrpos($name, ':') + 1), $errno, $errstr, 1);
            if ($s !== false) {
                fclose($s);

                return $url;
            }
            usleep(50_000);
        }
        $this->fail("the extra server did not start: " . @file_get_contents($log));
    }

    /** The keys and JSON types of a task object (docs/api-routes.md). */
    protected function assertTask(array $t, bool $detail = false): void
    {
        $types = [
            'id' => 'int', 'identifier' => 'string', 'action' => 'string', 'status' => 'int', 'status_text' => 'string',
            'priority' => 'string', 'progress' => 'int', 'processed' => 'int', 'total' => 'int', 'attempts' => 'int',
            'max_attempts' => 'int', 'cancel_requested' => 'bool', 'can_cancel' => 'bool', 'can_retry' => 'bool',
            'progress_url' => 'string', 'created_at' => 'string', 'updated_at' => 'string', 'available_at' => 'string',
        ];
        foreach ($types as $key => $type) {
            $this->assertArrayHasKey($key, $t);
            $this->assertSame($type, get_debug_type($t[$key]), "task.{$key}");
        }
        foreach (['message', 'started_by', 'meta', 'result', 'eta', 'duration', 'peak_memory', 'last_error', 'unique_key',
            'start_at', 'started_at', 'finished_at', 'worker_title', 'download_url'] as $key) {
            $this->assertArrayHasKey($key, $t);
        }
        $this->assertContains($t['status_text'], ['pending', 'preparing', 'running', 'completed', 'failed', 'cancelled']);
        $this->assertContains($t['priority'], ['low', 'normal', 'high']);
        $this->assertMatchesRegularExpression('/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/', $t['created_at']);
        $this->assertSame("/stask/tasks/{$t['id']}/progress", $t['progress_url']);
        if ($detail) {
            $this->assertIsArray($t['log_lines']);
        } else {
            $this->assertArrayNotHasKey('log_lines', $t);
        }
    }

    /** The keys and JSON types of a worker object. */
    protected function assertWorker(array $w): void
    {
        foreach (['id' => 'int', 'identifier' => 'string', 'class' => 'string', 'title' => 'string', 'active' => 'bool',
            'position' => 'int', 'schedule' => 'array', 'settings' => 'array', 'created_at' => 'string'] as $key => $type) {
            $this->assertArrayHasKey($key, $w);
            $this->assertSame($type, get_debug_type($w[$key]), "worker.{$key}");
        }
        foreach (['description', 'icon', 'scope', 'hidden', 'actions', 'next_run', 'last_task', 'updated_at'] as $key) {
            $this->assertArrayHasKey($key, $w);
        }
        $this->assertSame(['type', 'enabled', 'datetime', 'time', 'frequency', 'days', 'start_time', 'end_time', 'interval', 'expression', 'missed'], array_keys($w['schedule']));
    }
}
