<?php

/**
 * Standalone front controller of sTask: the admin module and the REST API
 * without a CMS, for PHP's built-in server (or any server that routes every
 * request here):
 *
 *     STASK_API_TOKEN=... php -S 127.0.0.1:8080 php/public/index.php
 *     (or php/bin/stask-serve)
 *
 *   GET  /  or /stask      the admin module (asks for the token, keeps it in sessionStorage);
 *                          /stask and /stask/ with an Authorization header are the API's index
 *   GET  /assets/<file>    stask-admin.js / stask-admin.css (php/assets only)
 *   *    /stask/...        the API: sTask::handleHttp() with bearer authentication
 *
 * Configuration comes from the environment or php.ini, as for the extension:
 * STASK_API_TOKEN / stask.api_token (required: without it every request gets
 * 503), STASK_DSN, STASK_STORAGE, ... ; STASK_BOOTSTRAP names a PHP file to
 * require first (the autoloader of your workers); STASK_MAX_BODY caps request
 * bodies in bytes (default 8 MiB; multipart uploads are bounded by PHP's
 * post_max_size / upload_max_filesize, which PHP applies before this runs).
 */

declare(strict_types=1);

use Seiger\sTask\Facades\sTask;
use Seiger\sTask\Http\ModulePage;
use Seiger\sTask\Http\SecurityHeaders;

const STASK_API_PREFIX = '/stask';
const STASK_DEFAULT_MAX_BODY = 8 * 1024 * 1024;

/** Writes one line to the server's stderr (the php -S console). */
function stask_log(string $line): void
{
    @file_put_contents('php://stderr', '[stask] ' . $line . "\n");
}

