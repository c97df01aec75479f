<?php

declare(strict_types=1);

namespace Seiger\sTask\Http;

use Illuminate\Http\JsonResponse;
use Illuminate\Http\Request;
use Symfony\Component\HttpFoundation\File\UploadedFile;
use Seiger\sTask\Exceptions\ConfigurationException;
use Seiger\sTask\Facades\sTask;
use Seiger\sTask\sTaskServiceProvider;
use Seiger\sTask\Support\HostLog;
use Symfony\Component\HttpFoundation\BinaryFileResponse;
use Symfony\Component\HttpFoundation\Response;

/**
 * The Laravel / Evolution CMS face of the admin module and the REST API.
 * Everything it serves has passed Middleware\AuthorizeManager (permission,
 * CSRF); the API itself lives in the engine (sTask::handleHttp), called with
 * `auth => trusted`.
 */
final class HttpAdapter
{
    /** Request bodies above this are refused before they are read (bytes). */
    public const MAX_BODY = 8 * 1024 * 1024;

    private const ASSET_TYPES = ['js' => 'text/javascript; charset=utf-8', 'css' => 'text/css; charset=utf-8', 'svg' => 'image/svg+xml'];

    /** GET /stask: the module page; for a client asking for JSON, the API root (the route list). */
    public function page(Request $request)
    {
        if ($request->wantsJson()) {
            return $this->api($request, '');
        }
        $base = self::apiBase($request);
        $locale = function_exists('evo') ? (string) (evo()->getConfig('manager_language') ?: '') : '';
        if ($locale === '') {
            $locale = (string) app()->getLocale();
        }

        $response = response()->view('sTask::module', ['page' => [
            'api' => $base,
            'auth' => 'csrf',
            'csrf' => Middleware\AuthorizeManager::sessionToken($request) ?: (function_exists('csrf_token') ? (string) csrf_token() : ''),
            'locale' => $locale,
            'assets' => self::publishedAssetsUrl() ?? $base . '/assets',
            'doctor' => $base . '/doctor',
        ]]);
        $response->headers->set('Cache-Control', 'no-store');
        // The same list as the standalone page (SecurityHeaders::PAGE): frame-ancestors 'self' lets the manager frame it.
        SecurityHeaders::apply($response->headers, SecurityHeaders::PAGE);

        return $response;
    }

    /**
     * URL of the copies `vendor:publish --tag=stask` put under the public
     * folder (assets/site), when every one of them is the package's current
     * file; null otherwise, and the module loads them through
     * /stask/assets/{file} from the package (a copy left by an older version
     * is never served).
     */
    public static function publishedAssetsUrl(): ?string
    {
        if (!function_exists('public_path')) {
            return null;
        }
        try {
            $published = public_path(sTaskServiceProvider::PUBLISHED_ASSETS);
        } catch (\Throwable) {
            return null;
        }
        foreach (['stask-admin.js', 'stask-admin.css', 'stask-doctor.js', 'stask.svg'] as $file) {
            $copy = $published . '/' . $file;
            $source = ModulePage::assetsPath() . '/' . $file;
            if (!is_file($copy) || !is_file($source) || filesize($copy) !== filesize($source) || sha1_file($copy) !== sha1_file($source)) {
                return null;
            }
        }
        // The site's root URL: Evolution's MODX_BASE_URL, else the web root of this request.
        $root = defined('MODX_BASE_URL') ? rtrim((string) MODX_BASE_URL, '/') : rtrim(request()->getBasePath(), '/');

        return $root . '/' . sTaskServiceProvider::PUBLISHED_ASSETS;
    }

    /** GET /stask/assets/{file}: the page's script and stylesheet, from the package. */
    public function asset(string $file): Response
    {
        $ext = strtolower(pathinfo($file, PATHINFO_EXTENSION));
        $dir = ModulePage::assetsPath();
        $path = realpath($dir . '/' . $file);
        if (!preg_match('/^[A-Za-z0-9][A-Za-z0-9._-]*$/', $file) || !isset(self::ASSET_TYPES[$ext])
            || $path === false || !is_file($path) || !str_starts_with($path, rtrim($dir, '/') . '/')) {
            return new JsonResponse(['success' => false, 'code' => 404, 'message' => 'Not found'], 404);
        }

        $response = new BinaryFileResponse($path, 200, [
            'Content-Type' => self::ASSET_TYPES[$ext],
            'Cache-Control' => 'public, max-age=300',
        ], true, null, false, false);
        SecurityHeaders::apply($response->headers, SecurityHeaders::RESPONSE);

        return $response;
    }

