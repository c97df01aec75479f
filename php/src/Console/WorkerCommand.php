<?php

declare(strict_types=1);

namespace Seiger\sTask\Console;

use Seiger\sTask\Exceptions\sTaskException;
use Seiger\sTask\Facades\sTask;
use Seiger\sTask\Models\sTaskModel;
use Seiger\sTask\sTaskServiceProvider;
use Seiger\sTask\Workers\BaseWorker;
use Symfony\Component\Console\Helper\ProgressBar;

/**
 * The cron entry: works tasks until about five seconds before the next
 * minute, so one run per minute keeps the queue moving without gaps.
 *
 * Each worker loop holds a slot lock (flock on storage/stask/worker-slot-N.lock),
 * so a run started while the previous one still works only takes the slots
 * that are free, and at most --concurrency loops run on this host.
 */
class WorkerCommand extends StaskCommand
{
    protected $signature = 'stask:worker
        {--concurrency= : Worker loops on this host, child processes when more than 1 (default: config stask.concurrency, 1)}
        {--max-time= : Stop after this many seconds (default: about 5 s before the next minute)}
        {--once : Stop as soon as no task is due}';

    protected $description = 'Process sTask tasks until the next minute (the cron entry).';

    /** @var resource[] slot locks held while the loops run */
    private array $slots = [];

    public function handle(): int
    {
        try {
            $concurrency = $this->positiveInt($this->option('concurrency'), '--concurrency')
                ?? $this->positiveInt(config('stask.concurrency', 1), 'config stask.concurrency')
                ?? 1;
            $maxTime = $this->positiveSeconds($this->option('max-time'), '--max-time');
        } catch (\InvalidArgumentException $e) {
            return $this->failWith($e->getMessage());
        }
        $seconds = $maxTime ?? self::secondsUntilNextMinute();
        $options = ['max_seconds' => $seconds];
        if ($this->option('once')) {
            $options['stop_when_empty'] = true;
        }

        if (!$this->isWorkerChild()) {
            $free = $this->acquireSlots($concurrency);
            if ($free === 0) {
                if ($this->output->isVerbose()) {
                    $this->line("all {$concurrency} worker slot(s) are busy; nothing to do");
                }

                return 0;
            }
            if ($free > 1) {
                $options['concurrency'] = $free;
                // No PHP options here: the engine gives the children this process's own
                // (-n, -c, -d) and, when they would not load it, -d extension=<libstask.so>.
                // Children that cannot start make work() throw; we then exit 1.
                $options['command'] = [
                    PHP_BINARY,
                    $this->artisanPath(),
                    'stask:worker',
                    '--concurrency=1',
                    '--max-time=' . $seconds,
                ];
                if ($this->option('once')) {
                    $options['command'][] = '--once';
                }
                if ($this->output->isVerbose()) {
                    $options['command'][] = '-v';
                }
            }
        }

        $lines = $this->output->isVerbose() ? new TaskLines(fn (string $line) => $this->line($line)) : null;
        $lines?->start();
        // On a terminal (not under cron), a bar over the tasks due now.
        $bar = $lines === null && !isset($options['concurrency']) && $this->output->isDecorated() && !$this->isWorkerChild()
            ? $this->startProgressBar()
            : null;
        try {
            $counters = sTask::work($options);
        } catch (sTaskException $e) {
            return $this->failWith('stask:worker: ' . $e->getMessage());
        } finally {
            $lines?->stop();
            if ($bar !== null) {
                BaseWorker::observe(null);
                $bar->finish();
                $this->line('');
            }
            $this->releaseSlots();
        }

        // Each loop reports its own tasks (children too); a supervisor its children.
        $this->line($this->countersLine($counters));
        if ($this->output->isVerbose() && is_array($counters) && !isset($counters['children_started'])) {
            $this->line(sprintf(
                'cancelled %d, waiting %d%s',
                (int) ($counters['cancelled'] ?? 0),
                (int) ($counters['waiting'] ?? 0),
                !empty($counters['stopped_by_signal']) ? ', stopped by signal' : ''
            ));
        }

        return 0;
    }

    /** A progress bar over the pending tasks, advanced after each task this process runs. */
    private function startProgressBar(): ProgressBar
    {
        $bar = $this->output->createProgressBar(sTaskModel::pending()->count());
        $bar->start();
        BaseWorker::observe(static function () use ($bar): void {
            $bar->advance();
        });

        return $bar;
    }

    /** Seconds left until 5 s before the next minute; a late start runs into the next one. */
    public static function secondsUntilNextMinute(?int $now = null): int
    {
        $seconds = 55 - (($now ?? time()) % 60);

        return $seconds < 5 ? $seconds + 60 : $seconds;
    }

    /** Takes up to $wanted free slot locks; returns how many were taken. */
    private function acquireSlots(int $wanted): int
    {
        $dir = storage_path('stask');
        sTaskServiceProvider::ensureStorageDirectory($dir);
        for ($i = 0; $i < $wanted; $i++) {
            $handle = @fopen($dir . "/worker-slot-{$i}.lock", 'c+e');
            if ($handle === false) {
                continue;
            }
            if (flock($handle, LOCK_EX | LOCK_NB)) {
                $this->slots[] = $handle;
            } else {
                fclose($handle);
            }
        }

        return count($this->slots);
    }

    private function releaseSlots(): void
    {
        foreach ($this->slots as $handle) {
            flock($handle, LOCK_UN);
            fclose($handle);
        }
        $this->slots = [];
    }
}
