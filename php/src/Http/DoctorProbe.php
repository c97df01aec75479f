<?php

declare(strict_types=1);

namespace Seiger\sTask\Http;

use Illuminate\Http\JsonResponse;
use Illuminate\Http\Request;
use Seiger\sTask\Doctor\WebReport;

/**
 * GET {prefix}/doctor: the web server's PHP reports itself (PHP version,
 * SAPI, the stask extension and whether its version fits the package).
 * The module calls it and shows the answer; stask:doctor reads the last
 * answer from storage, or asks with a one-time token. Works with and
 * without the extension (both route files register it).
 */
final class DoctorProbe
{
    /** Authorized by AuthorizeManager (a manager with `stask`, or acceptsProbe()). */
    public function handle(Request $request): JsonResponse
    {
        $report = WebReport::current();
        WebReport::record(self::storage(), $report);
        $response = new JsonResponse(['success' => true, 'code' => 200] + $report, 200, ['Cache-Control' => 'no-store']);
        SecurityHeaders::apply($response->headers, SecurityHeaders::RESPONSE);

        return $response;
    }

    /** A GET of this route carrying stask:doctor's valid one-time token (consumed). */
    public static function acceptsProbe(Request $request): bool
    {
        $route = $request->route();
        if (!is_object($route) || !method_exists($route, 'getName') || $route->getName() !== 'sTask.doctor'
            || !in_array(strtoupper($request->getMethod()), ['GET', 'HEAD'], true)) {
            return false;
        }
        $token = $request->query('probe');

        return is_string($token) && $token !== '' && WebReport::acceptProbeToken(self::storage(), $token);
    }

    public static function storage(): string
    {
        try {
            return function_exists('storage_path') ? (string) storage_path('stask') : '';
        } catch (\Throwable) {
            return '';
        }
    }
}
