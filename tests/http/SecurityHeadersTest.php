<?php

declare(strict_types=1);

namespace Stask\HttpTests;

use Seiger\sTask\Http\SecurityHeaders;

/**
 * Issue 11 #7: the standalone front controller sends the security headers of
 * Seiger\sTask\Http\SecurityHeaders (the list the Laravel adapter sends too):
 * the page its CSP and SAMEORIGIN framing, every other response the
 * defaults, and no response X-Powered-By (php -S runs with expose_php on).
 */
final class SecurityHeadersTest extends HttpTestCase
{
    public function testThePageAndEveryOtherResponseCarryTheSharedHeaders(): void
    {
        $page = $this->request('GET', '/', null, ['authorization' => null]);
        $this->assertSame(200, $page->status);
        $this->assertSame('SAMEORIGIN', $page->header('x-frame-options'));
        $this->assertStringContainsString("frame-ancestors 'self'", (string) $page->header('content-security-policy'));
        $this->assertHeaders(SecurityHeaders::PAGE, $page, 'the page');

        $id = $this->createTask()['id'];
        foreach ([
            'an asset' => ['GET', '/assets/stask-admin.js', []],
            'the API' => ['GET', '/stask/stats', []],
            'an API error' => ['GET', '/stask/tasks/999999', []],
            'a 401' => ['GET', '/stask/stats', ['authorization' => 'Bearer wrong']],
            'outside the API' => ['GET', '/nowhere', []],
            'a 405' => ['DELETE', "/stask/tasks/{$id}/progress", []],
        ] as $what => [$method, $target, $headers]) {
            $this->assertHeaders(SecurityHeaders::RESPONSE, $this->request($method, $target, null, $headers), $what);
        }
    }

    public function testAServerWithoutATokenStillSendsThem(): void
    {
        $base = $this->startServer(['STASK_API_TOKEN' => '']);
        $r = $this->request('GET', '/stask/stats', null, [], $base);
        $this->assertSame(503, $r->status);
        $this->assertHeaders(SecurityHeaders::RESPONSE, $r, 'the 503 of a server without a token');
    }

    private function assertHeaders(array $expected, Response $r, string $what): void
    {
        foreach ($expected as $name => $value) {
            $this->assertSame([$value], $r->headers[strtolower($name)] ?? null, "{$what}: {$name} (once, with this value)");
        }
        $this->assertArrayNotHasKey('x-powered-by', $r->headers, "{$what} names the PHP version");
    }
}
