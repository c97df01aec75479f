<?php

declare(strict_types=1);

namespace Stask\Tests;

use Seiger\sTask\Facades\sTask;
use Seiger\sTask\Models\sTaskModel;

require_once __DIR__ . '/fixtures/LedgerWorker.php';

/**
 * Many worker processes against one database, with a ledger of every
 * execution: each task runs exactly once, nothing is left behind, and a
 * worker killed with -9 costs only a retry.
 */
final class SoakTest extends TestCase
{
    private string $ledger;

    protected function setUp(): void
    {
        parent::setUp();
        $this->configure(['retry_base_delay' => 0]);
        $this->activeWorker(\Stask\Tests\Fixtures\LedgerWorker::class);
        $this->ledger = $this->root . '/ledger.txt';
        touch($this->ledger);
        putenv('STASK_TEST_LEDGER=' . $this->ledger);
        $this->useLease(60);
        putenv('STASK_TEST_WORK');
    }

    /** The lease the worker processes take (their heartbeat is a third of it). */
    private function useLease(int $seconds): void
    {
        putenv('STASK_TEST_CONNECTION=' . json_encode($this->connection(['retry_base_delay' => 0, 'lease_seconds' => $seconds])));
    }

    /** @return list<int> pids */
    private function startWorkers(int $n, array $work, string $host = ''): array
    {
        $pids = [];
        for ($i = 0; $i < $n; $i++) {
            $pid = pcntl_fork();
            if ($pid === 0) {
                $env = ['STASK_TEST_WORK' => json_encode($work), 'STASK_HOST_ID' => $host ?: 'soak-host'];
                pcntl_exec(PHP_BINARY, ['-d', 'display_errors=stderr', '-d', 'extension=' . $this->extensionPath(), __DIR__ . '/fixtures/worker.php'], $env + getenv());
                exit(127);
            }
            $pids[] = $pid;
        }
        return $pids;
    }

    private function extensionPath(): string
    {
        return getenv('STASK_LIB') ?: dirname(__DIR__, 2) . '/target/debug/libstask.so';
    }

    /** @return array<int, int> task id => executions */
    private function executions(): array
    {
        $runs = [];
        foreach (file($this->ledger, FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES) as $line) {
            $id = (int) explode(' ', $line)[0];
            $runs[$id] = ($runs[$id] ?? 0) + 1;
        }
        return $runs;
    }

    public function testFourWorkerProcessesRunEveryTaskExactlyOnce(): void
    {
        $perProcess = (int) (getenv('STASK_SOAK_TASKS') ?: 25000);
        $total = 4 * $perProcess;
        for ($i = 0; $i < $total; $i++) {
            sTask::create('ledger', 'record');
        }

        $started = microtime(true);
        $pids = $this->startWorkers(4, ['stop_when_empty' => true, 'sleep' => 0.05]);
        foreach ($pids as $pid) {
            pcntl_waitpid($pid, $status);
            $this->assertSame(0, pcntl_wexitstatus($status), 'a worker process failed');
        }
        $seconds = microtime(true) - $started;

        $runs = $this->executions();
        $this->assertCount($total, $runs, 'every task ran');
        $this->assertSame([1], array_values(array_unique($runs)), 'no task ran twice');
        $this->assertSame(0, sTaskModel::incomplete()->count(), 'nothing left pending or running');
        $this->assertSame($total, sTaskModel::completed()->where('attempts', 1)->count(), 'one attempt each: no deadlock or retry');
        fwrite(STDERR, sprintf("\n[soak %s] %d tasks, 4 processes: %.1fs, %.0f tasks/s\n", self::backend(), $total, $seconds, $total / $seconds));
    }

    public function testAWorkerKilledWithSigkillCostsOneRetryAndEveryTaskCompletes(): void
    {
        $this->useLease(2);
        $ids = [];
        for ($i = 0; $i < 12; $i++) {
            $ids[] = sTask::create('ledger', 'record', ['sleep_ms' => 400])->id;
        }
        $pids = $this->startWorkers(2, ['max_seconds' => 30, 'stop_when_empty' => true, 'sleep' => 0.05]);

        // Kill the first worker while it holds a task.
        $victim = $pids[0];
        $held = null;
        $until = microtime(true) + 10;
        while ($held === null && microtime(true) < $until) {
            $held = sTaskModel::running()->where('lease_owner', 'like', "%:{$victim}:%")->first();
            usleep(20_000);
        }
        $this->assertNotNull($held, 'the victim took a task');
        posix_kill($victim, SIGKILL);
        $killedAt = microtime(true);
        pcntl_waitpid($victim, $status);

        // The survivor rescues the task once its lease (2 s) expired.
        $rescued = null;
        while (microtime(true) - $killedAt < 10) {
            $t = sTaskModel::find($held->id);
            if ($t->isFinished()) {
                $rescued = $t;
                break;
            }
            usleep(50_000);
        }
        pcntl_waitpid($pids[1], $status);

        $this->assertNotNull($rescued, 'the killed task finished');
        $this->assertSame('completed', $rescued->status_text);
        $this->assertSame(2, $rescued->attempts, 'the killed attempt is counted');
        $this->assertLessThan(2 * 2 + 2.5, microtime(true) - $killedAt, 'finished within two lease periods (plus its own run)');
        foreach ($ids as $id) {
            $this->assertSame('completed', sTaskModel::find($id)->status_text);
        }
    }

    public function testTwoHostsShareOneDatabaseWithoutRunningATaskTwice(): void
    {
        // Each task takes 5 ms, so the queue outlasts the start-up of every
        // process: without it one host could drain 400 no-op tasks before
        // the other host's PHP had loaded (seen on a loaded CI machine).
        for ($i = 0; $i < 400; $i++) {
            sTask::create('ledger', 'record', ['sleep_ms' => 5]);
        }
        $pids = array_merge(
            $this->startWorkers(2, ['stop_when_empty' => true, 'sleep' => 0.05], 'host-a'),
            $this->startWorkers(2, ['stop_when_empty' => true, 'sleep' => 0.05], 'host-b'),
        );
        foreach ($pids as $pid) {
            pcntl_waitpid($pid, $status);
        }
        $runs = $this->executions();
        $this->assertCount(400, $runs);
        $this->assertSame([1], array_values(array_unique($runs)));
        $hosts = array_unique(array_map(
            static fn (string $line) => explode(' ', $line)[2] ?? '-',
            file($this->ledger, FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES)
        ));
        sort($hosts);
        $this->assertSame(['host-a', 'host-b'], $hosts, 'both hosts worked');
        $this->assertSame(0, sTaskModel::incomplete()->count());
    }
}
