<?php

namespace App\Workers;

use Seiger\sTask\Models\sTaskModel;
use Seiger\sTask\Workers\BaseWorker;

/**
 * The harness's worker. Each run appends "<task id> <pid>" to
 * storage/demo-started.txt when it starts and "<task id> <pid> <start> <end>"
 * (microtime) to storage/demo-ledger.txt when it ends, so a test can see
 * whether a task ran more than once and how many ran at the same time.
 */
class DemoWorker extends BaseWorker
{
    public const IDENTIFIER = 'demo';

    public function identifier(): string
    {
        return self::IDENTIFIER;
    }

    public function scope(): string
    {
        return 'harness';
    }

    public function taskRun(sTaskModel $task, array $options = []): void
    {
        $start = microtime(true);
        file_put_contents(storage_path('demo-started.txt'), $task->id . ' ' . getmypid() . "\n", FILE_APPEND | LOCK_EX);
        $sleep = (int) ($options['sleep_ms'] ?? 0);
        if ($sleep > 0) {
            usleep($sleep * 1000);
        }
        $line = sprintf("%d %d %.6f %.6f\n", $task->id, getmypid(), $start, microtime(true));
        file_put_contents(storage_path('demo-ledger.txt'), $line, FILE_APPEND | LOCK_EX);
        if (!empty($options['fail'])) {
            throw new \RuntimeException('demo failure');
        }
        $this->markFinished($task, null, 'demo done');
    }
}
