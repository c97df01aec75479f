<?php

declare(strict_types=1);

namespace Stask\Tests;

use Seiger\sTask\Facades\sTask;
use Seiger\sTask\Models\sTaskModel;

require_once __DIR__ . '/fixtures/ChaosWorker.php';

/**
 * sTask::work(['concurrency' => N]) with real child processes: what a task
 * does to its process fails that attempt only; the others run on.
 */
final class ConcurrencyTest extends TestCase
{
    private array $childConnection;

    protected function setUp(): void
    {
        parent::setUp();
        $this->childConnection = $this->connection(['retry_base_delay' => 0]);
        $this->configure(['retry_base_delay' => 0]);
        $this->activeWorker(\Stask\Tests\Fixtures\ChaosWorker::class);
        putenv('STASK_TEST_CONNECTION=' . json_encode($this->childConnection));
    }

    private function supervise(array $options): array
    {
        $command = [PHP_BINARY, '-d', 'display_errors=0', '-d', 'log_errors=0', '-d', 'extension=' . $this->extensionPath(), __DIR__ . '/fixtures/worker.php'];
        return sTask::work($options + ['command' => $command, 'stop_when_empty' => true]);
    }

    private function extensionPath(): string
    {
        $path = getenv('STASK_LIB') ?: dirname(__DIR__, 2) . '/target/debug/libstask.so';
        $this->assertFileExists($path);
        return $path;
    }

    public function testACrashingTaskFailsItsAttemptsOnlyAndEveryOtherTaskRunsExactlyOnce(): void
    {
        $noops = [];
        for ($i = 0; $i < 60; $i++) {
            $noops[] = sTask::create('chaos', 'noop')->id;
        }
        $kill = sTask::create('chaos', 'kill', priority: 'high');
        $exit = sTask::create('chaos', 'exit', priority: 'high');
        $memory = sTask::create('chaos', 'memory', priority: 'high');
        $throw = sTask::create('chaos', 'throw', priority: 'high');

        $report = $this->supervise(['concurrency' => 2, 'max_seconds' => 60]);

        foreach ($noops as $id) {
            $t = sTaskModel::find($id);
            $this->assertSame('completed', $t->status_text, "noop #$id");
            $this->assertSame(1, $t->attempts, "noop #$id ran exactly once");
        }
        $kill = $kill->fresh();
        $this->assertSame('failed', $kill->status_text);
        $this->assertSame(3, $kill->attempts);
        $this->assertStringContainsString('SIGKILL', $kill->message);
        $exit = $exit->fresh();
        $this->assertSame('failed', $exit->status_text);
        $this->assertStringContainsString('exit()', $exit->message);
        $memory = $memory->fresh();
        $this->assertSame('failed', $memory->status_text);
        $this->assertStringContainsString('Allowed memory size', $memory->message);
        $throw = $throw->fresh();
        $this->assertSame('failed', $throw->status_text);
        $this->assertStringContainsString('supplier feed is corrupt', $throw->message);
        $this->assertGreaterThanOrEqual(3, $report['children_replaced'], 'killed and exited children were replaced');
    }

    public function testATaskOverItsTimeoutIsKilledAndTheLoopGoesOn(): void
    {
        $this->setWorkerSetting('chaos', ['timeout' => 1]);
        $slow = sTask::create('chaos', 'sleep', ['seconds' => 30]);
        $slow->update(['max_attempts' => 1]);
        $after = sTask::create('chaos', 'noop', priority: 'low');

        $report = $this->supervise(['concurrency' => 2, 'max_seconds' => 30]);

        $slow = $slow->fresh();
        $this->assertSame('failed', $slow->status_text);
        $this->assertStringContainsString('timed out', $slow->message);
        $this->assertSame('completed', $after->fresh()->status_text);
        $this->assertSame(1, $report['killed_for_timeout']);
    }

    public function testCancellingARunningTaskStopsItCooperativelyOrKillsIt(): void
    {
        $polite = sTask::create('chaos', 'polite');
        $stubborn = sTask::create('chaos', 'sleep', ['seconds' => 20]);

        $pid = pcntl_fork();
        if ($pid === 0) {
            $this->supervise(['concurrency' => 2, 'max_seconds' => 40, 'cancel_grace' => 1]);
            exit(0);
        }
        $this->waitFor(fn () => $polite->fresh()->isRunning() && $stubborn->fresh()->isRunning(), 15);
        $this->assertTrue(sTask::cancel($polite->id));
        $this->assertTrue(sTask::cancel($stubborn->id));
        $this->waitFor(fn () => $polite->fresh()->isFinished() && $stubborn->fresh()->isFinished(), 15);
        pcntl_waitpid($pid, $status);

        $this->assertSame('cancelled', $polite->fresh()->status_text, 'seen at the next progress report');
        $this->assertSame('cancelled', $stubborn->fresh()->status_text, 'killed after the grace period');
    }

    public function testSigtermLetsRunningTasksFinishThenStops(): void
    {
        $task = sTask::create('chaos', 'sleep', ['seconds' => 1.5]);
        $pid = pcntl_fork();
        if ($pid === 0) {
            $this->supervise(['concurrency' => 1, 'stop_when_empty' => false, 'grace' => 10]);
            exit(0);
        }
        $this->waitFor(fn () => $task->fresh()->isRunning(), 15);
        posix_kill($pid, SIGTERM);
        pcntl_waitpid($pid, $status);

        $this->assertTrue(pcntl_wifexited($status), 'the supervisor stopped on SIGTERM');
        $this->assertSame('completed', $task->fresh()->status_text, 'the running task finished within the grace period');
    }

    private function waitFor(callable $condition, float $seconds): void
    {
        $until = microtime(true) + $seconds;
        while (!$condition()) {
            if (microtime(true) > $until) {
                $this->fail("condition not met within {$seconds}s");
            }
            usleep(50_000);
        }
    }

    private function setWorkerSetting(string $identifier, array $settings): void
    {
        sTask::getWorker($identifier)->updateSettings($settings);
    }
}
