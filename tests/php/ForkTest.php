<?php

declare(strict_types=1);

namespace Stask\Tests;

use Examples\Workers\ProductWorker;
use Seiger\sTask\Facades\sTask;
use Seiger\sTask\Models\sTaskModel;

/**
 * php-fpm and pcntl_fork() copy a process that already used the
 * extension; the child must get its own runtime and connections, and the
 * parent must keep working afterwards.
 *
 * @requires extension pcntl
 * @requires extension posix
 */
final class ForkTest extends TestCase
{
    public function testAForkedChildProcessesTasksThatTheParentThenSeesCompleted(): void
    {
        $this->activeWorker(ProductWorker::class);
        $ids = [];
        for ($i = 0; $i < 3; $i++) {
            $ids[] = sTask::create('product', 'import', ['rows' => 5])->id;
        }
        $this->assertSame(3, sTaskModel::pending()->count(), 'the parent used the extension before forking');
        $report = $this->root . '/child.txt';

        $pid = pcntl_fork();
        $this->assertNotSame(-1, $pid, 'pcntl_fork failed');
        if ($pid === 0) {
            $this->childProcess($report);
        }

        pcntl_waitpid($pid, $status);
        $this->assertTrue(pcntl_wifexited($status), 'the child ended by itself');
        $this->assertSame(0, pcntl_wexitstatus($status), 'child: ' . @file_get_contents($report));
        $this->assertSame('processed 3', file_get_contents($report));

        foreach ($ids as $id) {
            $task = $this->task($id);
            $this->assertSame('completed', $task->status_text, "task #{$id}");
            $this->assertSame(5, $task->result['rows']);
        }

        $next = sTask::create('product', 'import', ['rows' => 1]);
        $this->assertSame(1, sTask::processPendingTasks(), 'the parent still runs tasks after the fork');
        $this->assertSame('completed', $this->task($next->id)->status_text);
        $this->assertSame(4, sTask::getStats()['completed']);
    }

    /** Runs in the child: process, report, exit (PHPUnit's teardown is the parent's). */
    private function childProcess(string $report): never
    {
        $code = 1;
        try {
            $processed = sTask::processPendingTasks();
            file_put_contents($report, "processed {$processed}");
            $code = 0;
        } catch (\Throwable $e) {
            file_put_contents($report, get_class($e) . ': ' . $e->getMessage());
        }
        // Discard PHPUnit's buffers so nothing is printed twice, then end
        // the process normally: the extension shuts down in the child too,
        // which must not disturb the parent's connections.
        while (ob_get_level() > 0) {
            ob_end_clean();
        }
        exit($code);
    }
}
