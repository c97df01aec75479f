<?php

namespace Tests;

use Symfony\Component\Process\Process;

/**
 * Tests of the copy of the harness app under `php -S` (public/index.php, the
 * Laravel HTTP kernel): migrated, the harness workers registered, requests
 * that keep the session cookies; the servers are stopped in tearDown.
 */
abstract class HttpHarnessTestCase extends HarnessTestCase
{
    /** @var Process[] */
    protected array $servers = [];

    /** name => value of the cookies the server set. */
    protected array $cookies = [];

    protected function setUp(): void
    {
        parent::setUp();
        $this->migrate();
        $this->registerHarnessWorkers();
    }

    protected function tearDown(): void
    {
        foreach ($this->servers as $server) {
            $server->stop(3, SIGTERM);
        }
        parent::tearDown();
    }

    /** The harness workers, registered the way a host's code would: `report` (active) and `demo`. */
    protected function registerHarnessWorkers(): void
    {
        $this->php(<<<'PHP'
            \Seiger\sTask\Facades\sTask::registerWorker(\App\Workers\ExportWorker::class);
            \Seiger\sTask\Facades\sTask::activateWorker('report');
            \Seiger\sTask\Facades\sTask::registerWorker(\App\Workers\DemoWorker::class);
            PHP);
    }

    /**
     * Starts the copy of the app under `php -S` and returns its base URL:
     * the Laravel app (public/index.php) unless $folder and $router name
     * another front (the Evolution-like core: evo/ with router.php, which
     * also gets its own URL as EVO_SITE_URL).
     */
    protected function serve(array $env, string $folder = '', string $docroot = 'public', string $router = 'public/index.php'): string
    {
        $probe = stream_socket_server('tcp://127.0.0.1:0');
        $name = stream_socket_get_name($probe, false);
        fclose($probe);
        $port = (int) substr($name, strrpos($name, ':') + 1);
        $base = "http://127.0.0.1:{$port}";

        $cwd = $folder === '' ? $this->dir : $this->dir . '/' . $folder;
        $server = new Process([PHP_BINARY, '-S', "127.0.0.1:{$port}", '-t', $docroot, $router], $cwd, $this->env($env + ['EVO_SITE_URL' => $base]), null, null);
        $server->start();
        $this->servers[] = $server;
        $ready = $this->waitFor(static function () use ($port) {
            $socket = @fsockopen('127.0.0.1', $port, $errno, $error, 0.2);
            if ($socket) {
                fclose($socket);

                return true;
            }

            return false;
        }, 10);
        $this->assertTrue((bool) $ready, "php -S did not start:\n" . $server->getErrorOutput());

        return $base;
    }

    /** Runs PHP code inside the booted app of the copy. */
    protected function php(string $code, array $env = []): string
    {
        $script = 'require "bootstrap/autoload.php"; $app = require "bootstrap/app.php"; '
            . '$app->make(Illuminate\Contracts\Console\Kernel::class)->bootstrap(); ' . $code;
        $process = new Process([PHP_BINARY, '-r', $script], $this->dir, $this->env($env), null, 60);
        $process->run();
        $this->assertSame(0, $process->getExitCode(), $this->describe($process));

        return $process->getOutput();
    }

    /**
     * One HTTP request with the cookies of earlier responses (the session).
     *
     * @return array{status: int, headers: array<string, string>, body: string}
     */
    protected function request(string $method, string $url, array $headers = [], ?string $body = null): array
    {
        $lines = ['Accept-Language: en'];
        foreach ($headers as $name => $value) {
            $lines[] = "{$name}: {$value}";
        }
        if ($this->cookies !== []) {
            $lines[] = 'Cookie: ' . implode('; ', array_map(static fn ($k, $v) => "{$k}={$v}", array_keys($this->cookies), $this->cookies));
        }
        $context = stream_context_create(['http' => [
            'method' => $method,
            'header' => implode("\r\n", $lines),
            'content' => $body ?? '',
            'ignore_errors' => true,
            'follow_location' => 0,
            'timeout' => 60,
        ]]);
        $content = @file_get_contents($url, false, $context);
        $this->assertNotFalse($content, "{$method} {$url}: no response");
        $status = 0;
        $responseHeaders = [];
        foreach ($http_response_header as $i => $line) {
            if ($i === 0) {
                $status = (int) explode(' ', $line)[1];
                continue;
            }
            [$name, $value] = array_map('trim', explode(':', $line, 2)) + [1 => ''];
            $name = strtolower($name);
            if ($name === 'set-cookie') {
                [$pair] = explode(';', $value, 2);
                [$k, $v] = explode('=', $pair, 2) + [1 => ''];
                $this->cookies[$k] = $v;
            }
            $responseHeaders[$name] = $value;
        }

        return ['status' => $status, 'headers' => $responseHeaders, 'body' => (string) $content];
    }

    protected function json(array $response): array
    {
        $data = json_decode($response['body'], true);
        $this->assertIsArray($data, 'JSON expected, got: ' . substr($response['body'], 0, 300));

        return $data;
    }

    protected function csrfToken(string $html): string
    {
        $this->assertSame(1, preg_match('/<meta name="csrf-token" content="([^"]+)">/', $html, $m), 'the page carries the CSRF token');

        return html_entity_decode($m[1]);
    }

    protected function pageConfig(string $html): array
    {
        $this->assertSame(1, preg_match('#<script type="application/json" id="stask-config">(.*?)</script>#s', $html, $m));

        return json_decode($m[1], true, 512, JSON_THROW_ON_ERROR);
    }

    /**
     * A multipart/form-data body.
     *
     * @param array<string, string> $fields
     * @param array<string, array{0: string, 1: string}> $files field => [file name, content]
     * @return array{0: array<string, string>, 1: string} headers, body
     */
    protected function multipart(array $fields, array $files): array
    {
        $boundary = 'stask' . bin2hex(random_bytes(8));
        $body = '';
        foreach ($fields as $name => $value) {
            $body .= "--{$boundary}\r\nContent-Disposition: form-data; name=\"{$name}\"\r\n\r\n{$value}\r\n";
        }
        foreach ($files as $name => [$filename, $content]) {
            $body .= "--{$boundary}\r\nContent-Disposition: form-data; name=\"{$name}\"; filename=\"{$filename}\"\r\n"
                . "Content-Type: application/octet-stream\r\n\r\n{$content}\r\n";
        }

        return [['Content-Type' => "multipart/form-data; boundary={$boundary}"], $body . "--{$boundary}--\r\n"];
    }
}
