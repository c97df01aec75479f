<?php

declare(strict_types=1);

namespace Seiger\sTask\Console;

use Seiger\sTask\Exceptions\sTaskException;
use Seiger\sTask\Facades\sTask;

/**
 * The daemon: works tasks with no time limit, for systemd or supervisord.
 * SIGTERM/SIGINT drain it (the engine stops claiming and lets running tasks
 * finish within their grace time).
 */
class WorkCommand extends StaskCommand
{
    protected $signature = 'stask:work
        {--concurrency=1 : Worker processes (child processes when more than 1)}
        {--sleep= : Seconds to wait when no task is due}
        {--max-tasks= : Stop after this many tasks}
        {--timeout= : Seconds a task may run before its process is killed (with --concurrency > 1)}';

    protected $description = 'Run the sTask worker loop until stopped (daemon).';

    public function handle(): int
    {
        try {
            $concurrency = $this->positiveInt($this->option('concurrency'), '--concurrency') ?? 1;
            $sleep = $this->positiveSeconds($this->option('sleep'), '--sleep');
            $maxTasks = $this->positiveInt($this->option('max-tasks'), '--max-tasks');
            $timeout = $this->positiveSeconds($this->option('timeout'), '--timeout');
        } catch (\InvalidArgumentException $e) {
            return $this->failWith($e->getMessage());
        }

        $options = [];
        if ($sleep !== null) {
            $options['sleep'] = $sleep;
        }
        if ($maxTasks !== null) {
            $options['max_tasks'] = $maxTasks;
        }
        if ($timeout !== null) {
            $options['timeout'] = $timeout;
        }
        if ($concurrency > 1 && !$this->isWorkerChild()) {
            $options['concurrency'] = $concurrency;
            // No PHP options here: the engine gives the children this process's own
            // (-n, -c, -d) and, when they would not load it, -d extension=<libstask.so>.
            // Children that cannot start make work() throw; we then exit 1.
            $command = [PHP_BINARY, $this->artisanPath(), 'stask:work', '--concurrency=1'];
            if ($sleep !== null) {
                $command[] = '--sleep=' . $sleep;
            }
            if ($this->output->isVerbose()) {
                $command[] = '-v';
            }
            $options['command'] = $command;
        }

        $lines = $this->output->isVerbose() ? new TaskLines(fn (string $line) => $this->line($line)) : null;
        $lines?->start();
        try {
            $counters = sTask::work($options);
        } catch (sTaskException $e) {
            return $this->failWith('stask:work: ' . $e->getMessage());
        } finally {
            $lines?->stop();
        }
        // Each loop reports its own tasks (children too); a supervisor its children.
        $this->line($this->countersLine($counters));

        return 0;
    }
}
