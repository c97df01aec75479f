<?php

namespace App\Http\Middleware;

use Closure;

/** Marks a response (X-Harness-Stamp), so a test sees which middleware a route ran. */
class Stamp
{
    public function handle($request, Closure $next)
    {
        $response = $next($request);
        $response->headers->set('X-Harness-Stamp', 'yes');

        return $response;
    }
}
