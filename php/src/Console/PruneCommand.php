<?php

declare(strict_types=1);

namespace Seiger\sTask\Console;

use Seiger\sTask\Exceptions\sTaskException;
use Seiger\sTask\Facades\sTask;

/**
 * Deletes completed tasks (and their progress files) older than --days.
 * --days=0 deletes every completed task, so it asks first (--force skips
 * the question; without a terminal and without --force it refuses).
 */
class PruneCommand extends StaskCommand
{
    protected $signature = 'stask:prune {--days=30 : Keep tasks newer than this many days}
        {--force : With --days=0, delete without asking}';

    protected $description = 'Delete old finished sTask tasks.';

    public function handle(): int
    {
        try {
            $days = $this->positiveInt($this->option('days'), '--days', true) ?? 30;
            if ($days === 0 && !$this->option('force')) {
                // Someone must be there to answer: a terminal on stdin
                // (or SHELL_INTERACTIVE, Symfony's override), not cron.
                $answerable = $this->input->isInteractive()
                    && ((\defined('STDIN') && stream_isatty(\STDIN)) || getenv('SHELL_INTERACTIVE') !== false);
                if (!$answerable) {
                    return $this->failWith('stask:prune --days=0 deletes every completed task; add --force to do so without a question.');
                }
                if (!$this->confirm('Delete every completed task and its progress file?', false)) {
                    $this->line('Nothing deleted.');

                    return 1;
                }
            }
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
