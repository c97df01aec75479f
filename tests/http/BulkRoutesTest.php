<?php

declare(strict_types=1);

namespace Stask\HttpTests;

/**
 * The bulk task routes over HTTP, with the worker process running: retry
 * every failed task a filter of the list matches (body or query string),
 * cancel a selection by ids (pending, running, finished, unknown), and
 * their 401/422 answers.
 */
final class BulkRoutesTest extends HttpTestCase
{
    /** A worker identifier no class has: the worker process fails its tasks at once. */
    private static function nobody(): string
    {
        return 'bulk_' . bin2hex(random_bytes(4));
    }

    /** Tasks the worker process failed (no worker is registered for them). */
    private function failedTasks(string $identifier, array $actions): array
    {
        $ids = [];
        foreach ($actions as $action) {
            $ids[] = $this->ok('POST', '/tasks', ['identifier' => $identifier, 'action' => $action, 'max_attempts' => 1])['task']['id'];
        }
        $this->eventually(fn (): ?bool => $this->ok('GET', "/tasks?identifier={$identifier}&status=failed")['pagination']['total'] === count($ids) ? true : null);

        return $ids;
    }

    public function testRetryTakesTheListsFiltersFromTheBodyOrTheQueryString(): void
    {
        $who = self::nobody();
        [$a1, $a2, $b1] = $this->failedTasks($who, ['a', 'a', 'b']);
        $data = $this->ok('POST', '/tasks/retry', ['identifier' => $who, 'action' => 'a']);
        $this->assertSame([2, [$a1, $a2], []], [$data['retried'], $data['retried_ids'], $data['not_retried']]);
        $this->assertIsInt($data['remaining']);
        $this->assertSame('failed', $this->ok('GET', "/tasks/{$b1}")['task']['status_text'], 'another action is left alone');

        $r = $this->request('POST', '/stask/tasks/retry?worker=' . $who . '&action=b&status=failed', '{}', ['content-type' => 'application/json']);
        $this->assertSame(200, $r->status, $r->body);
        $this->assertSame([$b1], $this->jsonOf($r)['retried_ids']);

        // Cancelled tasks only when the filter says so; `limit` bounds one request.
        $later = self::nobody();
        $c1 = $this->createTask(['identifier' => $later])['id'];
        $c2 = $this->createTask(['identifier' => $later])['id'];
        foreach ([$c1, $c2] as $id) {
            $this->ok('POST', "/tasks/{$id}/cancel");
        }
        $this->assertSame(0, $this->ok('POST', '/tasks/retry', ['worker' => $later])['retried']);
        $data = $this->ok('POST', '/tasks/retry', ['worker' => $later, 'status' => 'cancelled', 'limit' => 1]);
        $this->assertSame([[$c1], 1], [$data['retried_ids'], $data['remaining']]);
        // Queued again; the worker process may already have run (and, with
        // no worker class, failed) it once more.
        $this->assertContains($this->ok('GET', "/tasks/{$c1}")['task']['status_text'], ['pending', 'running', 'failed']);
        $this->assertSame('cancelled', $this->ok('GET', "/tasks/{$c2}")['task']['status_text'], 'the limit left the second alone');
    }

    public function testCancelNamesWhatItLeftAlone(): void
    {
        $who = self::nobody();
        [$failed] = $this->failedTasks($who, ['a']);
        $p1 = $this->createTask()['id'];
        $p2 = $this->createTask()['id'];
        $running = $this->ok('POST', '/workers/product/tasks/import', ['rows' => 400, 'pace_ms' => 25])['id'];
        $this->eventually(fn (): ?bool => $this->ok('GET', "/tasks/{$running}/progress")['progress'] > 0 ? true : null);

        $data = $this->ok('POST', '/tasks/cancel', ['ids' => [$p1, $failed, $p2, $running, 999999999, $p1]]);
        $this->assertSame([2, [$p1, $p2]], [$data['cancelled'], $data['cancelled_ids']]);
        $this->assertSame([1, [$running]], [$data['requested'], $data['requested_ids']]);
        $this->assertSame([
            ['id' => $failed, 'reason' => 'finished', 'status' => 'failed'],
            ['id' => 999999999, 'reason' => 'not_found', 'status' => null],
        ], $data['not_cancelled']);
        $this->assertSame('cancelled', $this->ok('GET', "/tasks/{$p2}")['task']['status_text']);
        $this->eventually(fn (): ?bool => $this->ok('GET', "/tasks/{$running}")['task']['status'] === 50 ? true : null);
    }

    public function testBadInputIsA422AndEveryRequestNeedsTheToken(): void
    {
        $this->assertInvalid('POST', '/tasks/cancel', [
            [[], 'ids'],
            [['ids' => []], 'ids'],
            [['ids' => '1,2'], 'ids'],
            [['ids' => [1, 'x']], 'ids'],
            [['ids' => [0]], 'ids'],
            [['ids' => [-4]], 'ids'],
            [['ids' => [2.5]], 'ids'],
            [['ids' => range(1, 1001)], 'ids'],
            [['ids' => [1], 'all' => true], 'all'],
        ]);
        $this->assertInvalid('POST', '/tasks/retry', [
            [['status' => 'completed'], 'status'],
            [['status' => 'failed,running'], 'status'],
            [['limit' => 0], 'limit'],
            [['limit' => 1001], 'limit'],
            [['per_page' => 5], 'per_page'],
            [['from' => 'last week'], 'from'],
        ]);
        $this->fails(400, 'POST', '/tasks/cancel', '{"ids": [', 'Malformed JSON');
        foreach (['/tasks/retry', '/tasks/cancel'] as $path) {
            $this->assertSame(401, $this->send('POST', $path, ['ids' => [1]], ['authorization' => null])->status, $path);
        }
    }
}
