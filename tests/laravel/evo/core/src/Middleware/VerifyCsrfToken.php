<?php

namespace EvolutionCMS\Middleware;

use Closure;
use Illuminate\Http\JsonResponse;

/**
 * The 3.1 core's CSRF check for the mgr group: the native session's _token
 * against the request's `_token` input (every method; no header). The token
 * exists once a page called csrf_token(); before that everything passes.
 */
class VerifyCsrfToken
{
    public function handle($request, Closure $next)
    {
        if (($_SESSION['_token'] ?? null) !== $request->input('_token')) {
            return new JsonResponse(['error' => 'CSRF token mismatch'], 403);
        }

        return $next($request);
    }
}
