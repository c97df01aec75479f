<?php

declare(strict_types=1);

namespace Seiger\sTask\Console;

use Seiger\sTask\Exceptions\sTaskException;
use Seiger\sTask\Facades\sTask;
use Seiger\sTask\Models\sTaskModel;

/** Puts failed or cancelled tasks back in the queue. */
class RetryCommand extends StaskCommand
{
    protected $signature = 'stask:retry {id* : Task ids}';

    protected $description = 'Retry failed or cancelled sTask tasks.';

    public function handle(): int
    {
        try {
            $ids = $this->taskIds();
        } catch (\InvalidArgumentException $e) {
            return $this->failWith($e->getMessage());
        }

        $code = 0;
        foreach ($ids as $id) {
            try {
                $task = sTaskModel::find($id);
                if ($task === null) {
                    $code = $this->failWith("Task #{$id} not found.");
                    continue;
                }
                if (sTask::retry($id)) {
                    $this->info("Task #{$id} queued for retry.");
                } else {
                    $code = $this->failWith("Task #{$id} cannot be retried (it is {$task->status_text}).");
                }
            } catch (sTaskException $e) {
                $code = $this->failWith("Task #{$id}: " . $e->getMessage());
            }
        }

        return $code;
    }
}
