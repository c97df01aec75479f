<?php

declare(strict_types=1);

namespace Stask\Tests;

use Seiger\sTask\Facades\sTask;

/**
 * The live-process registry seen from PHP: a real worker process appears in
 * GET /processes (its pid) while it runs and is gone after a clean stop; one
 * killed with SIGKILL cannot remove itself and stays listed (it stops
 * counting as alive when its heartbeat is two minutes old: tests/processes.rs).
 */
final class ProcessesTest extends TestCase
{
    private function processes(): array
    {
        $r = sTask::handleHttp(['method' => 'GET', 'path' => '/processes', 'auth' => ['mode' => 'trusted', 'user_id' => 7]]);
        $this->assertSame(200, $r['status'], $r['body']);

        return json_decode($r['body'], true, 512, JSON_THROW_ON_ERROR);
    }

    /** @return array{handle: resource, pid: int} */
    private function startWorker(float $seconds): array
    {
        $lib = getenv('STASK_LIB') ?: dirname(__DIR__, 2) . '/target/debug/libstask.so';
        $env = [
            'STASK_TEST_CONNECTION' => json_encode($this->connection()),
            'STASK_TEST_WORK' => json_encode(['max_seconds' => $seconds, 'sleep' => 0.05]),
        ] + getenv();
        $cmd = [PHP_BINARY, '-d', 'display_errors=stderr', '-d', 'extension=' . $lib, __DIR__ . '/fixtures/worker.php'];
        $proc = proc_open($cmd, [1 => ['file', '/dev/null', 'w'], 2 => ['file', '/dev/null', 'w']], $pipes, null, $env);
        $this->assertIsResource($proc);

        return ['handle' => $proc, 'pid' => proc_get_status($proc)['pid']];
    }

    /** Polls until $check returns non-null (10 s at most). */
    private function until(callable $check): mixed
    {
        for ($i = 0; $i < 200; $i++) {
            if (($v = $check()) !== null) {
                return $v;
            }
            usleep(50_000);
        }
        $this->fail('timed out; processes: ' . json_encode($this->processes()));
    }

    private function listed(int $pid): ?array
    {
        foreach ($this->processes()['processes'] as $p) {
            if ($p['pid'] === $pid) {
                return $p;
            }
        }

        return null;
    }

    public function testAWorkerIsListedWhileItRunsAndRemovesItselfWhenItStops(): void
    {
        $w = $this->startWorker(1.5);
        $p = $this->until(fn () => $this->listed($w['pid']));
        $this->assertTrue($p['alive']);
        $this->assertSame(0, $p['tasks_done']);
        $this->assertSame(1, $this->processes()['alive']);
        proc_close($w['handle']);
        $this->assertNull($this->listed($w['pid']), 'a clean stop removes the row');
        $this->assertSame(0, $this->processes()['alive']);
    }

    public function testAKilledWorkerStaysListedUntilItsHeartbeatExpires(): void
    {
        $w = $this->startWorker(60);
        $this->until(fn () => $this->listed($w['pid']));
        proc_terminate($w['handle'], 9);
        proc_close($w['handle']);
        $p = $this->listed($w['pid']);
        $this->assertNotNull($p, 'nothing removed the row of a killed process');
        $this->assertTrue($p['alive'], 'its heartbeat is still recent');

        // Three minutes on (its heartbeat aged by hand): gone, and a due task
        // raises the alert that nothing will run it.
        $pdo = \Stask\Tests\Support\RawRows::pdo(self::backend(), $this->database);
        $aged = $pdo->prepare("UPDATE {$this->prefix}s_task_processes SET heartbeat_at = ? WHERE pid = ?");
        $aged->execute([gmdate('Y-m-d H:i:s', time() - 180) . '.000000', $w['pid']]);
        $this->assertSame(1, $aged->rowCount());
        $this->assertFalse($this->listed($w['pid'])['alive']);
        $this->assertSame(0, $this->processes()['alive']);
        sTask::create('nobody_runs_this', 'run');
        $r = sTask::handleHttp(['method' => 'GET', 'path' => '/performance/alerts', 'auth' => ['mode' => 'trusted', 'user_id' => 7]]);
        $types = array_column(json_decode($r['body'], true)['alerts'], 'type');
        $this->assertContains('no_worker_process', $types);
    }
}
