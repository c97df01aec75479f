<?php

namespace Tests;

use Seiger\sTask\Http\SecurityHeaders;

// The expected lists come from the package itself (the test process does not autoload it).
require_once __DIR__ . '/../../../php/src/Http/SecurityHeaders.php';

/**
 * Issue 11 #7: the module page, its assets and the API inside Laravel /
 * Evolution send the same security headers as the standalone front
 * controller (one list, Seiger\sTask\Http\SecurityHeaders), framable only by
 * the manager itself (SAMEORIGIN, frame-ancestors 'self'), and no
 * X-Powered-By.
 */
class SecurityHeadersTest extends HttpHarnessTestCase
{
    public function testThePageAssetsAndApiCarryTheSharedSecurityHeaders(): void
    {
        $base = $this->serve(['EVO_PERMISSIONS' => 'stask']);
        $page = $this->request('GET', $base . '/stask');
        $this->assertSame(200, $page['status'], $page['body']);
        $this->assertStringStartsWith('text/html', $page['headers']['content-type']);
        $this->assertSame('SAMEORIGIN', $page['headers']['x-frame-options'] ?? null);
        $this->assertStringContainsString("frame-ancestors 'self'", $page['headers']['content-security-policy'] ?? '');
        $this->assertHeaders(SecurityHeaders::PAGE, $page, 'the page');

        $this->assertHeaders(SecurityHeaders::RESPONSE, $this->request('GET', $base . '/stask/assets/stask-admin.js'), 'an asset');
        $this->assertHeaders(SecurityHeaders::RESPONSE, $this->request('GET', $base . '/stask/stats'), 'the API');
        $this->assertHeaders(SecurityHeaders::RESPONSE, $this->request('GET', $base . '/stask/tasks/999999'), 'an API error');
    }

    private function assertHeaders(array $expected, array $response, string $what): void
    {
        foreach ($expected as $name => $value) {
            $this->assertSame($value, $response['headers'][strtolower($name)] ?? null, "{$what}: {$name}");
        }
        $this->assertArrayNotHasKey('x-powered-by', $response['headers'], "{$what} names the PHP version");
    }
}
