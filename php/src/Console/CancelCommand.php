<?php

declare(strict_types=1);

namespace Seiger\sTask\Console;

use Seiger\sTask\Exceptions\sTaskException;
use Seiger\sTask\Facades\sTask;
use Seiger\sTask\Models\sTaskModel;

/** Cancels tasks: pending ones at once, running ones at their next progress report. */
class CancelCommand extends StaskCommand
{
    protected $signature = 'stask:cancel {id* : Task ids}';

    protected $description = 'Cancel sTask tasks.';

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
                if (sTask::cancel($id)) {
                    $this->info("Task #{$id} cancelled.");
                } else {
                    $code = $this->failWith("Task #{$id} cannot be cancelled (it is {$task->status_text}).");
                }
            } catch (sTaskException $e) {
                $code = $this->failWith("Task #{$id}: " . $e->getMessage());
            }
        }

        return $code;
    }
}
