<?php

declare(strict_types=1);

namespace Stask\HttpTests;

/**
 * Bearer authentication of the front controller: no token or a wrong one is
 * 401 with WWW-Authenticate before any routing, and a server without a
 * configured token refuses everything with 503 and says how to fix it.
 */
final class AuthTest extends HttpTestCase
{
    public function testMissingOrWrongTokensAre401WithAChallenge(): void
    {
        foreach ([
            ['GET', '/stask/tasks', null],
            ['GET', '/stask/health', 'Bearer ' . str_repeat('x', 32)],
            ['POST', '/stask/tasks', 'Bearer ' . substr(self::token(), 0, -1)],
            ['GET', '/stask/metrics', 'Basic ' . base64_encode('admin:' . self::token())],
            ['GET', '/stask/stats', self::token()],
            ['GET', '/stask/no/such/route', null],
            ['GET', '/stask/tasks/abc', 'Bearer'],
            ['DELETE', '/stask/tasks', 'Bearer '],
            ['HEAD', '/stask/stats', null],
        ] as [$method, $target, $auth]) {
            $r = $this->request($method, $target, null, ['authorization' => $auth]);
            $this->assertSame(401, $r->status, "{$method} {$target} with " . var_export($auth, true));
            $this->assertSame('Bearer realm="stask"', $r->header('www-authenticate'));
            if ($method === 'HEAD') {
                $this->assertSame('', $r->body);
                continue;
            }
            $data = $this->assertError($r, 401, 'Unauthorized');
            $this->assertStringContainsString('Bearer', $data['message']);
        }
    }

    public function testTheBearerSchemeIsCaseInsensitive(): void
    {
        $r = $this->request('GET', '/stask/stats', null, ['authorization' => 'bearer ' . self::token()]);
        $this->assertSame(200, $r->status, $r->body);
    }

    public function testWithoutAConfiguredTokenEveryRequestIs503WithAnActionableMessage(): void
    {
        $url = $this->startServer(['STASK_API_TOKEN' => '']);
        foreach (['/stask/health', '/stask/tasks', '/', '/assets/stask-admin.js', '/stask/nope'] as $target) {
            $r = $this->request('GET', $target, null, [], $url);
            $this->assertSame(503, $r->status, "{$target}: {$r->body}");
            $data = $this->jsonOf($r);
            $this->assertFalse($data['success']);
            $this->assertStringContainsString('STASK_API_TOKEN', $data['message']);
            $this->assertStringContainsString('stask.api_token', $data['message']);
            $this->assertNoLeak($r);
        }
    }

    public function testATooShortTokenIs503NamingTheProblem(): void
    {
        $url = $this->startServer(['STASK_API_TOKEN' => 'short']);
        $r = $this->request('GET', '/stask/stats', null, ['authorization' => 'Bearer short'], $url);
        $this->assertSame(503, $r->status, $r->body);
        $data = $this->jsonOf($r);
        $this->assertFalse($data['success']);
        $this->assertStringContainsString('token', $data['message']);
        $this->assertNoLeak($r);
    }
}