    /** Any method on /stask/{path}: forwarded to the engine. */
    public function api(Request $request, string $path = ''): Response
    {
        $length = $request->server('CONTENT_LENGTH');
        if ($length !== null && $length !== '' && (!ctype_digit((string) $length) || (int) $length > self::MAX_BODY)) {
            return new JsonResponse(['success' => false, 'code' => 413, 'message' => 'Request body too large (limit ' . self::MAX_BODY . ' bytes)'], 413);
        }
        $body = (string) $request->getContent();
        if (strlen($body) > self::MAX_BODY) {
            return new JsonResponse(['success' => false, 'code' => 413, 'message' => 'Request body too large (limit ' . self::MAX_BODY . ' bytes)'], 413);
        }

        $form = $request->request->all();
        unset($form['_token']);
        $query = $request->query->all();
        unset($query['_token']);

        $container = app();
        if ($container->bound(sTaskServiceProvider::CONFIGURATION_ERROR)) {
            return self::unavailable((string) $container->make(sTaskServiceProvider::CONFIGURATION_ERROR));
        }
        try {
            $result = sTask::handleHttp([
                'method' => strtoupper($request->getMethod()),
                // Laravel has decoded the path already; the engine decodes %-escapes
                // itself, so a literal % must reach it escaped.
                'path' => '/' . str_replace('%', '%25', ltrim($path, '/')),
                'query' => $query,
                'body' => $body,
                'form' => $form,
                'files' => self::files($request),
                'headers' => self::headers($request),
                'auth' => ['mode' => 'trusted', 'user_id' => self::userId()],
                'base_url' => self::apiBase($request),
            ]);
        } catch (ConfigurationException $e) {
            HostLog::error('sTask is not configured: ' . $e->getMessage(), $e);

            return self::unavailable('sTask is not configured: ' . $e->getMessage());
        } catch (\Throwable $e) {
            // Never the host's error page (HTML, a stack trace with APP_DEBUG).
            HostLog::error('sTask API ' . $request->getMethod() . ' /' . ltrim($path, '/') . ' failed: ' . $e->getMessage(), $e);

            return new JsonResponse(['success' => false, 'code' => 500, 'error' => 'Internal Server Error', 'message' => 'The server failed; the details are in the log'], 500, ['Cache-Control' => 'no-store']);
        }

        return self::toResponse($result);
    }

    /** 503 JSON for a configuration the engine refused; the message says what to fix, without server paths. */
    private static function unavailable(string $reason): JsonResponse
    {
        $reason = (string) preg_replace('#(?<![\w.])(?:[A-Za-z]:)?[/\\][^\s\'",;:)]+#', '[path]', $reason);

        return new JsonResponse([
            'success' => false,
            'code' => 503,
            'error' => 'sTask is not configured',
            'message' => $reason . '. Fix the stask.* php.ini settings or the STASK_* environment variables (and the host\'s database connection), then reload; the server log has the details.',
        ], 503, ['Cache-Control' => 'no-store', 'Retry-After' => '60']);
    }

    /** URL path of the API root: /stask (or the configured prefix), /manager/stask under Evolution's manager. */
    public static function apiBase(Request $request): string
    {
        return rtrim($request->getBaseUrl(), '/') . '/' . sTaskServiceProvider::$routePrefix;
    }

    public static function userId(): ?int
    {
        try {
            if (function_exists('evo')) {
                $id = evo()->getLoginUserID('mgr');

                return $id === false || $id === null || $id === '' ? null : (int) $id;
            }
            $id = app('auth')->id();

            return $id === null ? null : (int) $id;
        } catch (\Throwable) {
            return null;
        }
    }

    private static function headers(Request $request): array
    {
        $headers = [];
        foreach ($request->headers->all() as $name => $values) {
            $headers[strtolower((string) $name)] = implode(', ', (array) $values);
        }
        unset($headers['cookie']); // the engine has no use for the session cookie

        return $headers;
    }

    /** Laravel's UploadedFile objects back in $_FILES shape (one level of lists). */
    private static function files(Request $request): array
    {
        $files = [];
        foreach ($request->files->all() as $field => $value) {
            if ($value instanceof UploadedFile) {
                $files[$field] = self::fileEntry($value);
            } elseif (is_array($value)) {
                $entry = ['name' => [], 'type' => [], 'tmp_name' => [], 'error' => [], 'size' => []];
                foreach ($value as $i => $one) {
                    if ($one instanceof UploadedFile) {
                        foreach (self::fileEntry($one) as $key => $v) {
                            $entry[$key][$i] = $v;
                        }
                    }
                }
                $files[$field] = $entry;
            }
        }

        return $files;
    }

    private static function fileEntry(UploadedFile $file): array
    {
        return [
            'name' => $file->getClientOriginalName(),
            'type' => (string) $file->getClientMimeType(),
            'tmp_name' => $file->getPathname(),
            'error' => $file->getError(),
            'size' => (int) $file->getSize(),
        ];
    }

    private static function toResponse(array $result): Response
    {
        $status = (int) ($result['status'] ?? 500);
        // The engine's own headers win over the defaults of SecurityHeaders::RESPONSE.
        $headers = (array) ($result['headers'] ?? []) + SecurityHeaders::RESPONSE;
        SecurityHeaders::removePoweredBy();
        if (isset($result['file'])) {
            $file = (string) $result['file'];
            if (!is_file($file) || !is_readable($file)) {
                return new JsonResponse(['success' => false, 'code' => 404, 'message' => 'File not found'], 404);
            }
            // No ETag/Last-Modified: the engine's headers (type, disposition) are sent as given.
            return new BinaryFileResponse($file, $status, $headers, false, null, false, false);
        }

        $response = new Response((string) ($result['body'] ?? ''), $status, $headers);
        if (!$response->headers->has('Content-Type')) {
            $response->headers->set('Content-Type', 'application/json');
        }

        return $response;
    }
}