function stask_send_json(int $status, array $body, array $headers = []): void
{
    http_response_code($status);
    header('Content-Type: application/json; charset=utf-8');
    header('Cache-Control: no-store');
    stask_security_headers(false);
    foreach ($headers as $name => $value) {
        header($name . ': ' . $value);
    }
    echo json_encode($body, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
}

/**
 * The security headers of php/src/Http/SecurityHeaders.php (the list the
 * Laravel adapter sends too), for the page or for any other response. Sent
 * before the package's autoloader may be available, so it is loaded here.
 */
function stask_security_headers(bool $page): void
{
    if (!class_exists(SecurityHeaders::class, false)) {
        require_once __DIR__ . '/../src/Http/SecurityHeaders.php';
    }
    SecurityHeaders::send($page ? SecurityHeaders::PAGE : SecurityHeaders::RESPONSE);
}

function stask_setting(string $env, string $ini): string
{
    $value = getenv($env);
    if ($value === false || $value === '') {
        $value = ini_get($ini);
    }

    return is_string($value) ? trim($value) : '';
}

/** Request headers as lowercase name => value. */
function stask_request_headers(): array
{
    $headers = [];
    foreach ($_SERVER as $key => $value) {
        if (!is_string($value)) {
            continue;
        }
        if (str_starts_with($key, 'HTTP_')) {
            $headers[strtolower(str_replace('_', '-', substr($key, 5)))] = $value;
        } elseif ($key === 'CONTENT_TYPE' || $key === 'CONTENT_LENGTH') {
            $headers[strtolower(str_replace('_', '-', $key))] = $value;
        }
    }
    // Some SAPIs hide Authorization from $_SERVER.
    if (!isset($headers['authorization']) && function_exists('getallheaders')) {
        foreach ((array) getallheaders() as $name => $value) {
            if (strtolower((string) $name) === 'authorization') {
                $headers['authorization'] = (string) $value;
            }
        }
    }

    return $headers;
}

/**
 * The raw body, read only when it fits under $max (Content-Length is checked
 * first, and the read itself stops one byte past the cap). Null when too big.
 */
function stask_read_body(int $max): ?string
{
    $length = $_SERVER['CONTENT_LENGTH'] ?? '';
    if ($length !== '' && (!ctype_digit((string) $length) || (int) $length > $max)) {
        return null;
    }
    $in = fopen('php://input', 'rb');
    if ($in === false) {
        return '';
    }
    $body = stream_get_contents($in, $max + 1);
    fclose($in);
    if ($body === false) {
        return '';
    }

    return strlen($body) > $max ? null : $body;
}

function stask_serve_asset(string $name): void
{
    $types = ['js' => 'text/javascript; charset=utf-8', 'css' => 'text/css; charset=utf-8', 'svg' => 'image/svg+xml'];
    $ext = strtolower(pathinfo($name, PATHINFO_EXTENSION));
    // One plain file name: no slashes, no leading dot, a known type.
    if (!preg_match('/^[A-Za-z0-9][A-Za-z0-9._-]*$/', $name) || !isset($types[$ext])) {
        stask_send_json(404, ['success' => false, 'code' => 404, 'message' => 'Not found']);

        return;
    }
    $dir = ModulePage::assetsPath();
    $file = realpath($dir . '/' . $name);
    if ($file === false || !is_file($file) || !str_starts_with($file, rtrim($dir, '/') . '/')) {
        stask_send_json(404, ['success' => false, 'code' => 404, 'message' => 'Not found']);

        return;
    }
    header('Content-Type: ' . $types[$ext]);
    header('Content-Length: ' . filesize($file));
    header('Cache-Control: public, max-age=300');
    stask_security_headers(false);
    readfile($file);
}

function stask_serve_page(): void
{
    $locale = $_GET['lang'] ?? (getenv('STASK_LOCALE') ?: substr((string) ($_SERVER['HTTP_ACCEPT_LANGUAGE'] ?? 'en'), 0, 2));
    $html = ModulePage::render([
        'api' => STASK_API_PREFIX,
        'auth' => 'bearer',
        'locale' => (string) $locale,
        'assets' => '/assets',
    ]);
    header('Content-Type: text/html; charset=utf-8');
    header('Cache-Control: no-store');
    stask_security_headers(true);
    echo $html;
}

/** Sends what handleHttp() returned: a body, or a file streamed from disk. */
function stask_send_response(array $response): void
{
    http_response_code((int) ($response['status'] ?? 500));
    stask_security_headers(false);
    $names = [];
    foreach ((array) ($response['headers'] ?? []) as $name => $value) {
        $replace = true; // the first value replaces a default security header of the same name
        foreach ((array) $value as $one) {
            // Header injection is not possible through header() (it refuses line breaks), but be explicit.
            header($name . ': ' . str_replace(["\r", "\n"], '', (string) $one), $replace);
            $replace = false;
        }
        $names[strtolower((string) $name)] = true;
    }
    if (!isset($names['x-content-type-options'])) {
        header('X-Content-Type-Options: nosniff');
    }
    if (isset($response['file'])) {
        $file = (string) $response['file'];
        if (!is_file($file) || !is_readable($file)) {
            header_remove('Content-Disposition');
            stask_send_json(404, ['success' => false, 'code' => 404, 'message' => 'File not found']);

            return;
        }
        if (!isset($names['content-type'])) {
            header('Content-Type: application/octet-stream');
        }
        if (!isset($names['content-length'])) {
            header('Content-Length: ' . filesize($file));
        }
        if (($_SERVER['REQUEST_METHOD'] ?? 'GET') !== 'HEAD') {
            while (ob_get_level() > 0) {
                ob_end_clean();
            }
            readfile($file);
        }

        return;
    }
    if (!isset($names['content-type'])) {
        header('Content-Type: application/json; charset=utf-8');
    }
    if (($_SERVER['REQUEST_METHOD'] ?? 'GET') !== 'HEAD') {
        echo (string) ($response['body'] ?? '');
    }
}

// ---------------------------------------------------------------------------

// Every response: PHP's X-Powered-By (expose_php) names the PHP version to anyone.
header_remove('X-Powered-By');

$method = strtoupper((string) ($_SERVER['REQUEST_METHOD'] ?? 'GET'));
$path = (string) parse_url((string) ($_SERVER['REQUEST_URI'] ?? '/'), PHP_URL_PATH);
$path = '/' . ltrim($path, '/');

if (stask_setting('STASK_API_TOKEN', 'stask.api_token') === '') {
    stask_log('refusing to serve: no API token is configured. Set STASK_API_TOKEN (or stask.api_token in php.ini).');
    stask_send_json(503, [
        'success' => false,
        'code' => 503,
        'message' => 'sTask is not configured: set STASK_API_TOKEN (or stask.api_token in php.ini) and restart the server.',
    ]);

    return;
}

try {
    if (!extension_loaded('stask')) {
        throw new RuntimeException('the stask extension is not loaded');
    }
    require_once __DIR__ . '/../autoload.php';
    $bootstrap = getenv('STASK_BOOTSTRAP');
    if (is_string($bootstrap) && $bootstrap !== '') {
        require_once $bootstrap;
    }
} catch (Throwable $e) {
    stask_log('cannot start: ' . $e->getMessage());
    stask_send_json(503, ['success' => false, 'code' => 503, 'message' => 'sTask cannot start: see the server log.']);

    return;
}

// The API root (GET /stask/, its route list) is the page's address too: a
// request with credentials is meant for the API, a browser's is the page.
$apiRoot = in_array($path, [STASK_API_PREFIX, STASK_API_PREFIX . '/'], true);
if (($method === 'GET' || $method === 'HEAD')
    && (in_array($path, ['/', '/index.php'], true) || ($apiRoot && !isset(stask_request_headers()['authorization'])))) {
    stask_serve_page();

    return;
}

if (($method === 'GET' || $method === 'HEAD') && str_starts_with($path, '/assets/')) {
    stask_serve_asset(rawurldecode(substr($path, strlen('/assets/'))));

    return;
}

if (!$apiRoot && !str_starts_with($path, STASK_API_PREFIX . '/')) {
    stask_send_json(404, ['success' => false, 'code' => 404, 'message' => 'Not found']);

    return;
}

$maxBody = (int) (getenv('STASK_MAX_BODY') ?: STASK_DEFAULT_MAX_BODY);
$body = stask_read_body($maxBody);
if ($body === null) {
    stask_send_json(413, ['success' => false, 'code' => 413, 'message' => "Request body too large (limit {$maxBody} bytes)"]);

    return;
}

try {
    $response = sTask::handleHttp([
        'method' => $method,
        'path' => substr($path, strlen(STASK_API_PREFIX)),
        'query' => $_GET,
        'body' => $body,
        'form' => $_POST,
        'files' => $_FILES,
        'headers' => stask_request_headers(),
        'auth' => ['mode' => 'bearer'],
        'base_url' => STASK_API_PREFIX,
    ]);
    stask_send_response($response);
} catch (\Seiger\sTask\Exceptions\ConfigurationException $e) {
    // A configuration mistake (e.g. a token that is too short): say what to fix; engine messages carry no secrets.
    stask_log('configuration error: ' . $e->getMessage());
    stask_send_json(503, ['success' => false, 'code' => 503, 'message' => 'sTask is not configured correctly: ' . $e->getMessage()]);
} catch (Throwable $e) {
    // The client learns nothing about the server; the console gets the reason.
    stask_log(sprintf('%s %s failed: %s: %s', $method, $path, get_class($e), $e->getMessage()));
    if (!headers_sent()) {
        stask_send_json(500, ['success' => false, 'code' => 500, 'message' => 'Internal server error']);
    }
}
