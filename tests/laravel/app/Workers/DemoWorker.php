<?php

namespace App\Workers;

use Seiger\sTask\Models\sTaskModel;
use Seiger\sTask\Workers\BaseWorker;

/**
 * Appends "<task id> <pid>" to storage/demo-ledger.txt for every run, so a
 * test can see whether a task ran more than once.
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
        file_put_contents(storage_path('demo-ledger.txt'), $task->id . ' ' . getmypid() . "\n", FILE_APPEND | LOCK_EX);
        $sleep = (int) ($options['sleep_ms'] ?? 0);
        if ($sleep > 0) {
            usleep($sleep * 1000);
        }
        if (!empty($options['fail'])) {
            throw new \RuntimeException('demo failure');
        }
        $this->markFinished($task, null, 'demo done');
    }
}
