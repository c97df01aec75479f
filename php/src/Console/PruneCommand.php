<?php

declare(strict_types=1);

namespace Seiger\sTask\Console;

use Seiger\sTask\Exceptions\sTaskException;
use Seiger\sTask\Facades\sTask;

/** Deletes finished tasks (and their progress files) older than --days. */
class PruneCommand extends StaskCommand
{
    protected $signature = 'stask:prune {--days=30 : Keep tasks newer than this many days}';

    protected $description = 'Delete old finished sTask tasks.';

    public function handle(): int
    {
        try {
            $days = $this->positiveInt($this->option('days'), '--days', true) ?? 30;
            $deleted = sTask::cleanOldTasks(days: $days);
        } catch (\InvalidArgumentException $e) {
            return $this->failWith($e->getMessage());
        } catch (sTaskException $e) {
            return $this->failWith('stask:prune: ' . $e->getMessage());
        }
        $this->info("Deleted {$deleted} task(s) older than {$days} day(s).");

        return 0;
    }
}
