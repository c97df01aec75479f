<?php

declare(strict_types=1);

namespace Seiger\sTask\Http\Middleware;

use Closure;
use Illuminate\Http\JsonResponse;
use Illuminate\Http\Request;

/**
 * Guards every /stask route of the CMS adapter:
 *
 * 1. the user must hold the `stask` permission: evo()->hasPermission('stask')
 *    in Evolution CMS, the `stask` Gate in a plain Laravel host (no Gate
 *    defined means no access) -> 403 JSON otherwise;
 * 2. every state-changing request (anything but GET/HEAD/OPTIONS) must carry
 *    the session's CSRF token in X-CSRF-TOKEN or `_token` -> 419 JSON otherwise.
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
        if (!self::allowed()) {
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
        $given = $request->headers->get('X-CSRF-TOKEN');
        if (!is_string($given) || $given === '') {
            $given = $request->request->get('_token', $request->query->get('_token'));
        }

        return $expected !== '' && is_string($given) && hash_equals($expected, $given);
    }

    private static function error(int $status, string $message): JsonResponse
    {
        return new JsonResponse(['success' => false, 'code' => $status, 'message' => $message], $status, [
            'Cache-Control' => 'no-store',
        ]);
    }
}
