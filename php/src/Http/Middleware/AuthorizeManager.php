<?php

declare(strict_types=1);

namespace Seiger\sTask\Http\Middleware;

use Closure;
use Illuminate\Http\JsonResponse;
use Illuminate\Http\Request;
use Illuminate\Http\Response;
use Seiger\sTask\Http\DoctorProbe;

/**
 * Guards every /stask route of the CMS adapter:
 *
 * 1. the user must hold the `stask` permission: evo()->hasPermission('stask')
 *    in Evolution CMS, the `stask` Gate in a plain Laravel host (no Gate
 *    defined means no access) -> 403 JSON otherwise;
 * 2. every state-changing request (anything but GET/HEAD/OPTIONS) must carry
 *    the session's CSRF token wherever the manager takes it: a `_token`
 *    form field or JSON body member, X-CSRF-TOKEN, or X-XSRF-TOKEN (Laravel's
 *    encrypted cookie copy, or the token itself) -> 419 JSON otherwise. Never
 *    from the query string, where it would end up in logs and Referer headers.
 *
 * The CSRF check is done here, explicitly, instead of by the host's
 * VerifyCsrfToken (which the routes exclude): Evolution 3.1's middleware
 * checks GETs too and answers 403, Laravel's answers HTML unless the client
 * asks for JSON; here every client gets the same 419 JSON. The token is the
 * Laravel session's, or Evolution's $_SESSION['_token'] where the host keeps
 * its session natively.
 */
final class AuthorizeManager
{
    private const SAFE_METHODS = ['GET', 'HEAD', 'OPTIONS'];

    public function handle(Request $request, Closure $next)
    {
        // GET /stask/doctor with stask:doctor's one-time token (a file it wrote
        // into storage a moment ago): the web server's PHP facts, nothing else.
        if (DoctorProbe::acceptsProbe($request)) {
            return $next($request);
        }
        if (!self::allowed()) {
            if (self::isPageRequest($request)) {
                return self::deniedPage();
            }

            return self::error(403, 'Access denied: the stask permission is required');
        }
        if (!in_array(strtoupper($request->getMethod()), self::SAFE_METHODS, true) && !self::tokenMatches($request)) {
            return self::error(419, 'CSRF token mismatch: reload the page and try again');
        }

        return $next($request);
    }

    public static function allowed(): bool
    {
        try {
            if (function_exists('evo')) {
                return (bool) evo()->hasPermission('stask', 'mgr');
            }
            $gate = app('Illuminate\Contracts\Auth\Access\Gate');

            return $gate->has('stask') && $gate->allows('stask');
        } catch (\Throwable) {
            return false;
        }
    }

    /** The current session's CSRF token, or '' when there is no session. */
    public static function sessionToken(Request $request): string
    {
        if ($request->hasSession()) {
            return (string) $request->session()->token();
        }
        if (isset($_SESSION['_token']) && is_string($_SESSION['_token'])) {
            return $_SESSION['_token'];
        }

        return '';
    }

    private static function tokenMatches(Request $request): bool
    {
        $expected = self::sessionToken($request);
        if ($expected === '') {
            return false;
        }
        foreach (self::givenTokens($request) as $given) {
            if (hash_equals($expected, $given)) {
                return true;
            }
        }

        return false;
    }

    /**
     * The tokens the request carries. The JSON body is read here because a
     * host that builds its request with createFromGlobals() (Evolution CMS)
     * does not parse JSON into the request's input.
     *
     * @return string[]
     */
    private static function givenTokens(Request $request): array
    {
        $tokens = [$request->request->get('_token'), $request->headers->get('X-CSRF-TOKEN')];
        if ($request->isJson()) {
            $body = json_decode((string) $request->getContent(), true);
            $tokens[] = is_array($body) ? ($body['_token'] ?? null) : null;
        }
        $xsrf = $request->headers->get('X-XSRF-TOKEN');
        if (is_string($xsrf) && $xsrf !== '') {
            $tokens[] = $xsrf;
            $tokens[] = self::decryptXsrf($xsrf);
        }

        return array_values(array_filter($tokens, static fn ($t) => is_string($t) && $t !== ''));
    }

    /** Laravel's XSRF-TOKEN cookie value is the token encrypted (and prefixed); null where it cannot be read. */
    private static function decryptXsrf(string $value): ?string
    {
        try {
            if (!app()->bound('encrypter')) {
                return null;
            }
            $plain = app('encrypter')->decrypt($value, false);
            if (!is_string($plain)) {
                return null;
            }
            // Laravel 8.x prefixes the cookie value with an HMAC of its name and a "|".
            $bar = strpos($plain, '|');

            return $bar === false ? $plain : substr($plain, $bar + 1);
        } catch (\Throwable) {
            return null;
        }
    }

    /** The module page itself (a browser opening the tab), not an API call. */
    private static function isPageRequest(Request $request): bool
    {
        $route = $request->route();

        return $request->isMethod('GET') && !$request->wantsJson() && is_object($route) && $route->getName() === 'sTask.index';
    }

    /** A page for the manager's tab instead of raw JSON: what is missing and who can grant it. */
    private static function deniedPage(): Response
    {
        $html = <<<'HTML'
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>sTask: access denied</title>
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <style>body{font:15px/1.5 system-ui,sans-serif;margin:2rem;max-width:44rem;color:#1f2937}
            @media (prefers-color-scheme: dark){body{background:#1f2328;color:#e5e7eb}}</style></head>
            <body><h1 id="stask-access-denied">Task Manager: access denied</h1>
            <p>Your role does not have the permission <strong>Access sTask Interface</strong> (<code>stask</code>).
            An administrator can grant it under Users &rarr; Roles; permissions are read at login,
            so log out and log in again after it has been granted.</p></body></html>
            HTML;

        return new Response($html, 403, ['Content-Type' => 'text/html; charset=utf-8', 'Cache-Control' => 'no-store']);
    }

    private static function error(int $status, string $message): JsonResponse
    {
        return new JsonResponse(['success' => false, 'code' => $status, 'message' => $message], $status, [
            'Cache-Control' => 'no-store',
        ]);
    }
}
